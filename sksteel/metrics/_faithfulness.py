"""Do explanations explain? Deletion curves, agreement with the ground
truth and a model-randomisation sanity check.

- :func:`deletion_curve`: make the top-k readings of a row (by a method's
  attribution) missing and record how far the explained output drops. A
  faithful method names the readings the output depends on, so its curve
  falls fastest (largest area).
- :func:`rank_agreement`: Spearman correlation and top-k overlap of each
  row's attribution with the generator's ``w*`` of the row's class.
- :func:`randomisation_check`: explanations of the same model with its
  weights re-initialised must differ (Adebayo et al., 2018, "Sanity checks
  for saliency maps"); a method that ignores the model passes nothing.
- :func:`explanation_comparison`: all of them for Shapley values, the
  attribution head, permutation importance and random rankings, as one
  table (the reproduce report's "Explanations" section).
"""

import copy
from numbers import Integral

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.inspection import permutation_importance
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from .._schema import CLASS_NAMES
from .._sklearn_compat import HasMethods, Interval, StrOptions, validate_params
from ..inspection import shapley_values

__all__ = [
    "deletion_curve",
    "explanation_comparison",
    "randomisation_check",
    "rank_agreement",
]

#: Built-in explanation methods, in the order of the comparison table.
METHODS = ("shapley", "head", "permutation", "random")


def _readings(X):
    """``X`` as a float DataFrame (column names kept)."""
    if isinstance(X, pd.DataFrame):
        return X.astype(float)
    return pd.DataFrame(np.asarray(X, dtype=float))


def _attribution_array(attributions, frame):
    """Attributions as an (n_rows, n_features) array in ``frame``'s columns."""
    if isinstance(attributions, pd.DataFrame) and set(attributions.columns) == set(
        frame.columns
    ):
        attributions = attributions[list(frame.columns)]
    values = np.asarray(attributions, dtype=float)
    if values.ndim == 1:
        values = np.broadcast_to(values, frame.shape)
    if values.shape != frame.shape:
        raise ValueError(
            "`attributions` must have one row per row of X and one column per "
            f"column, {frame.shape!r}, or be one row for all; got {values.shape!r}."
        )
    if not np.isfinite(values).all():
        raise ValueError("`attributions` must be finite; it contains NaN or inf.")
    return values


def _explained_output(estimator, response_method, target):
    """A function from (frame, output index per row) to the explained output,
    and a function giving the output index of each row of the full frame."""
    method = getattr(estimator, response_method)
    if response_method == "predict_intensity":
        return (lambda frame: np.asarray(method(frame), float).reshape(-1, 1),
                lambda full: np.zeros(len(full), dtype=int))
    classes = list(estimator.classes_)
    if target is not None and target not in classes:
        raise ValueError(
            f"`target` must be one of the classes {classes!r} or None; got {target!r}."
        )

    def pick(full):
        if target is None:
            return full.argmax(axis=1)
        return np.full(len(full), classes.index(target))

    return (lambda frame: np.asarray(method(frame), float)), pick


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like"],
        "attributions": ["array-like"],
        "target": "no_validation",
        "response_method": [StrOptions({"predict_proba", "predict_intensity"})],
    },
    prefer_skip_nested_validation=True,
)
def deletion_curve(
    estimator, X, attributions, *, target=None, response_method="predict_proba"
):
    """Drop of the explained output as the top-k attributed readings go missing.

    For every row and ``k = 0 .. n_features``, the ``k`` readings with the
    largest attribution (signed: the readings that push the output up come
    first) are set to NaN and the explained output is recomputed. Readings
    already missing are never chosen; once every present reading is gone the
    row stays fully missing. The drop is the output of the row as given minus
    the output after deletion.

    Parameters
    ----------
    estimator : estimator object
        A fitted model whose ``response_method`` accepts NaN.
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Rows; NaN marks a missing reading.
    attributions : array-like or DataFrame of shape (n_samples, n_features) \
            or (n_features,)
        One attribution per reading (higher = deleted first), or one row used
        for every sample (a global importance). A DataFrame's columns are
        matched to ``X``'s by name.
    target : class label or None, default=None
        The explained output: None is the probability of the class each row
        is predicted as (on the row as given); a label is that class's
        probability. Ignored for ``predict_intensity``.
    response_method : {"predict_proba", "predict_intensity"}, \
            default="predict_proba"
        The method whose output is explained.

    Returns
    -------
    curve : :class:`~sklearn.utils.Bunch`
        ``k`` (ndarray, ``0 .. n_features``), ``drops`` (ndarray of shape
        (n_samples, n_features + 1), ``drops[:, 0] == 0``), ``drop_mean``
        (mean over rows) and ``area``: the mean of ``drop_mean`` over
        ``k = 1 .. n_features``. A larger area is a steeper, more faithful
        curve.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sksteel.inspection import shapley_values
    >>> from sksteel.metrics import deletion_curve
    >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    >>> model = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    >>> model = model.fit(X, y)
    >>> values = shapley_values(model, X[:20]).values
    >>> curve = deletion_curve(model, X[:20], values)
    >>> curve.drops.shape
    (20, 5)
    >>> bool(curve.area > deletion_curve(model, X[:20], -values).area)
    True
    """
    check_is_fitted(estimator)
    frame = _readings(X)
    values = _attribution_array(attributions, frame)
    respond, pick = _explained_output(estimator, response_method, target)
    rows = frame.to_numpy()
    n_rows, n_features = rows.shape
    # Missing readings rank last so they are never "deleted" before a present one.
    scores = np.where(np.isnan(rows), -np.inf, values)
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_features)[None, :], axis=1)
    # keep[r, k, j]: reading j of row r survives the deletion of the top k.
    keep = rank[:, None, :] >= np.arange(n_features + 1)[None, :, None]
    masked = np.where(keep, rows[:, None, :], np.nan).reshape(-1, n_features)
    outputs = respond(pd.DataFrame(masked, columns=frame.columns)
                      if isinstance(X, pd.DataFrame) else masked)
    outputs = outputs.reshape(n_rows, n_features + 1, -1)
    chosen = pick(outputs[:, 0, :])
    explained = np.take_along_axis(outputs, chosen[:, None, None], axis=2)[..., 0]
    drops = explained[:, :1] - explained
    drop_mean = drops.mean(axis=0)
    return Bunch(
        k=np.arange(n_features + 1), drops=drops, drop_mean=drop_mean,
        area=float(drop_mean[1:].mean()) if n_features else 0.0,
    )


