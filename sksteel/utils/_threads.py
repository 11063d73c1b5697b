"""Thread limits for small models run in parallel processes."""

from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["single_threaded"]


@contextmanager
def single_threaded():
    """Run torch, BLAS and OpenMP on one thread inside the block.

    Small models (a batch of SteelNet is a few milliseconds of work) are
    slowed down rather than sped up by extra threads, and badly so when
    processes share the cores; parallelism comes from processes instead, as
    in ``sksteel reproduce``.

    Examples
    --------
    >>> import torch
    >>> from sksteel.utils import single_threaded
    >>> with single_threaded():
    ...     torch.get_num_threads()
    1
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(previous)
