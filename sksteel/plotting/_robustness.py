"""Score against the rate of missing sensor readings."""

import numpy as np

from ..metrics import robustness_auc, robustness_curve
from ._curves import draw_scored_curve
from ._layout import fit_labels

__all__ = ["RobustnessCurveDisplay"]


class RobustnessCurveDisplay:
    """A model's score as test-time sensor readings go missing.

    Build it with :meth:`from_estimator` (runs
    :func:`~sksteel.metrics.robustness_curve`), :meth:`from_curve` (an
    existing result of it) or directly from arrays, for example a published
    curve to compare with. Call :meth:`plot` with the same ``ax`` to overlay
    several models.

    Parameters
    ----------
    rates : array-like of shape (n_rates,)
        Missing-reading rates, increasing.
    scores : array-like of shape (n_rates,)
        Score at each rate.
    scores_std : array-like of shape (n_rates,), default=None
        Standard deviation of the score at each rate, drawn as a band.
    metric : str, default="accuracy"
        Name of the score, for the y-axis label.
    name : str, default=None
        Name of the model, for the legend.

    Attributes
    ----------
    auc_ : float
        Area under the curve divided by the width of the rate range (the
        mean score over the range).
    line_ : matplotlib Line2D
        The curve.
    band_ : matplotlib PolyCollection or None
        The +- one standard deviation band.
    ax_ : matplotlib Axes
        The axes holding the curve.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksteel.plotting import RobustnessCurveDisplay
    >>> display = RobustnessCurveDisplay(
    ...     rates=[0.0, 0.1, 0.2, 0.3, 0.5],
    ...     scores=[0.892, 0.874, 0.851, 0.823, 0.768],
    ...     name="paper",
    ... ).plot(linestyle="--")
    >>> display.line_.get_label()
    'paper (area 0.835)'
    """

    def __init__(self, *, rates, scores, scores_std=None, metric="accuracy", name=None):
        self.rates = rates
        self.scores = scores
        self.scores_std = scores_std
        self.metric = metric
        self.name = name

    def plot(self, ax=None, *, name=None, band=True, **kwargs):
        """Draw the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        name : str, default=None
            Legend name, overriding the one given at construction.
        band : bool, default=True
            Whether to shade +- one standard deviation when it is known.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : RobustnessCurveDisplay
            This object, with ``auc_``, ``line_``, ``band_``, ``ax_`` and
            ``figure_``.
        """
        rates = np.asarray(self.rates, dtype=float)
        scores = np.asarray(self.scores, dtype=float)
        self.auc_ = robustness_auc(rates, scores)
        ax, self.line_, created = draw_scored_curve(
            ax, rates, scores, area=self.auc_,
            name=self.name if name is None else name, **kwargs,
        )
        self.band_ = None
        if band and self.scores_std is not None:
            std = np.asarray(self.scores_std, dtype=float)
            self.band_ = ax.fill_between(
                rates, scores - std, scores + std, alpha=0.2,
                color=self.line_.get_color(),
            )
        ax.set_xlabel("missing-reading rate at test time")
        ax.set_ylabel(self.metric)
        ax.legend(loc="lower left", fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        fit_labels(self.figure_, resize=created)
        return self

    @classmethod
    def from_curve(cls, curve, *, metric=None, name=None, ax=None, **kwargs):
        """Plot a result of :func:`~sksteel.metrics.robustness_curve`.

        Parameters
        ----------
        curve : Bunch
            The result of ``robustness_curve``.
        metric : str, default=None
            Which score to plot; required when the curve holds several.
        name : str, default=None
            Legend name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : RobustnessCurveDisplay
        """
        if metric is None:
            if len(curve.scores_mean) != 1:
                raise ValueError(
                    "The curve holds several scores "
                    f"{sorted(curve.scores_mean)!r}; choose one with `metric`."
                )
            (metric,) = curve.scores_mean
        if metric not in curve.scores_mean:
            raise ValueError(
                f"`metric` must be one of {sorted(curve.scores_mean)!r}; got "
                f"{metric!r}."
            )
        display = cls(
            rates=curve.rates,
            scores=curve.scores_mean[metric],
            scores_std=curve.scores_std[metric],
            metric=metric,
            name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, rates=(0.0, 0.1, 0.2, 0.3, 0.5), mode="uniform",
        scoring="accuracy", n_repeats=5, random_state=None, name=None, ax=None,
        **kwargs,
    ):
        """Measure a fitted model's robustness curve, and plot it.

        Parameters
        ----------
        estimator : fitted estimator
            A model whose ``predict`` accepts NaN.
        X : DataFrame of shape (n_samples, n_sensors)
            Held-out sensor readings.
        y : array-like of shape (n_samples,)
            True targets.
        rates : array-like of float, default=(0.0, 0.1, 0.2, 0.3, 0.5)
            Missing-reading rates.
        mode : {"uniform", "table"}, default="uniform"
            How readings fail; see :func:`~sksteel.metrics.robustness_curve`.
        scoring : str or callable, default="accuracy"
            One score.
        n_repeats : int, default=5
            Random masks per rate.
        random_state : int, RandomState instance or None, default=None
            Seeds the masks.
        name : str, default=None
            Legend name; by default the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : RobustnessCurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import pandas as pd
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> from sksteel.plotting import RobustnessCurveDisplay
        >>> X, y = make_classification(n_samples=200, n_features=10, random_state=0)
        >>> X = pd.DataFrame(X)
        >>> model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
        >>> display = RobustnessCurveDisplay.from_estimator(
        ...     model, X, y, n_repeats=2, random_state=0
        ... )
        >>> 0.5 < display.auc_ <= 1.0
        True
        """
        if not isinstance(scoring, str) and not callable(scoring):
            raise ValueError(
                "`scoring` must be one score (a string or a callable); got "
                f"{scoring!r}. Use `robustness_curve` for several, then "
                "`from_curve` once per score."
            )
        curve = robustness_curve(
            estimator, X, y, rates, mode=mode, scoring=scoring,
            n_repeats=n_repeats, random_state=random_state,
        )
        if name is None:
            name = type(estimator).__name__
        return cls.from_curve(curve, name=name, ax=ax, **kwargs)
