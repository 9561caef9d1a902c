"""Dual control by region: emissions, carbon and energy intensity, city targets and the city ranking.

Pure functions over the long indicator frame of :func:`carbonpeak.targets.indicators.compute_indicators`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.catalog.regions import Region
from carbonpeak.catalog.targets import Target
from carbonpeak.targets.decompose import Decomposition
from carbonpeak.targets.progress import Rules, assess_target

STATUS_ORDER = {"achieved": 0, "on_track": 1, "at_risk": 2, "off_track": 3, "no_data": 4}


def series(ind: pd.DataFrame, indicator: str, region: str) -> dict[int, float]:
    """year → value of one indicator for one region."""
    sub = ind[(ind["indicator"] == indicator) & (ind["region"] == region)]
    return {int(y): float(v) for y, v in zip(sub["year"], sub["value"], strict=True)}


def _latest(s: dict[int, float], year: int) -> tuple[int | None, float | None]:
    ys = [y for y in s if y <= year]
    if not ys:
        return None, None
    y = max(ys)
    return y, s[y]


def coal_share_of_co2(results: pd.DataFrame, coal_items: set[str]) -> pd.DataFrame:
    """Share (%) of territorial CO2 from coal items, per year and region (the energy-structure index)."""
    r = results[(results["scope"] == "territorial") & (results["gas"] == "CO2")]
    tot = r.groupby(["year", "region"])["mass_t"].sum()
    coal = r[r["item"].isin(coal_items)].groupby(["year", "region"])["mass_t"].sum()
    share = (coal.reindex(tot.index, fill_value=0.0) / tot * 100).rename("value").reset_index()
    return share


def dual_control_table(ind: pd.DataFrame, regions: dict[str, Region], year: int, base_year: int) -> pd.DataFrame:
    """Per region: latest emissions, GDP and intensities up to ``year`` and the change of CO2 intensity
    since ``base_year``.  City intensities use GDP at current prices of the same year (no city
    deflators) — comparable across cities within a year, not over time."""
    rows: list[dict[str, Any]] = []
    for code, reg in regions.items():
        e = series(ind, "co2_emissions", code)
        ye, ve = _latest(e, year)
        gdp_c = series(ind, "gdp_constant", code)
        gdp_n = series(ind, "gdp_current", code)
        ci = series(ind, "co2_intensity", code)
        yi, vi = _latest(ci, year)
        basis = f"{base_year} prices"
        if vi is None and ye is not None and ye in gdp_n:
            yi, vi, basis = ye, ve / gdp_n[ye], f"{ye} current prices"  # 万t / 亿元 = t/万元
        en = series(ind, "energy_intensity", code)
        yen, ven = _latest(en, year)
        change = None
        if vi is not None and base_year in ci and yi in ci and yi != base_year:
            change = (ci[yi] / ci[base_year] - 1) * 100
        rows.append({
            "region": code, "name_zh": reg.name_zh, "name_en": reg.name_en, "level": reg.level,
            "group": reg.group, "tier": reg.tier,
            "co2_emissions_10kt": ve, "emissions_year": ye,
            "gdp_100m_yuan": gdp_c.get(ye) if ye in gdp_c else gdp_n.get(ye) if ye is not None else None,
            "co2_intensity_t_per_10k_yuan": vi, "intensity_year": yi, "intensity_basis": basis if vi is not None else "",
            "co2_intensity_change_pct": change,
            "energy_intensity_tce_per_10k_yuan": ven, "energy_intensity_year": yen,
        })
    return pd.DataFrame(rows)


def city_base(ind: pd.DataFrame, cities: list[Region], base_year: int,
              coal_share: pd.DataFrame | None = None) -> pd.DataFrame:
    """The decomposition input for ``base_year``: emissions, GDP (current prices of that year), and the
    index indicators (GDP per capita, CO2 intensity, coal share of CO2, secondary-industry share).
    Cities without emissions or GDP in the base year are left out (listed by the caller as gaps)."""
    rows = []
    for c in cities:
        e = series(ind, "co2_emissions", c.code).get(base_year)
        g = series(ind, "gdp_current", c.code).get(base_year)
        if e is None or g is None:
            continue
        pop = _latest(series(ind, "population", c.code), base_year + 1)[1]
        row: dict[str, Any] = {"region": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "tier": c.tier,
                               "group": c.group, "emissions": e, "gdp": g, "co2_intensity": e / g}
        if pop:
            row["gdp_per_capita"] = g / pop  # 亿元 / 万人 = 10^4 yuan per person
        sec = series(ind, "secondary_industry_share", c.code).get(base_year)
        if sec is not None:
            row["secondary_industry_share"] = sec
        if coal_share is not None:
            m = coal_share[(coal_share["region"] == c.code) & (coal_share["year"] == base_year)]
            if len(m):
                row["coal_share_of_co2"] = float(m["value"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def assess_cities(ind: pd.DataFrame, decomposition: Decomposition, provincial: Target, base_year: int,
                  year: int, rules: Rules | None = None) -> pd.DataFrame:
    """Status of every city against its decomposed intensity target, ranked (best first)."""
    rows = []
    tab = decomposition.table
    for r in tab.itertuples(index=False):
        t = replace(provincial, id=f"{provincial.id}:{r.region}", target_value=-float(r.reduction_pct),
                    baseline=replace(provincial.baseline, year=base_year, value=float(r.base_intensity))
                    if provincial.baseline is not None else None)
        s = series(ind, "co2_intensity", r.region)
        s.setdefault(base_year, float(r.base_intensity))
        p = assess_target(t, s, min(year, t.target_year), rules=rules)
        rows.append({"region": r.region, "name_zh": r.name_zh, "name_en": r.name_en, "tier": r.tier,
                     "group": r.group, "target_reduction_pct": float(r.reduction_pct),
                     "base_intensity": float(r.base_intensity), "target_intensity": float(r.target_intensity),
                     "status": p.status, "value": p.value, "value_year": p.value_year, "path": p.path,
                     "gap_to_path": p.gap_to_path, "reason": p.reason,
                     "reason_code": p.reason_code, "reason_args": p.reason_args,
                     "missed": p.status == "off_track" and (p.value_year or 0) >= t.target_year})
    df = pd.DataFrame(rows)
    if len(df) == 0:
        return df
    df["_o"] = df["status"].map(STATUS_ORDER)
    df["_g"] = df["gap_to_path"].astype(float).fillna(np.inf)
    df = df.sort_values(["_o", "_g", "region"], kind="stable").drop(columns=["_o", "_g"]).reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    return df