def _defective(y):
    """Mask of rows whose class is a defect (not 0 or 'none')."""
    return np.array([label not in (0, CLASS_NAMES[0]) for label in y], dtype=bool)


@validate_params(
    {
        "attributions": ["array-like"],
        "y": ["array-like"],
        "attribution_prior": [pd.DataFrame],
        "k": [Interval(Integral, 1, None, closed="left")],
        "defective_only": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def rank_agreement(attributions, y, attribution_prior, *, k=2, defective_only=True):
    """Rank agreement of per-row attributions with the ground truth ``w*``.

    Each row's attribution is compared with the prior row of its true class:
    the Spearman correlation of the two (ties share their mean rank), and the
    share of the top ``k`` readings of the attribution that are among the top
    ``k`` of ``w*``. Attributions are ranked as signed values (the reading
    that raises the explained output most ranks first).

    Parameters
    ----------
    attributions : DataFrame or array-like of shape (n_samples, n_features)
        Per-row attributions; a DataFrame's columns are matched to the
        prior's by name.
    y : array-like of shape (n_samples,)
        True classes.
    attribution_prior : DataFrame of shape (n_classes, n_features)
        The ground truth ``w*``, indexed by class label.
    k : int, default=2
        Size of the top sets compared.
    defective_only : bool, default=True
        Keep only rows of a defect class (label not ``0`` or ``"none"``), as
        the no-defect class has no meaningful ``w*``.

    Returns
    -------
    agreement : :class:`~sklearn.utils.Bunch`
        ``spearman`` and ``top_k_overlap`` (means over the rows kept; a row
        whose attribution or prior is constant has no Spearman correlation
        and is left out of that mean), and ``per_row`` (DataFrame with both
        columns, indexed like the rows kept).

    Examples
    --------
    >>> import pandas as pd
    >>> from sksteel.metrics import rank_agreement
    >>> prior = pd.DataFrame([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]],
    ...                      index=[1, 2], columns=["a", "b", "c"])
    >>> attributions = pd.DataFrame([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]],
    ...                             columns=["a", "b", "c"])
    >>> agreement = rank_agreement(attributions, [1, 2], prior, k=1)
    >>> agreement.per_row["spearman"].tolist()
    [1.0, -1.0]
    >>> float(agreement.top_k_overlap)
    0.5
    """
    y = np.asarray(y)
    if isinstance(attributions, pd.DataFrame):
        missing = sorted(set(attribution_prior.columns) - set(attributions.columns))
        if missing:
            raise ValueError(
                f"`attributions` lacks the prior's columns {missing!r}."
            )
        frame = attributions[list(attribution_prior.columns)].astype(float)
    else:
        frame = pd.DataFrame(np.asarray(attributions, dtype=float),
                             columns=attribution_prior.columns)
    if len(frame) != len(y):
        raise ValueError(
            f"`attributions` and `y` must have the same number of rows; got "
            f"{len(frame)} and {len(y)}."
        )
    unknown = sorted({str(c) for c in y} - {str(c) for c in attribution_prior.index})
    if unknown:
        raise ValueError(
            f"`y` has classes without a row in `attribution_prior`: {unknown!r}."
        )
    keep = _defective(y) if defective_only else np.ones(len(y), dtype=bool)
    pred = frame.to_numpy()[keep]
    truth = attribution_prior.loc[y[keep]].to_numpy(dtype=float)
    k = min(k, pred.shape[1])
    rho = np.array([_spearman(p, t) for p, t in zip(pred, truth)])
    top_pred = np.argsort(-pred, axis=1, kind="stable")[:, :k]
    top_true = np.argsort(-truth, axis=1, kind="stable")[:, :k]
    overlap = np.array(
        [len(set(a) & set(b)) / k for a, b in zip(top_pred, top_true)]
    )
    per_row = pd.DataFrame(
        {"spearman": rho, "top_k_overlap": overlap}, index=frame.index[keep]
    )
    return Bunch(
        spearman=float(np.nanmean(rho)) if np.isfinite(rho).any() else np.nan,
        top_k_overlap=float(overlap.mean()) if len(overlap) else np.nan,
        per_row=per_row,
    )


def _spearman(a, b):
    """Spearman correlation, NaN when either side is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return np.nan
    return float(spearmanr(a, b).statistic)


def _explain(estimator, X, method, random_state):
    """Per-row attributions of one method, as a DataFrame in X's columns."""
    frame = _readings(X)
    if callable(method):
        return pd.DataFrame(
            _attribution_array(method(estimator, X), frame), index=frame.index,
            columns=frame.columns,
        )
    if method == "shapley":
        values = shapley_values(estimator, X).values.to_numpy()
    elif method == "head":
        if not hasattr(estimator, "explain"):
            raise ValueError(
                f"method='head' needs an estimator with `explain(X, method='head')` "
                f"such as SteelNetClassifier; {type(estimator).__name__} has none."
            )
        values = estimator.explain(X, method="head").to_numpy()
    else:  # random
        values = check_random_state(random_state).random(frame.shape)
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


def _reinitialised(estimator, random_state):
    """A copy of a torch estimator with every layer's weights re-drawn."""
    import torch

    module = getattr(getattr(estimator, "net_", None), "module_", None)
    if module is None:
        raise ValueError(
            "The model-randomisation check re-initialises a torch network and "
            f"needs an estimator with `net_.module_`; {type(estimator).__name__} "
            "has none."
        )
    randomised = copy.deepcopy(estimator)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for layer in randomised.net_.module_.modules():
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
    return randomised


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "X": ["array-like"],
        "method": [StrOptions({"shapley", "head"}), callable],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def randomisation_check(estimator, X, *, method="shapley", random_state=None):
    """Model-randomisation sanity check: do explanations depend on the weights?

    The explanations of ``estimator`` are compared with those of a copy
    whose network weights are re-initialised (every layer's
    ``reset_parameters``, seeded by ``random_state``). A method that explains
    the model gives very different attributions for the two; one that
    explains something else (the data, a fixed prior) does not.

    Parameters
    ----------
    estimator : estimator object
        A fitted torch estimator with ``net_.module_``, such as
        :class:`~sksteel.models.SteelNetClassifier`.
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Rows to explain.
    method : {"shapley", "head"} or callable, default="shapley"
        The explanation; a callable ``method(estimator, X)`` returns an
        (n_samples, n_features) table.
    random_state : int, RandomState instance or None, default=None
        Seeds the re-initialisation.

    Returns
    -------
    check : :class:`~sklearn.utils.Bunch`
        ``spearman``: mean over rows of the Spearman correlation of
        absolute attributions, original against randomised (1 = same
        ranking; rows where either is constant are left out);
        ``distance``: mean over rows of
        ``||a - a_random|| / ||a||`` (0 = identical); ``original`` and
        ``randomised``: the two tables.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sksteel.metrics import randomisation_check
    >>> from sksteel.models import SteelNetClassifier
    >>> X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    >>> model = SteelNetClassifier(hidden_layer_sizes=(8,), d_token=4,
    ...                            max_epochs=5, random_state=0).fit(X, y)
    >>> check = randomisation_check(model, X[:10], random_state=0)
    >>> bool(check.distance > 0.1)
    True
    """
    check_is_fitted(estimator)
    original = _explain(estimator, X, method, None)
    randomised = _explain(_reinitialised(estimator, random_state), X, method, None)
    return _randomisation_scores(original, randomised)


def _randomisation_scores(original, randomised):
    """Similarity of two explanation tables (see :func:`randomisation_check`)."""
    a, b = original.to_numpy(), randomised.to_numpy()
    rho = np.array([_spearman(np.abs(p), np.abs(q)) for p, q in zip(a, b)])
    norms = np.linalg.norm(a, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.linalg.norm(a - b, axis=1) / norms
    return Bunch(
        spearman=float(np.nanmean(rho)) if np.isfinite(rho).any() else np.nan,
        distance=float(np.nanmean(distance)) if np.isfinite(distance).any() else 0.0,
        original=original,
        randomised=randomised,
    )


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "attribution_prior": [pd.DataFrame, None],
        "methods": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def explanation_comparison(
    estimator, X, y, *, attribution_prior=None, methods=METHODS, k=2,
    n_repeats=5, random_state=None,
):
    """Compare explanation methods on faithfulness and ground-truth agreement.

    For each method: the area of its :func:`deletion_curve` (explained
    output: probability of the predicted class), its :func:`rank_agreement`
    with ``attribution_prior`` on the defective rows, and, for the Shapley
    values and the head, the :func:`randomisation_check`.

    The methods: ``"shapley"`` (exact :func:`~sksteel.inspection.shapley_values`
    of the predicted class), ``"head"`` (``estimator.explain(X,
    method="head")``, skipped when the estimator has no ``explain``),
    ``"permutation"`` (sklearn's
    :func:`~sklearn.inspection.permutation_importance` on ``X, y``, one
    global ranking for every row) and ``"random"`` (a random ranking per
    row).

    Parameters
    ----------
    estimator : estimator object
        A fitted NaN-native classifier.
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Held-out rows.
    y : array-like of shape (n_samples,)
        Their true classes.
    attribution_prior : DataFrame of shape (n_classes, n_features), default=None
        The generator's ``w*``; None leaves the agreement columns NaN.
    methods : list of str, default=("shapley", "head", "permutation", "random")
        Methods to compare.
    k : int, default=2
        Size of the top sets in :func:`rank_agreement`.
    n_repeats : int, default=5
        Repeats of permutation importance.
    random_state : int, RandomState instance or None, default=None
        Seeds permutation importance, the random ranking and the
        re-initialisation.

    Returns
    -------
    comparison : :class:`~sklearn.utils.Bunch`
        ``table``: DataFrame indexed by method with ``deletion_area``,
        ``spearman``, ``top_k_overlap``, ``randomised_spearman`` and
        ``randomised_distance`` (NaN where not applicable); ``curves``:
        dict of method to its :func:`deletion_curve`; ``attributions``:
        dict of method to its table.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sksteel.metrics import explanation_comparison
    >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    >>> model = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    >>> comparison = explanation_comparison(model.fit(X, y), X[:40], y[:40],
    ...                                     methods=["shapley", "random"],
    ...                                     random_state=0)
    >>> comparison.table.index.tolist()
    ['shapley', 'random']
    >>> bool(comparison.table.loc["shapley", "deletion_area"]
    ...      > comparison.table.loc["random", "deletion_area"])
    True
    """
    check_is_fitted(estimator)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"`methods` must be among {list(METHODS)!r}; got {unknown!r}.")
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=3)
    frame = _readings(X)
    y = np.asarray(y)
    rows, curves, tables = [], {}, {}
    random_model = (
        _reinitialised(estimator, seeds[2]) if hasattr(estimator, "net_") else None
    )
    for name in methods:
        if name == "head" and not hasattr(estimator, "explain"):
            continue
        if name == "permutation":
            result = permutation_importance(
                estimator, X, y, n_repeats=n_repeats, random_state=seeds[0]
            )
            table = pd.DataFrame(
                np.broadcast_to(result.importances_mean, frame.shape),
                index=frame.index, columns=frame.columns,
            )
        else:
            table = _explain(estimator, X, name, seeds[1])
        curves[name] = deletion_curve(estimator, X, table)
        tables[name] = table
        row = {"method": name, "deletion_area": curves[name].area}
        if attribution_prior is not None:
            agreement = rank_agreement(table, y, attribution_prior, k=k)
            row.update(
                spearman=agreement.spearman, top_k_overlap=agreement.top_k_overlap
            )
        if name in ("shapley", "head") and random_model is not None:
            # The same re-initialised copy for every method; the original
            # table is reused rather than recomputed.
            randomised = _explain(random_model, X, name, None)
            check = _randomisation_scores(table, randomised)
            row.update(randomised_spearman=check.spearman,
                       randomised_distance=check.distance)
        rows.append(row)
    columns = ["deletion_area", "spearman", "top_k_overlap", "randomised_spearman",
               "randomised_distance"]
    table = pd.DataFrame(rows).set_index("method").reindex(columns=columns)
    return Bunch(table=table, curves=curves, attributions=tables)
