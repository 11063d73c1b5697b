"""Samplers for imbalanced-learn pipelines: they act while fitting only."""

from ._modality_dropout import ModalityDropout

__all__ = ["ModalityDropout"]
