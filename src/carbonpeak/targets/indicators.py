"""Computed indicators: emissions and intensities from the inventory, constant-price GDP, non-fossil share.

Everything here is a pure function of typed frames (observations from
:mod:`carbonpeak.model.observation`, inventory results from :mod:`carbonpeak.accounting.engine`).
The output is one long frame with the observation columns plus ``computed`` (bool) and
``inputs`` (what it was computed from).  Formulas: docs/methods/targets.md §2.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from carbonpeak.catalog.categories import sector_of
from carbonpeak.catalog.targets import load_indicators
from carbonpeak.catalog.units import convert, parse_unit, ureg

COLUMNS = ("indicator", "region", "year", "value", "unit", "source", "status", "note", "computed", "inputs")

#: Weakest-first order used to give a computed value the status of its weakest input.
_STRENGTH = {"verified": 0, "derived": 1, "consistent": 1, "": 2, "unverified": 2, "estimate": 3, "synthetic": 4}


def combine_status(statuses: Iterable[str]) -> str:
    """Status of a value computed from inputs: ``derived`` if all inputs are verified, derived or
    consistent; otherwise the weakest input's status (unverified < estimate < synthetic)."""
    worst = max((_STRENGTH.get(s or "", 2) for s in statuses), default=0)
    return {0: "derived", 1: "derived", 2: "unverified", 3: "estimate", 4: "synthetic"}[worst]


def _row(ind: str, region: str, year: int, value: float, source: str, status: str, inputs: str,
         note: str = "") -> dict[str, object]:
    return {"indicator": ind, "region": region, "year": int(year), "value": float(value),
            "unit": load_indicators()[ind].unit, "source": source, "status": status, "note": note,
            "computed": True, "inputs": inputs}


_STATUS_WORD = r"^\s*(verified|derived|consistent|unverified|estimate|synthetic)\b"


def activity_status(activity: pd.DataFrame | None) -> dict[tuple[int, str], str]:
    """(year, region) → status of the activity data behind the inventory: the weakest status word
    that starts a row's ``note`` (``estimate — …``); rows without one do not lower it."""
    if activity is None or len(activity) == 0 or "note" not in activity.columns:
        return {}
    words = activity["note"].fillna("").astype(str).str.extract(_STATUS_WORD, expand=False)
    df = pd.DataFrame({"year": activity["year"].astype(int), "region": activity["region"].astype(str), "w": words})
    df = df.dropna(subset=["w"])
    return {(int(y), str(r)): combine_status(g["w"]) for (y, r), g in df.groupby(["year", "region"])}


def emissions_from_inventory(results: pd.DataFrame, *, include_imported_electricity: bool = False,
                             statuses: dict[tuple[int, str], str] | None = None) -> pd.DataFrame:
    """``co2_emissions`` and ``ghg_emissions`` (万t) per year and region from inventory results.

    CO2: gas CO2, territorial scope, every sector except LULUCF (energy + IPPU + the CO2 of
    agriculture and waste).  With ``include_imported_electricity`` the memo CO2 of net imported
    electricity is added (the "consumption" view used by some provincial intensity assessments).
    GHG: ``co2e_t`` of all territorial rows except LULUCF.
    """
    if results is None or len(results) == 0:
        return pd.DataFrame(columns=list(COLUMNS))
    r = results
    sectors = r["category"].map({c: sector_of(c) for c in r["category"].unique()})
    not_lulucf = sectors != "lulucf"
    terr = (r["scope"] == "territorial") & not_lulucf
    co2_mask = terr & (r["gas"] == "CO2")
    if include_imported_electricity:
        co2_mask |= (r["scope"] == "memo_imported_electricity") & (r["gas"] == "CO2")
    rows: list[dict[str, object]] = []
    src = "carbonpeak inventory (accounting.engine) compiled from the activity data"
    co2 = r[co2_mask].groupby(["year", "region"])["mass_t"].sum()
    ghg = r[terr].groupby(["year", "region"])["co2e_t"].sum()
    for (y, reg), v in co2.items():
        rows.append(_row("co2_emissions", str(reg), int(y), convert(float(v), "t", "万t"), src,
                         (statuses or {}).get((int(y), str(reg)), "derived"),
                         "inventory CO2 (territorial" + (" + imported electricity" if include_imported_electricity else "")
                         + ", excl. LULUCF)"))
    for (y, reg), v in ghg.items():
        rows.append(_row("ghg_emissions", str(reg), int(y), convert(float(v), "t", "万t"), src,
                         (statuses or {}).get((int(y), str(reg)), "derived"),
                         "inventory CO2e (territorial, excl. LULUCF)"))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _factor(num_unit: str, den_unit: str | None, target: str, *, product: bool = False) -> float:
    """Multiplier taking num/den (or num*den with ``product``) to ``target``."""
    q = parse_unit(num_unit)
    if den_unit is not None:
        q = q * parse_unit(den_unit) if product else q / parse_unit(den_unit)
    return float((q / parse_unit(target)).to(ureg.dimensionless).magnitude)


