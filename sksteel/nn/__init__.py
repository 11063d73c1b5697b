"""sksteel.nn."""

__all__ = []
