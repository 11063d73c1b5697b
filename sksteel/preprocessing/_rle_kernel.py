"""Compiled run-length decoding, used when numba is installed.

``pip install "sksteel[fast]"`` installs numba; without it, ``rle_decode``
uses its numpy path, which gives the same masks and errors, only slower
(about 5x the per-run Python loop instead of about 10x, see the performance
page of the user guide).

The kernel reads the encoding byte by byte and writes only the defect runs
into a zeroed mask, so it never parses into an intermediate array or writes
the background pixels twice. It reports a malformed encoding with a status
code instead of raising; the caller then runs the numpy path, which names the
offending token or pair.
"""

import functools

#: Status of a well-formed encoding; any other status means malformed.
OK = 0


@functools.cache
def get_kernel():
    """The compiled decoder, or None when numba is not installed.

    Compiled on first use (cached on disk by numba), so importing sksteel
    never pays for it.
    """
    try:
        import numba
    except ImportError:
        return None
    return numba.njit(cache=True, nogil=True)(_decode_runs)


def _decode_runs(text, flat):
    """Set the runs of the encoding ``text`` in the zeroed mask ``flat``.

    Parameters
    ----------
    text : ndarray of uint8
        The encoding's ASCII bytes; the caller has checked that it holds only
        digits and blanks (every byte up to 32 is a blank).
    flat : ndarray of bool of shape (n_pixels,)
        All False on entry; the column-major mask on success.

    Returns
    -------
    status : int
        ``OK``, or a nonzero code: a start without a length, a number above
        the pixel count, a start or length below 1, unsorted or overlapping
        runs, or a run past the last pixel. ``flat`` is then partly written.
    """
    n_pixels = flat.size
    n_bytes = text.size
    i = 0
    start = 0
    have_start = False  # a start is read and waits for its length
    previous_end = 0  # one past the last pixel of the previous run, 0-indexed
    while True:
        while i < n_bytes and text[i] <= 32:
            i += 1
        if i == n_bytes:
            return 1 if have_start else OK
        value = 0
        while i < n_bytes and text[i] > 32:
            value = value * 10 + (text[i] - 48)
            if value > n_pixels:
                return 2
            i += 1
        if not have_start:
            start, have_start = value - 1, True
            continue
        have_start = False
        if start < 0 or value < 1:
            return 3
        if start < previous_end:
            return 4
        if start + value > n_pixels:
            return 5
        flat[start : start + value] = True
        previous_end = start + value