def _lookup(df: pd.DataFrame) -> dict[tuple[str, str, int], pd.Series]:
    return {(r.indicator, r.region, int(r.year)): r for r in df.itertuples(index=False)}  # type: ignore[misc]


def constant_gdp(obs: pd.DataFrame, base_year: int) -> pd.DataFrame:
    """``gdp_constant`` at prices of ``base_year`` for each region with GDP in that year.

    GDP_b at current prices is chained with real growth rates g_s (%):
    forward GDP_y = GDP_b × Π_{b<s≤y}(1 + g_s/100), backward GDP_y = GDP_b / Π_{y<s≤b}(1 + g_s/100).
    A year is produced only when every growth rate on the chain is present.
    """
    rows: list[dict[str, object]] = []
    gdp = obs[obs["indicator"] == "gdp_current"]
    growth = obs[obs["indicator"] == "gdp_real_growth"]
    for region, g in gdp.groupby("region"):
        base = g[g["year"] == base_year]
        if base.empty:
            continue
        b = base.iloc[0]
        gr = {int(r.year): (float(r.value), str(r.status)) for r in growth[growth["region"] == region].itertuples()}
        rows.append(_row("gdp_constant", str(region), base_year, float(b["value"]), str(b["source"]),
                         combine_status([str(b["status"])]), f"gdp_current {base_year}",
                         note=f"base year {base_year}"))
        level, statuses = float(b["value"]), [str(b["status"])]
        y = base_year
        while y + 1 in gr:  # forward
            level *= 1 + gr[y + 1][0] / 100
            statuses.append(gr[y + 1][1])
            y += 1
            rows.append(_row("gdp_constant", str(region), y, level, f"gdp_current {base_year} × real growth",
                             combine_status(statuses), f"gdp_current {base_year}; gdp_real_growth {base_year + 1}-{y}",
                             note=f"{base_year} prices"))
        level, statuses = float(b["value"]), [str(b["status"])]
        y = base_year
        while y in gr:  # backward
            level /= 1 + gr[y][0] / 100
            statuses.append(gr[y][1])
            y -= 1
            rows.append(_row("gdp_constant", str(region), y, level, f"gdp_current {base_year} ÷ real growth",
                             combine_status(statuses), f"gdp_current {base_year}; gdp_real_growth {y + 1}-{base_year}",
                             note=f"{base_year} prices"))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _ratio(num: pd.DataFrame, den: pd.DataFrame, ind: str, num_unit: str, den_unit: str, scale_note: str) -> list[dict]:
    out = []
    target_unit = load_indicators()[ind].unit
    m = num.merge(den, on=["region", "year"], suffixes=("_n", "_d"))
    for r in m.itertuples(index=False):
        if not r.value_d:
            continue
        v = float(r.value_n) / float(r.value_d) * _factor(num_unit, den_unit, target_unit)
        out.append(_row(ind, r.region, int(r.year), v, f"{r.indicator_n} / {r.indicator_d}",
                        combine_status([r.status_n, r.status_d]), scale_note))
    return out


