"""Shapley values and deletion curves as plots."""

import numpy as np
import pandas as pd

from ..inspection import shapley_values
from ..metrics import deletion_curve
from ._curves import draw_scored_curve
from ._layout import fit_labels

__all__ = ["DeletionCurveDisplay", "ShapleyDisplay", "ShapleySummaryDisplay"]

#: Colours of readings that raise / lower the explained output.
_UP, _DOWN, _MISSING = "#d62728", "#1f77b4", "#bbbbbb"


def _as_frame(X):
    """X as a DataFrame (an array gets positions as index and columns)."""
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))


def _in_kind_of(X, rows):
    """Rows of ``_as_frame(X)`` in the kind of X: a DataFrame, or an array."""
    return rows if isinstance(X, pd.DataFrame) else rows.to_numpy()


def _row_of(result, row):
    """Position ``row`` resolved against the index of a shapley_values result."""
    index = result.values.index
    if row in index:
        return index.get_loc(row)
    raise ValueError(
        f"`row` must be a label of the explained rows' index; got {row!r}, "
        f"the index runs {list(index[:5])!r}{'...' if len(index) > 5 else ''}."
    )


class ShapleyDisplay:
    """One row's Shapley values as a waterfall from base value to prediction.

    Each bar is a reading, sorted by absolute value (largest on top),
    starting where the previous one ended: the first starts at the base
    value (the output with every reading missing) and the last ends at the
    prediction. Readings missing in the row have value 0 and are listed at
    the bottom as "missing". Build it with :meth:`from_estimator` or
    :meth:`from_values` (a result of
    :func:`~sksteel.inspection.shapley_values`), or from arrays.

    Parameters
    ----------
    values : array-like of shape (n_features,)
        The row's Shapley values.
    base_value : float
        The output with every reading missing.
    prediction : float
        The output for the row as given.
    feature_names : list of str
        Names of the readings.
    readings : array-like of shape (n_features,), default=None
        The row's readings, shown beside the names; NaN marks the missing
        ones. None marks none as missing.
    target : str, default=None
        What is explained (e.g. a class), for the title.

    Attributes
    ----------
    order_ : ndarray of shape (n_features,)
        Feature positions from top to bottom.
    bars_ : matplotlib BarContainer
        The bars.
    ax_ : matplotlib Axes
        The axes holding the plot.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksteel.plotting import ShapleyDisplay
    >>> display = ShapleyDisplay(
    ...     values=[0.05, -0.2, 0.0], base_value=0.5, prediction=0.35,
    ...     feature_names=["a", "b", "c"], readings=[1.0, 2.0, float("nan")],
    ... ).plot()
    >>> display.order_.tolist()
    [1, 0, 2]
    >>> [t.get_text() for t in display.ax_.get_yticklabels()][-1]
    'c = missing'
    """

    def __init__(
        self, *, values, base_value, prediction, feature_names, readings=None,
        target=None,
    ):
        self.values = values
        self.base_value = base_value
        self.prediction = prediction
        self.feature_names = feature_names
        self.readings = readings
        self.target = target

    def plot(self, ax=None, *, max_display=None):
        """Draw the waterfall.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        max_display : int, default=None
            Show the largest ``max_display - 1`` readings and sum the rest
            into one bar; None shows every reading.

        Returns
        -------
        display : ShapleyDisplay
            This object, with ``order_``, ``bars_``, ``ax_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt

        values = np.asarray(self.values, dtype=float)
        names = list(self.feature_names)
        readings = (
            np.zeros(len(values)) if self.readings is None
            else np.asarray(self.readings, dtype=float)
        )
        missing = np.isnan(readings)
        # Present readings by |value|, then the missing ones.
        order = np.lexsort((-np.abs(values), missing))
        self.order_ = order
        labels = [
            f"{names[j]} = missing" if missing[j]
            else names[j] if self.readings is None
            else f"{names[j]} = {readings[j]:.4g}"
            for j in order
        ]
        shown = values[order]
        if max_display is not None and len(order) > max_display:
            rest = shown[max_display - 1:].sum()
            shown = np.append(shown[: max_display - 1], rest)
            n_rest = len(order) - max_display + 1
            labels = labels[: max_display - 1] + [f"{n_rest} others"]
            missing_shown = np.append(missing[order][: max_display - 1], False)
        else:
            missing_shown = missing[order]
        starts = self.base_value + np.concatenate([[0.0], np.cumsum(shown)[:-1]])
        colours = [
            _MISSING if gone else (_UP if v >= 0 else _DOWN)
            for v, gone in zip(shown, missing_shown)
        ]
        created = ax is None
        if created:
            _, ax = plt.subplots(figsize=(6.0, 0.4 * len(shown) + 1.5))
        positions = np.arange(len(shown))[::-1]
        self.bars_ = ax.barh(positions, shown, left=starts, color=colours, height=0.6)
        for pos, start, value, gone in zip(positions, starts, shown, missing_shown):
            text = "missing" if gone else f"{value:+.3f}"
            ax.annotate(text, (start + max(value, 0), pos), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(positions, labels)
        ax.axvline(self.base_value, color="grey", linestyle=":", linewidth=1)
        ax.axvline(self.prediction, color="black", linestyle="--", linewidth=1)
        ax.set_xlabel(
            f"output (base {self.base_value:.3f} -> prediction {self.prediction:.3f})"
        )
        if self.target is not None:
            explained = "intensity" if self.target == "intensity" else (
                f"P(class {self.target})"
            )
            ax.set_title(f"Shapley values of {explained}")
        ax.margins(x=0.12)
        self.ax_, self.figure_ = ax, ax.figure
        fit_labels(self.figure_, resize=created)
        return self

    @classmethod
    def from_values(cls, result, X=None, *, row=0, ax=None, **kwargs):
        """Plot one row of a result of :func:`~sksteel.inspection.shapley_values`.

        Parameters
        ----------
        result : Bunch
            The result of ``shapley_values``.
        X : DataFrame or array-like, default=None
            The explained rows, to show the readings and mark the missing
            ones; their index (or positions) must match the result's.
        row : index label, default=0
            The row to plot (a label of ``result.values.index``).
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ShapleyDisplay
        """
        position = _row_of(result, row)
        readings = None
        if X is not None:
            frame = _as_frame(X)
            if len(frame) != len(result.values):
                raise ValueError(
                    f"`X` must be the {len(result.values)} explained rows; got "
                    f"{len(frame)} rows."
                )
            if frame.shape[1] != result.values.shape[1]:
                raise ValueError(
                    "`X` has one column per reading but the values have one per "
                    "group; plot grouped values without `X`."
                )
            readings = frame.iloc[position].to_numpy(dtype=float)
        display = cls(
            values=result.values.iloc[position].to_numpy(),
            base_value=float(result.base_values.iloc[position]),
            prediction=float(result.predictions.iloc[position]),
            feature_names=list(map(str, result.values.columns)),
            readings=readings,
            target=result.target.iloc[position],
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls, estimator, X, *, row=0, target=None, response_method="predict_proba",
        ax=None, **kwargs,
    ):
        """Compute one row's Shapley values and plot them.

        Parameters
        ----------
        estimator : estimator object
            A fitted NaN-native model.
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows; only ``row`` is explained.
        row : index label, default=0
            The row to explain (a label of ``X``'s index, or a position for
            an array).
        target : class label or None, default=None
            See :func:`~sksteel.inspection.shapley_values`.
        response_method : {"predict_proba", "predict_intensity"}, \
                default="predict_proba"
            The explained method.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ShapleyDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.ensemble import HistGradientBoostingClassifier
        >>> from sksteel.plotting import ShapleyDisplay
        >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
        >>> X[0, 2] = np.nan
        >>> model = HistGradientBoostingClassifier(max_iter=20).fit(X, y)
        >>> display = ShapleyDisplay.from_estimator(model, X, row=0)
        >>> len(display.bars_)
        4
        """
        frame = _as_frame(X)
        if row not in frame.index:
            raise ValueError(f"`row` {row!r} is not a label of X's index.")
        one = frame.loc[[row]]
        result = shapley_values(
            estimator, _in_kind_of(X, one), target=target,
            response_method=response_method,
        )
        result.values.index = one.index
        for key in ("base_values", "predictions", "target"):
            result[key].index = one.index
        return cls.from_values(result, one, row=row, ax=ax, **kwargs)


class ShapleySummaryDisplay:
    """Shapley values of many rows, one beeswarm panel per explained class.

    In each panel, readings run down the y-axis (largest mean absolute value on
    top); each dot is one row's value, coloured by the reading relative to
    its column (blue low, red high). Missing readings are grey hollow
    circles at 0. Build it with :meth:`from_estimator` or :meth:`from_values`.

    Parameters
    ----------
    values : DataFrame of shape (n_samples, n_features)
        Shapley values.
    classes : array-like of shape (n_samples,)
        The class explained in (or assigned to) each row: one panel each.
    readings : DataFrame of shape (n_samples, n_features), default=None
        The readings, for the colours and to mark missing ones.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
        One per class, in sorted class order.
    classes_ : ndarray
        The class of each panel.
    figure_ : matplotlib Figure
        The figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sksteel.plotting import ShapleySummaryDisplay
    >>> rng = np.random.default_rng(0)
    >>> values = pd.DataFrame(rng.normal(size=(20, 3)), columns=["a", "b", "c"])
    >>> display = ShapleySummaryDisplay(values=values, classes=[0, 1] * 10).plot()
    >>> display.axes_.shape
    (2,)
    """

    def __init__(self, *, values, classes, readings=None):
        self.values = values
        self.classes = classes
        self.readings = readings

    def plot(self, axes=None, *, random_state=0):
        """Draw one beeswarm per class.

        Parameters
        ----------
        axes : array-like of matplotlib Axes, default=None
            One axes per class; a new figure is created when None.
        random_state : int, default=0
            Seeds the vertical jitter of the dots.

        Returns
        -------
        display : ShapleySummaryDisplay
            This object, with ``axes_``, ``classes_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt

        values = pd.DataFrame(self.values).astype(float)
        classes = np.asarray(self.classes)
        if len(classes) != len(values):
            raise ValueError(
                f"`classes` must have one entry per row of `values` ({len(values)}); "
                f"got {len(classes)}."
            )
        readings = (
            None if self.readings is None
            else pd.DataFrame(self.readings).astype(float).to_numpy()
        )
        self.classes_ = np.unique(classes)
        created = axes is None
        if created:
            _, axes = plt.subplots(
                1, len(self.classes_), figsize=(4.8 * len(self.classes_), 4.5),
                squeeze=False, sharex=True, layout="constrained",
            )
        axes = np.ravel(axes)
        if len(axes) != len(self.classes_):
            raise ValueError(
                f"`axes` must hold one axes per class ({len(self.classes_)}); got "
                f"{len(axes)}."
            )
        rng = np.random.default_rng(random_state)
        for ax, label in zip(axes, self.classes_):
            rows = classes == label
            self._panel(ax, values.to_numpy()[rows], values.columns,
                        None if readings is None else readings[rows], rng)
            ax.set_title(f"{label} (n={rows.sum()})")
        axes[0].figure.colorbar(
            plt.cm.ScalarMappable(cmap="coolwarm"), ax=list(axes), shrink=0.6,
            label="reading (rank in column)",
        )
        self.axes_, self.figure_ = axes, axes[0].figure
        fit_labels(self.figure_, resize=created)
        return self

    @staticmethod
    def _panel(ax, values, columns, readings, rng):
        """One class's beeswarm: readings by mean |value|, largest on top."""
        order = np.argsort(np.abs(values).mean(axis=0))
        for pos, j in enumerate(order):
            jitter = pos + rng.uniform(-0.25, 0.25, size=len(values))
            if readings is None:
                ax.scatter(values[:, j], jitter, s=8, color="black")
                continue
            column = readings[:, j]
            gone = np.isnan(column)
            ranked = pd.Series(column).rank(pct=True).to_numpy()
            ax.scatter(values[~gone, j], jitter[~gone], s=8, c=ranked[~gone],
                       cmap="coolwarm", vmin=0, vmax=1)
            ax.scatter(values[gone, j], jitter[gone], s=10, facecolors="none",
                       edgecolors=_MISSING)
        ax.set_yticks(np.arange(len(order)), [str(columns[j]) for j in order])
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_xlabel("Shapley value")

    @classmethod
    def from_values(cls, result, X=None, *, classes=None, axes=None, **kwargs):
        """Plot a result of :func:`~sksteel.inspection.shapley_values`.

        Parameters
        ----------
        result : Bunch
            The result of ``shapley_values``.
        X : DataFrame or array-like, default=None
            The explained rows, for colours and missing markers.
        classes : array-like of shape (n_samples,), default=None
            Panel of each row, e.g. the true classes; by default the class
            explained in each row (``result.target``).
        axes : array-like of matplotlib Axes, default=None
            One per class.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ShapleySummaryDisplay
        """
        classes = result.target.to_numpy() if classes is None else classes
        readings = None if X is None else pd.DataFrame(np.asarray(X, dtype=float))
        if readings is not None and readings.shape != result.values.shape:
            raise ValueError(
                f"`X` must be the explained rows, shape {result.values.shape!r}; "
                f"got {readings.shape!r}."
            )
        display = cls(values=result.values, classes=classes, readings=readings)
        return display.plot(axes=axes, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, axes=None, **kwargs):
        """Compute Shapley values of ``X`` and plot them per class.

        With ``y``, each row explains the probability of its true class and
        is drawn in that class's panel; without it, each row explains its
        predicted class.

        Parameters
        ----------
        estimator : estimator object
            A fitted NaN-native classifier.
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows to explain.
        y : array-like of shape (n_samples,), default=None
            True classes.
        axes : array-like of matplotlib Axes, default=None
            One per class.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ShapleySummaryDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.ensemble import HistGradientBoostingClassifier
        >>> from sksteel.plotting import ShapleySummaryDisplay
        >>> X, y = make_classification(n_samples=100, n_features=4, random_state=0)
        >>> model = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
        >>> display = ShapleySummaryDisplay.from_estimator(model, X[:30], y[:30])
        >>> display.classes_.tolist()
        [0, 1]
        """
        if y is None:
            result = shapley_values(estimator, X)
            return cls.from_values(result, X, axes=axes, **kwargs)
        y = np.asarray(y)
        frame = _as_frame(X)
        values = None
        for label in np.unique(y):
            where = np.flatnonzero(y == label)
            rows = frame.iloc[where]
            part = shapley_values(estimator, _in_kind_of(X, rows), target=label).values
            if values is None:
                values = pd.DataFrame(np.nan, index=frame.index, columns=part.columns)
            values.iloc[where] = part.to_numpy()
        display = cls(values=values, classes=y, readings=frame)
        return display.plot(axes=axes, **kwargs)


