"""Mean and 95% confidence interval across seeds (Student's t), with or without scipy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Two-sided 95% critical values of Student's t by degrees of freedom, for when scipy is missing.
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
         18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
         26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t_critical(df: int, confidence: float = 0.95) -> float:
    """The two-sided critical value of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("a confidence interval needs at least two values")
    try:
        from scipy.stats import t

        return float(t.ppf(0.5 + confidence / 2, df))
    except ImportError:
        if confidence != 0.95:
            raise ValueError("without scipy only 95% intervals are available") from None
        if df in _T975:
            return _T975[df]
        # Between tabulated rows, the value at the next smaller df: slightly wide, never too narrow.
        below = [k for k in _T975 if k < df]
        return _T975[max(below)] if df <= 120 else 1.960


@dataclass(frozen=True, slots=True)
class Interval:
    """Mean of ``n`` values and the half-width of its confidence interval (NaN when n < 2)."""

    n: int
    mean: float
    std: float
    half_width: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean and t-interval of ``values`` (sample standard deviation, n - 1)."""
    n = len(values)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan)
    mean = math.fsum(values) / n
    if n == 1:
        return Interval(1, mean, math.nan, math.nan)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return Interval(n, mean, std, t_critical(n - 1, confidence) * std / math.sqrt(n))
