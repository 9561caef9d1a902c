"""Decomposition of a provincial intensity or total-emissions target to the 21 cities.

Two methods (docs/methods/targets.md §5):

``entropy``  an index over city indicators (development level, energy structure, carbon intensity,
             ...), weighted by the entropy method; each city's reduction is
             r_i = R·(α + (1 − α)·s_i / s̄_w),   s̄_w = Σ w_i s_i / Σ w_i,
             which meets the provincial target exactly (Σ w_i r_i = R Σ w_i).
``optimise`` the reductions closest (weighted least squares) to a tier preference R·pref(tier)
             inside per-tier bounds R·[lo, hi](tier), subject to Σ w_i r_i = R Σ w_i.  The KKT
             conditions give r_i = clip(pref_i + μ, lo_i, hi_i); μ is found with
             ``scipy.optimize.brentq`` so the constraint holds to machine precision.

The weights w_i make the sum mean what the provincial target means:

* ``intensity``: w_i = I_i0 · G_i1 (the city's emissions in the target year at its base intensity),
  so Σ (1 − r_i) I_i0 G_i1 / Σ G_i1 = (1 − r_p) I_p0 — the provincial intensity target is met on
  GDP-weighted (equivalently emissions-weighted) terms; R = 1 − (1 − r_p) I_p0 Σ G_i1 / Σ w_i.
* ``total``: w_i = E_i0, so Σ E_i0 (1 − r_i) = (1 − r_p) Σ E_i0 — the city caps add up to the
  provincial cap; R = r_p.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from carbonpeak.errors import CarbonpeakError

METHODS = ("entropy", "optimise")
MODES = ("intensity", "total")

#: Index indicators and their direction: +1 = a higher value means a larger share of the effort.
DEFAULT_INDEX = {
    "gdp_per_capita": 1.0,      # development stage / capacity to pay (plan action 50: 发展阶段)
    "co2_intensity": 1.0,       # reduction potential (减排潜力)
    "coal_share_of_co2": 1.0,   # energy structure (能源结构): more coal → more room to switch
    "secondary_industry_share": 1.0,  # industrial structure (产业结构)
}


class DecompositionError(CarbonpeakError):
    """The provincial target cannot be met under the given bounds, or the inputs are unusable."""


@dataclass
class Decomposition:
    method: str
    mode: str
    provincial_reduction_pct: float
    required_mean_pct: float  # R × 100
    table: pd.DataFrame  # region, tier, weight, reduction_pct, (score), target values
    weights: dict[str, float] = field(default_factory=dict)  # entropy weights of index indicators
    params: dict[str, Any] = field(default_factory=dict)
    check: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "mode": self.mode,
            "provincial_reduction_pct": self.provincial_reduction_pct,
            "required_mean_pct": self.required_mean_pct,
            "weights": self.weights, "params": self.params, "check": self.check,
            "cities": self.table.to_dict(orient="records"),
        }


def entropy_weights(x: pd.DataFrame, directions: Mapping[str, float]) -> tuple[dict[str, float], pd.DataFrame]:
    """Entropy weights of the columns of ``x`` (rows = cities) and the normalised matrix.

    z_ij = (x_ij − min_j)/(max_j − min_j) (reversed for direction −1); p_ij = z'_ij / Σ_i z'_ij with
    z' = z + 1e-4 (so that log is defined); e_j = −Σ_i p_ij ln p_ij / ln n; d_j = 1 − e_j;
    w_j = d_j / Σ d_j.  Columns that do not vary get weight 0.  (Shannon entropy weighting, e.g.
    Zou, Yun & Sun 2006, J. Environ. Sci. 18(5):1020-1023.)
    """
    n = len(x)
    if n < 2:
        raise DecompositionError("the entropy method needs at least two cities")
    z = pd.DataFrame(index=x.index)
    for c in x.columns:
        col = x[c].astype(float)
        span = col.max() - col.min()
        if not np.isfinite(span) or span <= 0:
            z[c] = 0.0
            continue
        zz = (col - col.min()) / span
        z[c] = zz if directions.get(c, 1.0) >= 0 else 1 - zz
    zp = z + 1e-4
    p = zp / zp.sum(axis=0)
    e = -(p * np.log(p)).sum(axis=0) / math.log(n)
    d = (1 - e).where(z.max(axis=0) > 0, 0.0)
    w = pd.Series(1.0 / len(x.columns), index=x.columns) if float(d.sum()) <= 0 else d / d.sum()
    return {str(k): float(v) for k, v in w.items()}, z


def _weights_and_R(base: pd.DataFrame, mode: str, r_p: float) -> tuple[np.ndarray, float, dict[str, float]]:
    if mode == "total":
        w = base["emissions"].to_numpy(dtype=float)
        if (w <= 0).any():
            raise DecompositionError("every city needs positive base emissions")
        return w, r_p, {"base_total": float(w.sum())}
    e0 = base["emissions"].to_numpy(dtype=float)
    g0 = base["gdp"].to_numpy(dtype=float)
    g1 = base["gdp_target_year"].to_numpy(dtype=float) if "gdp_target_year" in base else g0
    if (g0 <= 0).any() or (e0 <= 0).any() or (g1 <= 0).any():
        raise DecompositionError("every city needs positive base emissions and GDP")
    i0 = e0 / g0
    w = i0 * g1
    ip0 = e0.sum() / g0.sum()
    R = 1 - (1 - r_p) * ip0 * g1.sum() / w.sum()
    return w, R, {"provincial_base_intensity": float(ip0), "provincial_target_intensity": float((1 - r_p) * ip0)}


def _finish(base: pd.DataFrame, mode: str, r: np.ndarray, w: np.ndarray, r_p: float,
            extra: dict[str, float]) -> tuple[pd.DataFrame, dict[str, float]]:
    out = base[["region"] + [c for c in ("name_zh", "name_en", "tier", "group") if c in base]].copy()
    out["weight"] = w
    out["reduction_pct"] = r * 100
    e0 = base["emissions"].to_numpy(dtype=float)
    check: dict[str, float] = {}
    if mode == "intensity":
        g0 = base["gdp"].to_numpy(dtype=float)
        g1 = base["gdp_target_year"].to_numpy(dtype=float) if "gdp_target_year" in base else g0
        i0 = e0 / g0
        out["base_intensity"] = i0
        out["target_intensity"] = i0 * (1 - r)
        implied = float(((1 - r) * w).sum() / g1.sum())
        check = {**extra, "implied_provincial_intensity": implied,
                 "implied_provincial_reduction_pct": (1 - implied / extra["provincial_base_intensity"]) * 100}
    else:
        out["base_emissions"] = e0
        out["cap"] = e0 * (1 - r)
        check = {**extra, "sum_of_caps": float(out["cap"].sum()), "provincial_cap": float(e0.sum() * (1 - r_p))}
    check["weighted_mean_reduction_pct"] = float((w * r).sum() / w.sum() * 100)
    return out, check


def decompose(
    base: pd.DataFrame,
    provincial_reduction_pct: float,
    *,
    method: str = "optimise",
    mode: str = "intensity",
    index_columns: Mapping[str, float] | None = None,
    index_floor: float = 0.5,
    tier_preference: Mapping[str, float] | None = None,
    tier_bounds: Mapping[str, Sequence[float]] | None = None,
) -> Decomposition:
    """Split a provincial reduction (in %, positive = reduction) among the cities of ``base``.

    ``base`` columns: ``region``, ``tier``, ``emissions`` (base year), ``gdp`` (base year, for
    intensity), optional ``gdp_target_year`` (projected GDP in the target year at constant prices;
    default = ``gdp``, i.e. uniform growth), and the index indicator columns for ``entropy``.
    """
    if method not in METHODS:
        raise DecompositionError(f"method must be one of {', '.join(METHODS)}")
    if mode not in MODES:
        raise DecompositionError(f"mode must be one of {', '.join(MODES)}")
    if len(base) == 0:
        raise DecompositionError("no cities to decompose to")
    base = base.reset_index(drop=True)
    r_p = provincial_reduction_pct / 100
    w, R, extra = _weights_and_R(base, mode, r_p)
    params: dict[str, Any] = {}
    weights: dict[str, float] = {}
    table_extra: dict[str, np.ndarray] = {}
    if method == "entropy":
        cols = {c: d for c, d in (index_columns or DEFAULT_INDEX).items() if c in base and base[c].notna().all()}
        if not cols:
            raise DecompositionError(
                f"the entropy method needs index columns with a value for every city (any of {', '.join(index_columns or DEFAULT_INDEX)})")
        weights, z = entropy_weights(base[list(cols)], cols)
        s = sum(z[c].to_numpy() * weights[c] for c in cols)
        s = np.asarray(s, dtype=float)
        s_bar = float((w * s).sum() / w.sum())
        alpha = float(index_floor)
        r = R * (alpha + (1 - alpha) * (s / s_bar if s_bar > 0 else np.ones_like(s)))
        params = {"index_floor": alpha, "directions": dict(cols)}
        table_extra["score"] = s
    else:
        pref = dict(tier_preference or {"leading": 1.2, "growing": 1.0, "lagging": 0.8})
        bnds = dict(tier_bounds or {"leading": (1.0, 1.6), "growing": (0.7, 1.3), "lagging": (0.4, 1.1)})
        tiers = base["tier"].astype(str).to_numpy()
        unknown = sorted(set(tiers) - set(pref) | set(tiers) - set(bnds))
        if unknown:
            raise DecompositionError(f"no preference/bounds for tier(s) {', '.join(unknown)}")
        p = np.array([R * pref[t] for t in tiers])
        lo = np.array([R * min(bnds[t]) for t in tiers])
        hi = np.array([R * max(bnds[t]) for t in tiers])
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)  # R < 0 flips the bounds
        need = R * w.sum()
        if (w * lo).sum() > need + 1e-12 * abs(need) or (w * hi).sum() < need - 1e-12 * abs(need):
            raise DecompositionError(
                f"the provincial target (weighted mean reduction {R:.2%}) cannot be met within the tier bounds "
                f"({(w * lo).sum() / w.sum():.2%} … {(w * hi).sum() / w.sum():.2%}); widen them")

        def f(mu: float) -> float:
            return float((w * np.clip(p + mu, lo, hi)).sum() - need)

        # f is non-decreasing in mu; at a every city sits on its lower bound, at b on its upper bound
        a, b = float(np.min(lo - p)), float(np.max(hi - p))
        fa, fb = f(a), f(b)
        if fa >= 0:
            mu = a
        elif fb <= 0:
            mu = b
        else:
            mu = brentq(f, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
        r = np.clip(p + mu, lo, hi)
        # remove the last rounding residue on a free (unclipped) city so that the sum is exact
        free = (r > lo + 1e-15) & (r < hi - 1e-15)
        if free.any():
            k = int(np.argmax(np.where(free, w, -1)))
            r[k] += (need - float((w * r).sum())) / w[k]
        params = {"tier_preference": pref, "tier_bounds": {k: list(v) for k, v in bnds.items()}, "mu": float(mu)}
    table, check = _finish(base, mode, r, w, r_p, extra)
    for k, v in table_extra.items():
        table[k] = v
    return Decomposition(method, mode, provincial_reduction_pct, R * 100, table, weights, params, check)
