"""Shapley values whose players are the readings of a row.

The payoff of a coalition ``S`` is the model's output for the row with only
the readings in ``S`` present and the others NaN. A NaN-native model has seen
missing readings in training (SteelNet learns a missing token and is trained
with failing sensors; HistGradientBoosting routes NaN natively), so every
coalition is an input the model knows, unlike SHAP's background replacement.
"""

from math import comb
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import HasMethods, Interval, StrOptions, validate_params
from .._validation import _refuse_infinity
from ..exceptions import DataFormatError, NaNUnsupportedError

__all__ = ["shapley_values"]

#: Masked rows per call to the estimator when ``batch_size`` is None.
_DEFAULT_BATCH_SIZE = 65_536


class _ShapleyBunch(Bunch):
    """A Bunch whose ``values`` attribute is the values table.

    ``dict.values`` would otherwise shadow the key: ``result.values`` must be
    the DataFrame, as in the docs; ``result["values"]`` works either way.
    """

    @property
    def values(self):
        return self["values"]


def _as_frame(estimator, X):
    """``X`` as a float DataFrame, checked against the columns seen in fit."""
    seen = getattr(estimator, "feature_names_in_", None)
    if isinstance(X, pd.DataFrame):
        if seen is not None and list(X.columns) != list(seen):
            missing = [c for c in seen if c not in X.columns]
            unexpected = [c for c in X.columns if c not in set(seen)]
            raise DataFormatError(
                f"X must have the columns {type(estimator).__name__} was fitted "
                f"on, in that order: {list(seen)!r}. Got {list(X.columns)!r} "
                f"(missing {missing!r}, unexpected {unexpected!r}). Select them "
                f"with `X[list(estimator.feature_names_in_)]`."
            )
        frame = X.astype(float)
    else:
        values = np.asarray(X, dtype=float)
        if values.ndim != 2:
            raise DataFormatError(f"X must be 2-D; got shape {values.shape!r}.")
        n_seen = getattr(estimator, "n_features_in_", values.shape[1])
        if values.shape[1] != n_seen:
            raise DataFormatError(
                f"X has {values.shape[1]} columns, but "
                f"{type(estimator).__name__} was fitted on {n_seen}."
            )
        names = list(seen) if seen is not None else list(range(values.shape[1]))
        frame = pd.DataFrame(values, columns=names)
    _refuse_infinity(estimator, frame.to_numpy())
    return frame


def _players(columns, feature_groups):
    """Names of the players and a (n_players, n_features) membership mask.

    Each group is one player, followed by each column in no group.
    """
    columns = list(columns)
    if feature_groups is None:
        return columns, np.eye(len(columns), dtype=bool)
    owner = {}
    for name, members in feature_groups.items():
        members = [members] if isinstance(members, str) else list(members)
        unknown = [c for c in members if c not in columns]
        if unknown:
            raise ValueError(
                f"`feature_groups[{name!r}]` names columns that X does not have: "
                f"{unknown!r}. The columns are {columns!r}."
            )
        if not members:
            raise ValueError(f"`feature_groups[{name!r}]` is empty.")
        for column in members:
            if column in owner and owner[column] != name:
                raise ValueError(
                    f"`feature_groups` must not overlap, but column {column!r} "
                    f"is in both {owner[column]!r} and {name!r}. Put each "
                    "column in one group."
                )
            owner[column] = name
    names = list(feature_groups) + [c for c in columns if c not in owner]
    if len(set(names)) != len(names):
        raise ValueError(
            f"A `feature_groups` name is also an ungrouped column: {names!r}. "
            "Rename the group."
        )
    membership = np.zeros((len(names), len(columns)), dtype=bool)
    for j, column in enumerate(columns):
        membership[names.index(owner.get(column, column)), j] = True
    return names, membership


def _response(estimator, response_method, target):
    """A function from a float frame to the output column(s) to explain.

    It returns a (n_rows, n_outputs) array; ``_select`` picks the target.
    """
    method = getattr(estimator, response_method, None)
    if method is None:
        raise ValueError(
            f"{type(estimator).__name__} has no `{response_method}` method; "
            "choose a `response_method` the estimator provides."
        )
    if response_method == "predict_intensity":
        if target not in (None, "intensity"):
            raise ValueError(
                "With `response_method='predict_intensity'`, `target` must be "
                f"None or 'intensity'; got {target!r}."
            )
        return lambda frame: np.asarray(method(frame), dtype=float).reshape(-1, 1)
    if target is not None:
        classes = list(estimator.classes_)
        if target not in classes:
            raise ValueError(
                f"`target` must be one of the classes of the model {classes!r} "
                f"or None (the predicted class of each row); got {target!r}."
            )
    return lambda frame: np.asarray(method(frame), dtype=float)


