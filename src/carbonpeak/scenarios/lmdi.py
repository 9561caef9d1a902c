"""LMDI-I index decomposition, additive and multiplicative (Ang 2004, 2005, 2015).

Identity: V = Σ_i V_i with V_i = x_1,i · x_2,i · … · x_n,i (i = sector; one sector when the
identity is not split).  With the logarithmic mean L(a, b) = (a − b)/(ln a − ln b), L(a, a) = a:

* additive:        ΔV_k = Σ_i L(V_i^T, V_i^0) · ln(x_k,i^T / x_k,i^0),     Σ_k ΔV_k = V^T − V^0
* multiplicative:  ln D_k = Σ_i [L(V_i^T, V_i^0) / L(V^T, V^0)] · ln(x_k,i^T / x_k,i^0),
                   Π_k D_k = V^T / V^0, and ΔV_k / ln D_k = L(V^T, V^0)  (Ang 2004, 2015).

Zero values (Ang & Liu 2007; Ang 2015 §4.4): instead of the small-value (SV) strategy we use its
analytic limit as δ → 0, which the SV results converge to:

* V_i^0 = 0 < V_i^T: the m factors that are zero in year 0 share V_i^T equally (V_i^T/m each),
  the other factors of sector i get 0;
* V_i^T = 0 < V_i^0: the m factors that become zero share −V_i^0 equally;
* V_i^0 = V_i^T = 0: sector i contributes nothing.

Negative factor values make LMDI undefined (Ang 2015): they are rejected, never clipped.
Time series: ``chained`` sums (additive) or multiplies (multiplicative) year-to-year
decompositions; otherwise the two end years are compared directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.errors import Problem, ValidationError

METHODS = ("additive", "multiplicative")


def logmean(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Logarithmic mean L(a, b) for a, b ≥ 0 (L(a, a) = a, L(a, 0) = 0), element-wise."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.zeros(np.broadcast(a, b).shape)
    a, b = np.broadcast_to(a, out.shape), np.broadcast_to(b, out.shape)
    pos = (a > 0) & (b > 0)
    eq = pos & np.isclose(a, b, rtol=1e-12, atol=0.0)
    ne = pos & ~eq
    out[eq] = a[eq]
    out[ne] = (a[ne] - b[ne]) / (np.log(a[ne]) - np.log(b[ne]))
    return out


@dataclass
class Decomposition:
    """Result of one decomposition between ``year_from`` and ``year_to``."""

    method: str
    year_from: int
    year_to: int
    factors: list[str]
    v_from: float
    v_to: float
    effects: dict[str, float]                      # additive ΔV_k, or multiplicative D_k
    by_sector: dict[str, dict[str, float]] = field(default_factory=dict)  # additive only
    chained: bool = False
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> float:
        """ΔV (additive) or V^T / V^0 (multiplicative)."""
        return self.v_to - self.v_from if self.method == "additive" else self.v_to / self.v_from

    @property
    def residual(self) -> float:
        """ΔV − Σ ΔV_k (additive) or V^T/V^0 ÷ Π D_k − 1 (multiplicative): zero for LMDI-I."""
        if self.method == "additive":
            return self.total - float(sum(self.effects.values()))
        return self.total / float(np.prod(list(self.effects.values()))) - 1.0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "method": self.method, "year_from": self.year_from, "year_to": self.year_to,
            "chained": self.chained, "factors": self.factors, "v_from": self.v_from, "v_to": self.v_to,
            "effects": self.effects, "total": self.total, "residual": self.residual,
        }
        if self.by_sector:
            d["by_sector"] = self.by_sector
        if self.steps:
            d["steps"] = self.steps
        return d

    def table(self) -> pd.DataFrame:
        """One row per factor, then the total and the residual."""
        label = "effect" if self.method == "additive" else "index"
        rows = [{"factor": k, label: v} for k, v in self.effects.items()]
        rows.append({"factor": "total (V_T − V_0)" if self.method == "additive" else "total (V_T / V_0)",
                     label: self.total})
        rows.append({"factor": "residual", label: self.residual})
        return pd.DataFrame(rows)


def _additive_terms(x0: np.ndarray, xt: np.ndarray) -> np.ndarray:
    """ΔV_k,i for factor arrays shaped (sectors, factors), zero cases by their analytic limits."""
    v0 = np.prod(x0, axis=1)
    vt = np.prod(xt, axis=1)
    w = logmean(vt, v0)
    out = np.zeros_like(x0, dtype=float)
    pos = (v0 > 0) & (vt > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[pos] = w[pos, None] * np.log(xt[pos] / x0[pos])
    born = (v0 == 0) & (vt > 0)
    for i in np.flatnonzero(born):
        z = x0[i] == 0
        out[i, z] = vt[i] / z.sum()
    died = (v0 > 0) & (vt == 0)
    for i in np.flatnonzero(died):
        z = xt[i] == 0
        out[i, z] = -v0[i] / z.sum()
    return out


def _pair(x0: np.ndarray, xt: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray, float, float]:
    terms = _additive_terms(x0, xt)
    v0 = float(np.prod(x0, axis=1).sum())
    vt = float(np.prod(xt, axis=1).sum())
    add = terms.sum(axis=0)
    if method == "additive":
        return add, terms, v0, vt
    if v0 <= 0 or vt <= 0:
        raise ValidationError([Problem("", None, None,
                                       "multiplicative LMDI needs a positive aggregate in both years")])
    return np.exp(add / float(logmean(vt, v0))), terms, v0, vt


def _frame(df: pd.DataFrame, factors: Sequence[str], sector: str | None) -> dict[int, pd.DataFrame]:
    problems = []
    file = str(df["__file__"].iloc[0]) if "__file__" in df.columns and len(df) else ""
    for col in ("year", *factors):
        if col not in df.columns:
            problems.append(Problem(file, None, col, "column is missing"))
    if problems:
        raise ValidationError(problems)
    for col in factors:
        vals = pd.to_numeric(df[col], errors="coerce")
        for idx in np.flatnonzero(vals.isna().to_numpy() | (vals.to_numpy() < 0)):
            row = df["__row__"].iloc[idx] if "__row__" in df.columns else int(idx) + 2
            problems.append(Problem(file, int(row), col,
                                    f"'{df[col].iloc[idx]}' is not a non-negative number (LMDI needs x ≥ 0)"))
    if problems:
        raise ValidationError(problems)
    work = df.copy()
    work["year"] = pd.to_numeric(work["year"], errors="coerce").astype("Int64")
    key = sector if sector and sector in work.columns else None
    if key and work.duplicated(["year", key]).any():
        raise ValidationError([Problem(file, None, key, "duplicate (year, sector) rows")])
    if not key and work.duplicated(["year"]).any():
        raise ValidationError([Problem(file, None, "year", "duplicate years (add a sector column?)")])
    out = {}
    for y, g in work.groupby("year"):
        g = g.set_index(key) if key else g.assign(_s="all").set_index("_s")
        out[int(y)] = g[list(factors)].astype(float)
    return out


def decompose(
    df: pd.DataFrame,
    factors: Sequence[str],
    year_from: int,
    year_to: int,
    *,
    method: str = "additive",
    chained: bool = False,
    sector: str | None = "sector",
) -> Decomposition:
    """LMDI-I decomposition of Σ_sector Π_k factor_k between two years.

    ``df`` has a ``year`` column, optionally a ``sector`` column, and one column per factor.
    Sectors present in one year only are taken as all-zero in the other (the zero rules apply).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    if not factors:
        raise ValidationError([Problem("", None, None, "no factor columns")])
    by_year = _frame(df, factors, sector)
    for y in (year_from, year_to):
        if y not in by_year:
            raise ValidationError([Problem("", None, "year", f"year {y} not in the data ({sorted(by_year)})")])
    if year_from == year_to:
        raise ValidationError([Problem("", None, "year", "--from and --to must differ")])
    lo, hi = sorted((year_from, year_to))
    path = [y for y in sorted(by_year) if lo <= y <= hi] if chained else [lo, hi]
    if year_from > year_to:
        path = path[::-1]
    sectors = sorted(set().union(*(set(by_year[y].index) for y in path)), key=str)
    f = list(factors)

    def arr(y: int) -> np.ndarray:
        return by_year[y].reindex(sectors).fillna(0.0).to_numpy(dtype=float)

    steps = []
    total_add = np.zeros(len(f))
    total_mul = np.ones(len(f))
    total_terms = np.zeros((len(sectors), len(f)))
    v_first = v_last = 0.0
    for a, b in itertools.pairwise(path):
        eff, terms, v0, vt = _pair(arr(a), arr(b), method)
        if a == path[0]:
            v_first = v0
        v_last = vt
        total_terms += terms
        if method == "additive":
            total_add += eff
        else:
            total_mul *= eff
        steps.append({"year_from": a, "year_to": b, "effects": dict(zip(f, map(float, eff), strict=True))})
    effects = dict(zip(f, map(float, total_add if method == "additive" else total_mul), strict=True))
    by_sector = {}
    if method == "additive" and len(sectors) > 1:
        by_sector = {str(s): dict(zip(f, map(float, total_terms[i]), strict=True))
                     for i, s in enumerate(sectors)}
    return Decomposition(
        method=method, year_from=year_from, year_to=year_to, factors=f, v_from=v_first, v_to=v_last,
        effects=effects, by_sector=by_sector, chained=chained, steps=steps if chained else [],
    )


def factor_columns(df: pd.DataFrame, sector: str = "sector") -> list[str]:
    """The factor columns of an identity table: every column but year, sector and bookkeeping."""
    skip = {"year", sector, "__row__", "__file__", "note", "source", "status", "unit"}
    return [c for c in df.columns if c not in skip and not str(c).startswith("__")]
