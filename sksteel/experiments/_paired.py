"""Paired differences over seeds, with a 95 % t-interval, and their wording.

Two models of one seed share that seed's split, failure masks and
``random_state``, so their difference is paired: the interval is a Student
t-interval over the per-seed differences (not a bootstrap over test rows).
"""

import math
from dataclasses import dataclass

from scipy import stats

__all__ = ["PairedDifference", "paired_difference"]

#: Coverage of the intervals.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class PairedDifference:
    """``first`` minus ``second`` on ``metric``, over the shared seeds.

    Examples
    --------
    >>> from sksteel.experiments import PairedDifference
    >>> d = PairedDifference("a", "b", "f1_macro", 0.01, -0.005, 0.025, 3)
    >>> d.within_noise, d.verdict
    (True, 'within noise')
    """

    first: str
    second: str
    metric: str
    mean: float
    low: float
    high: float
    n_seeds: int

    @property
    def within_noise(self):
        """Whether the interval contains 0 (or there is no interval)."""
        return not (self.low > 0 or self.high < 0)

    @property
    def verdict(self):
        """The difference in words: never "improvement", only which is
        higher, and "within noise" when the interval contains 0."""
        return self.reading()

    def reading(self, first=None, second=None):
        """:attr:`verdict`, naming the two sides ``first`` and ``second``
        (by default their group names)."""
        if self.n_seeds < 2:
            return "one seed: no interval, not a finding"
        if self.within_noise:
            return "within noise"
        side = "higher" if self.mean > 0 else "lower"
        first = self.first if first is None else first
        second = self.second if second is None else second
        return f"{first} {side} than {second}, beyond seed noise"

    def text(self, digits=3):
        """``+0.009 [-0.002, +0.020]``: the mean and its 95 % interval."""
        if self.n_seeds < 2:
            return f"{self.mean:+.{digits}f}"
        return (
            f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, "
            f"{self.high:+.{digits}f}]"
        )


def paired_difference(scores, first, second, metric, *, by="model"):
    """The paired difference ``first - second`` of ``metric`` over seeds.

    Parameters
    ----------
    scores : DataFrame
        One row per (``by``, ``seed``) with a ``metric`` column.
    first, second : str
        The two groups compared.
    metric : str
        The score column.
    by : str, default="model"
        The column naming the groups.

    Returns
    -------
    difference : PairedDifference
        Mean and 95 % t-interval of the per-seed differences (NaN bounds
        with one seed).

    Examples
    --------
    >>> import pandas as pd
    >>> from sksteel.experiments import paired_difference
    >>> scores = pd.DataFrame({"model": ["a"] * 3 + ["b"] * 3,
    ...                        "seed": [0, 1, 2] * 2,
    ...                        "f1": [0.90, 0.91, 0.92, 0.80, 0.80, 0.83]})
    >>> d = paired_difference(scores, "a", "b", "f1")
    >>> round(d.mean, 3), d.verdict
    (0.1, 'a higher than b, beyond seed noise')
    """
    table = scores.pivot_table(index="seed", columns=by, values=metric)
    differences = (table[first] - table[second]).dropna()
    n = len(differences)
    mean = float(differences.mean())
    if n < 2:
        return PairedDifference(first, second, metric, mean, math.nan, math.nan, n)
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * differences.std(ddof=1)
    half = float(half / math.sqrt(n))
    return PairedDifference(first, second, metric, mean, mean - half, mean + half, n)
