"""Setpoint recommendations: sparse, bounded, NaN-aware changes of the
actionable readings that bring a defective operating point back to normal."""

from itertools import combinations
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics.pairwise import nan_euclidean_distances
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from .._schema import CLASS_NAMES, SENSOR_NAMES, SENSORS
from .._sklearn_compat import HasMethods, Interval, StrOptions, _fit_context
from .._validation import _validate_readings
from ..exceptions import DataFormatError
from ._gradient import differentiable_proba, gradient_search

__all__ = ["SetpointRecommender"]

#: Normal rows whose values are tried for a set of changed columns: the ones
#: nearest to the current reading on the columns that do not change.
_N_DONORS = 10

#: Beyond one change, sets of columns are drawn from at most this many
#: columns (those whose single change raises the target probability most).
_MAX_POOL = 8

#: At most this many fit rows form the nearest-neighbour reference.
_MAX_REFERENCE = 2000

#: Share of the fit rows inside the plausible region.
_PLAUSIBLE_QUANTILE = 0.99


def _column_keys(names, n_features):
    """The keys that address columns: feature names, else positions."""
    return list(names) if names is not None else list(range(n_features))


def _table_field(who, names, n_features, field, parameter):
    """One field of the sensor table for each column of X, matched by name
    (or by position for ten unnamed columns)."""
    if names is None:
        if n_features != len(SENSOR_NAMES):
            raise DataFormatError(
                f"{who} with {parameter}='table' reads the sensor table, which "
                f"needs the {len(SENSOR_NAMES)} sensor columns; X has "
                f"{n_features} unnamed column(s). Pass a DataFrame with the "
                f"sensor names, or pass {parameter} explicitly (a list or dict "
                "of column positions)."
            )
        return SENSORS[field].to_numpy()
    unknown = [name for name in names if name not in SENSORS.index]
    if unknown:
        raise DataFormatError(
            f"{who} with {parameter}='table' matches columns by sensor name, but "
            f"{unknown!r} are not sensors; expected names among "
            f"{list(SENSOR_NAMES)!r}. Drop those columns or pass {parameter} "
            "explicitly (a list or dict of column names)."
        )
    return SENSORS.loc[list(names), field].to_numpy()


def _refuse_unknown(who, keys, given, parameter):
    """Raise a ValueError naming the entries of ``given`` that are not columns."""
    unknown = [key for key in given if key not in keys]
    if unknown:
        raise DataFormatError(
            f"{who}: `{parameter}` names unknown column(s) {unknown!r}; the "
            f"columns of X are {keys!r}."
        )