def _evaluate(respond, frame_like, rows, column_mask, batch_size):
    """Outputs for every row of ``rows`` under every column mask.

    ``rows`` is (n_rows, n_features), ``column_mask`` (n_rows, n_masks,
    n_features) or (n_masks, n_features); the result is (n_rows, n_masks,
    n_outputs). The masked rows of several rows go to the estimator in one
    call of at most ``batch_size`` rows.
    """
    n_masks = column_mask.shape[-2]
    per_call = max(1, batch_size // n_masks)
    outputs = []
    for start in range(0, len(rows), per_call):
        chunk = rows[start : start + per_call]
        mask = column_mask
        if mask.ndim == 3:
            mask = mask[start : start + per_call]
        masked = np.where(mask, chunk[:, None, :], np.nan).reshape(-1, rows.shape[1])
        out = respond(frame_like(masked))
        outputs.append(out.reshape(len(chunk), n_masks, -1))
    return np.concatenate(outputs, axis=0)


def _exact(payoffs, n_players):
    """Exact Shapley values from the payoffs of all coalitions.

    ``payoffs`` is (n_rows, 2**n_players); coalition ``s`` holds player ``i``
    when bit ``i`` of ``s`` is set.
    """
    coalitions = np.arange(2**n_players)
    sizes = np.array([bin(s).count("1") for s in coalitions])
    # w(s) = s! (p - s - 1)! / p!, written without factorials.
    weights = np.array(
        [1.0 / (n_players * comb(n_players - 1, s)) for s in range(n_players)]
    )
    values = np.empty((payoffs.shape[0], n_players))
    for i in range(n_players):
        without = coalitions[(coalitions >> i) & 1 == 0]
        gains = payoffs[:, without | (1 << i)] - payoffs[:, without]
        values[:, i] = gains @ weights[sizes[without]]
    return values


def _orderings(n_rows, n_players, n_permutations, rng):
    """Antithetic permutations: each random ordering followed by its reverse."""
    n_pairs = (n_permutations + 1) // 2
    orders = np.argsort(rng.random((n_rows, n_pairs, n_players)), axis=2)
    return np.concatenate([orders, orders[:, :, ::-1]], axis=1)


def _sampled(respond, frame_like, rows, membership, orders, batch_size):
    """Shapley values averaged over the given orderings, with the payoffs of
    all their prefixes computed in batches."""
    n_rows, n_orders, n_players = orders.shape
    # prefix[r, o, k, i]: player i is among the first k of ordering o.
    rank = np.argsort(orders, axis=2)
    prefix = rank[:, :, None, :] < np.arange(n_players + 1)[None, None, :, None]
    column_mask = (prefix.astype(float) @ membership.astype(float)) > 0
    column_mask = column_mask.reshape(n_rows, n_orders * (n_players + 1), -1)
    payoffs = _evaluate(respond, frame_like, rows, column_mask, batch_size)
    return payoffs.reshape(n_rows, n_orders, n_players + 1, -1), rank


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like"],
        "target": "no_validation",
        "response_method": [StrOptions({"predict_proba", "predict_intensity"})],
        "feature_groups": [dict, None],
        "max_exact_features": [Interval(Integral, 0, 20, closed="both")],
        "n_permutations": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def shapley_values(
    estimator,
    X,
    *,
    target=None,
    response_method="predict_proba",
    feature_groups=None,
    max_exact_features=12,
    n_permutations=64,
    random_state=None,
    batch_size=None,
):
    """Shapley values of each reading (or group of readings) of each row.

    The players of a row are its readings. The payoff of a coalition is the
    output of ``estimator`` for the row with only the coalition's readings
    present and every other reading missing (NaN). The estimator must read
    NaN natively, as :class:`~sksteel.models.SteelNetClassifier` and
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier` do: a
    coalition is then an input the model has seen in training, not a row
    made up from a background sample.

    Readings already missing in a row are not players: their value is 0 and
    they stay missing in every coalition. Up to ``max_exact_features``
    players every coalition is evaluated and the values are exact; above,
    they are averaged over ``n_permutations`` sampled orderings of the
    players (antithetic pairs, seeded by ``random_state``). Either way
    ``values.sum(axis=1) + base_values == predictions`` up to float rounding.

    Parameters
    ----------
    estimator : estimator object
        A fitted estimator, or a pipeline ending in one, whose
        ``response_method`` accepts NaN.

    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The rows to explain, with the columns seen in fit; NaN is a missing
        reading.

    target : class label, "intensity" or None, default=None
        The output to explain. None explains the probability of the class
        each row is predicted as; a class label explains that class's
        probability; with ``response_method="predict_intensity"`` the
        predicted intensity is explained (None or ``"intensity"``).

    response_method : {"predict_proba", "predict_intensity"}, \
            default="predict_proba"
        The estimator's method whose output is explained.

    feature_groups : dict of str to list of str, default=None
        Groups of columns that act as one player (e.g. a sensor family).
        Columns in no group remain players of their own. Groups must not
        overlap.

    max_exact_features : int, default=12
        Largest number of players for which all ``2**n_players`` coalitions
        are evaluated.

    n_permutations : int, default=64
        Orderings sampled per row above ``max_exact_features`` players,
        rounded up to an even number (each ordering comes with its reverse).

    random_state : int, RandomState instance or None, default=None
        Seeds the sampled orderings; unused when the values are exact.

    batch_size : int, default=None
        Largest number of masked rows sent to the estimator in one call.
        None means 65,536.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With the following attributes (``result.values`` is the table, not
        ``dict.values``):

        values : DataFrame of shape (n_samples, n_players)
            The Shapley values, indexed like ``X``, one column per feature or
            group.
        base_values : Series of shape (n_samples,)
            The explained output with every reading missing.
        predictions : Series of shape (n_samples,)
            The explained output for the row as given.
        target : Series of shape (n_samples,)
            The class (or ``"intensity"``) explained in each row.

    Raises
    ------
    NaNUnsupportedError
        If the estimator cannot predict a row of missing readings.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sksteel.inspection import shapley_values
    >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    >>> X[::7, 1] = np.nan
    >>> model = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    >>> result = shapley_values(model.fit(X, y), X[:5])
    >>> result.values.shape
    (5, 4)
    >>> total = result.values.sum(axis=1) + result.base_values
    >>> bool(np.allclose(total, result.predictions))
    True
    """
    check_is_fitted(estimator)
    frame = _as_frame(estimator, X)
    names, membership = _players(frame.columns, feature_groups)
    respond = _response(estimator, response_method, target)
    columns = frame.columns
    if hasattr(estimator, "feature_names_in_"):
        def frame_like(values):
            return pd.DataFrame(values, columns=columns)
    else:
        def frame_like(values):
            return values

    try:
        respond(frame_like(np.full((1, len(columns)), np.nan)))[0]
    except ValueError as exc:
        raise NaNUnsupportedError(
            f"{type(estimator).__name__} cannot predict a row of missing "
            f"readings ({exc}). Shapley values over missingness need a model "
            "that reads NaN natively, such as SteelNetClassifier or "
            "HistGradientBoostingClassifier. A pipeline with an imputer also "
            "works, but then a 'missing' reading means 'the imputed value', so "
            "the values explain the imputer's guess, not the model's response "
            "to a failed sensor."
        ) from exc

    rows = frame.to_numpy()
    n_rows, n_players = len(rows), len(names)
    batch_size = _DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    # A player is active in a row when at least one of its readings is present.
    active = (~np.isnan(rows)) @ membership.T.astype(int) > 0

    if n_players <= max_exact_features:
        coalitions = np.arange(2**n_players)
        in_coalition = (coalitions[:, None] >> np.arange(n_players)) & 1 == 1
        column_mask = (in_coalition.astype(int) @ membership.astype(int)) > 0
        payoffs = _evaluate(respond, frame_like, rows, column_mask, batch_size)
        full = payoffs[:, -1, :]
    else:
        rng = check_random_state(random_state)
        orders = _orderings(n_rows, n_players, n_permutations, rng)
        payoffs, rank = _sampled(
            respond, frame_like, rows, membership, orders, batch_size
        )
        full = payoffs[:, 0, -1, :]

    if response_method == "predict_intensity":
        output = np.zeros(n_rows, dtype=int)
        labels = np.full(n_rows, "intensity", dtype=object)
    elif target is None:
        output = full.argmax(axis=1)
        labels = np.asarray(estimator.classes_)[output]
    else:
        output = np.full(n_rows, list(estimator.classes_).index(target))
        labels = np.full(n_rows, target, dtype=object)

    picked = np.take_along_axis(
        payoffs, output.reshape((-1,) + (1,) * (payoffs.ndim - 1)), axis=-1
    )[..., 0]
    if n_players <= max_exact_features:
        values = _exact(picked, n_players)
        base, prediction = picked[:, 0], picked[:, -1]
    else:
        # gains[r, o, k]: change when the (k+1)-th player of ordering o joins.
        gains = np.diff(picked, axis=2)
        values = np.take_along_axis(gains, rank, axis=2).mean(axis=1)
        base, prediction = picked[:, 0, 0], picked[:, 0, -1]
    values = np.where(active, values, 0.0)

    index = frame.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n_rows)
    return _ShapleyBunch(
        values=pd.DataFrame(values, index=index, columns=names),
        base_values=pd.Series(base, index=index, name="base_value"),
        predictions=pd.Series(prediction, index=index, name="prediction"),
        target=pd.Series(labels, index=index, name="target"),
    )
