"""
SteelNet against LDA and other baselines
========================================

The paper compares SteelNet with linear discriminant analysis. Here SteelNet
meets LDA, logistic regression, gradient boosting, a random forest, an MLP
and the majority class, all trained on the same split and seed, with the
same failing sensors during training (see
:func:`sksteel.experiments.baseline_estimators`). ``sksteel reproduce`` runs
this comparison over several seeds; this example runs one.
"""

# %%
import os

import matplotlib.pyplot as plt

from sksteel.experiments import (
    baseline_estimators,
    fit_models,
    load_experiment_data,
    make_splits,
    run_table1,
    steelnet_estimator,
)

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK") == "1"
sizes = {"n_normal": 300, "n_per_class": 40} if QUICK else {}
data = load_experiment_data(**sizes)
splits = {0: make_splits(data.target, random_state=0)}


def make_estimators(seed):
    """SteelNet and every baseline, seeded with ``seed``."""
    return {
        "SteelNet": steelnet_estimator(
            data.attribution_prior, random_state=seed, quick=QUICK
        ),
        **baseline_estimators(seed, quick=QUICK),
    }


runs = fit_models(make_estimators, data, splits)
table1 = run_table1(runs, data, splits)

# %%
# Scores on the test split
# ------------------------
# The majority row is the floor: it has the accuracy of the defect-free share
# and a balanced accuracy of 0.2.
columns = ["accuracy", "f1_macro", "balanced_accuracy", "fit_time"]
print(table1.scores.set_index("model")[columns].round(3).to_string())

# %%
fig, ax = plt.subplots(figsize=(8, 4))
scores = table1.scores.set_index("model")[["accuracy", "f1_macro", "balanced_accuracy"]]
scores.plot.barh(ax=ax)
ax.set_xlim(0, 1)
ax.set_xlabel("score on the test split")
fig.tight_layout()
plt.show()
