"""sksteel.metrics."""

__all__ = []
