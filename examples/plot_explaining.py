"""
Explaining predictions with Shapley values over failing sensors
===============================================================

SteelNet reads a failed sensor natively and is trained with sensors failing,
so "this reading is missing" is an input it knows. The Shapley value of a
reading is then its average effect on the prediction over all subsets of
the other readings, each subset being the row with the rest missing. With
ten sensors all 1,024 subsets are evaluated: the values are exact.

This example trains a small SteelNet, explains one row
(:class:`~sksteel.plotting.ShapleyDisplay`), summarises many rows per class
(:class:`~sksteel.plotting.ShapleySummaryDisplay`), compares the per-class
importance from Shapley values with the attribution head and the
generator's ground truth, and measures which explanation is faithful with
deletion curves (:class:`~sksteel.plotting.DeletionCurveDisplay`).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from sksteel.datasets import CLASS_NAMES, make_steelnet_dataset
from sksteel.inspection import shapley_importance, shapley_values
from sksteel.metrics import explanation_comparison
from sksteel.models import SteelNetClassifier
from sksteel.plotting import (
    AttributionDisplay,
    DeletionCurveDisplay,
    ShapleyDisplay,
    ShapleySummaryDisplay,
)

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK") == "1"
data = make_steelnet_dataset(n_normal=400, n_per_class=60, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.3, stratify=data.target, random_state=0
)
model = SteelNetClassifier(
    hidden_layer_sizes=(64, 32), d_token=8, lr=3e-3,
    max_epochs=15 if QUICK else 40, attribution_prior=data.attribution_prior,
    random_state=0,
).fit(X_train, y_train)
print(f"test accuracy {model.score(X_test, y_test):.3f}")

# %%
# One row, from the base value to the prediction
# ----------------------------------------------
# ``explain`` returns the Shapley values of the predicted class. The base
# value is the model's output with every reading missing; each bar adds one
# reading's value, largest first, and the bars end at the prediction. A
# failed sensor (here the humidity probe) is not a player: its value is 0.
row = X_test[y_test == 4].iloc[[0]].copy()
row["ambient_humidity"] = np.nan
print(model.explain(row).round(3).T)
ShapleyDisplay.from_estimator(model, row, row=row.index[0])
plt.tight_layout()

# %%
# Many rows, per true class
# -------------------------
# Each panel explains the probability of a row's true class; each dot is one
# row, coloured by the reading (blue low, red high); grey circles are
# missing readings.
defective = (y_test != 0).to_numpy()
ShapleySummaryDisplay.from_estimator(model, X_test[defective], y_test[defective])

# %%
# Shapley importance against the attribution head and the ground truth
# --------------------------------------------------------------------
# ``shapley_importance`` averages the absolute value of the true class per class on a
# subsample of the training rows. ``feature_attributions_`` is the
# attribution head's mean per class, trained to reproduce the generator's
# ``w*``: it follows the class, not necessarily what moves the prediction.
importance = shapley_importance(
    model, X_train, y_train, n_samples_per_class=20 if QUICK else 40, random_state=0
)
fig, axes = plt.subplots(1, 3, figsize=(15, 5), sharey=True)
for ax, table, title in zip(
    axes,
    (importance, model.feature_attributions_, data.attribution_prior),
    ("Shapley importance", "attribution head", "ground truth w*"),
):
    AttributionDisplay(table, class_names=CLASS_NAMES).plot(
        ax=ax, colorbar=False, title=title, vmax=1.0
    )
fig.tight_layout()

# %%
# Which explanation is faithful?
# ------------------------------
# A deletion curve removes the top-k readings of each method from each row
# and records how far the probability of the predicted class drops. The
# steeper the curve (the larger its area), the better the method names the
# readings the prediction depends on. Rank agreement with ``w*`` and the
# model-randomisation check (explanations of re-initialised weights should
# differ: low ``randomised_spearman``) complete the table.
comparison = explanation_comparison(
    model, X_test, y_test, attribution_prior=data.attribution_prior,
    n_repeats=2, random_state=0,
)
print(comparison.table.round(3).to_string())
fig, ax = plt.subplots(figsize=(6, 4.5))
for name, curve in comparison.curves.items():
    DeletionCurveDisplay.from_curve(curve, name=name, ax=ax)
ax.set_title("Deletion curves, test rows")
fig.tight_layout()

# %%
# The exact values agree with the model's output to rounding: each row's
# values add up to its prediction minus the base value.
result = shapley_values(model, X_test.iloc[:50])
gap = result.values.sum(axis=1) + result.base_values - result.predictions
print(f"largest efficiency gap: {gap.abs().max():.2e}")
