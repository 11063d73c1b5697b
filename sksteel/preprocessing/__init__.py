"""sksteel.preprocessing."""

__all__ = []
