"""sksteel.sampling."""

__all__ = []
