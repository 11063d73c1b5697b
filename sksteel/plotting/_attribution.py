"""Heatmap of per-class sensor attributions (the paper's Fig. 4)."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._layout import fit_labels

__all__ = ["AttributionDisplay"]


def _final_step(estimator):
    """The last step of a pipeline, or the estimator itself."""
    return estimator[-1] if hasattr(estimator, "steps") else estimator


class AttributionDisplay:
    """Per-class sensor attributions as an annotated heatmap.

    Rows are sensors and columns are classes; each cell shows the share of a
    class's attribution that goes to a sensor. Build it with
    :meth:`from_estimator` (a fitted model's class-level
    ``feature_attributions_``) or :meth:`from_predictions` (per-sample
    attributions averaged within each true class), or directly from a
    matrix.

    Parameters
    ----------
    attributions : array-like or DataFrame of shape (n_classes, n_sensors)
        One attribution row per class. A DataFrame's index gives the class
        labels and its columns the sensor names.
    class_names : list of str, default=None
        Column labels; by default the DataFrame index or ``0..n_classes-1``.
    sensor_names : list of str, default=None
        Row labels; by default the DataFrame columns or ``x0, x1, ...``.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes holding the heatmap.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
    im_ : matplotlib AxesImage
        The heatmap.
    text_ : ndarray of matplotlib Text, shape (n_sensors, n_classes), or None
        The cell annotations.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sksteel.plotting import AttributionDisplay
    >>> attributions = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    >>> display = AttributionDisplay(
    ...     attributions, class_names=["a", "b"], sensor_names=["s1", "s2", "s3"]
    ... ).plot()
    >>> display.text_.shape
    (3, 2)
    """

    def __init__(self, attributions, *, class_names=None, sensor_names=None):
        self.attributions = attributions
        self.class_names = class_names
        self.sensor_names = sensor_names

    def _labelled(self):
        """The attributions as a (classes x sensors) DataFrame with labels."""
        if isinstance(self.attributions, pd.DataFrame):
            table = self.attributions.astype(float)
        else:
            values = np.asarray(self.attributions, dtype=float)
            if values.ndim != 2:
                raise ValueError(
                    "`attributions` must be 2-D (classes x sensors); got shape "
                    f"{values.shape!r}."
                )
            table = pd.DataFrame(
                values, columns=[f"x{j}" for j in range(values.shape[1])]
            )
        if self.class_names is not None:
            table.index = list(self.class_names)
        if self.sensor_names is not None:
            table.columns = list(self.sensor_names)
        return table

    def plot(
        self, *, ax=None, cmap="Blues", values_format=".0%", colorbar=True,
        title=None, vmax=None,
    ):
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        cmap : str or matplotlib Colormap, default="Blues"
            Colour map of the cells.
        values_format : str or None, default=".0%"
            Format of the cell annotations; None leaves cells blank.
        colorbar : bool, default=True
            Whether to add a colour bar.
        title : str, default=None
            Axes title.
        vmax : float, default=None
            Value of the darkest colour; by default the largest attribution.
            Set it to compare several heatmaps on one scale.

        Returns
        -------
        display : AttributionDisplay
            This object, with ``ax_``, ``figure_``, ``im_`` and ``text_``.
        """
        import matplotlib.pyplot as plt

        table = self._labelled().T  # sensors down, classes across
        created = ax is None
        if created:
            _, ax = plt.subplots(
                figsize=(1.1 * table.shape[1] + 3.0, 0.42 * table.shape[0] + 1.2)
            )
        values = table.to_numpy()
        self.im_ = ax.imshow(values, cmap=cmap, aspect="auto", vmin=0.0, vmax=vmax)
        self.text_ = None
        if values_format is not None:
            threshold = self.im_.norm.vmax / 2.0
            self.text_ = np.empty(values.shape, dtype=object)
            for (i, j), value in np.ndenumerate(values):
                color = "white" if value > threshold else "black"
                self.text_[i, j] = ax.text(
                    j, i, format(value, values_format), ha="center", va="center",
                    color=color, fontsize=8,
                )
        ax.set_xticks(range(table.shape[1]), labels=[str(c) for c in table.columns])
        ax.set_yticks(range(table.shape[0]), labels=[str(s) for s in table.index])
        ax.set_xlabel("class")
        if title is not None:
            ax.set_title(title)
        if colorbar:
            ax.figure.colorbar(self.im_, ax=ax, fraction=0.05)
        self.ax_, self.figure_ = ax, ax.figure
        fit_labels(self.figure_, resize=created)
        return self

    @classmethod
    def from_estimator(
        cls, estimator, *, class_names=None, sensor_names=None, ax=None,
        **plot_kwargs,
    ):
        """Plot a fitted model's class-level ``feature_attributions_``.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
            A model with ``feature_attributions_`` (classes x sensors), such
            as ``SteelNetClassifier``, or a pipeline ending in one.
        class_names : list of str, default=None
            Column labels; by default the model's ``classes_``.
        sensor_names : list of str, default=None
            Row labels; by default the model's ``feature_names_in_``.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AttributionDisplay
        """
        model = _final_step(estimator)
        check_is_fitted(model, "feature_attributions_")
        attributions = model.feature_attributions_
        if not isinstance(attributions, pd.DataFrame):
            attributions = pd.DataFrame(
                attributions,
                index=getattr(model, "classes_", None),
                columns=getattr(model, "feature_names_in_", None),
            )
        display = cls(attributions, class_names=class_names, sensor_names=sensor_names)
        return display.plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_predictions(
        cls, y_true, attributions, *, class_names=None, sensor_names=None,
        ax=None, **plot_kwargs,
    ):
        """Average per-sample attributions within each true class, and plot.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True class of each sample.
        attributions : array-like or DataFrame of shape (n_samples, n_sensors)
            Per-sample attributions, for example ``SteelNetClassifier.explain``.
        class_names : list of str, default=None
            Column labels; by default the sorted class labels.
        sensor_names : list of str, default=None
            Row labels; by default the DataFrame columns.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AttributionDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sksteel.plotting import AttributionDisplay
        >>> display = AttributionDisplay.from_predictions(
        ...     [0, 0, 1], [[0.8, 0.2], [0.6, 0.4], [0.1, 0.9]]
        ... )
        >>> display.im_.get_array().round(2).tolist()
        [[0.7, 0.1], [0.3, 0.9]]
        """
        y_true = np.asarray(y_true)
        frame = pd.DataFrame(attributions).astype(float)
        if len(frame) != len(y_true):
            raise ValueError(
                "`y_true` and `attributions` must have one row per sample; got "
                f"{len(y_true)} labels and {len(frame)} attribution rows."
            )
        per_class = frame.groupby(y_true).mean()
        display = cls(per_class, class_names=class_names, sensor_names=sensor_names)
        return display.plot(ax=ax, **plot_kwargs)
