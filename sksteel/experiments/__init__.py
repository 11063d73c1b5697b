"""sksteel.experiments."""

__all__ = []
