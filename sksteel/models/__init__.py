"""sksteel.models."""

__all__ = []
