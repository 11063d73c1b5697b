"""
Quickstart: SteelNet on the multimodal steel data set
=====================================================

Build the SteelNet data set from the built-in steel surfaces, train
:class:`~sksteel.models.SteelNetClassifier` behind
:class:`~sksteel.sampling.ModalityDropout` in an imbalanced-learn pipeline,
and look at what it learned: the scores that matter with 88 % defect-free
samples, the confusion matrix, the training curves and the per-class sensor
attributions.
"""

# %%
# The data set
# ------------
# One row per steel-sheet image: the defect class (0 = none), its intensity
# and ten process-sensor readings. With ``SKSTEEL_EXAMPLES_QUICK=1`` the
# example runs on a small data set and trains for a few epochs.
import os

import matplotlib.pyplot as plt
from imblearn.pipeline import Pipeline
from sklearn.metrics import ConfusionMatrixDisplay, classification_report
from sklearn.model_selection import train_test_split

from sksteel.datasets import CLASS_NAMES, make_steelnet_dataset
from sksteel.models import SteelNetClassifier
from sksteel.plotting import AttributionDisplay, TrainingHistoryDisplay
from sksteel.sampling import ModalityDropout

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK") == "1"
sizes = {"n_normal": 300, "n_per_class": 40} if QUICK else {}
data = make_steelnet_dataset(**sizes, random_state=0)
print(data.frame["defect_class"].value_counts().sort_index())

X_train, X_test, y_train, y_test, i_train, i_test = train_test_split(
    data.data, data.target, data.frame["intensity"], test_size=0.15,
    stratify=data.target, random_state=0,
)

# %%
# SteelNet behind modality dropout
# --------------------------------
# ``ModalityDropout`` sets readings to NaN while the pipeline is fitted, at
# the failure table's per-sensor rates (mean 0.2): the model learns from
# failing sensors. It is skipped at prediction time. The generator's ground
# truth attribution supervises the attribution head, and the intensity is
# passed to SteelNet's ``fit`` with the ``step__param`` syntax.
model = Pipeline(
    [
        ("dropout", ModalityDropout(p_base=0.2, random_state=0)),
        (
            "steelnet",
            SteelNetClassifier(
                attribution_prior=data.attribution_prior,
                max_epochs=4 if QUICK else 50,
                random_state=0,
            ),
        ),
    ]
)
model.fit(X_train, y_train, steelnet__intensity=i_train)

# %%
# Scores
# ------
# Accuracy alone hides the defect classes: always answering "none" is
# already right 88 % of the time. The per-class recall tells more.
y_pred = model.predict(X_test)
print(classification_report(y_test, y_pred, target_names=CLASS_NAMES, digits=3))

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
ConfusionMatrixDisplay.from_predictions(
    y_test, y_pred, display_labels=CLASS_NAMES, ax=axes[0], colorbar=False
)
TrainingHistoryDisplay.from_estimator(model, ax=axes[1])
fig.tight_layout()

# %%
# Which sensors explain each class?
# ---------------------------------
# ``explain(method="head")`` gives the attribution head's output per sample;
# averaged within each true class it can be compared with the generator's
# ground truth. (``explain`` without ``method`` gives Shapley values instead:
# see the "Explaining predictions" example.)
fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
AttributionDisplay.from_predictions(
    y_test, model[-1].explain(X_test, method="head"), class_names=CLASS_NAMES,
    ax=axes[0], colorbar=False, title="SteelNet, test samples", vmax=1.0,
)
AttributionDisplay(data.attribution_prior, class_names=CLASS_NAMES).plot(
    ax=axes[1], colorbar=False, title="ground truth", vmax=1.0
)
fig.tight_layout()

# %%
# The intensity head predicts how severe a defect is.
intensity = model[-1].predict_intensity(X_test)
defective = y_test.to_numpy() != 0
print(f"intensity of the defective test samples: predicted mean "
      f"{intensity[defective].mean():.3f}, true mean {i_test[defective].mean():.3f}")
plt.show()
