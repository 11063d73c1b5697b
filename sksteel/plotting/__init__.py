"""sksteel.plotting."""

__all__ = []
