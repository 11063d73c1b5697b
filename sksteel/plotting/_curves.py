"""What the curve Displays share: one marked curve, its area in the legend."""

#: Size in inches of a new figure holding a curve.
CURVE_FIGSIZE = (5.5, 4.0)


def draw_scored_curve(ax, x, y, *, area, name=None, **kwargs):
    """Plot ``y`` against ``x``, labelled ``"<name> (area <area>)"``.

    Parameters
    ----------
    ax : matplotlib Axes or None
        Axes to draw on; None creates a figure of ``CURVE_FIGSIZE``.
    x, y : array-like of shape (n_points,)
        The curve.
    area : float
        The curve's summary score, shown with three decimals.
    name : str, default=None
        Legend name before the area.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (markers by default).

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.
    line : matplotlib Line2D
        The curve.
    created : bool
        Whether the figure was created here.
    """
    import matplotlib.pyplot as plt

    created = ax is None
    if created:
        _, ax = plt.subplots(figsize=CURVE_FIGSIZE)
    label = f"area {area:.3f}"
    if name is not None:
        label = f"{name} ({label})"
    kwargs.setdefault("marker", "o")
    (line,) = ax.plot(x, y, label=label, **kwargs)
    return ax, line, created
