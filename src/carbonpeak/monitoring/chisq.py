"""Pearson's chi-square goodness-of-fit test without importing ``scipy.stats`` (which costs about
0.3 s at start-up, a fixed cost of every ``monitor run``; issue 14).

Same statistic and p-value as ``scipy.stats.chisquare``: χ² = Σ (o − e)² / e with k − 1 degrees of
freedom, p = the chi-square survival function (``scipy.special.chdtrc``, which ``scipy.stats``
itself uses).
"""

from __future__ import annotations

import numpy as np


def chisquare(observed: np.ndarray, expected: np.ndarray | None = None) -> tuple[float, float]:
    """(χ², p) of ``observed`` counts against ``expected`` (default: uniform with the same total)."""
    from scipy.special import chdtrc

    obs = np.asarray(observed, dtype=float)
    exp = np.full_like(obs, obs.mean()) if expected is None else np.asarray(expected, dtype=float)
    chi2 = float(((obs - exp) ** 2 / exp).sum())
    return chi2, float(chdtrc(obs.size - 1, chi2))