def compute_indicators(
    observations: pd.DataFrame,
    inventory_results: pd.DataFrame | None = None,
    *,
    base_year: int = 2020,
    include_imported_electricity: bool = False,
    activity: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Observations plus every indicator carbonpeak can compute from them and the inventory.

    Computed: ``co2_emissions``, ``ghg_emissions`` (inventory), ``gdp_constant`` (``base_year``
    prices), ``gdp_per_capita``, ``co2_intensity``, ``energy_intensity``,
    ``nonfossil_energy_consumption`` (coal-substitution method), ``nonfossil_share``,
    ``wind_solar_capacity``.  ``activity`` (the activity table) gives the emissions the status of
    their activity data (:func:`activity_status`).
    """
    obs = observations.copy()
    for c in COLUMNS:
        if c not in obs.columns:
            obs[c] = False if c == "computed" else ("" if c != "value" else np.nan)
    obs["computed"] = False
    obs["inputs"] = ""
    obs = obs[list(COLUMNS)]
    parts = [obs, emissions_from_inventory(inventory_results, include_imported_electricity=include_imported_electricity,
                                           statuses=activity_status(activity))
             if inventory_results is not None else pd.DataFrame(columns=list(COLUMNS))]
    parts.append(constant_gdp(obs, base_year))
    cur = pd.concat([p for p in parts if len(p)], ignore_index=True)

    def sel(ind: str) -> pd.DataFrame:
        return cur[cur["indicator"] == ind][["indicator", "region", "year", "value", "status"]]

    inds = load_indicators()
    new: list[dict] = []
    new += _ratio(sel("co2_emissions"), sel("gdp_constant"), "co2_intensity",
                  inds["co2_emissions"].unit, inds["gdp_constant"].unit, f"co2_emissions / gdp_constant ({base_year} prices)")
    new += _ratio(sel("energy_consumption"), sel("gdp_constant"), "energy_intensity",
                  inds["energy_consumption"].unit, inds["gdp_constant"].unit,
                  f"energy_consumption / gdp_constant ({base_year} prices)")
    new += _ratio(sel("gdp_current"), sel("population"), "gdp_per_capita",
                  inds["gdp_current"].unit, inds["population"].unit, "gdp_current / population")
    # wind + solar capacity
    w, s = sel("wind_capacity"), sel("solar_capacity")
    for r in w.merge(s, on=["region", "year"], suffixes=("_w", "_s")).itertuples(index=False):
        new.append(_row("wind_solar_capacity", r.region, int(r.year), float(r.value_w) + float(r.value_s),
                        "wind_capacity + solar_capacity", combine_status([r.status_w, r.status_s]),
                        "wind_capacity + solar_capacity"))
    # non-fossil energy (coal-substitution method) and share
    nf = _nonfossil_energy(cur)
    new += nf
    nf_df = pd.DataFrame(nf, columns=list(COLUMNS))[["indicator", "region", "year", "value", "status"]]
    new += _ratio(nf_df, sel("energy_consumption"), "nonfossil_share", inds["nonfossil_energy_consumption"].unit,
                  inds["energy_consumption"].unit, "nonfossil_energy_consumption / energy_consumption")
    out = pd.concat([cur, pd.DataFrame(new, columns=list(COLUMNS))], ignore_index=True)
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype(float)
    return out.sort_values(["indicator", "region", "year"], kind="stable").reset_index(drop=True)


_NONFOSSIL_GEN = ("power_generation_hydro", "power_generation_nuclear", "power_generation_wind", "power_generation_solar")


def _nonfossil_energy(cur: pd.DataFrame) -> list[dict]:
    """Primary electricity (hydro, nuclear, wind, solar; missing sources count as 0 only if at least
    hydro and nuclear are present) plus the non-fossil part of net imports, converted at the year's
    coal equivalent of electricity (NBS 发电煤耗计算法)."""
    out = []
    coef = cur[cur["indicator"] == "power_coal_equivalent"]
    idx = _lookup(cur)
    for r in coef.itertuples(index=False):
        region, year = r.region, int(r.year)
        gens = [idx.get((g, region, year)) for g in _NONFOSSIL_GEN]
        if gens[0] is None or gens[1] is None:
            continue
        total = sum(float(g.value) for g in gens if g is not None)
        statuses = [str(g.status) for g in gens if g is not None] + [str(r.status)]
        missing = [g for g, v in zip(_NONFOSSIL_GEN, gens, strict=True) if v is None]
        imp = idx.get(("electricity_net_import", region, year))
        share = idx.get(("electricity_import_nonfossil_share", region, year))
        note = ""
        if imp is not None and share is not None:
            total += float(imp.value) * float(share.value) / 100
            statuses += [str(imp.status), str(share.status)]
        else:
            note = "net imports not counted (no electricity_net_import or its non-fossil share)"
        if missing:
            note = (note + "; " if note else "") + "taken as 0: " + ", ".join(missing)
        ind_units = load_indicators()
        v = total * float(r.value) * _factor(ind_units["power_generation_hydro"].unit,
                                             ind_units["power_coal_equivalent"].unit,
                                             ind_units["nonfossil_energy_consumption"].unit, product=True)
        out.append(_row("nonfossil_energy_consumption", region, year, v,
                        "non-fossil electricity × power_coal_equivalent (coal-substitution method)",
                        combine_status(statuses) if not missing else combine_status([*statuses, "estimate"]),
                        "power_generation_{hydro,nuclear,wind,solar} + net imports × non-fossil share", note))
    return out
