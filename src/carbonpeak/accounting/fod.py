"""The IPCC first-order-decay (FOD) model of solid waste disposal, vectorised over series.

IPCC 2006 Vol 5 Ch 3 Eq 3.4-3.6 and Annex 3A.1 (the IPCC Waste Model spreadsheet):

* ``DDOCm_d(T)`` — decomposable degradable organic carbon deposited in year T
  (= W × DOC × DOCf × MCF, Eq 3.2);
* reaction starts ``delay`` months after deposition; deposits are on average made at mid-year,
  so the reaction starts in month ``M = 7 + delay`` of the deposition year (M = 13 with the
  default 6 months: 1 January of the next year).  Of the year's deposit, the part left at the
  end of the deposition year is ``DDOCm_d × exp(−k × (13 − M)/12)`` (Annex 3A.1, Eq 3A1.x),
  the rest decomposes in that year;
* ``DDOCma(T) = DDOCm_rem(T) + DDOCma(T−1) × exp(−k)`` (Eq 3.4);
* ``DDOCm_decomp(T) = DDOCm_dec(T) + DDOCma(T−1) × (1 − exp(−k))`` (Eq 3.5);
* ``CH4_generated(T) = DDOCm_decomp(T) × F × 16/12`` (Eq 3.6) — done by the caller.

Everything deposited eventually decomposes: ``Σ_T DDOCm_decomp(T) → Σ_T DDOCm_d(T)``.
"""

from __future__ import annotations

import numpy as np

#: Months in a year and the month (1-based) at whose start a mid-year deposit sits plus one:
#: the Waste Model's ``M = 7 + delay`` and its ``(13 − M)/12`` remaining-year fraction.
_MONTHS = 12.0
_MAX_DELAY_MONTHS = 6.0


def fod_decomposed(
    ddocm_d: np.ndarray,
    k: np.ndarray | float,
    delay_months: np.ndarray | float = 6.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Decomposed and accumulated DDOCm per year.

    ``ddocm_d`` is ``(n_series, n_years)`` (or ``(n_years,)``): mass deposited in each year,
    consecutive years.  ``k`` (1/yr) and ``delay_months`` (0-6) are per series or scalars.
    Returns ``(decomposed, accumulated)`` of the same shape: DDOCm decomposing in each year and
    DDOCm left in the site at the end of each year.
    """
    d = np.asarray(ddocm_d, dtype=float)
    one_d = d.ndim == 1
    d2 = np.atleast_2d(d)
    n, t = d2.shape
    kk = np.broadcast_to(np.asarray(k, dtype=float), (n,)) if np.ndim(k) <= 1 else None
    dl = np.broadcast_to(np.asarray(delay_months, dtype=float), (n,))
    if kk is None:
        raise ValueError("k must be a scalar or one value per series")
    if (kk < 0).any() or not np.isfinite(kk).all():
        raise ValueError("k must be finite and >= 0")
    if (dl < 0).any() or (dl > _MAX_DELAY_MONTHS).any():
        raise ValueError("delay_months must be between 0 and 6")
    rem = np.exp(-kk * (_MAX_DELAY_MONTHS - dl) / _MONTHS)  # part of a deposit left at the end of its year
    ek = np.exp(-kk)
    dec = np.empty_like(d2)
    accum = np.empty_like(d2)
    acc = np.zeros(n)
    for j in range(t):
        dj = d2[:, j]
        dec[:, j] = dj * (1.0 - rem) + acc * (1.0 - ek)
        acc = dj * rem + acc * ek
        accum[:, j] = acc
    if one_d:
        return dec[0], accum[0]
    return dec, accum
