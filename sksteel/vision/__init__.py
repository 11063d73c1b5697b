"""sksteel.vision."""

__all__ = []
