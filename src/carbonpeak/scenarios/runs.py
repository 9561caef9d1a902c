"""Deterministic scenario runs: trajectories, peak, indicators and the comparison with targets.

Definitions (see ``docs/methods/scenarios.md``):

* **Peak year** = the year of maximum gross CO2 (energy + cement process) over the horizon; a
  maximum in the last year means "not peaked within the horizon" (``peaked = False``).  Observed
  years are data: when the maximum lies in them (every projection year lower), the result says
  "already peaked in YEAR" (``already_peaked = True``); otherwise the peak is a projection year.
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
               plateau: float = 0.0, last_observed: int | None = None) -> dict[str, np.ndarray]:
    """Per draw: peak year, peak value, ``peaked`` (peak not in the last year), before-deadline flag,
    and ``already_peaked`` (the peak is an observed year, ≤ ``last_observed``).

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
    already = peak_year <= (last_observed if last_observed is not None else years[0] - 1)
    return {
        "peak_year": peak_year,
        "peak_value": total[np.arange(total.shape[0]), idx],
        "peaked": peaked,
        "before_deadline": peaked & (peak_year <= deadline),
        "already_peaked": already,
    }


def proportion_interval(k: int, n: int, z: float = 1.959964) -> dict[str, float]:
    """A Monte Carlo share k/n with its binomial standard error √(p(1−p)/n) and the Wilson (1927)
    score interval (95 % by default), which stays inside [0, 1] when p is near 0 or 1."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = k / n
    se = float(np.sqrt(p * (1.0 - p) / n))
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n)) / den
    return {"p": float(p), "se": se, "low": float(max(0.0, centre - half)), "high": float(min(1.0, centre + half)),
            "n": int(n)}


def peak_text(pk_year: int, already: bool, peaked: bool, last_year: int) -> str:
    """The words of a peak: "already peaked in 2024", "peak 2030", "not peaked by 2035"."""
    if already:
        return f"already peaked in {pk_year} (observed)"
    return f"peak {pk_year}" if peaked else f"not peaked by {last_year}"


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


def run_scenario(scenario: Scenario, end: int | None = None, history: Any = None, *, output: str = "dict") -> Any:
    """One deterministic run (every uncertain factor at its nominal value) as a JSON-ready dict.

    The dict is a :class:`~carbonpeak.scenarios.results.ScenarioRun` (readable repr, HTML in
    Jupyter, ``to_pandas()``, ``to_pyam()``); ``output="pandas"`` returns the IAMC long frame,
    ``output="pyam"`` a :class:`pyam.IamDataFrame`.

    Keys: ``scenario, chain, years, peak_year, peak_co2_t, peaked, trajectory`` (year → tCO2),
    ``co2_by_sector_t``, ``ghg_by_gas_t`` (tCO2e), ``land_sink_t``, ``primary_energy_tce`` by fuel,
    ``final_energy_tce`` by fuel, ``generation_mwh`` by source, ``curtailment_mwh``,
    ``nonfossil_share``, ``energy_intensity_tce_per_10k_yuan``, ``co2_intensity_t_per_10k_yuan``,
    ``gdp_yuan``, ``population``, ``targets`` (check rows).  ``history`` (a
    :class:`~carbonpeak.scenarios.history.History`, e.g. from the store's observations) replaces the
    bundled observations for the observed years.
    """
    from carbonpeak.scenarios.results import ScenarioRun, convert

    inp = prepare(scenario, end=end, history=history)
    res = simulate(inp, nominal_factors(scenario), marginal=True)
    return convert(ScenarioRun(result_dict(scenario, inp, res)), output)


def _series(years: np.ndarray, arr: np.ndarray) -> dict[int, float]:
    return {int(y): float(v) for y, v in zip(years, arr[0], strict=True)}


def result_dict(scenario: Scenario, inp: Inputs, res: Result) -> dict[str, Any]:
    years = res.years
    total = res.total_co2_t
    pk = peak_stats(total, years, last_observed=res.last_observed)
    gas: dict[str, np.ndarray] = {"CO2": total}
    for key, arr in res.nonco2_t.items():
        g = key.split("|")[1]
        gas[g] = gas.get(g, 0) + arr
    return {
        "scenario": scenario.name,
        "chain": scenario.chain,
        "kind": "deterministic: one path, every uncertain factor at its nominal value (see the Monte Carlo "
                "run for the median, interval and P(peak ≤ 2030))",
        "years": [int(y) for y in years],
        "last_observed_year": int(res.last_observed),
        "observed_years": [int(y) for y in years if y <= res.last_observed],
        "already_peaked": bool(pk["already_peaked"][0]),
        "peak_text": peak_text(int(pk["peak_year"][0]), bool(pk["already_peaked"][0]), bool(pk["peaked"][0]),
                               int(years[-1])),
        "warnings": list(inp.warnings),
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
        "electricity_demand_mwh": _series(years, res.demand_mwh) if res.demand_mwh is not None else {},
        "chp_heat_coal_tce": _series(years, res.heat_coal_tce) if res.heat_coal_tce is not None else {},
        "peak_net_load_gw": _series(years, res.peak_net_gw) if res.peak_net_gw is not None else {},
        "peak_thermal_gw": _series(years, res.peak_thermal_gw) if res.peak_thermal_gw is not None else {},
        "marginal_co2_t_per_mwh": (_series(years, res.marginal_co2_t_per_mwh)
                                   if res.marginal_co2_t_per_mwh is not None else {}),
        "electrification": electrification_check(inp, res),
        "targets": evaluate_checks(res, inp, resolve_checks(scenario), pk),
    }


def electrification_check(inp: Inputs, res: Result) -> list[dict[str, Any]]:
    """Does moving a sector's fossil service to electricity lower CO2 on this grid, year by year?

    One MWh of electricity replaces k·c MWh·tce of fossil service (k = the sector's
    ``electric_efficiency``, c = 0.1229 tce/MWh calorific): break-even grid intensity
    b = k · c · EF_fossil (tCO2/MWh), EF_fossil the CO2 per tce of the sector's base-year fossil mix.
    Electrification lowers CO2 in a year when the grid's marginal CO2 (merit order of the model's own
    fleet, :func:`simulate` with ``marginal``) is below b.
    """
    from carbonpeak.scenarios.model import END_USE, FOSSILS, KWH_TCE_CALORIFIC_PARAM

    mef = res.marginal_co2_t_per_mwh
    if mef is None:
        return []
    c = inp.scalars[KWH_TCE_CALORIFIC_PARAM]  # kgce/kWh = tce/MWh
    rows = []
    for s in END_USE:
        if not np.any(inp.series[f"{s}.electric_share_gain"]):
            continue
        fos = {fu: inp.base[f"{s}.{fu}"] for fu in FOSSILS}
        tot = sum(fos.values())
        if tot <= 0:
            continue
        ef = sum(fos[fu] / tot * inp.scalars[f"fuel.{fu}.ef"] for fu in FOSSILS)
        b = inp.scalars[f"{s}.electric_efficiency"] * c * ef
        lowers = {int(y): bool(m < b) for y, m in zip(res.years, mef[0], strict=True) if y > res.last_observed}
        rows.append({"sector": s, "break_even_t_per_mwh": float(b), "lowers_co2": lowers,
                     "note": ("lowers CO2 in every projection year" if all(lowers.values()) else
                              "raises CO2 while the marginal kWh comes from coal" if not any(lowers.values()) else
                              "lowers CO2 only in some years")})
    return rows


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
