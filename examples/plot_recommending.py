"""
Recommending setpoints
======================

A prediction says that an operating point is likely to produce a defect;
an engineer wants to know what to change. This example trains SteelNet,
asks :class:`~sksteel.recommend.SetpointRecommender` for a few bounded
changes of the actionable sensors that bring defective rows back to "none",
draws one with :class:`~sksteel.plotting.RecommendationDisplay` and checks
the recommendations against the generator, which knows the true cause of
every defect (:func:`~sksteel.recommend.score_recommendations`).
"""

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from sksteel.datasets import make_steelnet_dataset
from sksteel.models import SteelNetClassifier
from sksteel.plotting import RecommendationDisplay
from sksteel.preprocessing import SensorFailure
from sksteel.recommend import SetpointRecommender, score_recommendations

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK") == "1"
sizes = (
    {"n_normal": 300, "n_per_class": 50}
    if QUICK
    else {
        "n_normal": 1000,
        "n_per_class": 150,
    }
)
data = make_steelnet_dataset(**sizes, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.4, stratify=data.target, random_state=0
)
model = SteelNetClassifier(max_epochs=10 if QUICK else 30, random_state=0)
model.fit(X_train, y_train)

# %%
# Fitting the recommender
# -----------------------
# ``fit`` does not refit the model: it learns, from the rows of normal
# operation (``y == 0``), the cost scale of each sensor, the normal rows to
# draw recommended values from, and the region a plausible point lies in.
# The actionable sensors and their feasible ranges come from the sensor
# table (``sksteel.datasets.SENSORS``): everything but the ambient humidity.
# With ``method="auto"`` a SteelNet gets the gradient search (through its
# differentiable probabilities); any other model gets the model-agnostic one.
recommender = SetpointRecommender(model, max_changes=3, random_state=0)
recommender.fit(X_train, y_train)
print(recommender.method_)

# %%
# One defective row
# -----------------
# An inclusion row the model flags: the search changes as few sensors as
# possible (it keeps the largest changes and optimises again), each within
# its feasible range and, where it can, close to normal operation.
defective = (y_test > 0).to_numpy() & (model.predict(X_test) > 0)
inclusion = X_test[defective & (y_test == 2).to_numpy()]
result = recommender.recommend(inclusion.iloc[[0]])
changed = result.changes.columns[result.changes.iloc[0] != 0]
print(
    pd.DataFrame(
        {
            "current": inclusion.iloc[0][changed],
            "recommended": result.setpoints.iloc[0][changed],
        }
    )
)
print(
    f"P(none) {result.probability_before[0]:.2f} -> "
    f"{result.probability_after[0]:.2f}, plausible: {result.plausible[0]}"
)

RecommendationDisplay.from_recommendation(recommender, result)
plt.tight_layout()

# %%
# Failed sensors, drivers that cannot be set, alternatives
# --------------------------------------------------------
# A failed reading (NaN) is never changed. A pitted surface comes from
# humidity, which the plant cannot set: the reason says so instead of
# recommending a change that cannot reach "none".
pitted = X_test[defective & (y_test == 4).to_numpy()].iloc[:5]
failed = SensorFailure("table", p_base=0.2, random_state=0).fit_transform(pitted)
result = recommender.recommend(failed)
print(pd.DataFrame({"valid": result.valid, "reason": result.reason}))

# %%
# ``n_alternatives`` gives several valid recommendations per row, each
# changing a different set of sensors (none a previous set plus more), the
# fewest changes first. Here the first of a few defective rows that has more
# than one.
recommender.set_params(n_alternatives=3)
alternatives = recommender.recommend(X_test[defective].iloc[:20])
recommender.set_params(n_alternatives=1)
counts = pd.Series(alternatives.valid).groupby(alternatives.row).sum()
row = counts.idxmax()
mine = alternatives.row == row
changes = alternatives.changes[mine].reset_index(drop=True)
print(changes.loc[:, (changes != 0).any()].round(2).to_string())
print(alternatives.probability_after[mine].round(2), alternatives.valid[mine])

# %%
# Checking against the generator
# ------------------------------
# On every defective test row the model flags (with 20 % of the readings
# failed): validity, the precision and recall of the changed sensors against
# the ones the generator deviated for the class, and the share of
# recommended points an independent HistGradientBoosting, trained on the same
# rows, classifies as "none". Rows whose defect only a non-actionable sensor
# can undo are counted apart (``n_not_actionable``).
independent = HistGradientBoostingClassifier(max_depth=4, random_state=1)
independent.fit(X_train, y_train)
X_failed = SensorFailure("table", p_base=0.2, random_state=0).fit_transform(X_test)
table = score_recommendations(
    recommender,
    X_failed,
    y_test,
    attribution_prior=data.attribution_prior,
    independent=independent,
)
print(table.round(2).to_string())

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
table.set_index("class")[["validity", "precision", "plausibility"]].plot.bar(ax=ax)
ax.axhline(0.8, color="0.5", linestyle="--", linewidth=1)
ax.set_ylim(0, 1.05)
ax.set_ylabel("share")
ax.legend(loc="lower right", fontsize=8)
plt.tight_layout()
