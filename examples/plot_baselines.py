"""
SteelNet against LDA and other baselines
========================================

The paper compares SteelNet with linear discriminant analysis. Here SteelNet
meets LDA, logistic regression, gradient boosting, a random forest, an MLP
and the majority class, all trained on the same split and seed, with the
same failing sensors during training (see
:func:`sksteel.experiments.baseline_estimators`). ``sksteel reproduce`` runs
this comparison over several seeds, with paired intervals; this example runs
one.
"""

# %%
import os
import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from sksteel.experiments import (
    baseline_estimators,
    load_experiment_data,
    steelnet_estimator,
)

QUICK = os.environ.get("SKSTEEL_EXAMPLES_QUICK") == "1"
sizes = {"n_normal": 300, "n_per_class": 40} if QUICK else {}
data = load_experiment_data(**sizes)
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.15, stratify=data.target, random_state=0
)
models = {
    "SteelNet": steelnet_estimator(data.attribution_prior, random_state=0, quick=QUICK),
    **baseline_estimators(0, quick=QUICK),
}

rows = []
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    predicted = model.predict(X_test)
    rows.append(
        {
            "model": name,
            "accuracy": accuracy_score(y_test, predicted),
            "f1_macro": f1_score(y_test, predicted, average="macro"),
            "balanced_accuracy": balanced_accuracy_score(y_test, predicted),
            "fit_time": fit_time,
        }
    )
scores = pd.DataFrame(rows).set_index("model")

# %%
# Scores on the test split
# ------------------------
# The majority row is the floor: it has the accuracy of the defect-free share
# and a balanced accuracy of 0.2.
print(scores.round(3).to_string())

# %%
fig, ax = plt.subplots(figsize=(8, 4))
scores[["accuracy", "f1_macro", "balanced_accuracy"]].plot.barh(ax=ax)
ax.set_xlim(0, 1)
ax.set_xlabel("score on the test split")
fig.tight_layout()
plt.show()
