"""The cap and the provincial peak plan (issue 11 §2; plan action 36:
做好控排企业碳排放配额分配方案与全省碳达峰工作的衔接).

Pure functions over frames the caller reads from the store / scenario runs (workflows/markets.py
wires them; mk-ledger):

* ``series_tco2(frame, ...)``            -- a year → tCO2 series from a projection or inventory frame
  (IAMC long rows of ``Emissions|CO2``, or any frame with ``year`` and ``value`` and a unit)
* ``cap_share(cap, province)``           -- share of the province's emissions under the cap, by year
* ``peak_consistency(cap, projection)``  -- does the cap path peak by the plan's peak year (2030, from
  the targets catalog), and the uncovered rest?
* ``surplus_deficit(positions, by)``     -- allocation − verified emissions by sector or city
* ``balance_value(frame, by)``           -- 平衡值: the intensity at which allocation equals emissions
* ``city_comparison(...)``               -- city shares of the cap against city dual-control shares

Conventions: every amount is tCO2 (inputs in other units are converted with pint); years are ints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from carbonpeak.catalog.targets import load_targets
from carbonpeak.errors import Problem, ValidationError
from carbonpeak.markets.units import magnitude, to_quantity

PEAK_TARGET = "peak_before_2030"   # plan 一(二): 2030年前实现碳达峰 (catalog/data/targets.yaml)


def plan_peak_year() -> int:
    """The plan's latest peak year, from the targets catalog (``peak_before_2030``: 2030)."""
    return int(load_targets().get(PEAK_TARGET).target_value)


def _unit_text(u: str) -> str:
    u = str(u).strip()
    for suffix in ("/yr", "/a", "/year", " per year"):
        if u.endswith(suffix):
            u = u[: -len(suffix)]
    return u.replace(" CO2", "").replace("CO2e", "CO2") or "tCO2"


def series_tco2(frame: pd.DataFrame, value: str = "value", unit: str | None = None,
                variable: str | None = "Emissions|CO2", filters: Mapping[str, object] | None = None) -> dict[int, float]:
    """A ``{year: tCO2}`` series from a frame with ``year`` and ``value`` columns.

    IAMC frames (``variable`` column) are filtered on ``variable``; ``filters`` selects e.g. a
    scenario or region.  The unit is ``unit`` or the frame's ``unit`` column (``Mt CO2/yr``, ``万t``...).
    Duplicate years are an error (filter first).
    """
    df = frame
    if variable is not None and "variable" in df.columns:
        df = df[df["variable"] == variable]
    for k, v in (filters or {}).items():
        df = df[df[k] == v]
    for c in ("year", value):
        if c not in df.columns:
            raise ValidationError([Problem("", None, c, "missing column")])
    if df["year"].duplicated().any():
        dup = sorted(set(df.loc[df["year"].duplicated(), "year"].astype(int)))
        raise ValidationError([Problem("", None, "year", f"several rows for year(s) {dup}; filter the frame")])
    out: dict[int, float] = {}
    for r in df.to_dict("records"):
        u = unit or (r.get("unit") if "unit" in df.columns else None) or "tCO2"
        q = to_quantity(float(r[value]), _unit_text(str(u)), f"{value} {r['year']}")
        out[int(r["year"])] = magnitude(q, "tCO2", f"{value} {r['year']}")
    return dict(sorted(out.items()))


def cap_share(cap: Mapping[int, float], province: Mapping[int, float]) -> pd.DataFrame:
    """``year, cap_t, province_t, share`` for the years in both series."""
    years = sorted(set(cap) & set(province))
    rows = [{"year": y, "cap_t": float(cap[y]), "province_t": float(province[y]),
             "share": float(cap[y]) / float(province[y]) if province[y] else float("nan")} for y in years]
    return pd.DataFrame(rows, columns=["year", "cap_t", "province_t", "share"])


def peak_year(series: Mapping[int, float]) -> tuple[int | None, bool]:
    """``(year of the maximum, peaked)`` -- peaked when the maximum is not the last year."""
    if not series:
        return None, False
    ys = sorted(series)
    top = max(ys, key=lambda y: (series[y], -y))
    return top, top != ys[-1]


@dataclass(frozen=True)
class PeakConsistency:
    cap_peak_year: int | None
    cap_peaked: bool
    projection_peak_year: int | None
    projection_peaked: bool
    uncovered_peak_year: int | None
    uncovered_peaked: bool
    consistent: bool
    reasons: tuple[str, ...]
    table: pd.DataFrame      # year, cap_t, projection_t, uncovered_t, share


