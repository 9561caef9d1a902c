"""Pearson's chi-square goodness-of-fit test without importing SciPy (``scipy.stats`` costs about
0.3 s at start-up and ``scipy.special`` most of that, a fixed cost of every ``monitor run``;
issue 14).

Same statistic and p-value as ``scipy.stats.chisquare`` (checked in tests/monitoring/test_cli_lazy.py):
χ² = Σ (o − e)² / e with ν = k − 1 degrees of freedom, p = Q(ν/2, χ²/2), the regularised upper
incomplete gamma function, in its closed form for integer ν (Abramowitz & Stegun 26.4.4–26.4.5):

* ν even: Q = e^(−x/2) Σ_{i=0}^{ν/2−1} (x/2)^i / i!
* ν odd:  Q = erfc(√(x/2)) + e^(−x/2) Σ_{i=1}^{(ν−1)/2} (x/2)^(i−1/2) / Γ(i + 1/2)

each term taken in log space (no overflow for large χ²).
"""

from __future__ import annotations

import math

import numpy as np


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for X ~ χ²(df), integer ``df`` ≥ 1."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if x <= 0:
        return 1.0
    h = x / 2.0
    lh = math.log(h)
    if df % 2 == 0:
        return min(1.0, sum(math.exp(-h + i * lh - math.lgamma(i + 1)) for i in range(df // 2)))
    s = math.erfc(math.sqrt(h))
    s += sum(math.exp(-h + (i - 0.5) * lh - math.lgamma(i + 0.5)) for i in range(1, (df - 1) // 2 + 1))
    return min(1.0, s)


def chisquare(observed: np.ndarray, expected: np.ndarray | None = None) -> tuple[float, float]:
    """(χ², p) of ``observed`` counts against ``expected`` (default: uniform with the same total)."""
    obs = np.asarray(observed, dtype=float)
    exp = np.full_like(obs, obs.mean()) if expected is None else np.asarray(expected, dtype=float)
    chi2 = float(((obs - exp) ** 2 / exp).sum())
    return chi2, chi2_sf(chi2, obs.size - 1)
