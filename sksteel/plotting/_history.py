"""Training curves of a neural model: losses and validation scores per epoch."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._attribution import _final_step
from ._layout import fit_labels

__all__ = ["TrainingHistoryDisplay"]

#: History columns that are bookkeeping, not curves (as are ``*_best``,
#: ``*_batch_count`` and ``event_*``).
_NOT_CURVES = ("epoch", "dur", "batches")


def _history_frame(history):
    """A skorch ``History`` (list of dicts) or a DataFrame as a DataFrame of
    the numeric per-epoch columns, indexed by epoch."""
    if isinstance(history, pd.DataFrame):
        frame = history.copy()
    else:
        frame = pd.DataFrame(list(history))
    if frame.empty:
        raise ValueError("`history` is empty; fit the model for at least one epoch.")
    if "epoch" in frame:
        frame = frame.set_index("epoch")
    else:
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
    keep = [
        column
        for column in frame.columns
        if column not in _NOT_CURVES
        and not column.endswith(("_best", "_batch_count"))
        and not column.startswith("event_")
        and pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    ]
    return frame[keep].astype(float)


class TrainingHistoryDisplay:
    """Losses (left axis) and validation scores (right axis) per epoch.

    Build it with :meth:`from_estimator` from a fitted model with a skorch
    ``history_`` (such as ``SteelNetClassifier``), with :meth:`from_history`,
    or directly from a DataFrame.

    Parameters
    ----------
    history : DataFrame
        One row per epoch (index or ``epoch`` column) and one numeric column
        per curve. Columns whose name contains ``"loss"`` are drawn on the
        left axis, the others on the right.
    name : str, default=None
        Title of the plot.

    Attributes
    ----------
    lines_ : dict of str -> matplotlib Line2D
        One line per curve.
    best_epoch_ : int or None
        Epoch of the best validation score, marked by a dotted line, when
        a score is drawn.
    ax_ : matplotlib Axes
        The loss axes.
    ax_score_ : matplotlib Axes or None
        The twin axes holding the scores.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sksteel.plotting import TrainingHistoryDisplay
    >>> history = pd.DataFrame({
    ...     "epoch": [1, 2, 3],
    ...     "train_loss": [1.0, 0.6, 0.5],
    ...     "valid_loss": [0.9, 0.7, 0.72],
    ...     "valid_acc": [0.80, 0.86, 0.85],
    ... })
    >>> display = TrainingHistoryDisplay(history).plot()
    >>> sorted(display.lines_), display.best_epoch_
    (['train_loss', 'valid_acc', 'valid_loss'], 2)
    """

    def __init__(self, history, *, name=None):
        self.history = history
        self.name = name

    def plot(self, ax=None, *, keys=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        keys : list of str, default=None
            Curves to draw; by default every numeric column.

        Returns
        -------
        display : TrainingHistoryDisplay
            This object, with ``lines_``, ``best_epoch_``, ``ax_``,
            ``ax_score_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt

        frame = _history_frame(self.history)
        if keys is not None:
            unknown = sorted(set(keys) - set(frame.columns))
            if unknown:
                raise ValueError(
                    f"`keys` {unknown!r} are not in the history; available: "
                    f"{list(frame.columns)!r}."
                )
            frame = frame[list(keys)]
        created = ax is None
        if created:
            _, ax = plt.subplots(figsize=(6.0, 4.0))
        losses = [c for c in frame.columns if "loss" in c]
        scores = [c for c in frame.columns if "loss" not in c]
        self.lines_ = {}
        for column in losses:
            (self.lines_[column],) = ax.plot(frame.index, frame[column], label=column)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        self.ax_score_, self.best_epoch_ = None, None
        handles = list(self.lines_.values())
        if scores:
            self.ax_score_ = ax.twinx() if losses else ax
            colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
            cycle = iter(colors[len(losses):])
            for column in scores:
                (self.lines_[column],) = self.ax_score_.plot(
                    frame.index, frame[column], label=column, linestyle="--",
                    color=next(cycle, None),
                )
                handles.append(self.lines_[column])
            self.ax_score_.set_ylabel("score")
            values = frame[scores].to_numpy()
            if np.nanmin(values) >= 0 and np.nanmax(values) <= 1:
                # a flat score at 1 should read as 1, not as noise around it
                self.ax_score_.set_ylim(max(0.0, np.nanmin(values) - 0.05), 1.005)
            best = frame[scores[0]]
            if best.notna().any():
                self.best_epoch_ = int(best.index[np.nanargmax(best.to_numpy())])
                ax.axvline(self.best_epoch_, color="grey", linestyle=":", linewidth=1)
        ax.legend(handles=handles, loc="best", fontsize=8)
        if self.name is not None:
            ax.set_title(self.name)
        self.ax_, self.figure_ = ax, ax.figure
        fit_labels(self.figure_, resize=created)
        return self

    @classmethod
    def from_history(cls, history, *, name=None, ax=None, **kwargs):
        """Plot a skorch ``History`` or a list of per-epoch dicts.

        Parameters
        ----------
        history : skorch History, list of dict or DataFrame
            One entry per epoch.
        name : str, default=None
            Title of the plot.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : TrainingHistoryDisplay
        """
        return cls(_history_frame(history), name=name).plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, name=None, ax=None, **kwargs):
        """Plot a fitted model's ``history_``.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
            A model with a ``history_`` (skorch History), such as
            ``SteelNetClassifier``, or a pipeline ending in one.
        name : str, default=None
            Title of the plot; by default the model's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : TrainingHistoryDisplay
        """
        model = _final_step(estimator)
        check_is_fitted(model, "history_")
        if name is None:
            name = type(model).__name__
        return cls.from_history(model.history_, name=name, ax=ax, **kwargs)