class DeletionCurveDisplay:
    """Drop of the explained output as the top-k attributed readings go missing.

    Build it with :meth:`from_estimator` (runs
    :func:`~sksteel.metrics.deletion_curve`), :meth:`from_curve` (an existing
    result) or from arrays. Call :meth:`plot` with the same ``ax`` to overlay
    several methods: the steeper curve (larger area) is the more faithful.

    Parameters
    ----------
    k : array-like of shape (n_points,)
        Numbers of readings removed.
    drops : array-like of shape (n_points,)
        Mean drop of the explained output at each ``k``.
    name : str, default=None
        Name of the method, for the legend.

    Attributes
    ----------
    area_ : float
        Mean drop over ``k >= 1``.
    line_ : matplotlib Line2D
        The curve.
    ax_ : matplotlib Axes
        The axes holding the curve.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksteel.plotting import DeletionCurveDisplay
    >>> display = DeletionCurveDisplay(k=[0, 1, 2], drops=[0.0, 0.3, 0.4],
    ...                                name="shapley").plot()
    >>> display.line_.get_label()
    'shapley (area 0.350)'
    """

    def __init__(self, *, k, drops, name=None):
        self.k = k
        self.drops = drops
        self.name = name

    def plot(self, ax=None, *, name=None, **kwargs):
        """Draw the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        name : str, default=None
            Legend name, overriding the one given at construction.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : DeletionCurveDisplay
            This object, with ``area_``, ``line_``, ``ax_`` and ``figure_``.
        """
        k = np.asarray(self.k, dtype=float)
        drops = np.asarray(self.drops, dtype=float)
        self.area_ = float(drops[k >= 1].mean()) if (k >= 1).any() else 0.0
        ax, self.line_, created = draw_scored_curve(
            ax, k, drops, area=self.area_, name=self.name if name is None else name,
            **kwargs,
        )
        ax.set_xlabel("top-k readings made missing")
        ax.set_ylabel("drop of the explained output")
        ax.legend(loc="lower right", fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        fit_labels(self.figure_, resize=created)
        return self

    @classmethod
    def from_curve(cls, curve, *, name=None, ax=None, **kwargs):
        """Plot a result of :func:`~sksteel.metrics.deletion_curve`.

        Parameters
        ----------
        curve : Bunch
            The result of ``deletion_curve``.
        name : str, default=None
            Legend name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : DeletionCurveDisplay
        """
        return cls(k=curve.k, drops=curve.drop_mean, name=name).plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls, estimator, X, attributions, *, target=None, name=None, ax=None,
        **kwargs,
    ):
        """Measure the deletion curve of ``attributions`` and plot it.

        Parameters
        ----------
        estimator : estimator object
            A fitted NaN-native model.
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows.
        attributions : DataFrame or array-like
            See :func:`~sksteel.metrics.deletion_curve`.
        target : class label or None, default=None
            The explained output.
        name : str, default=None
            Legend name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : DeletionCurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.ensemble import HistGradientBoostingClassifier
        >>> from sksteel.inspection import shapley_values
        >>> from sksteel.plotting import DeletionCurveDisplay
        >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
        >>> model = HistGradientBoostingClassifier(max_iter=20).fit(X, y)
        >>> values = shapley_values(model, X[:20]).values
        >>> display = DeletionCurveDisplay.from_estimator(model, X[:20], values,
        ...                                               name="shapley")
        >>> display.line_.get_xdata().tolist()
        [0.0, 1.0, 2.0, 3.0, 4.0]
        """
        curve = deletion_curve(estimator, X, attributions, target=target)
        return cls.from_curve(curve, name=name, ax=ax, **kwargs)
