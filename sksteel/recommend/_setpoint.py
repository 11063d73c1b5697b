"""Setpoint recommendations: sparse, bounded, NaN-aware changes of the
actionable readings that bring a defective operating point back to normal."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.metrics.pairwise import nan_euclidean_distances
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._schema import CLASS_NAMES, SENSOR_NAMES, SENSORS
from .._validation import _validate_readings

__all__ = ["SetpointRecommender"]

#: Quantiles of the fit rows tried as candidate values of each column.
_QUANTILES = np.linspace(0.0, 1.0, 21)

#: Evenly spaced candidate values across a finite feasible range.
_N_SPAN = 11

#: Fractions of a change tried when shrinking it towards the current reading.
_SHRINK = np.linspace(0.1, 1.0, 10)

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
            raise ValueError(
                f"{who} with {parameter}='table' reads the sensor table, which "
                f"needs the {len(SENSOR_NAMES)} sensor columns; X has "
                f"{n_features} unnamed column(s). Pass a DataFrame with the "
                f"sensor names, or pass {parameter} explicitly (a list or dict "
                "of column positions)."
            )
        return SENSORS[field].to_numpy()
    unknown = [name for name in names if name not in SENSORS.index]
    if unknown:
        raise ValueError(
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
        raise ValueError(
            f"{who}: `{parameter}` names unknown column(s) {unknown!r}; the "
            f"columns of X are {keys!r}."
        )


class SetpointRecommender(BaseEstimator):
    """Recommend sparse, bounded setpoint changes that reach a target class.

    For each row of sensor readings, a greedy forward search changes a few
    actionable readings, within their feasible bounds, so that a fitted
    classifier's probability of ``target`` (by default ``"none"``, no
    defect) reaches ``threshold``. It only calls the classifier's
    ``predict_proba``, so it works with any estimator that has one and
    accepts the readings (for example
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier` or
    :class:`~sksteel.models.SteelNetClassifier`).

    Each step tries, for every actionable column with a reading and not yet
    changed, a grid of candidate values (quantiles of the fit rows and, for
    a finite feasible range, evenly spaced values across it), all in one
    ``predict_proba`` call. The step takes the cheapest candidate that
    reaches ``threshold`` if there is one, else the candidate with the
    largest gain in target probability per unit of ``1 + cost``, where the
    cost is the change in units of the column's scale (counting from one
    scale unit keeps tiny moves with tiny gains from winning). The search
    stops at ``threshold`` or after ``max_changes`` columns; a valid result
    is then made sparser (changes that are not needed are undone) and
    cheaper (each change is shrunk towards the current reading as far as
    the threshold allows).

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
        Recommendations per row. Alternative ``k`` may not use the first
        column changed by alternatives ``0..k-1`` (a simple form of
        diversity).

    threshold : float, default=0.5
        Target probability a recommendation must reach to be valid.

    random_state : int, RandomState instance or None, default=None
        Draws the fit rows kept as the nearest-neighbour reference when
        there are more than 2,000.

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

    grid_ : list of ndarray
        Candidate values of each column.

    reference_ : ndarray of shape (n_reference, n_features_in_)
        Fit rows, divided by ``scale_``, that define the plausible region.

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
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn scales, candidate values and the plausible region.

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
                raise ValueError(
                    f"{who}.fit got {X.shape[0]} rows in X but {y.shape[0]} "
                    "labels in y; pass one label per row."
                )
            X = X[y == self.classes_[self.target_index_]]
            if X.shape[0] == 0:
                raise ValueError(
                    f"{who}.fit: no row of y is the target {self.target!r}; "
                    "pass rows of normal operation."
                )
        names = getattr(self, "feature_names_in_", None)
        keys = _column_keys(names, X.shape[1])
        self.actionable_ = self._actionable(who, names, keys)
        self.bounds_ = self._bounds(who, names, keys)
        self.scale_ = self._scale(X, names)
        self.grid_ = [self._grid(X[:, j], self.bounds_[j]) for j in range(X.shape[1])]
        rng = check_random_state(self.random_state)
        if X.shape[0] > _MAX_REFERENCE:
            X = X[np.sort(rng.choice(X.shape[0], _MAX_REFERENCE, replace=False))]
        self.reference_ = X / self.scale_
        self.radius_ = self._radius()
        return self

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
        raise ValueError(
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
                raise ValueError(
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

    @staticmethod
    def _grid(column, bounds):
        """Candidate values: quantiles of the fit rows, and evenly spaced
        values across a finite feasible range, clipped to the bounds."""
        values = [] if np.isnan(column).all() else [np.nanquantile(column, _QUANTILES)]
        if np.isfinite(bounds).all():
            values.append(np.linspace(bounds[0], bounds[1], _N_SPAN))
        if not values:
            return np.empty(0)
        return np.unique(np.clip(np.concatenate(values), bounds[0], bounds[1]))

    def _radius(self):
        """99th percentile of the reference rows' nearest-neighbour distances
        (each to the others)."""
        if self.reference_.shape[0] < 2:
            return np.inf
        distances = nan_euclidean_distances(self.reference_, self.reference_)
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
              actionable: <columns>"`` or ``"no change of <= k sensors
              within bounds reaches '<target>'"`` otherwise;
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
        for i, x in enumerate(X):
            used = []
            for a in range(k):
                entry = i * k + a
                if np.isnan(x).all():
                    reasons[entry] = "no readings"
                elif before[i] >= self.threshold:
                    reasons[entry] = f"already {self.target!r}"
                else:
                    point, after[entry], first = self._search(x, before[i], used)
                    setpoints[entry] = point
                    if first is not None:
                        used.append(first)
                    if after[entry] < self.threshold:
                        setpoints[entry] = x
                        after[entry] = before[i]
                        reasons[entry] = self._failure(x, before[i])
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
        raise ValueError(
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

    def _candidates(self, x, columns):
        """Every single-column change of x to a grid value: the points, their
        column and their cost."""
        points, where = [], []
        for j in columns:
            values = self.grid_[j][self.grid_[j] != x[j]]
            block = np.repeat(x[None], values.size, axis=0)
            block[:, j] = values
            points.append(block)
            where.append(np.full(values.size, j))
        if not points:
            return np.empty((0, x.size)), np.empty(0, dtype=int), np.empty(0)
        points, where = np.concatenate(points), np.concatenate(where)
        cost = (
            np.abs(points[np.arange(where.size), where] - x[where]) / self.scale_[where]
        )
        return points, where, cost

    def _search(self, x, p_before, excluded, actionable=None):
        """Greedy forward search from x: the point, its probability and the
        first column changed."""
        actionable = self.actionable_ if actionable is None else actionable
        free = [
            j for j in np.flatnonzero(actionable & ~np.isnan(x)) if j not in excluded
        ]
        point, p, changed = x.copy(), p_before, []
        while len(changed) < self.max_changes and p < self.threshold:
            points, where, cost = self._candidates(
                point, [j for j in free if j not in changed]
            )
            if not where.size:
                break
            proba = self._proba(points)
            reaching = np.flatnonzero(proba >= self.threshold)
            if reaching.size:
                best = reaching[np.lexsort((-proba[reaching], cost[reaching]))[0]]
            else:
                score = (proba - p) / (1.0 + cost)
                best = int(np.argmax(score))
                if proba[best] <= p:
                    break
            point, p = points[best], float(proba[best])
            changed.append(int(where[best]))
        if p >= self.threshold:
            point, p = self._tidy(x, point, p, changed)
        return point, p, (changed[0] if changed else None)

    def _tidy(self, x, point, p, changed):
        """Undo the changes not needed, then shrink each change towards x as
        far as the threshold allows."""
        for j in list(changed):
            trial = point.copy()
            trial[j] = x[j]
            p_trial = float(self._proba(trial[None])[0])
            if p_trial >= self.threshold:
                point, p = trial, p_trial
                changed.remove(j)
        for j in changed:
            trials = np.repeat(point[None], _SHRINK.size, axis=0)
            trials[:, j] = x[j] + _SHRINK * (point[j] - x[j])
            proba = self._proba(trials)
            ok = np.flatnonzero(proba >= self.threshold)
            point, p = trials[ok[0]], float(proba[ok[0]])
        return point, p

    def _failure(self, x, p_before):
        """Why no valid change was found. If the same search with every
        column actionable succeeds, the non-actionable columns it changes
        are named as the drivers."""
        if not (self.actionable_ & ~np.isnan(x)).any():
            return "no actionable column has a reading"
        everything = np.ones_like(self.actionable_)
        point, p, _ = self._search(x, p_before, [], actionable=everything)
        changed = ~self.actionable_ & (point != x) & ~np.isnan(x)
        if p >= self.threshold and changed.any():
            names = getattr(self, "feature_names_in_", None)
            labels = [
                str(names[j]) if names is not None else str(j)
                for j in np.flatnonzero(changed)
            ]
            return "drivers not actionable: " + ", ".join(labels)
        return (
            f"no change of <= {self.max_changes} sensors within bounds reaches "
            f"{self.target!r}"
        )

    def _plausible(self, points):
        """Whether each point's nearest reference row is within ``radius_``."""
        if not np.isfinite(self.radius_):
            return np.ones(points.shape[0], dtype=bool)
        distances = nan_euclidean_distances(points / self.scale_, self.reference_)
        with np.errstate(invalid="ignore"):
            return (
                np.nanmin(np.nan_to_num(distances, nan=np.inf), axis=1) <= self.radius_
            )
