"""Room for long names: the Displays' figures are sized by their labels.

Sensor names from a plant historian or a ``ColumnTransformer``
(``remainder__surface_cleanliness_index_percent``) are long. The Displays
keep them whole and call :func:`fit_labels` after drawing: it rotates
crowded labels of a horizontal axis, wraps titles wider than the room
above their axes, and, for a figure the Display created, lays it out
(tight layout, or the constrained layout it was made with) and grows it by
the labels' measured extent, so that every label lies inside the figure and
each axes keeps ``KEEP_AXES_SHARE`` of the size it had before (at least
``MIN_AXES_INCHES``) to draw in. Titles then wrap into that width.
"""

import textwrap
import warnings

import numpy as np

#: Smallest (width, height) in inches an axes keeps once its labels have room.
MIN_AXES_INCHES = (2.0, 1.2)

#: Share of its size before the layout that an axes keeps, at least.
KEEP_AXES_SHARE = 0.75

#: Rotation, in degrees, of x tick labels that would overlap when horizontal.
CROWDED_ROTATION = 35

#: Times the figure is grown and laid out again until its labels fit.
_MAX_ROUNDS = 4


def fit_labels(figure, *, resize=True):
    """Lay out ``figure`` so that its tick labels, titles and legends fit.

    Parameters
    ----------
    figure : matplotlib Figure
        The drawn figure.
    resize : bool, default=True
        Whether the figure may change: its layout and a larger size.
        False for axes the caller passed in, whose labels are only rotated
        and whose titles are only wrapped.

    Returns
    -------
    figure : matplotlib Figure
        The same figure.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    renderer = figure.canvas.get_renderer()
    # A figure made with constrained layout keeps it; the others get a
    # one-off tight layout, so that a later ``tight_layout()`` of the
    # caller's changes nothing and warns of nothing.
    tight = resize and not isinstance(
        figure.get_layout_engine(), ConstrainedLayoutEngine
    )
    wanted = np.maximum(MIN_AXES_INCHES, KEEP_AXES_SHARE * _sizes(figure, renderer))
    # Titles wrap into the width the other labels made; they do not widen
    # the figure, so they stay out of the rounds.
    titles = [ax.title for ax in figure.axes if ax.title.get_visible()]
    for title in titles:
        title.set_visible(False)
    with warnings.catch_warnings():
        # The layouts warn while the figure is still too small.
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(_MAX_ROUNDS):
            _lay_out(figure, tight)
            changed = _rotate_crowded(figure, renderer)
            grow = _shortfall(figure, renderer, wanted) if resize else np.zeros(2)
            if not changed and not grow.any():
                break
            figure.set_size_inches(figure.get_size_inches() + grow)
        for title in titles:
            title.set_visible(True)
        _lay_out(figure, tight)
        for _ in range(2):  # a wrapped title moves the axes a little
            if not _wrap_titles(figure, renderer):
                break
            _lay_out(figure, tight)
    return figure


def _lay_out(figure, tight):
    """Apply the figure's layout and place its ticks."""
    if tight:
        figure.tight_layout()
    figure.draw_without_rendering()


def _main_axes(figure):
    """The axes that draw data: no colour bars, one of each twin pair."""
    seen, axes = set(), []
    for ax in figure.axes:
        key = tuple(np.round(ax.get_position().bounds, 6))
        if hasattr(ax, "_colorbar") or key in seen:
            continue
        seen.add(key)
        axes.append(ax)
    return axes


def _rotate_crowded(figure, renderer):
    """Rotate x tick labels wider than their tick spacing; True if any."""
    changed = False
    for ax in _main_axes(figure):
        labels = [t for t in ax.get_xticklabels() if t.get_text()]
        if len(labels) < 2 or labels[0].get_rotation() != 0:
            continue
        spacing = ax.get_window_extent(renderer).width / len(labels)
        widest = max(t.get_window_extent(renderer).width for t in labels)
        if widest > 0.9 * spacing:
            ax.tick_params(axis="x", labelrotation=CROWDED_ROTATION)
            for text in ax.get_xticklabels():
                text.set_horizontalalignment("right")
                text.set_rotation_mode("anchor")
            changed = True
    return changed


def _wrap_titles(figure, renderer):
    """Wrap each axes title to the room the figure has around its centre;
    True if any changed."""
    changed = False
    width = figure.bbox.width
    for ax in figure.axes:
        title = ax.title
        if not title.get_text():
            continue
        box = title.get_window_extent(renderer)
        centre = (box.x0 + box.x1) / 2.0
        room = 2.0 * min(centre, width - centre) * 0.95
        if box.width <= room:
            continue
        text = " ".join(title.get_text().split("\n"))
        longest = max(len(line) for line in title.get_text().split("\n"))
        per_char = box.width / max(longest, 1)
        wrapped = textwrap.fill(
            text, max(int(room / per_char), 8), break_long_words=True
        )
        if wrapped != title.get_text():
            title.set_text(wrapped)
            changed = True
    return changed


def _sizes(figure, renderer):
    """(width, height) in inches of each main axes, one row each."""
    boxes = [ax.get_window_extent(renderer) for ax in _main_axes(figure)]
    return np.array([(b.width, b.height) for b in boxes]).reshape(-1, 2) / figure.dpi


def _shortfall(figure, renderer, wanted):
    """Inches to add to the figure's (width, height): the labels' overflow
    plus what the axes lack of ``wanted``."""
    width, height = figure.get_size_inches()
    box = figure.get_tightbbox(renderer)  # in inches
    overflow = np.array(
        [
            max(0.0, -box.x0) + max(0.0, box.x1 - width),
            max(0.0, -box.y0) + max(0.0, box.y1 - height),
        ]
    )
    axes = _main_axes(figure)
    sizes = _sizes(figure, renderer)
    lacking = np.clip(wanted - sizes, 0.0, None)
    columns = len({round(ax.get_position().x0, 3) for ax in axes})
    rows = len({round(ax.get_position().y0, 3) for ax in axes})
    lacking = lacking.max(axis=0, initial=0.0) * np.array([columns, rows])
    grow = overflow + lacking
    return np.where(grow > 0.01, grow + 0.1, 0.0)
