"""
Robustness to failing sensors
=============================

In a rolling mill, sensors fail. This example trains SteelNet (with
modality dropout) and an LDA pipeline (with the same failures during
training), then scores both while test readings go missing, either
uniformly or at each sensor's own failure rate, with
:class:`~sksteel.preprocessing.SensorFailure`,
:func:`~sksteel.metrics.robustness_curve` and
:class:`~sksteel.plotting.RobustnessCurveDisplay`.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split

from sksteel.datasets import make_steelnet_dataset
from sksteel.experiments import baseline_estimators, steelnet_estimator
from sksteel.metrics import robustness_curve
from sksteel.plotting import RobustnessCurveDisplay
from sksteel.preprocessing import SensorFailure

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK") == "1"
sizes = {"n_normal": 300, "n_per_class": 40} if QUICK else {}
data = make_steelnet_dataset(**sizes, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.2, stratify=data.target, random_state=0
)

steelnet = steelnet_estimator(data.attribution_prior, random_state=0, quick=QUICK)
steelnet.fit(X_train, y_train)
lda = baseline_estimators(random_state=0)["LDA"].fit(X_train, y_train)

# %%
# Failing sensors at test time
# ----------------------------
# ``SensorFailure`` sets readings to NaN; with ``failure_rates="table"`` each
# sensor fails at its own rate from the sensor table, scaled to ``p_base``.
failed = SensorFailure("table", p_base=0.3, random_state=0).fit_transform(X_test)
print(failed.isna().mean().round(2).to_string())

# %%
# Robustness curves
# -----------------
# Accuracy and macro-F1 as the missing-reading rate grows; each point is
# the mean over random masks, the band one standard deviation.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
for ax, mode in zip(axes, ("uniform", "table")):
    for name, model in (("SteelNet", steelnet), ("LDA", lda)):
        RobustnessCurveDisplay.from_estimator(
            model, X_test, y_test, mode=mode, scoring="f1_macro",
            n_repeats=2 if QUICK else 5, random_state=0, name=name, ax=ax,
        )
    ax.set_title(f"{mode} failures")
fig.tight_layout()

# %%
# The numbers behind a curve, and the area under it (the mean score over
# the range of rates).
curve = robustness_curve(
    steelnet, X_test, y_test, scoring=["accuracy", "f1_macro"], random_state=0,
    n_repeats=2 if QUICK else 5,
)
for rate, accuracy in zip(curve.rates, curve.scores_mean["accuracy"]):
    print(f"{rate:.0%} missing: accuracy {accuracy:.3f}")
print("area:", {name: round(area, 3) for name, area in curve.auc.items()})
plt.show()
