"""Deterministic scenario runs: trajectories, peak, indicators and the comparison with targets.

Definitions (see ``docs/methods/scenarios.md``):

* **Peak year** = the year of maximum gross CO2 (energy + cement process) over the horizon; a
  maximum in the last year means "not peaked within the horizon" (``peaked = False``).
* **Peak before 2030** follows the plan's wording 2030年前碳达峰 = peak year ≤ 2030 (and peaked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from carbonpeak.scenarios.model import Inputs, Result, nominal_factors, prepare, simulate
from carbonpeak.scenarios.scenario import Scenario, load_target_catalog, target_value

PEAK_DEADLINE = 2030


def peak_stats(total: np.ndarray, years: np.ndarray, deadline: int = PEAK_DEADLINE,
               plateau: float = 0.0) -> dict[str, np.ndarray]:
    """Per draw: peak year, peak value, ``peaked`` (peak not in the last year), before-deadline flag.

    The peak year is the first year y with E_t ≤ E_y · (1 + plateau) for every later t; with
    ``plateau = 0`` that is the year of the maximum (the first one if tied).
    """
    if plateau < 0:
        raise ValueError("plateau must be >= 0")
    later_max = np.full(total.shape, -np.inf)
    if total.shape[1] > 1:
        later_max[:, :-1] = np.maximum.accumulate(total[:, ::-1], axis=1)[:, ::-1][:, 1:]
    ok = later_max <= total * (1.0 + plateau) + 1e-9 * np.abs(total)
    idx = np.argmax(ok, axis=1)
    peak_year = years[idx]
    peaked = idx < (len(years) - 1)
    return {
        "peak_year": peak_year,
        "peak_value": total[np.arange(total.shape[0]), idx],
        "peaked": peaked,
        "before_deadline": peaked & (peak_year <= deadline),
    }


def indicator(res: Result, inp: Inputs, name: str, year: int) -> np.ndarray:
    """Value of a checkable indicator in ``year`` for every draw (shares as fractions)."""
    if year not in set(res.years.tolist()):
        raise KeyError(year)
    j = int(np.searchsorted(res.years, year))
    if name == "nonfossil_share":
        return res.nonfossil_share[:, j]
    if name == "energy_intensity_change":
        return res.energy_intensity[:, j] / res.energy_intensity[:, 0] - 1.0
    if name == "co2_intensity_change":
        return res.co2_intensity[:, j] / res.co2_intensity[:, 0] - 1.0
    if name == "wind_solar_capacity":
        return res.capacity_gw["wind_onshore"][:, j] + res.capacity_gw["wind_offshore"][:, j] + \
            res.capacity_gw["solar"][:, j]
    if name == "imports_capacity":
        return res.capacity_gw["imports"][:, j]
    if name == "gas_power_capacity_added":
        return res.capacity_gw["gas"][:, j] - res.capacity_gw["gas"][:, 0]
    if name == "forest_stock":
        return res.forest_stock_m3[:, j] / 1e8
    raise KeyError(name)


_CATALOG_UNIT = {"%": 0.01, "万kW": 0.01, "year": 1.0, "1": 1.0, "亿m3": 1.0}
_OPS = {"at_least": ">=", "at_most": "<=", "about": "about"}


def resolve_checks(scenario: Scenario, catalog: Mapping[str, Mapping[str, Any]] | None = None,
                   ) -> list[dict[str, Any]]:
    """The scenario's target checks, with value and comparator from the target catalog when present."""
    cat = load_target_catalog() if catalog is None else catalog
    tol = about_tolerances()
    out = []
    for c in scenario.checks:
        c = dict(c)
        t = cat.get(str(c.get("id")))
        if t is not None:
            tv = target_value(t)
            scale = _CATALOG_UNIT.get(str(t.get("unit")))
            if tv is not None and scale is not None:
                c["year"], c["value"] = tv[0], tv[1] * scale
                c["op"] = _OPS.get(str(t.get("comparator")), c.get("op"))
                if c["op"] == "about":
                    share = str(t.get("unit")) == "%"
                    c["tolerance"] = tol["share"] * 0.01 if share else tol["level_rel"] * abs(c["value"])
                c["source"] = f"target catalog '{c['id']}'"
                c["status"] = t.get("status", c.get("status"))
        out.append(c)
    return out


def about_tolerances() -> dict[str, float]:
    """Tolerances of "about" targets from the target catalog's ``defaults`` (share in pp, level relative)."""
    from carbonpeak.catalog.loader import load_yaml
    from carbonpeak.errors import CatalogError

    out = {"share": 1.0, "level_rel": 0.05}
    try:
        d = (load_yaml("targets.yaml") or {}).get("defaults", {}).get("about_tolerance", {})
    except (CatalogError, AttributeError):
        return out
    for k in out:
        if isinstance(d.get(k), (int, float)):
            out[k] = float(d[k])
    return out


def check_met(values: np.ndarray, check: Mapping[str, Any]) -> np.ndarray:
    """Boolean per draw: does the indicator meet the check?"""
    v, op = float(check["value"]), str(check.get("op", ">="))
    if op in (">=", "at_least"):
        return values >= v - 1e-12
    if op in ("<=", "at_most"):
        return values <= v + 1e-12
    if op == "about":  # "达到35%左右": reaching the band counts, exceeding it too (a floor, not a cap)
        return values >= v - float(check.get("tolerance", 0.01)) - 1e-12
    raise ValueError(f"unknown comparator {op}")