class SetpointRecommender(BaseEstimator):
    """Recommend sparse, bounded setpoint changes that reach a target class.

    For each row of sensor readings, a search changes a few actionable
    readings, within their feasible bounds, so that a fitted classifier's
    probability of ``target`` (by default ``"none"``, no defect) reaches
    ``threshold``. Two searches exist (``method``): a model-agnostic one,
    which only calls the classifier's ``predict_proba`` and so works with
    any estimator that has one (for example
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier`), and a
    gradient-based one through a
    :class:`~sksteel.models.SteelNetClassifier`'s differentiable
    probabilities (:meth:`~sksteel.models.SteelNetClassifier.proba_tensor`).

    The model-agnostic search moves a row towards normal operation, one more column at a
    time. For a set of actionable columns with a reading, it takes the
    values of those columns from the normal rows seen in :meth:`fit` that
    are nearest to the row on the *other* columns (so the new values are
    ones that occur together with the rest of the row), clipped to the
    bounds, and scores all such candidates in one ``predict_proba`` call.
    It tries every single column first, then pairs, and so on up to
    ``max_changes`` columns (beyond one column, among the eight whose
    single change raises the target probability most), and stops at the
    smallest number of columns that reaches ``threshold``. Among the
    candidates that reach it, it keeps the one of highest target
    probability (then lowest cost): a point well inside the target region
    rather than on its edge, which an independent model then also accepts
    more often. Moving whole columns to values of real normal rows, instead
    of to wherever one model's probability first crosses the threshold,
    keeps recommendations plausible and their changed sensors close to the
    true causes of a defect (see ``benchmarks/bench_recommend.py``).

    The gradient search optimises the free readings of all rows at once
    with Adam, in units of ``scale_``, on ``-log p(target)`` plus a small L1
    cost of the changes plus a penalty on the squared nearest-normal
    distance beyond 0.9 ``radius_`` (the plausible region learned in
    :meth:`fit`), projecting onto the bounds after every step. A sparsity
    step then keeps only the ``k`` largest changes (``k = 1, 2, ...,
    max_changes``), resets the other readings and optimises again; each row
    gets the smallest ``k`` that reaches the threshold. Changes below 0.01
    of the scale are undone where the point stays valid.

    Rules kept: a missing reading (NaN) is never changed and stays NaN; a
    column that is not actionable never changes; every changed value lies
    within its bounds; a row already predicted as ``target`` is returned
    unchanged.

    Read more in the :ref:`User Guide <recommending>`.

    Parameters
    ----------
    estimator : object
        A fitted classifier with ``predict_proba`` and ``classes_``.

    target : str or int, default="none"
        The class to reach. A label of ``estimator.classes_``, or a name of
        :data:`sksteel.datasets.CLASS_NAMES` when the classes are the
        integer codes ``0..4``.

    actionable : "table" or list, default="table"
        The columns that may change. ``"table"`` reads the ``actionable``
        column of :data:`sksteel.datasets.SENSORS` (columns are matched by
        sensor name and must all be sensors); a list names the columns
        (positions for an array without column names).

    bounds : "table" or dict, default="table"
        Feasible ``(low, high)`` of the changed values. ``"table"`` reads
        ``feasible_low`` and ``feasible_high`` of the sensor table; a dict
        maps columns to ``(low, high)`` (``-np.inf`` / ``np.inf`` for no
        limit); columns it does not name are unbounded.

    max_changes : int, default=3
        The most columns one recommendation changes.

    cost : {"range", "std"}, default="range"
        The scale in which a change is measured. ``"range"``: the width of
        the sensor table's normal range for sensor columns, and the 5 % to
        95 % quantile width of the fit rows for the others, so that
        "+0.2 bar" and "+10 degC" are comparable. ``"std"``: the standard
        deviation of the fit rows.

    n_alternatives : int, default=1
        Recommendations per row, each changing a different set of columns
        that contains no other alternative's set (so an alternative is not
        just a previous one plus more changes), fewest columns first.

    threshold : float, default=0.5
        Target probability a recommendation must reach to be valid.

    require_plausible : bool, default=False
        Whether a recommendation must also be plausible (inside the region
        of the fit rows, see ``radius_``) to be valid. Guards against points
        that fool one model but lie outside normal operation; rows that only
        a non-actionable change makes plausible then get the reason
        "drivers not actionable: ...".

    method : {"auto", "gradient", "search"}, default="auto"
        ``"search"``: the model-agnostic search. ``"gradient"``: the
        gradient search, for an estimator with ``proba_tensor`` (a
        SteelNetClassifier, or a pipeline ending in one whose other steps
        are samplers, which act during ``fit`` only) fitted on the columns
        of X in the same order. ``"auto"``: the gradient search where it
        applies, else the model-agnostic one. With ``n_alternatives > 1``,
        the gradient search finds each further alternative without the
        largest change of each earlier one.

    random_state : int, RandomState instance or None, default=None
        Draws the fit rows kept as the reference (the values tried and the
        plausible region) when there are more than 2,000.

    Attributes
    ----------
    classes_ : ndarray
        ``estimator.classes_``.

    target_index_ : int
        Position of ``target`` in ``classes_``.

    actionable_ : ndarray of bool of shape (n_features_in_,)
        Whether each column may change.

    bounds_ : ndarray of shape (n_features_in_, 2)
        Feasible low and high of each column.

    scale_ : ndarray of shape (n_features_in_,)
        Unit in which the cost of a change is measured, per column.

    reference_ : ndarray of shape (n_reference, n_features_in_)
        Fit rows, in the units of X: the normal rows whose values the
        search tries, and that define the plausible region.

    method_ : str
        The search used, ``"gradient"`` or ``"search"``.

    radius_ : float
        A point is plausible when its nearest reference row (NaN-aware
        Euclidean distance, in ``scale_`` units) is at most this far: the
        99th percentile of the reference rows' own nearest-neighbour
        distances.

    n_features_in_ : int
        Number of columns seen in :meth:`fit`.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in :meth:`fit`, when X has string column names.

    See Also
    --------
    sksteel.models.SteelNetClassifier.explain : Which sensors point to a defect.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sksteel.recommend import SetpointRecommender
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.uniform(0, 10, 400), "b": rng.uniform(0, 10, 400)})
    >>> y = np.where(X["a"] > 5, "bad", "good")
    >>> model = LogisticRegression().fit(X, y)
    >>> recommender = SetpointRecommender(
    ...     model, target="good", actionable=["a"], bounds={"a": (0, 10)}
    ... ).fit(X[y == "good"])
    >>> result = recommender.recommend(pd.DataFrame({"a": [8.0], "b": [3.0]}))
    >>> bool(result.valid[0]), bool(result.setpoints["a"][0] <= 5)
    (True, True)
    >>> float(result.changes["b"][0])
    0.0
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["predict_proba"])],
        "target": [str, Integral],
        "actionable": [StrOptions({"table"}), list],
        "bounds": [StrOptions({"table"}), dict],
        "max_changes": [Interval(Integral, 1, None, closed="left")],
        "cost": [StrOptions({"range", "std"})],
        "n_alternatives": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "require_plausible": ["boolean"],
        "method": [StrOptions({"auto", "gradient", "search"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        target="none",
        actionable="table",
        bounds="table",
        max_changes=3,
        cost="range",
        n_alternatives=1,
        threshold=0.5,
        require_plausible=False,
        method="auto",
        random_state=None,
    ):
        self.estimator = estimator
        self.target = target
        self.actionable = actionable
        self.bounds = bounds
        self.max_changes = max_changes
        self.cost = cost
        self.n_alternatives = n_alternatives
        self.threshold = threshold
        self.require_plausible = require_plausible
        self.method = method
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the scales, the normal rows to draw values from and the
        plausible region.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of normal operation (NaN = missing reading), with the
            columns the estimator reads.

        y : array-like of shape (n_samples,), default=None
            If given, only the rows whose label is ``target`` are used.

        Returns
        -------
        self : SetpointRecommender
            The fitted recommender.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sksteel.recommend import SetpointRecommender
        >>> X = np.arange(20.0).reshape(10, 2)
        >>> model = LogisticRegression().fit(X, [0] * 5 + [1] * 5)
        >>> recommender = SetpointRecommender(model, target=0, actionable=[0])
        >>> recommender.set_params(bounds={}).fit(X).scale_.round(1)
        array([16.2, 16.2])
        """
        who = type(self).__name__
        check_is_fitted(self.estimator)
        X = _validate_readings(self, X)
        self.classes_ = np.asarray(self.estimator.classes_)
        self.target_index_ = self._target_index(who)
        if y is not None:
            y = np.asarray(y)
            if y.shape[0] != X.shape[0]:
                raise DataFormatError(
                    f"{who}.fit got {X.shape[0]} rows in X but {y.shape[0]} "
                    "labels in y; pass one label per row."
                )
            X = X[y == self.classes_[self.target_index_]]
            if X.shape[0] == 0:
                raise DataFormatError(
                    f"{who}.fit: no row of y is the target {self.target!r}; "
                    "pass rows of normal operation."
                )
        names = getattr(self, "feature_names_in_", None)
        keys = _column_keys(names, X.shape[1])
        self.actionable_ = self._actionable(who, names, keys)
        self.bounds_ = self._bounds(who, names, keys)
        self.scale_ = self._scale(X, names)
        rng = check_random_state(self.random_state)
        if X.shape[0] > _MAX_REFERENCE:
            X = X[np.sort(rng.choice(X.shape[0], _MAX_REFERENCE, replace=False))]
        self.reference_ = X
        self.radius_ = self._radius()
        self.method_ = self._method(who, names)
        return self

    def _method(self, who, names):
        """``"gradient"`` or ``"search"``, from ``method`` and the estimator."""
        if self.method == "search":
            return "search"
        expected = getattr(self.estimator, "feature_names_in_", None)
        same_columns = expected is None or (
            names is not None and list(names) == list(expected)
        )
        if differentiable_proba(self.estimator) is not None and same_columns:
            return "gradient"
        if self.method == "auto":
            return "search"
        raise DataFormatError(
            f"{who}(method='gradient') needs an estimator with `proba_tensor` "
            "(a SteelNetClassifier, or a pipeline of samplers ending in one) "
            "fitted on the columns of X in the same order; got "
            f"{type(self.estimator).__name__}. Use method='search', which "
            "works with any estimator that has `predict_proba`."
        )

    def _target_index(self, who):
        """Position of ``target`` in ``classes_``, with CLASS_NAMES as aliases
        of the integer codes."""
        classes = list(self.classes_)
        if self.target in classes:
            return classes.index(self.target)
        if isinstance(self.target, str) and self.target in CLASS_NAMES:
            code = CLASS_NAMES.index(self.target)
            if code in classes:
                return classes.index(code)
        raise DataFormatError(
            f"{who}: the estimator does not know the target class "
            f"{self.target!r}; its classes are {classes!r}. Pass one of them "
            "as `target`."
        )

    def _actionable(self, who, names, keys):
        if isinstance(self.actionable, str):
            return _table_field(
                who, names, len(keys), "actionable", "actionable"
            ).astype(bool)
        _refuse_unknown(who, keys, self.actionable, "actionable")
        return np.array([key in self.actionable for key in keys])

    def _bounds(self, who, names, keys):
        if isinstance(self.bounds, str):
            low = _table_field(who, names, len(keys), "feasible_low", "bounds")
            high = _table_field(who, names, len(keys), "feasible_high", "bounds")
            return np.column_stack([low, high]).astype(float)
        _refuse_unknown(who, keys, self.bounds, "bounds")
        bounds = np.tile([-np.inf, np.inf], (len(keys), 1))
        for key, pair in self.bounds.items():
            low, high = (float(v) for v in pair)
            if np.isnan(low) or np.isnan(high) or low > high:
                raise DataFormatError(
                    f"{who}: the bounds of column {key!r} are ({low}, {high}); "
                    "expected low <= high (use -np.inf or np.inf for no limit)."
                )
            bounds[keys.index(key)] = low, high
        return bounds

    def _scale(self, X, names):
        """Cost unit per column; a constant column gets 1."""
        with np.errstate(all="ignore"):
            if self.cost == "std":
                scale = np.nanstd(X, axis=0)
            else:
                low, high = np.nanquantile(X, [0.05, 0.95], axis=0)
                scale = high - low
                if names is not None:
                    for j, name in enumerate(names):
                        if name in SENSORS.index:
                            scale[j] = (
                                SENSORS.loc[name, "high"] - SENSORS.loc[name, "low"]
                            )
        return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)

    def _radius(self):
        """99th percentile of the reference rows' nearest-neighbour distances
        (each to the others)."""
        if self.reference_.shape[0] < 2:
            return np.inf
        scaled = self.reference_ / self.scale_
        distances = nan_euclidean_distances(scaled, scaled)
        np.fill_diagonal(distances, np.inf)
        nearest = np.nanmin(distances, axis=1)
        nearest = nearest[np.isfinite(nearest)]
        return (
            float(np.quantile(nearest, _PLAUSIBLE_QUANTILE)) if nearest.size else np.inf
        )

    def recommend(self, X):
        """Recommend setpoints for each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Current readings (NaN = missing reading), every reading within
            its feasible bounds.

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            With ``n_samples * n_alternatives`` entries, ordered by row and
            then alternative:

            - ``setpoints``: DataFrame like X, the recommended operating
              point (the current one where there is no valid change);
            - ``changes``: DataFrame, ``setpoints - X`` in engineering
              units, 0 where a column is unchanged (also where it is NaN);
            - ``probability_before``, ``probability_after``: ndarray, the
              estimator's probability of ``target``;
            - ``valid``: ndarray of bool, ``probability_after >=
              threshold``;
            - ``reason``: ndarray of str, empty for a valid change;
              ``"already '<target>'"``, ``"no readings"``, ``"drivers not
              actionable: <columns>"`` (only changing those columns too
              would reach the target), ``"no actionable column has a
              reading"`` or ``"no change of <= k sensors within bounds
              reaches '<target>'"`` otherwise (``"no other change ..."``
              for an alternative beyond the ones found);
            - ``plausible``: ndarray of bool, the setpoints lie inside the
              region of the fit rows (nearest-neighbour check);
            - ``n_changes``, ``cost``: ndarray, columns changed and the sum
              of ``|change| / scale_``;
            - ``row``, ``alternative``: ndarray of int, the row of X and the
              alternative of each entry.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.ensemble import HistGradientBoostingClassifier
        >>> from sksteel.recommend import SetpointRecommender
        >>> X = np.column_stack([np.linspace(0, 10, 200), np.linspace(5, 6, 200)])
        >>> model = HistGradientBoostingClassifier().fit(X, X[:, 0] > 5)
        >>> recommender = SetpointRecommender(
        ...     model, target=False, actionable=[0], bounds={0: (0, 10)}
        ... ).fit(X[X[:, 0] <= 5])
        >>> result = recommender.recommend([[9.0, np.nan]])
        >>> bool(result.valid[0]), bool(np.isnan(result.setpoints.iloc[0, 1]))
        (True, True)
        """
        check_is_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        X = _validate_readings(self, X, reset=False)
        self._refuse_out_of_bounds(X)
        before = self._proba(X)
        k = self.n_alternatives
        setpoints = np.repeat(X, k, axis=0)
        reasons = np.full(X.shape[0] * k, "", dtype=object)
        after = np.repeat(before, k)
        empty = np.isnan(X).all(axis=1)
        reasons[np.repeat(empty, k)] = "no readings"
        reasons[np.repeat(~empty & (before >= self.threshold), k)] = (
            f"already {self.target!r}"
        )
        todo = np.flatnonzero(~empty & (before < self.threshold))
        found = self._find(X[todo], self.actionable_)
        failed = [i for i, f in zip(todo, found) if not f]
        failures = dict(zip(failed, self._failures(X[failed])))
        for i, alternatives in zip(todo, found):
            for a, (_, point, p, _) in enumerate(alternatives):
                setpoints[i * k + a], after[i * k + a] = point, p
            reasons[i * k + len(alternatives) : (i + 1) * k] = (
                failures[i]
                if not alternatives
                else "no other change of <= "
                f"{self.max_changes} sensors within bounds reaches {self.target!r}"
            )
        current = np.repeat(X, k, axis=0)
        changes = np.where(np.isnan(current), 0.0, setpoints - current)
        columns = getattr(self, "feature_names_in_", None)
        rows = np.repeat(np.arange(X.shape[0]), k)
        frame_index = None if index is None else index[rows]
        valid = after >= self.threshold
        valid[reasons == "no readings"] = False
        return Bunch(
            setpoints=pd.DataFrame(setpoints, columns=columns, index=frame_index),
            changes=pd.DataFrame(changes, columns=columns, index=frame_index),
            probability_before=np.repeat(before, k),
            probability_after=after,
            valid=valid,
            reason=reasons.astype(str),
            plausible=self._plausible(setpoints),
            n_changes=(changes != 0).sum(axis=1),
            cost=(np.abs(changes) / self.scale_).sum(axis=1),
            row=rows,
            alternative=np.tile(np.arange(k), X.shape[0]),
        )

    def _refuse_out_of_bounds(self, X):
        """Raise a ValueError naming the first reading outside its bounds."""
        with np.errstate(invalid="ignore"):
            outside = (X < self.bounds_[:, 0]) | (X > self.bounds_[:, 1])
        if not outside.any():
            return
        i, j = np.argwhere(outside)[0]
        names = getattr(self, "feature_names_in_", None)
        column = names[j] if names is not None else j
        low, high = self.bounds_[j]
        raise DataFormatError(
            f"{type(self).__name__}: the reading {float(X[i, j])!r} of column "
            f"{column!r} at row {i} lies outside its feasible bounds "
            f"[{low:g}, {high:g}] ({int(outside.sum())} reading(s) outside in "
            "all). Check the reading, or widen `bounds`."
        )

    def _proba(self, X):
        """The estimator's probability of the target class for rows X."""
        names = getattr(self, "feature_names_in_", None)
        frame = pd.DataFrame(X, columns=names) if names is not None else X
        return np.asarray(self.estimator.predict_proba(frame))[:, self.target_index_]

    def _find(self, X, actionable):
        """Per row of X, its valid changes (see :meth:`_search`), by the
        fitted ``method_``."""
        if self.method_ == "search":
            return [self._search(x, actionable) for x in X]
        proba = differentiable_proba(self.estimator)
        free = actionable & ~np.isnan(X)
        problem = {
            "target_index": self.target_index_,
            "bounds": self.bounds_,
            "scale": self.scale_,
            "reference": self.reference_,
            "radius": self.radius_,
            "max_changes": self.max_changes,
            "accept": self._accept,
        }
        found = [[] for _ in range(X.shape[0])]
        for _ in range(self.n_alternatives):
            for i, change in enumerate(gradient_search(proba, X, free, problem)):
                if change is None:
                    free[i] = False
                    continue
                found[i].append(change)
                # The next alternative may not change this one's largest
                # change, so its columns never contain this one's.
                delta = np.nan_to_num(change[1] - X[i]) / self.scale_
                free[i, np.argmax(np.abs(delta))] = False
        for alternatives in found:
            alternatives.sort(key=lambda f: (len(f[0]), -f[2], f[3]))
            alternatives[:] = [
                f
                for k, f in enumerate(alternatives)
                if not any(set(g[0]) <= set(f[0]) for g in alternatives[:k])
            ]
        return found

    def _accept(self, points, proba):
        """Whether each point counts as valid: the threshold reached and, with
        ``require_plausible``, plausible."""
        ok = proba >= self.threshold
        if self.require_plausible and ok.any():
            ok[ok] = self._plausible(points[ok])
        return ok

    def _search(self, x, actionable=None):
        """Valid changes of x, as few columns as possible: a list of
        ``(columns, point, probability, cost)`` sorted by size, then by
        probability (highest first), then by cost; no entry's columns contain
        another entry's."""
        actionable = self.actionable_ if actionable is None else actionable
        free = np.flatnonzero(actionable & ~np.isnan(x))
        wanted = self.n_alternatives
        found, pool = [], free
        for size in range(1, min(self.max_changes, free.size) + 1):
            subsets = [
                s
                for s in combinations(pool, size)
                if not any(set(f[0]) <= set(s) for f in found)
            ]
            points, owner = self._donated(x, subsets)
            if not owner.size:
                continue
            proba = self._proba(points)
            cost = (np.abs(np.nan_to_num(points - x)) / self.scale_).sum(axis=1)
            ok = self._accept(points, proba)
            found += self._best_per_subset(subsets, points, owner, proba, cost, ok)
            if len(found) >= wanted:
                break
            if size == 1 and free.size > _MAX_POOL:
                pool = self._pool(free, subsets, owner, proba)
        found.sort(key=lambda f: (len(f[0]), -f[2], f[3]))
        return found[:wanted]

    def _donated(self, x, subsets):
        """For each set of columns, x with those columns taken from each of
        the nearest normal rows (nearest on the other columns), clipped to
        the bounds: the points and the position of their set."""
        reference = self.reference_
        gap = ((reference - x) / self.scale_) ** 2
        present = ~np.isnan(gap)
        gap = np.where(present, gap, 0.0)
        points, owner = [], []
        for k, subset in enumerate(subsets):
            rest = np.ones(x.size, dtype=bool)
            rest[list(subset)] = False
            seen = present[:, rest].sum(axis=1)
            distance = gap[:, rest].sum(axis=1) * rest.sum() / np.maximum(seen, 1)
            usable = ~np.isnan(reference[:, list(subset)]).any(axis=1)
            distance = np.where(usable, distance, np.inf)
            donors = np.argsort(distance, kind="stable")[:_N_DONORS]
            donors = donors[np.isfinite(distance[donors])]
            block = np.repeat(x[None], donors.size, axis=0)
            values = reference[np.ix_(donors, subset)]
            low, high = self.bounds_[list(subset)].T
            block[:, list(subset)] = np.clip(values, low, high)
            points.append(block)
            owner.append(np.full(donors.size, k))
        if not points:
            return np.empty((0, x.size)), np.empty(0, dtype=int)
        return np.concatenate(points), np.concatenate(owner)

    @staticmethod
    def _best_per_subset(subsets, points, owner, proba, cost, valid):
        """The valid point of highest target probability (then lowest cost)
        of each set of columns that has one: deep inside the target region
        rather than on its edge, where another model may disagree."""
        best = []
        for k in np.unique(owner[valid]):
            ok = np.flatnonzero((owner == k) & valid)
            i = ok[np.lexsort((cost[ok], -proba[ok]))[0]]
            columns = tuple(int(j) for j in subsets[k])
            best.append((columns, points[i], proba[i], cost[i]))
        return best

    @staticmethod
    def _pool(free, subsets, owner, proba):
        """The columns whose single change raises the target probability
        most (ties by position)."""
        gain = np.full(free.size, -np.inf)
        for k, (j,) in enumerate(subsets):
            if (owner == k).any():
                gain[np.flatnonzero(free == j)[0]] = proba[owner == k].max()
        keep = np.argsort(-gain, kind="stable")[:_MAX_POOL]
        return np.sort(free[keep])

    def _failures(self, X):
        """Why no valid change was found, per row of X. If the same search
        with every column actionable succeeds, the non-actionable columns it
        changes are named as the drivers."""
        names = getattr(self, "feature_names_in_", None)
        found = self._find(X, np.ones_like(self.actionable_))
        reasons = []
        for x, alternatives in zip(X, found):
            columns = alternatives[0][0] if alternatives else ()
            blocked = [j for j in columns if not self.actionable_[j]]
            if not (self.actionable_ & ~np.isnan(x)).any():
                reasons.append("no actionable column has a reading")
            elif blocked:
                labels = [str(j if names is None else names[j]) for j in blocked]
                reasons.append("drivers not actionable: " + ", ".join(labels))
            else:
                reasons.append(
                    f"no change of <= {self.max_changes} sensors within bounds "
                    f"reaches {self.target!r}"
                )
        return reasons

    def _plausible(self, points):
        """Whether each point's nearest reference row is within ``radius_``."""
        if not np.isfinite(self.radius_):
            return np.ones(points.shape[0], dtype=bool)
        distances = nan_euclidean_distances(
            points / self.scale_, self.reference_ / self.scale_
        )
        with np.errstate(invalid="ignore"):
            return (
                np.nanmin(np.nan_to_num(distances, nan=np.inf), axis=1) <= self.radius_
            )
