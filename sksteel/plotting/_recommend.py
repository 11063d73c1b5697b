"""One setpoint recommendation: current and recommended readings against
their normal and feasible ranges."""

import numpy as np
import pandas as pd

from .._schema import SENSORS
from ._layout import fit_labels

__all__ = ["RecommendationDisplay"]


class RecommendationDisplay:
    """Current vs recommended value of each changed sensor, for one row.

    Each changed sensor is a horizontal lane spanning its feasible range,
    with its normal range shaded and an arrow from the current reading to
    the recommended one (every lane is scaled to its own range, the values
    are written in engineering units). The title gives the probability of
    the target class before and after.

    Build it with :meth:`from_estimator` (runs a fitted
    :class:`~sksteel.recommend.SetpointRecommender` on one row),
    :meth:`from_recommendation` (an existing result of ``recommend``) or
    directly from arrays.

    Parameters
    ----------
    sensors : list of str
        Names of the changed sensors.
    current, recommended : array-like of shape (n_sensors,)
        Current and recommended values.
    feasible : array-like of shape (n_sensors, 2)
        Feasible ``(low, high)`` of each sensor (infinite: no limit).
    normal : array-like of shape (n_sensors, 2), default=None
        Normal ``(low, high)`` of each sensor; NaN where unknown.
    probability_before, probability_after : float, default=None
        Probability of the target class before and after the change.
    target : str, default="none"
        Name of the target class, for the title.
    units : list of str, default=None
        Unit of each sensor, for the value labels.

    Attributes
    ----------
    arrows_ : list of matplotlib Annotation
        One arrow per sensor, current to recommended.
    ax_ : matplotlib Axes
        The axes holding the plot.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    sksteel.recommend.SetpointRecommender : Makes the recommendations.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksteel.plotting import RecommendationDisplay
    >>> display = RecommendationDisplay(
    ...     sensors=["surface_cleanliness"], current=[62.0], recommended=[96.5],
    ...     feasible=[(0.0, 100.0)], normal=[(95.0, 100.0)],
    ...     probability_before=0.02, probability_after=0.91, units=["%"],
    ... ).plot()
    >>> display.ax_.get_title()
    "P('none'): 0.02 -> 0.91"
    >>> len(display.arrows_)
    1
    """

    def __init__(
        self,
        *,
        sensors,
        current,
        recommended,
        feasible,
        normal=None,
        probability_before=None,
        probability_after=None,
        target="none",
        units=None,
    ):
        self.sensors = sensors
        self.current = current
        self.recommended = recommended
        self.feasible = feasible
        self.normal = normal
        self.probability_before = probability_before
        self.probability_after = probability_after
        self.target = target
        self.units = units

    def plot(self, ax=None):
        """Draw the lanes.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.

        Returns
        -------
        display : RecommendationDisplay
            This object, with ``arrows_``, ``ax_`` and ``figure_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from sksteel.plotting import RecommendationDisplay
        >>> _, ax = plt.subplots()
        >>> display = RecommendationDisplay(
        ...     sensors=["a"], current=[1.0], recommended=[2.0], feasible=[(0, 5)]
        ... ).plot(ax=ax)
        >>> display.ax_ is ax
        True
        """
        import matplotlib.pyplot as plt

        sensors = list(self.sensors)
        n = len(sensors)
        current = np.asarray(self.current, dtype=float).reshape(n)
        recommended = np.asarray(self.recommended, dtype=float).reshape(n)
        normal = (
            np.full((n, 2), np.nan)
            if self.normal is None
            else np.asarray(self.normal, dtype=float).reshape(n, 2)
        )
        span = _spans(
            np.asarray(self.feasible, dtype=float).reshape(n, 2),
            normal,
            current,
            recommended,
        )
        units = [""] * n if self.units is None else [f" {u}" for u in self.units]
        created = ax is None
        if created:
            _, ax = plt.subplots(figsize=(6.0, 1.0 + 0.7 * max(n, 1)))

        def where(values, k):
            low, high = span[k]
            return (values - low) / (high - low)

        self.arrows_ = []
        for k in range(n):
            lane = n - 1 - k
            ax.barh(lane, 1.0, left=0.0, height=0.5, color="0.9")
            if np.isfinite(normal[k]).all():
                start, stop = where(normal[k], k)
                ax.barh(
                    lane,
                    stop - start,
                    left=start,
                    height=0.5,
                    color="tab:green",
                    alpha=0.3,
                )
            x0, x1 = where(current[k], k), where(recommended[k], k)
            ax.plot([x0], [lane], "o", color="tab:red")
            ax.plot([x1], [lane], "D", color="tab:green")
            self.arrows_.append(
                ax.annotate(
                    "",
                    xy=(x1, lane),
                    xytext=(x0, lane),
                    arrowprops={"arrowstyle": "->", "color": "0.2"},
                )
            )
            ax.text(
                x0,
                lane + 0.32,
                f"{current[k]:.4g}{units[k]}",
                ha="center",
                fontsize=8,
                color="tab:red",
            )
            ax.text(
                x1,
                lane - 0.45,
                f"{recommended[k]:.4g}{units[k]}",
                ha="center",
                fontsize=8,
                color="tab:green",
            )
        ax.set_yticks(range(n), sensors[::-1])
        ax.set_ylim(-0.8, max(n, 1) - 0.2)
        ax.set_xlim(-0.05, 1.05)
        ax.set_xticks([0.0, 1.0], ["feasible low", "feasible high"])
        if n == 0:
            ax.text(0.5, 0.0, "no change", ha="center", va="center")
        if self.probability_before is not None:
            title = f"P({self.target!r}): {self.probability_before:.2f}"
            if self.probability_after is not None:
                title += f" -> {self.probability_after:.2f}"
            ax.set_title(title)
        self.ax_, self.figure_ = ax, ax.figure
        fit_labels(self.figure_, resize=created)
        return self

    @classmethod
    def from_recommendation(cls, recommender, result, *, entry=0, ax=None):
        """Plot one entry of a result of ``recommend``.

        Parameters
        ----------
        recommender : SetpointRecommender
            The fitted recommender that made ``result`` (its bounds are the
            feasible ranges).
        result : Bunch
            The result of :meth:`~sksteel.recommend.SetpointRecommender.recommend`.
        entry : int, default=0
            Which entry (row and alternative) of ``result`` to plot, by
            position.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : RecommendationDisplay
            The entry, plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> import pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sksteel.plotting import RecommendationDisplay
        >>> from sksteel.recommend import SetpointRecommender
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.uniform(0, 10, (300, 2)), columns=["a", "b"])
        >>> y = np.where(X["a"] > 5, "bad", "good")
        >>> model = LogisticRegression().fit(X, y)
        >>> recommender = SetpointRecommender(
        ...     model, target="good", actionable=["a"], bounds={"a": (0, 10)}
        ... ).fit(X, y)
        >>> result = recommender.recommend(pd.DataFrame({"a": [8.0], "b": [3.0]}))
        >>> RecommendationDisplay.from_recommendation(recommender, result).sensors
        ['a']
        """
        changes = np.asarray(result.changes)[entry]
        changed = np.flatnonzero(changes != 0)
        names = getattr(recommender, "feature_names_in_", None)
        keys = list(names) if names is not None else list(range(changes.size))
        sensors = [str(keys[j]) for j in changed]
        after = np.asarray(result.setpoints)[entry, changed]
        normal = [
            (SENSORS.loc[s, "low"], SENSORS.loc[s, "high"])
            if s in SENSORS.index
            else (np.nan, np.nan)
            for s in sensors
        ]
        units = [SENSORS.loc[s, "unit"] if s in SENSORS.index else "" for s in sensors]
        display = cls(
            sensors=sensors,
            current=after - changes[changed],
            recommended=after,
            feasible=recommender.bounds_[changed],
            normal=normal,
            probability_before=float(result.probability_before[entry]),
            probability_after=float(result.probability_after[entry]),
            target=str(recommender.target),
            units=units,
        )
        return display.plot(ax=ax)

    @classmethod
    def from_estimator(cls, recommender, X, *, row=0, ax=None):
        """Recommend setpoints for one row of X and plot them.

        Parameters
        ----------
        recommender : SetpointRecommender
            A fitted recommender.
        X : DataFrame or array-like of shape (n_samples, n_features)
            Readings; only row ``row`` (by position) is used.
        row : int, default=0
            Position of the row to recommend for.
        ax : matplotlib Axes, default=None
            Axes to draw on (a new figure by default).

        Returns
        -------
        display : RecommendationDisplay
            The first recommendation for that row, plotted.

        Examples
        --------
        >>> from sklearn.ensemble import HistGradientBoostingClassifier
        >>> from sksteel.datasets import make_steelnet_dataset
        >>> from sksteel.plotting import RecommendationDisplay
        >>> from sksteel.recommend import SetpointRecommender
        >>> data = make_steelnet_dataset(n_normal=300, n_per_class=60, random_state=0)
        >>> X, y = data.data, data.target
        >>> model = HistGradientBoostingClassifier(max_iter=30, random_state=0)
        >>> recommender = SetpointRecommender(model.fit(X, y)).fit(X, y)
        >>> inclusion = X[(y == 2).to_numpy()]
        >>> display = RecommendationDisplay.from_estimator(recommender, inclusion)
        >>> display.sensors
        ['surface_cleanliness', 'water_jet_pressure']
        """
        rows = X.iloc[[row]] if isinstance(X, pd.DataFrame) else np.asarray(X)[[row]]
        result = recommender.recommend(rows)
        return cls.from_recommendation(recommender, result, entry=0, ax=ax)


def _spans(feasible, normal, current, recommended):
    """The range each lane spans: the feasible range, where a limit is
    infinite the values and the normal range padded by a tenth."""
    values = np.column_stack([normal, current, recommended])
    with np.errstate(all="ignore"):
        low, high = np.nanmin(values, axis=1), np.nanmax(values, axis=1)
    pad = np.where(high > low, 0.1 * (high - low), 1.0)
    span = np.column_stack(
        [
            np.where(np.isfinite(feasible[:, 0]), feasible[:, 0], low - pad),
            np.where(np.isfinite(feasible[:, 1]), feasible[:, 1], high + pad),
        ]
    )
    span[:, 1] = np.where(span[:, 1] > span[:, 0], span[:, 1], span[:, 0] + 1.0)
    return span