def evaluate_checks(res: Result, inp: Inputs, checks: list[dict[str, Any]],
                    peaks: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """Each check with the value(s) reached and the share of draws meeting it."""
    rows = []
    for c in checks:
        ind, year = str(c["indicator"]), int(c["year"])
        if ind == "peak_year":
            vals = np.where(peaks["peaked"], peaks["peak_year"], 10_000).astype(float)
        else:
            try:
                vals = indicator(res, inp, ind, year)
            except KeyError:
                continue
        met = check_met(vals, c)
        rows.append({
            "id": c.get("id"), "indicator": ind, "year": year, "op": c.get("op"), "target": c["value"],
            "value": float(np.median(vals)) if vals.size else None, "met": bool(met.mean() >= 0.5),
            "p_met": float(met.mean()), "source": c.get("source", ""), "status": c.get("status", ""),
        })
    return rows


def run_scenario(scenario: Scenario, end: int | None = None) -> dict[str, Any]:
    """One deterministic run (every uncertain factor at its nominal value) as a JSON-ready dict.

    Keys: ``scenario, chain, years, peak_year, peak_co2_t, peaked, trajectory`` (year → tCO2),
    ``co2_by_sector_t``, ``ghg_by_gas_t`` (tCO2e), ``land_sink_t``, ``primary_energy_tce`` by fuel,
    ``final_energy_tce`` by fuel, ``generation_mwh`` by source, ``curtailment_mwh``,
    ``nonfossil_share``, ``energy_intensity_tce_per_10k_yuan``, ``co2_intensity_t_per_10k_yuan``,
    ``gdp_yuan``, ``population``, ``targets`` (check rows).
    """
    inp = prepare(scenario, end=end)
    res = simulate(inp, nominal_factors(scenario))
    return result_dict(scenario, inp, res)


def _series(years: np.ndarray, arr: np.ndarray) -> dict[int, float]:
    return {int(y): float(v) for y, v in zip(years, arr[0], strict=True)}


def result_dict(scenario: Scenario, inp: Inputs, res: Result) -> dict[str, Any]:
    years = res.years
    total = res.total_co2_t
    pk = peak_stats(total, years)
    gas: dict[str, np.ndarray] = {"CO2": total}
    for key, arr in res.nonco2_t.items():
        g = key.split("|")[1]
        gas[g] = gas.get(g, 0) + arr
    return {
        "scenario": scenario.name,
        "chain": scenario.chain,
        "years": [int(y) for y in years],
        "peak_year": int(pk["peak_year"][0]),
        "peak_co2_t": float(pk["peak_value"][0]),
        "peaked": bool(pk["peaked"][0]),
        "peak_before_2030": bool(pk["before_deadline"][0]),
        "trajectory": _series(years, total),
        "co2_by_sector_t": {k: _series(years, v) for k, v in res.co2_t.items()},
        "ghg_by_gas_t": {k: _series(years, np.asarray(v)) for k, v in gas.items()},
        "land_sink_t": _series(years, res.land_sink_t),
        "primary_energy_tce": {k: _series(years, v) for k, v in res.energy_tce.items()},
        "final_energy_tce": {k: _series(years, v) for k, v in res.final_energy_tce.items()},
        "generation_mwh": {k: _series(years, v) for k, v in res.generation_mwh.items()},
        "curtailment_mwh": _series(years, res.curtailment_mwh),
        "nonfossil_share": _series(years, res.nonfossil_share),
        "energy_intensity_tce_per_10k_yuan": _series(years, res.energy_intensity),
        "co2_intensity_t_per_10k_yuan": _series(years, res.co2_intensity),
        "gdp_yuan": _series(years, res.gdp_yuan),
        "population": _series(years, res.population),
        "targets": evaluate_checks(res, inp, resolve_checks(scenario), pk),
    }


#: Units of the columns of :func:`kaya_table` (the ``.meta.yaml`` sidecar ``carbonpeak decompose`` reads).
KAYA_UNITS = {
    "population": "person",
    "gdp_per_capita": "yuan/person",
    "energy_intensity": "kgce/yuan",
    "fossil_share": "1",
    "co2_per_fossil_energy": "tCO2/tce",
}


def kaya_table(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Kaya identity of a run, one row per year, ready for LMDI (``carbonpeak decompose``).

    CO2 = population × GDP/population × primary energy/GDP × fossil energy/primary energy ×
    CO2/fossil energy, with gross CO2 (energy + process) and primary energy by the
    coal-substitution method; units in :data:`KAYA_UNITS` (GDP at 2020 prices).
    """
    rows = []
    pe = run["primary_energy_tce"]
    for y in run["years"]:
        total = sum(pe[f][y] for f in pe)
        fossil = total - pe["nonfossil"][y]
        rows.append({
            "year": int(y),
            "population": run["population"][y],
            "gdp_per_capita": run["gdp_yuan"][y] / run["population"][y],
            "energy_intensity": total * 1000.0 / run["gdp_yuan"][y],
            "fossil_share": fossil / total,
            "co2_per_fossil_energy": run["trajectory"][y] / fossil,
            "status": "synthetic",
            "source": f"carbonpeak scenario '{run['scenario']}' (model projection, not an observation)",
        })
    return rows