def peak_consistency(cap: Mapping[int, float], projection: Mapping[int, float],
                     peak_by: int | None = None) -> PeakConsistency:
    """Is the cap path consistent with the province peaking before ``peak_by``?

    Consistent when (i) the cap path peaks no later than ``peak_by`` and does not rise afterwards,
    (ii) the cap never exceeds the projected provincial emissions, and (iii) the projection itself
    peaks no later than ``peak_by`` (otherwise the uncovered sectors carry the growth -- reported
    with their own peak year, ``projection − cap``).
    """
    if peak_by is None:
        peak_by = plan_peak_year()
    years = sorted(set(cap) & set(projection))
    if not years:
        raise ValidationError([Problem("", None, "year", "the cap and the projection share no year")])
    tab = pd.DataFrame({"year": years, "cap_t": [float(cap[y]) for y in years],
                        "projection_t": [float(projection[y]) for y in years]})
    tab["uncovered_t"] = tab["projection_t"] - tab["cap_t"]
    tab["share"] = tab["cap_t"] / tab["projection_t"]
    c_y, c_p = peak_year({y: float(cap[y]) for y in years})
    p_y, p_p = peak_year({y: float(projection[y]) for y in years})
    u = dict(zip(tab["year"], tab["uncovered_t"], strict=True))
    u_y, u_p = peak_year(u)
    reasons: list[str] = []
    if c_y is not None and c_y > peak_by:
        reasons.append(f"the cap peaks in {c_y}, after {peak_by}")
    after = [y for y in years if y >= peak_by]
    rises = [y for y, prev in zip(after[1:], after[:-1], strict=False) if cap[y] > cap[prev]]
    if rises:
        reasons.append(f"the cap rises after {peak_by} (in {', '.join(map(str, rises))})")
    over = [y for y in years if cap[y] > projection[y]]
    if over:
        reasons.append(f"the cap exceeds projected provincial emissions in {', '.join(map(str, over))}")
    if p_y is not None and p_y > peak_by:
        reasons.append(f"the projection peaks in {p_y}, after {peak_by}; uncovered emissions peak in {u_y}")
    return PeakConsistency(c_y, c_p, p_y, p_p, u_y, u_p, not reasons, tuple(reasons), tab)


POSITION_COLUMNS = ("enterprise_id", "year", "allocation_t", "emissions_t")


def surplus_deficit(positions: pd.DataFrame, by: Sequence[str] = ("sector",)) -> pd.DataFrame:
    """Allocation − verified emissions per group (positive = surplus).

    ``positions``: ``enterprise_id, year, allocation_t, emissions_t`` plus the ``by`` columns
    (``sector``, ``city``...).  Output: ``*by, year, entities, allocation_t, emissions_t, balance_t,
    ratio`` (allocation / emissions).
    """
    need = [*POSITION_COLUMNS, *by]
    miss = [c for c in need if c not in positions.columns]
    if miss:
        raise ValidationError([Problem("", None, c, "missing column") for c in miss])
    keys = [*by, "year"]
    g = positions.groupby(keys, dropna=False).agg(entities=("enterprise_id", "nunique"),
                                                  allocation_t=("allocation_t", "sum"),
                                                  emissions_t=("emissions_t", "sum")).reset_index()
    g["balance_t"] = g["allocation_t"] - g["emissions_t"]
    g["ratio"] = g["allocation_t"] / g["emissions_t"].where(g["emissions_t"] != 0)
    return g


def balance_value(frame: pd.DataFrame, by: str = "class") -> pd.DataFrame:
    """平衡值 per class: the benchmark at which the class's allocation equals its verified emissions.

    ``frame``: ``by, output, emissions_t`` and optional ``correction`` (the product of correction
    factors, default 1) and ``benchmark``.  ``balance = Σ E / Σ (output × correction)``; with a
    ``benchmark`` column the output also shows ``benchmark / balance − 1`` (negative = the
    benchmark is tighter than break-even: the class is short).
    """
    need = [by, "output", "emissions_t"]
    miss = [c for c in need if c not in frame.columns]
    if miss:
        raise ValidationError([Problem("", None, c, "missing column") for c in miss])
    f = frame.copy()
    f["_adj"] = f["output"] * (f["correction"].fillna(1.0) if "correction" in f.columns else 1.0)
    agg = {"emissions_t": ("emissions_t", "sum"), "adj_output": ("_adj", "sum")}
    if "benchmark" in f.columns:
        agg["benchmark"] = ("benchmark", "first")
    g = f.groupby(by).agg(**agg).reset_index()
    g["balance_value"] = g["emissions_t"] / g["adj_output"].where(g["adj_output"] != 0)
    if "benchmark" in g.columns:
        g["benchmark_vs_balance"] = g["benchmark"] / g["balance_value"] - 1
    return g


def city_comparison(allocation_by_city: Mapping[str, float], emissions_by_city: Mapping[str, float],
                    dual_control_share: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Each city's share of the cap against its share of provincial emissions (and its dual-control
    share when given, e.g. from the city decomposition of the targets).

    Columns: ``city, allocation_t, emissions_t, cap_share, emission_share, dual_control_share,
    gap_pp`` (cap share − reference share, percentage points; the reference is the dual-control
    share when given, else the emission share).
    """
    cities = sorted(set(allocation_by_city) | set(emissions_by_city) | set(dual_control_share or {}))
    ta = float(sum(allocation_by_city.values()))
    te = float(sum(emissions_by_city.values()))
    rows = []
    for c in cities:
        a = float(allocation_by_city.get(c, 0.0))
        e = float(emissions_by_city.get(c, 0.0))
        cs = a / ta if ta else float("nan")
        es = e / te if te else float("nan")
        ds = float(dual_control_share[c]) if dual_control_share and c in dual_control_share else float("nan")
        ref = ds if dual_control_share and c in dual_control_share else es
        rows.append({"city": c, "allocation_t": a, "emissions_t": e, "cap_share": cs, "emission_share": es,
                     "dual_control_share": ds, "gap_pp": (cs - ref) * 100})
    return pd.DataFrame(rows, columns=["city", "allocation_t", "emissions_t", "cap_share", "emission_share",
                                       "dual_control_share", "gap_pp"])
