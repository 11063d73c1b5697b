"""The data set card of the SteelNet multimodal data set.

Builds ``make_steelnet_dataset(random_state=0)`` and writes ``docs/dataset.md``
(composition, the paper's statistics beside ours, the generator's choices,
what the data can and cannot tell) and the figures
``docs/images/dataset_intensity.png``, ``dataset_sensors.png`` and
``dataset_correlation.png``. The text is ``dataset_card_template.md``;
every number in the card is computed here.

Run from the project root: ``python docs/scripts/make_dataset_card.py``.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
)
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from threadpoolctl import threadpool_limits

from sksteel._schema import (
    CLASS_NAMES,
    FRACTION_COLUMNS,
    INTENSITY_WEIGHTS,
    SENSOR_NAMES,
    SENSORS,
)
from sksteel.datasets import make_steelnet_dataset
from sksteel.preprocessing import ProcessParameterSynthesizer
from sksteel.preprocessing._intensity import intensity_beta
from sksteel.preprocessing._synthesizer import (
    _RULES,
    CLASS_PROFILES,
    COUPLINGS,
    DRIFT,
    EXPRESSION,
    EXPRESSION_COUPLING,
    NOISE,
    _copula_factor,
    _draw,
    _expression,
    _normal_gain,
)

PROJECT = Path(__file__).resolve().parents[2]
CARD = PROJECT / "docs" / "dataset.md"
IMAGES = PROJECT / "docs" / "images"
COLOURS = {0: "#7f7f7f", 1: "#e41a1c", 2: "#4daf4a", 3: "#377eb8", 4: "#ff7f00"}
RANDOM_STATE = 0

#: The card's text, with ``{name}`` fields that ``main`` fills in.
CARD_TEMPLATE = (Path(__file__).parent / "dataset_card_template.md").read_text()

#: The classifiers of the separability table, all from the ten sensors.
MODELS = {
    "majority class": DummyClassifier(),
    "LDA": LinearDiscriminantAnalysis(),
    "random forest": RandomForestClassifier(
        n_estimators=200, random_state=RANDOM_STATE
    ),
    "gradient boosting": HistGradientBoostingClassifier(random_state=RANDOM_STATE),
}

#: The paper's statistics (A.3-A.5) and the tolerances sksteel's tests use.
TARGETS = [
    ("defective intensity, mean", 0.347, 0.05),
    ("defective intensity, sd", 0.198, 0.05),
    ("surface_cleanliness, non-defective mean", 97.5, 0.7),
    ("surface_cleanliness, non-defective sd", 1.8, 0.6),
    ("surface_cleanliness, defective mean", 82.3, 3.0),
    ("surface_cleanliness, defective sd", 8.4, 3.0),
    ("corr(vibration, drive_load)", 0.34, 0.10),
    ("corr(surface_cleanliness, intensity)", -0.52, 0.10),
    ("corr(spray_pressure, coating_viscosity)", 0.28, 0.10),
    ("corr(ambient_humidity, curing_time)", 0.19, 0.10),
]


def beta_name():
    """The target intensity distribution, e.g. ``Beta(1.66, 3.12)``."""
    a, b = intensity_beta().args
    return f"Beta({a:.2f}, {b:.2f})"


def markdown_table(frame, floatfmt="{:.3f}"):
    """A DataFrame as a GitHub markdown table (index as first column)."""
    cells = frame.map(lambda v: floatfmt.format(v) if isinstance(v, float) else v)
    header = [frame.index.name or ""] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in cells.iterrows():
        lines.append("| " + " | ".join([str(index), *map(str, row)]) + " |")
    return "\n".join(lines)


def statistics(frame):
    """The statistics of TARGETS, in order."""
    defective = frame["defect_class"] > 0
    intensity = frame["intensity"][defective]
    clean = frame["surface_cleanliness"]
    return [
        intensity.mean(),
        intensity.std(),
        clean[~defective].mean(),
        clean[~defective].std(),
        clean[defective].mean(),
        clean[defective].std(),
        frame["vibration"].corr(frame["drive_load"]),
        clean.corr(frame["intensity"]),
        frame["spray_pressure"].corr(frame["coating_viscosity"]),
        frame["ambient_humidity"].corr(frame["curing_time"]),
    ]


def correlation_from_groups(p, normal, defective, intensity, within):
    """corr(cleanliness, intensity) over a data set with a share ``p`` of
    defective rows, from group means and sds of cleanliness ``(mean, sd)``,
    the defective intensity ``(mean, sd)`` (0 on non-defective rows) and the
    correlation ``within`` defective rows (law of total covariance)."""
    (mu_n, sd_n), (mu_d, sd_d), (m, s) = normal, defective, intensity
    gap = mu_d - mu_n
    var_c = p * sd_d**2 + (1 - p) * sd_n**2 + p * (1 - p) * gap**2
    var_i = p * (s**2 + m**2) - (p * m) ** 2
    cov = p * (1 - p) * gap * m + p * within * sd_d * s
    return cov / np.sqrt(var_c * var_i)


def within_class(frame, label):
    """corr(surface_cleanliness, intensity) among the samples of a class."""
    rows = frame[frame["defect_class"] == label]
    return rows["surface_cleanliness"].corr(rows["intensity"])


def fold_scores(model, data, folds):
    """Accuracy, macro-F1, balanced accuracy and per-class recall of
    ``model`` on each test fold, and its out-of-fold predictions."""
    rows, predictions = [], np.zeros(len(data.target), dtype=int)
    for train, test in folds.split(data.data, data.target):
        fitted = clone(model).fit(data.data.iloc[train], data.target.iloc[train])
        true, pred = data.target.iloc[test], fitted.predict(data.data.iloc[test])
        predictions[test] = pred
        recalls = recall_score(
            true, pred, labels=range(len(CLASS_NAMES)), average=None, zero_division=0
        )
        rows.append(
            {
                "accuracy": accuracy_score(true, pred),
                "macro-F1": f1_score(true, pred, average="macro"),
                "balanced accuracy": balanced_accuracy_score(true, pred),
                **{f"recall {CLASS_NAMES[c]}": r for c, r in enumerate(recalls)},
            }
        )
    return pd.DataFrame(rows), predictions


def synthesizer_seed(data):
    """The seed ``make_steelnet_dataset`` gave its synthesizer: the third of
    three seeds drawn from ``random_state``, checked by regenerating the
    readings."""
    seed = int(np.random.RandomState(RANDOM_STATE).randint(2**31 - 1, size=3)[2])
    rows = data.frame[["defect_class", "intensity"]]
    readings = ProcessParameterSynthesizer(random_state=seed).fit_transform(rows)
    if not np.array_equal(readings, data.data.to_numpy()):
        raise RuntimeError("The synthesizer seed of make_steelnet_dataset changed.")
    return seed


def fully_expressed(data):
    """5-fold LDA accuracy and linear R^2 of intensity from the readings the
    same samples and draws give with every defect fully expressed
    (``expression=None``, the paper's Stage 1)."""
    rows = data.frame[["defect_class", "intensity"]]
    synthesizer = ProcessParameterSynthesizer(
        expression=None, random_state=synthesizer_seed(data)
    )
    readings = synthesizer.fit_transform(rows)
    folds = StratifiedKFold(5, shuffle=True, random_state=RANDOM_STATE)
    lda = cross_val_score(
        LinearDiscriminantAnalysis(), readings, data.target, cv=folds
    ).mean()
    regression = KFold(5, shuffle=True, random_state=RANDOM_STATE)
    r2 = cross_val_score(
        LinearRegression(), readings, rows["intensity"], cv=regression
    ).mean()
    return lda, r2


def expression_of_samples(data):
    """The defect expression e of each sample, from the generator's own
    draws."""
    rows = data.frame[["defect_class", "intensity"]]
    rng = np.random.RandomState(synthesizer_seed(data))
    draws = _draw(rng, len(rows), _copula_factor(COUPLINGS))
    return _expression(rows["intensity"].to_numpy(), draws.expression, EXPRESSION)


def recall_by_expression(data, predictions):
    """Share of defective samples each model classifies right, by band of
    defect expression."""
    defective = (data.target > 0).to_numpy()
    edges = [0.0, 0.1, 0.3, 0.6, 0.9, 1.0]
    bands = pd.cut(
        expression_of_samples(data)[defective],
        edges,
        labels=[f"e {a:g}-{b:g}" for a, b in zip(edges, edges[1:])],
        include_lowest=True,
    )
    truth = data.target.to_numpy()[defective]
    table = pd.DataFrame(
        {
            name: pd.Series(pred[defective] == truth)
            .groupby(bands, observed=True)
            .mean()
            .map("{:.2f}".format)
            for name, pred in predictions.items()
            if name != "majority class"
        }
    ).T
    counts = pd.Series(bands).value_counts(sort=False)
    table.loc["defective samples"] = counts.map(str).to_numpy()
    return table.rename_axis("model (5-fold)")


def separability(data):
    """5-fold scores of the MODELS from the sensors alone (mean and sd over
    the folds), and the 5-fold R^2 of intensity from the sensors."""
    folds = StratifiedKFold(5, shuffle=True, random_state=RANDOM_STATE)
    with threadpool_limits(1):  # OpenMP threads thrash on a busy machine
        results = {name: fold_scores(m, data, folds) for name, m in MODELS.items()}
    scores = {name: result[0] for name, result in results.items()}
    predictions = {name: result[1] for name, result in results.items()}
    means = pd.DataFrame({name: f.mean() for name, f in scores.items()}).T
    table = pd.DataFrame(
        {
            name: {k: f"{f[k].mean():.3f} +- {f[k].std():.3f}" for k in f.columns}
            for name, f in scores.items()
        }
    ).T
    regression = KFold(5, shuffle=True, random_state=RANDOM_STATE)
    intensity = data.frame["intensity"]
    defective = data.target > 0
    r2_all = cross_val_score(LinearRegression(), data.data, intensity, cv=regression)
    r2_def = cross_val_score(
        LinearRegression(), data.data[defective], intensity[defective], cv=regression
    )
    by_expression = recall_by_expression(data, predictions)
    return means, table, by_expression, r2_all.mean(), r2_def.mean()


def plot_intensity(frame, path):
    defective = frame[frame["defect_class"] > 0]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    bins = np.linspace(0, 1, 31)
    axes[0].hist(defective["intensity"], bins=bins, density=True, color="#999999")
    grid = np.linspace(0.001, 0.999, 200)
    axes[0].plot(grid, intensity_beta().pdf(grid), "k-", label=f"target {beta_name()}")
    axes[0].set(xlabel="intensity", ylabel="density", title="Defective samples")
    axes[0].legend(frameon=False)
    for label in range(1, len(CLASS_NAMES)):
        values = defective["intensity"][defective["defect_class"] == label]
        axes[1].hist(
            values,
            bins=bins,
            histtype="step",
            linewidth=1.6,
            color=COLOURS[label],
            label=f"{label} {CLASS_NAMES[label]}",
        )
    axes[1].set(xlabel="intensity", ylabel="samples", title="By defect class")
    axes[1].legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sensors(frame, path):
    fig, axes = plt.subplots(2, 5, figsize=(16, 6))
    for ax, sensor in zip(axes.ravel(), SENSOR_NAMES):
        values = frame[sensor]
        bins = np.linspace(values.min(), values.max(), 40)
        low, high = SENSORS.loc[sensor, ["low", "high"]]
        ax.axvspan(low, high, color="#eeeeee")
        heights = {
            label: np.histogram(
                values[frame["defect_class"] == label], bins, density=True
            )[0]
            for label in range(len(CLASS_NAMES))
        }
        for label, height in heights.items():
            ax.stairs(
                height,
                bins,
                color=COLOURS[label],
                linewidth=1.4,
                label=f"{label} {CLASS_NAMES[label]}",
            )
        # A class piled on one value (patches at the 3.0 bar cap of rule 8)
        # would flatten the others: its peak goes off scale, with a note.
        peaks = {label: h.max() for label, h in heights.items()}
        typical = np.median(list(peaks.values()))
        piles = [label for label, peak in peaks.items() if peak > 4 * typical]
        ax.set_ylim(0, 1.1 * max(p for c, p in peaks.items() if c not in piles))
        for label in piles:
            note = f"{CLASS_NAMES[label]}: peak off scale"
            ax.text(
                0.5,
                0.92,
                note,
                transform=ax.transAxes,
                ha="center",
                color=COLOURS[label],
            )
        ax.set_title(f"{sensor} ({SENSORS.loc[sensor, 'unit']})", fontsize=10)
        ax.set_yticks([])
    axes[0, 0].legend(frameon=False, fontsize=8, loc="upper left")
    fig.suptitle("Sensor readings by class (density; grey band: normal range)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_correlation(frame, path):
    columns = [*SENSOR_NAMES, "intensity"]
    corr = frame[columns].corr().to_numpy()
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    image = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right")
    ax.set_yticks(range(len(columns)), columns)
    for i in range(len(columns)):
        for j in range(len(columns)):
            colour = "white" if abs(corr[i, j]) > 0.6 else "black"
            ax.text(
                j,
                i,
                f"{corr[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color=colour,
            )
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title("Correlations over all 6,702 samples")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def profile_table():
    rows = []
    for label, profile in CLASS_PROFILES.items():
        for sensor, entry in profile.items():
            sides = entry if isinstance(entry[0], tuple) else (entry,)
            for low, high, shift in sides:
                normal = SENSORS.loc[sensor, ["low", "high"]]
                rows.append(
                    {
                        "class": f"{label} {CLASS_NAMES[label]}",
                        "sensor": sensor + (" (either side)" if len(sides) > 1 else ""),
                        "normal range": "{:g}-{:g}".format(*normal),
                        "class range (mu_c at e = 1)": f"{low:g}-{high:g}",
                        "shift per unit intensity": f"{shift:+g}",
                    }
                )
    return pd.DataFrame(rows).set_index("class")


def expression_table():
    """Quantiles and tail shares of the default expression distribution."""
    beta = stats.beta(*EXPRESSION)
    return {
        "expression": "Beta({:g}, {:g})".format(*EXPRESSION),
        "expression_mean": beta.mean(),
        "expression_low": beta.cdf(0.1),
        "expression_high": beta.sf(0.9),
        "expression_coupling": EXPRESSION_COUPLING,
    }


def main():
    data = make_steelnet_dataset(random_state=RANDOM_STATE)
    frame = data.frame
    IMAGES.mkdir(parents=True, exist_ok=True)
    plot_intensity(frame, IMAGES / "dataset_intensity.png")
    plot_sensors(frame, IMAGES / "dataset_sensors.png")
    plot_correlation(frame, IMAGES / "dataset_correlation.png")

    counts = data.target.value_counts().sort_index()
    composition = pd.DataFrame(
        {
            "class": [f"{c} {CLASS_NAMES[c]}" for c in counts.index],
            "samples": counts.to_numpy(),
            "share": (counts / counts.sum()).to_numpy(),
        }
    ).set_index("class")

    ours = statistics(frame)
    table = pd.DataFrame(
        [
            {
                "statistic": name,
                "paper": paper,
                "sksteel": value,
                "tolerance": f"+-{tol:g}",
                "met": "yes" if abs(value - paper) <= tol else "no",
            }
            for (name, paper, tol), value in zip(TARGETS, ours)
        ]
    ).set_index("statistic")
    skew = stats.skew(frame["intensity"][frame["defect_class"] > 0])

    means, scores, by_expression, r2_all, r2_def = separability(data)
    lda_full, r2_full = fully_expressed(data)
    p = (data.target > 0).mean()
    paper_bound = correlation_from_groups(
        p, (97.5, 1.8), (82.3, 8.4), (0.347, 0.198), 0
    )
    defective = frame[frame["defect_class"] > 0]
    within = defective["surface_cleanliness"].corr(defective["intensity"])
    gain = pd.Series(_normal_gain(True, True), index=SENSOR_NAMES)
    class_means = data.data.groupby(data.target).mean().T
    class_means.columns = [f"{c} {CLASS_NAMES[c]}" for c in class_means.columns]
    class_means.index.name = "sensor"
    intensity_by_class = frame.groupby("defect_class")["intensity"].agg(["mean", "std"])
    intensity_by_class.index = [
        f"{c} {CLASS_NAMES[c]}" for c in intensity_by_class.index
    ]
    intensity_by_class.index.name = "class"
    prior = data.attribution_prior.T
    prior.columns = [f"{c} {CLASS_NAMES[c]}" for c in prior.columns]
    prior.index.name = "sensor"

    values = {
        "n_rows": len(frame),
        "composition": markdown_table(composition),
        "statistics": markdown_table(table),
        "skew": skew,
        "scores": markdown_table(
            scores[["accuracy", "macro-F1", "balanced accuracy"]].rename_axis(
                "model (5-fold)"
            )
        ),
        "by_expression": markdown_table(by_expression),
        "recalls": markdown_table(
            scores[[f"recall {c}" for c in CLASS_NAMES]].rename_axis("model (5-fold)")
        ),
        "r2_all": r2_all,
        "r2_def": r2_def,
        "profiles": markdown_table(profile_table()),
        "rules": "\n".join(
            f"- `{r.target} = {r.bound}({r.target} * ({r.base:g} + {r.step:g} "
            f"[{r.trigger} {r.comparison} {r.threshold:g}]), {r.limit:g})`"
            for r in _RULES
        ),
        "drift": ", ".join(f"`{s}` x U({a:g}, {b:g})" for s, (a, b) in DRIFT.items()),
        "couplings": ", ".join(
            f"`{a}`-`{b}`: {rho:g}" for (a, b), rho in COUPLINGS.items()
        ),
        "noise": NOISE,
        "gain": ", ".join(
            f"`{s}` {g:.4g}" for s, g in gain.items() if not np.isclose(g, 1.0)
        ),
        "class_means": markdown_table(class_means, "{:.2f}"),
        "intensity_by_class": markdown_table(intensity_by_class),
        "prior": markdown_table(prior),
        "p": p,
        "paper_bound": paper_bound,
        "within": within,
        "needed_within": (-0.52 - paper_bound)
        / (
            correlation_from_groups(p, (97.5, 1.8), (82.3, 8.4), (0.347, 0.198), 1)
            - paper_bound
        ),
        "weights": INTENSITY_WEIGHTS,
        "multi": (defective[list(FRACTION_COLUMNS)] > 0).sum(axis=1).gt(1).mean(),
        "beta": beta_name(),
        "inclusion_range": "{:g}-{:g}".format(
            *CLASS_PROFILES[2]["surface_cleanliness"][:2]
        ),
        "uncorrected": 97.5 * gain["surface_cleanliness"],
        "corr_ci": ours[7],
        "spray_prior": data.attribution_prior.loc[3, "spray_pressure"],
        "within_2": within_class(frame, 2),
        "within_4": within_class(frame, 4),
        "inclusion_mean": class_means.loc["surface_cleanliness", "2 inclusion"],
        "normal_share": 1 - p,
        "lda": means.loc["LDA", "accuracy"],
        "lda_full": lda_full,
        "r2_full": r2_full,
        "lda_f1": means.loc["LDA", "macro-F1"],
        "hgb": means.loc["gradient boosting", "accuracy"],
        "hgb_f1": means.loc["gradient boosting", "macro-F1"],
        "rf_f1": means.loc["random forest", "macro-F1"],
        "lda_patches": means.loc["LDA", "recall patches"],
        "hgb_patches": means.loc["gradient boosting", "recall patches"],
        "majority": means.loc["majority class", "accuracy"],
        "majority_f1": means.loc["majority class", "macro-F1"],
        "prior_pitted_clean": data.attribution_prior.loc[4, "surface_cleanliness"],
        "prior_pitted_humid": data.attribution_prior.loc[4, "ambient_humidity"],
        **expression_table(),
    }
    CARD.write_text(CARD_TEMPLATE.format(**values))
    print(table.to_string())
    print(scores.to_string())
    print(by_expression.to_string())
    print(data.attribution_prior.round(3).T.to_string())
    print(f"R2 all {r2_all:.3f}, defective {r2_def:.3f}; skew {skew:.3f}")


if __name__ == "__main__":
    main()
