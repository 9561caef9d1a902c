"""The provincial peak-projection model, vectorised over Monte Carlo draws.

Every quantity is an array shaped ``(draws, years)``; a deterministic run is one draw with every
uncertain factor at its nominal value.  The equations (documented with their sources in
``docs/methods/scenarios.md``):

* **Drivers.**  GDP_t = GDP_2020 · Π(1 + g_τ + Δg·[τ > lo]), population likewise.  Each end-use sector's
  activity index is ``(GDP_t/GDP_2020)^ε`` (``driver: gdp``) or
  ``(P_t/P_2020) · (GDPpc_t/GDPpc_2020)^ε`` (``driver: population``).
* **End-use energy** (LEAP activity analysis).  Service energy S = A · I · S_2020 with
  I_t = Π_{τ≤t}(1 + r_τ) · (1 − cut_t); electricity supplies the share x_t of the service,
  needing S·x/k (k = efficiency advantage of electric end use), fossil fuels the rest, split by
  the base-year coal/oil/gas shares (with an optional coal-to-gas shift).  ``intensity_cut``,
  ``electric_share_gain`` and ``coal_to_gas`` are changes from 2020 (0 in 2020).
  CO2 = Σ_fuel E_fuel · EF_fuel; cement adds process CO2 ∝ activity · (1 − clinker cut).
* **Observed years** (2020 to the last observed year ``lo``) are data: every path comes from the
  calibration (root of the chain) and the observations (:mod:`carbonpeak.scenarios.history`);
  levers and uncertain factors act only after ``lo``; end use of an overlay is joined to the
  calibration at ``lo``.
* **Power.**  Demand = (Σ electricity + other)/(1 − losses) (the reported consumption in observed
  years).  Representative-day dispatch (4 typical days × 24 h): must-run (nuclear, hydro, biomass,
  imports) and wind/solar first; coal's minimum output curtails the surplus; storage and demand
  response take the surplus and shave the evening peak (water-filling = the LP optimum); thermal
  energy by merit order: contracted gas, coal up to its maximum hours, gas beyond.  CHP heat coal is
  separate from power coal.  ``marginal=True`` also gives the grid's marginal CO2 per MWh.
* **Non-fossil share** by the statistics' rule (coal-substitution method): primary electricity
  (nuclear, hydro, wind, solar, biomass, and imports) is counted at the year's average coal
  consumption per kWh of thermal power supplied.

Uncertain factors (``FACTORS``) enter as ``(draws, 1)`` arrays and act after ``lo``: ``*_delivery``
factors scale the change of a lever from its value in ``lo`` (1 = as the scenario says),
``*_scale`` factors multiply, ``*_shift`` factors add.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from carbonpeak.catalog.units import convert
from carbonpeak.errors import CatalogError
from carbonpeak.i18n import Msg, declare
from carbonpeak.scenarios.dispatch import Dispatch, dispatch, load_profiles
from carbonpeak.scenarios.scenario import Param, Scenario

BASE_YEAR = 2020
FOSSILS = ("coal", "oil", "gas")
INDUSTRY = ("steel", "petrochem", "cement", "ceramics", "paper", "other")
BUILDINGS = ("public", "residential")
TRANSPORT = ("road_passenger", "road_freight", "rail", "water", "aviation")
END_USE = (
    *(f"industry.{s}" for s in INDUSTRY),
    *(f"buildings.{s}" for s in BUILDINGS),
    *(f"transport.{s}" for s in TRANSPORT),
    "agriculture",
)
POWER_SOURCES = (
    "nuclear", "hydro", "wind_onshore", "wind_offshore", "solar", "biomass", "imports", "gas", "coal",
)
#: Energy content of 1 kWh (calorific-equivalent method), GB/T 2589-2020 Appendix A: 0.1229 kgce/kWh.
KWH_TCE_CALORIFIC_PARAM = "energy.electricity_calorific_equivalent"

#: Uncertain factors: name → (how it acts, what it acts on).  Delivery factors scale the lever's
#: change from 2020; scale factors multiply; shift factors add to an annual growth rate.
FACTORS: dict[str, str] = {
    "gdp_growth_shift": "added to the annual GDP growth rate after the last observed year (1/a)",
    "population_growth_shift": "added to the annual population growth rate after the last observed year (1/a)",
    "industry_elasticity_scale": "multiplies the GDP elasticities of the industry sectors",
    "petrochem_output_scale": "multiplies the petrochemical activity growth (new capacity)",
    "electricity_demand_scale": "multiplies electricity-using growth of buildings/other industry (data centres)",
    "wind_solar_delivery": "delivery of the wind and solar capacity additions",
    "wind_cf_scale": "multiplies wind full-load hours",
    "solar_cf_scale": "multiplies solar full-load hours",
    "hydro_cf_scale": "multiplies hydro full-load hours (hydrology)",
    "nuclear_delivery": "delivery of the nuclear capacity additions",
    "imports_delivery": "delivery of the West-to-East transmission capacity additions",
    "imports_hours_scale": "multiplies the utilisation hours of the import lines",
    "gas_power_delivery": "delivery of the gas-fired capacity additions",
    "storage_delivery": "delivery of storage and demand-response additions",
    "coal_heat_rate_scale": "multiplies coal fuel use per kWh",
    "ev_delivery": "delivery of road-passenger electrification",
    "freight_delivery": "delivery of freight (road, water) electrification and intensity cuts",
    "buildings_delivery": "delivery of the building intensity cuts and electrification",
    "heavy_industry_delivery": "delivery of the steel/petrochemical/cement/ceramics/paper cuts",
    "industry_efficiency_delivery": "delivery of the other-industry intensity cut and electrification",
    "forest_sink_delivery": "delivery of the forest stock growth (land sink)",
}

_DELIVERY_OF_SECTOR = {
    "industry.steel": "heavy_industry_delivery",
    "industry.petrochem": "heavy_industry_delivery",
    "industry.cement": "heavy_industry_delivery",
    "industry.ceramics": "heavy_industry_delivery",
    "industry.paper": "heavy_industry_delivery",
    "industry.other": "industry_efficiency_delivery",
    "buildings.public": "buildings_delivery",
    "buildings.residential": "buildings_delivery",
    "transport.road_passenger": "ev_delivery",
    "transport.road_freight": "freight_delivery",
    "transport.water": "freight_delivery",
}

declare({
    "scenario.warn.base_level": {"name": str, "file": str, "value": float, "unit": str},
    "scenario.warn.observed_year": {"name": str, "year": int, "file": str, "value": float, "unit": str},
    "scenario.warn.capacity_floor": {"name": str, "year": int, "value": float, "floor": float, "last_year": int},
})


def _sector_params() -> dict[str, str]:
    spec: dict[str, str] = {}
    for s in END_USE:
        spec.update({
            f"{s}.coal": "Mtce", f"{s}.oil": "Mtce", f"{s}.gas": "Mtce", f"{s}.electricity": "TWh",
            f"{s}.driver": "text", f"{s}.elasticity": "1", f"{s}.intensity_change": "1/a",
            f"{s}.intensity_cut": "1", f"{s}.electric_share_gain": "1", f"{s}.electric_efficiency": "1",
            f"{s}.coal_to_gas": "1",
        })
    return spec


#: Every model parameter and the unit the model computes in (scenario values are converted).
PARAMETERS: dict[str, str] = {
    "macro.gdp": "亿元",
    "macro.gdp_growth": "1/a",
    "macro.population": "万人",
    "macro.population_growth": "1/a",
    **_sector_params(),
    "industry.cement.process_co2": "MtCO2",
    "industry.cement.clinker_cut": "1",
    "fuel.coal.ef": "tCO2/tce",
    "fuel.oil.ef": "tCO2/tce",
    "fuel.gas.ef": "tCO2/tce",
    KWH_TCE_CALORIFIC_PARAM: "kgce/kWh",
    "energy.fossil_other": "Mtce",
    "power.losses": "1",
    "power.other_demand": "TWh",
    **{f"power.{s}.capacity": "GW" for s in POWER_SOURCES},
    **{f"power.{s}.hours": "h" for s in POWER_SOURCES if s not in ("coal",)},
    "power.coal.min_hours": "h",
    "power.coal.max_hours": "h",
    "power.coal.fuel_rate": "kgce/kWh",
    "power.chp.heat_coal": "Mtce",
    "power.gas.fuel_rate": "kgce/kWh",
    "power.coal_substitution_rate": "kgce/kWh",
    "power.imports.clean_share": "1",
    "power.storage.capacity": "GW",
    "power.storage.hours": "h",
    "power.storage.efficiency": "1",
    "power.demand_response.peak_share": "1",
    "power.demand_response.hours": "h",
    "nonco2.agriculture.ch4": "kt",
    "nonco2.agriculture.n2o": "kt",
    "nonco2.waste.ch4": "kt",
    "nonco2.agriculture.growth": "1/a",
    "nonco2.waste.growth": "1/a",
    "land.forest_stock": "10^8 m3",
    "land.co2_per_m3": "t/m3",
}


def _is_scalar_param(name: str) -> bool:
    """Parameters the model uses as one number (a base-year level or a constant), not a path."""
    if name in (KWH_TCE_CALORIFIC_PARAM, "energy.fossil_other", "industry.cement.process_co2",
                "power.chp.heat_coal",
                "land.co2_per_m3", "macro.gdp", "macro.population") or name.startswith(("fuel.", "nonco2.")):
        return not name.endswith(".growth")
    return name.endswith((".elasticity", ".electric_efficiency", ".coal", ".oil", ".gas", ".electricity"))


@dataclass
class Inputs:
    """Scenario parameters converted to model units: scalars, text, or arrays over ``years``."""

    years: np.ndarray
    scalars: dict[str, float] = field(default_factory=dict)
    series: dict[str, np.ndarray] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    base: dict[str, float] = field(default_factory=dict)  # value at BASE_YEAR of each series
    provenance: dict[str, str] = field(default_factory=dict)
    #: Last observed year: years up to it are data, shared by every scenario and draw.
    last_observed: int = BASE_YEAR
    observed_demand_twh: np.ndarray | None = None   # electricity supplied, NaN in projection years
    calibration_end_use: Any = None                 # end use of the calibration (nominal), for the join
    profiles: Any = None                            # representative days (:class:`~carbonpeak.scenarios.dispatch.Profiles`)
    warnings: list[str] = field(default_factory=list)

    @property
    def lo_idx(self) -> int:
        return int(self.last_observed - self.years[0])

    @property
    def proj(self) -> np.ndarray:
        """True for projection years (after the last observed year)."""
        return self.years > self.last_observed


def interp_anchors(anchors: Mapping[int, float], years: np.ndarray) -> np.ndarray:
    """LEAP ``Interp``: linear between anchor years, flat before the first and after the last."""
    xs = np.array(sorted(anchors), dtype=float)
    ys = np.array([anchors[int(x)] for x in xs], dtype=float)
    return np.interp(years.astype(float), xs, ys)


#: Catalog items whose carbon content and oxidation give the model's fuel-group factors.
CATALOG_FUELS = {"coal": "raw_coal", "oil": "crude_oil", "gas": "natural_gas"}


def catalog_fuel_factors() -> dict[str, tuple[float, str]]:
    """tCO2/tce per fuel group from the catalog factor set (carbon content × oxidation × 44/12).

    Returns ``{}`` for the groups the catalog lacks (the scenario's own ``fuel.*.ef`` is then used).
    """
    from carbonpeak.catalog.factors import FactorSet
    from carbonpeak.catalog.fuel_co2 import fuel_co2_factor

    out: dict[str, tuple[float, str]] = {}
    try:
        fs = FactorSet.default()
    except Exception:  # a broken factor file must not stop projections; the scenario values apply
        return out
    for group, item in CATALOG_FUELS.items():
        try:
            ef, src = fuel_co2_factor(fs, item, "tce")
        except CatalogError:
            continue
        out[group] = (ef, f"catalog {item}: carbon_content × oxidation × 44/12 ({src})")
    return out


#: Capacities that may not fall below their last observed value (coal plant may retire).
FLOOR_CAPACITIES = tuple(f"power.{s}.capacity" for s in POWER_SOURCES if s != "coal")
#: Levers written as a change from 2020: a scenario contributes only the change it makes after the last
#: observed year (the part scheduled for 2021 to that year is in the observations, e.g. electricity use).
CHANGE_LEVERS = (".intensity_cut", ".electric_share_gain", ".coal_to_gas", ".clinker_cut")
#: Scalars that are levels of the calibration (base year): an overlay cannot change the observed years.
_CAL_SCALARS_KEEP_OWN = (".elasticity", ".electric_efficiency")


@lru_cache(maxsize=1)
def _default_history() -> Any:
    from carbonpeak.scenarios.history import load_history

    return load_history()


def _anchors(p: Param, unit: str) -> dict[int, float]:
    if p.values is not None:
        return {int(y): convert(v, p.unit, unit) for y, v in p.values.items()}
    return {BASE_YEAR: convert(float(p.value), p.unit, unit)}  # type: ignore[arg-type]


def _at(anchors: Mapping[int, float], year: int) -> float:
    return float(interp_anchors(anchors, np.array([year]))[0])


def prepare(scenario: Scenario, start: int | None = None, end: int | None = None,
            use_catalog_factors: bool = True, history: Any = None) -> Inputs:
    """Convert a scenario's parameters to model units over the horizon (raises if any is missing).

    Observed years (2020 to the last year of ``history``, default: the bundled observations) take
    every path from the calibration (the root of the inheritance chain) and from the observations;
    a scenario's anchors act only after the last observed year, starting from the calibration's
    value there.  Capacities other than coal and gas never fall below their last observed value.
    With ``use_catalog_factors`` the CO2 factors of coal, oil and gas come from the catalog factor
    set where it has them (``inputs.provenance`` says which were used).
    """
    from carbonpeak.scenarios.history import History

    start = BASE_YEAR if start is None else start
    end = scenario.end if end is None else end
    if start != BASE_YEAR:
        raise CatalogError(f"the model is calibrated to {BASE_YEAR}; horizon must start there")
    years = np.arange(start, end + 1)
    hist: History = _default_history() if history is None else history
    lo_year = BASE_YEAR if hist.last_year is None else int(min(max(hist.last_year, BASE_YEAR), end - 1))
    inp = Inputs(years=years, last_observed=lo_year, warnings=list(scenario.warnings))
    missing = [n for n in PARAMETERS if n not in scenario.params]
    if missing:
        raise CatalogError(f"scenario '{scenario.name}' lacks parameters: {', '.join(missing)}")
    cal = scenario.calibration or scenario.params
    for name, unit in PARAMETERS.items():
        p: Param = scenario.params[name]
        c: Param = cal.get(name, p)
        if unit == "text":
            inp.text[name] = str(p.value)
            continue
        if p.values is not None and _is_scalar_param(name):
            raise CatalogError(f"{p.defined_in}: parameter '{name}' takes one 'value', not year 'values'")
        if _is_scalar_param(name):
            own = convert(float(p.value), p.unit, unit)  # type: ignore[arg-type]
            v = own if name.endswith(_CAL_SCALARS_KEEP_OWN) else convert(float(c.value), c.unit, unit)  # type: ignore[arg-type]
            if v != own:
                inp.warnings.append(Msg("scenario.warn.base_level", name=name, file=Path(p.defined_in).name, value=float(v),
                                        unit=str(unit)))
            inp.scalars[name] = v
            inp.series[name] = np.full(years.shape, v)
            inp.base[name] = v
            continue
        ca, own_a = _anchors(c, unit), _anchors(p, unit)
        if p.values is None:  # a constant: from the first projection year on
            own_a = {lo_year + 1: own_a[BASE_YEAR]}
        anchors = {y: v for y, v in ca.items() if y <= lo_year}
        anchors[lo_year] = _at(ca, lo_year)
        if p is not c:
            for y, v in own_a.items():
                if y <= lo_year and abs(v - _at(ca, y)) > 1e-9 * max(1.0, abs(v)) and y != BASE_YEAR:
                    inp.warnings.append(Msg("scenario.warn.observed_year", name=name, year=int(y),
                                            file=Path(p.defined_in).name, value=float(v), unit=str(unit)))
        if name.endswith(CHANGE_LEVERS):  # increments after the last observed year
            own_lo = _at(own_a, lo_year)
            anchors.update({y: anchors[lo_year] + v - own_lo for y, v in own_a.items() if y > lo_year})
        else:                             # levels (capacities, hours, rates)
            anchors.update({y: v for y, v in own_a.items() if y > lo_year})
        inp.series[name] = interp_anchors(anchors, years)
        inp.base[name] = float(inp.series[name][0])
    _apply_history(inp, hist)
    for name in FLOOR_CAPACITIES:
        s = inp.series[name]
        floor = s[inp.lo_idx]
        low = inp.proj & (s < floor - 1e-9)
        if low.any():
            y = int(years[low][0])
            inp.warnings.append(Msg("scenario.warn.capacity_floor", name=name, year=y, value=float(s[low][0]),
                                    floor=float(floor), last_year=int(lo_year)))
            inp.series[name] = np.where(low, floor, s)
    for fu in FOSSILS:
        p = scenario.params[f"fuel.{fu}.ef"]
        inp.provenance[f"fuel.{fu}.ef"] = f"scenario {Path(p.defined_in).stem}: {p.source}"
    if use_catalog_factors:
        for fu, (ef, src) in catalog_fuel_factors().items():
            inp.scalars[f"fuel.{fu}.ef"] = ef
            inp.series[f"fuel.{fu}.ef"] = np.full(years.shape, ef)
            inp.base[f"fuel.{fu}.ef"] = ef
            inp.provenance[f"fuel.{fu}.ef"] = src
    inp.provenance.update({f"observed {k}": v for k, v in hist.sources.items()})
    inp.profiles = _profiles()
    if scenario.calibration and scenario.params != scenario.calibration:
        root = replace(scenario, name=scenario.chain[-1], params=dict(scenario.calibration), warnings=[])
        cin = prepare(root, start=start, end=end, use_catalog_factors=use_catalog_factors, history=hist)
        neutral = {k: np.full((1, 1), 0.0 if k.endswith("_shift") else 1.0) for k in FACTORS}
        inp.calibration_end_use = _end_use(cin, neutral, 1)
    return inp


@lru_cache(maxsize=1)
def _profiles() -> Any:
    return load_profiles()


def _apply_history(inp: Inputs, hist: Any) -> None:
    """Overwrite the observed years with the observations (GDP, population, capacities, hours, demand)."""
    years = inp.years
    S = inp.series
    obs_demand = np.full(years.shape, np.nan)
    for j, y in enumerate(years):
        y = int(y)
        if y > inp.last_observed:
            break
        g = hist.get("gdp_growth", y)
        if g is not None and y > BASE_YEAR:
            S["macro.gdp_growth"][j] = g
        p1, p0 = hist.get("population", y), hist.get("population", y - 1)
        if p1 is not None and p0 is not None and y > BASE_YEAR:
            S["macro.population_growth"][j] = p1 / p0 - 1.0
        for src in ("solar", "hydro", "nuclear"):
            cap = hist.get(f"cap.{src}", y)
            if cap is not None:
                S[f"power.{src}.capacity"][j] = cap
            gen = hist.get(f"gen.{src}", y)
            if gen is not None and S[f"power.{src}.capacity"][j] > 0:
                S[f"power.{src}.hours"][j] = gen / S[f"power.{src}.capacity"][j] * 1000.0
        th = hist.get("cap.thermal", y)
        rest = S["power.coal.capacity"][j] + S["power.biomass.capacity"][j]
        if th is not None and th > rest:  # coal and biomass from the calibration, gas the remainder
            S["power.gas.capacity"][j] = th - rest
        w = hist.get("cap.wind", y)
        if w is not None and w >= S["power.wind_offshore.capacity"][j]:
            S["power.wind_onshore.capacity"][j] = w - S["power.wind_offshore.capacity"][j]
        wg = hist.get("gen.wind", y)
        wc = S["power.wind_onshore.capacity"][j] + S["power.wind_offshore.capacity"][j]
        if wg is not None and wc > 0:
            S["power.wind_onshore.hours"][j] = S["power.wind_offshore.hours"][j] = wg / wc * 1000.0
        imp = hist.get("gen.imports", y)
        if imp is not None and S["power.imports.capacity"][j] > 0:
            S["power.imports.hours"][j] = imp / S["power.imports.capacity"][j] * 1000.0
        cs = hist.get("coal_substitution", y)
        if cs is not None:
            S["power.coal_substitution_rate"][j] = cs
        d = hist.get("demand_twh", y)
        if d is not None:
            obs_demand[j] = d
    inp.observed_demand_twh = obs_demand if np.isfinite(obs_demand).any() else None
    for name in S:
        inp.base[name] = float(S[name][0])


@dataclass
class Result:
    """Arrays shaped (draws, years); tonnes CO2 (or CO2e), tce, MWh as the names say."""

    years: np.ndarray
    co2_t: dict[str, np.ndarray]            # gross CO2 by sector (energy + process)
    nonco2_t: dict[str, np.ndarray]         # CO2e by "sector|gas"
    land_sink_t: np.ndarray                 # negative = removal
    energy_tce: dict[str, np.ndarray]       # primary energy by fuel (coal-substitution method)
    final_energy_tce: dict[str, np.ndarray]  # final energy by fuel (electricity calorific)
    generation_mwh: dict[str, np.ndarray]
    capacity_gw: dict[str, np.ndarray]
    forest_stock_m3: np.ndarray
    curtailment_mwh: np.ndarray
    gdp_yuan: np.ndarray
    population: np.ndarray
    last_observed: int = BASE_YEAR
    demand_mwh: np.ndarray | None = None
    heat_coal_tce: np.ndarray | None = None
    peak_net_gw: np.ndarray | None = None
    peak_thermal_gw: np.ndarray | None = None
    marginal_co2_t_per_mwh: np.ndarray | None = None
    #: Inputs to power and CHP plants (tce): ``power_coal``, ``power_gas``, ``chp_heat_coal``.
    transformation_tce: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def total_co2_t(self) -> np.ndarray:
        return sum(self.co2_t.values())  # type: ignore[return-value]

    @property
    def primary_energy_tce(self) -> np.ndarray:
        return sum(self.energy_tce.values())  # type: ignore[return-value]

    @property
    def nonfossil_share(self) -> np.ndarray:
        return self.energy_tce["nonfossil"] / self.primary_energy_tce

    @property
    def energy_intensity(self) -> np.ndarray:
        """tce per 10^4 yuan (2020 prices)."""
        return self.primary_energy_tce / (self.gdp_yuan / 1e4)

    @property
    def co2_intensity(self) -> np.ndarray:
        """tCO2 per 10^4 yuan (2020 prices)."""
        return self.total_co2_t / (self.gdp_yuan / 1e4)


def nominal_factors(scenario: Scenario) -> dict[str, float]:
    """Every factor of :data:`FACTORS` at the scenario's nominal value (1 or 0 when not given)."""
    out = {f: (0.0 if f.endswith("_shift") else 1.0) for f in FACTORS}
    for name, u in scenario.uncertainty.items():
        if name in out:
            out[name] = u.nominal()
    return out


def _col(x: np.ndarray | float, n: int) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return np.full((n, 1), float(a))
    return a.reshape(-1, 1)


def _lever(inp: Inputs, name: str, d: np.ndarray) -> np.ndarray:
    """Lever path with its change after the last observed year scaled by the delivery factor ``d``.

    Observed years keep the shared path; a projection year t gets v_lo + d·(v_t − v_lo), where
    v_lo is the value in the last observed year (so the path joins the data).
    """
    s = inp.series[name][None, :]
    base = s[:, inp.lo_idx:inp.lo_idx + 1]
    return np.where(inp.proj[None, :], base + d * (s - base), s)


def _join(cal: np.ndarray, scn: np.ndarray, lo: int) -> np.ndarray:
    """Observed years from ``cal``; projection years continue ``cal`` at ``lo`` with ``scn``'s growth."""
    c = np.broadcast_to(cal, np.broadcast_shapes(cal.shape, scn.shape))
    c_lo, s_lo = c[:, lo:lo + 1], scn[:, lo:lo + 1]
    ratio = np.where(np.abs(s_lo) > 1e-12, scn / np.where(np.abs(s_lo) > 1e-12, s_lo, 1.0), 1.0)
    cont = np.where(np.abs(s_lo) > 1e-12, c_lo * ratio, c_lo + scn - s_lo)
    idx = np.arange(scn.shape[1])[None, :]
    return np.where(idx <= lo, c, cont)


@dataclass
class _EndUse:
    co2: dict[str, np.ndarray]
    final: dict[str, np.ndarray]
    elec_twh: np.ndarray
    petrochem_act: np.ndarray
    heat_act: np.ndarray
    gdp_idx: np.ndarray
    pop_idx: np.ndarray


def _end_use(inp: Inputs, f: Mapping[str, np.ndarray], n: int) -> _EndUse:
    """Drivers and end-use sectors (uncertain factors act on projection years only)."""
    years = inp.years
    t = (years - BASE_YEAR)[None, :].astype(float)
    proj = inp.proj[None, :]
    lo = inp.lo_idx
    S, sc = inp.series, inp.scalars

    g = S["macro.gdp_growth"][None, :] + f["gdp_growth_shift"] * proj
    gp = S["macro.population_growth"][None, :] + f["population_growth_shift"] * proj
    g = np.where(t == 0, 0.0, g)
    gp = np.where(t == 0, 0.0, gp)
    gdp_idx = np.cumprod(1.0 + g, axis=1)
    pop_idx = np.cumprod(1.0 + gp, axis=1)
    gdppc_idx = gdp_idx / pop_idx

    ef = {fu: sc[f"fuel.{fu}.ef"] for fu in FOSSILS}
    kwh_tce = sc[KWH_TCE_CALORIFIC_PARAM] / 1000.0
    co2: dict[str, np.ndarray] = {}
    final = {fu: np.zeros((n, len(years))) for fu in (*FOSSILS, "electricity")}
    petrochem_act = np.ones((n, len(years)))
    heat_act = np.ones((n, len(years)))
    elec_twh = np.zeros((n, len(years)))

    def after_lo(base_path: np.ndarray, proj_path: np.ndarray) -> np.ndarray:
        return np.where(proj, proj_path, base_path)

    def lever(name: str, d: np.ndarray) -> np.ndarray:
        s = S[name][None, :]
        return np.where(proj, s[:, lo:lo + 1] + d * (s - s[:, lo:lo + 1]), s)

    for s in END_USE:
        eps = sc[f"{s}.elasticity"]
        driver = inp.text[f"{s}.driver"]
        if driver == "gdp":
            x_idx = gdp_idx
            act = gdp_idx ** eps
        elif driver == "population":
            x_idx = gdppc_idx
            act = pop_idx * gdppc_idx ** eps
        else:
            raise CatalogError(f"{s}.driver must be 'gdp' or 'population', not '{driver}'")
        if s.startswith("industry."):
            # after lo: A_t = A_lo · (X_t / X_lo)^(ε·s), s = industry_elasticity_scale
            scaled = act[:, lo:lo + 1] * (x_idx / x_idx[:, lo:lo + 1]) ** (eps * f["industry_elasticity_scale"])
            if driver == "population":
                scaled = scaled * pop_idx / pop_idx[:, lo:lo + 1]
            act = after_lo(act, scaled)
        if s == "industry.petrochem":
            a_lo = act[:, lo:lo + 1]
            act = after_lo(act, a_lo + (act - a_lo) * f["petrochem_output_scale"])
            petrochem_act = act * np.ones((n, 1))
        d = f[_DELIVERY_OF_SECTOR[s]] if s in _DELIVERY_OF_SECTOR else np.ones((n, 1))
        fos0 = {fu: inp.base[f"{s}.{fu}"] * 1e6 for fu in FOSSILS}  # tce
        el0_tce = inp.base[f"{s}.electricity"] * 1e9 * kwh_tce
        k = sc[f"{s}.electric_efficiency"]
        serv0 = sum(fos0.values()) + el0_tce * k
        rate = np.where(t == 0, 0.0, S[f"{s}.intensity_change"][None, :])
        cut = lever(f"{s}.intensity_cut", d)
        intensity = np.cumprod(1.0 + rate, axis=1) * (1.0 - cut)
        if s == "industry.other":
            heat_act = act * intensity * np.ones((n, 1))
        if serv0 <= 0:
            co2[s] = np.zeros((n, len(years)))
            continue
        x0 = el0_tce * k / serv0
        serv = serv0 * act * intensity
        x = np.clip(x0 + lever(f"{s}.electric_share_gain", d), 0.0, 1.0)
        el_tce = serv * x / k
        if s in ("buildings.public", "industry.other"):
            a_lo = act[:, lo:lo + 1]
            extra = 1.0 + (f["electricity_demand_scale"] - 1.0) * np.clip(act / a_lo - 1.0, 0.0, None)
            el_tce = el_tce * np.where(proj, extra, 1.0)
        fossil = serv * (1.0 - x)
        tot0 = sum(fos0.values())
        sh = {fu: (fos0[fu] / tot0 if tot0 > 0 else 0.0) for fu in FOSSILS}
        shift = np.clip(lever(f"{s}.coal_to_gas", d), 0.0, 1.0) * sh["coal"]
        shares = {"coal": sh["coal"] - shift, "oil": sh["oil"] + 0 * shift, "gas": sh["gas"] + shift}
        em = np.zeros((n, len(years)))
        for fu in FOSSILS:
            e = fossil * shares[fu] * np.ones((n, 1))
            final[fu] = final[fu] + e
            em = em + e * ef[fu]
        if s == "industry.cement":
            clinker = 1.0 - lever("industry.cement.clinker_cut", d)
            em = em + sc["industry.cement.process_co2"] * 1e6 * act * clinker
        co2[s] = em * np.ones((n, 1))
        final["electricity"] = final["electricity"] + el_tce
        elec_twh = elec_twh + el_tce / kwh_tce / 1e9
    return _EndUse(co2, final, elec_twh * np.ones((n, 1)), petrochem_act, heat_act,
                   gdp_idx * np.ones((n, 1)), pop_idx * np.ones((n, 1)))


def _power(inp: Inputs, f: Mapping[str, np.ndarray], n: int, demand: np.ndarray, heat_act: np.ndarray,
           ) -> dict[str, np.ndarray]:
    """Supply side of one set of draws: capacities, representative-day dispatch, fuel and CO2."""
    S, sc = inp.series, inp.scalars
    proj = inp.proj[None, :]
    ones = np.ones((n, 1))
    dmap = {"wind_onshore": "wind_solar_delivery", "wind_offshore": "wind_solar_delivery",
            "solar": "wind_solar_delivery", "nuclear": "nuclear_delivery",
            "imports": "imports_delivery", "gas": "gas_power_delivery"}
    cap = {src: (_lever(inp, f"power.{src}.capacity", f[dmap[src]]) if src in dmap
                 else S[f"power.{src}.capacity"][None, :] * ones) for src in POWER_SOURCES}
    scale = {"wind_onshore": "wind_cf_scale", "wind_offshore": "wind_cf_scale", "solar": "solar_cf_scale",
             "hydro": "hydro_cf_scale", "imports": "imports_hours_scale"}
    hours = {}
    for src in POWER_SOURCES:
        if src == "coal":
            continue
        h = S[f"power.{src}.hours"][None, :] * ones
        if src in scale:
            h = np.where(proj, h * f[scale[src]], h)
        hours[src] = h
    gen = {src: cap[src] * hours[src] / 1000.0 for src in hours}  # GW·h/1000 = TWh
    must = gen["nuclear"] + gen["hydro"] + gen["biomass"] + gen["imports"]
    wind = gen["wind_onshore"] + gen["wind_offshore"]
    storage = _lever(inp, "power.storage.capacity", f["storage_delivery"]) * ones
    dr = _lever(inp, "power.demand_response.peak_share", f["storage_delivery"]) * ones
    coal_min = cap["coal"] * S["power.coal.min_hours"][None, :] / 8760.0
    args = [np.broadcast_to(a, demand.shape) for a in (
        demand, must, gen["solar"], wind, coal_min, storage, S["power.storage.hours"][None, :] * ones,
        S["power.storage.efficiency"][None, :] * ones, dr, S["power.demand_response.hours"][None, :] * ones)]
    j = inp.lo_idx + 1
    if n > 1 and 0 < j < demand.shape[1]:
        # observed years are the same in every draw: dispatch them once
        d_obs = dispatch(inp.profiles, *(a[:1, :j] for a in args))
        d_proj = dispatch(inp.profiles, *(a[:, j:] for a in args))
        d = Dispatch(*(np.concatenate([np.repeat(getattr(d_obs, k), n, axis=0), getattr(d_proj, k)], axis=1)
                       for k in ("thermal_twh", "curtail_twh", "peak_net_gw", "peak_thermal_gw")))
    else:
        d = dispatch(inp.profiles, *args)
    vre = gen["solar"] + wind
    used = np.where(vre > 0, (vre - d.curtail_twh) / np.where(vre > 0, vre, 1.0), 1.0)
    for src in ("wind_onshore", "wind_offshore", "solar"):
        gen[src] = gen[src] * used
    gas_block = gen["gas"]
    gen["gas"] = np.minimum(d.thermal_twh, gas_block)
    coal = d.thermal_twh - gen["gas"]
    coal_max = cap["coal"] * S["power.coal.max_hours"][None, :] / 1000.0
    over = np.clip(coal - coal_max, 0.0, None)   # coal fleet at its limit: gas runs beyond its usual hours
    gen["coal"] = coal - over
    gen["gas"] = gen["gas"] + over
    heat_rate = np.where(proj, f["coal_heat_rate_scale"], 1.0)
    coal_fuel = gen["coal"] * 1e9 * S["power.coal.fuel_rate"][None, :] / 1000.0 * heat_rate
    gas_fuel = gen["gas"] * 1e9 * S["power.gas.fuel_rate"][None, :] / 1000.0
    heat_coal = sc["power.chp.heat_coal"] * 1e6 * heat_act
    ef_c, ef_g = sc["fuel.coal.ef"], sc["fuel.gas.ef"]
    return {
        **{f"gen.{k}": v for k, v in gen.items()}, **{f"cap.{k}": v for k, v in cap.items()},
        "storage": storage, "curtail": d.curtail_twh, "coal_fuel": coal_fuel, "gas_fuel": gas_fuel,
        "heat_coal": heat_coal, "co2_power": coal_fuel * ef_c + gas_fuel * ef_g, "co2_heat": heat_coal * ef_c,
        "peak_net_gw": d.peak_net_gw, "peak_thermal_gw": d.peak_thermal_gw, "vre_used": vre - d.curtail_twh,
        "demand": demand,
    }


def simulate(inp: Inputs, factors: Mapping[str, np.ndarray | float] | None = None,
             marginal: bool = False) -> Result:
    """Run the model for every draw of ``factors`` (each a scalar or a (draws,) array).

    Uncertain factors act on projection years only (after ``inp.last_observed``); the observed years
    come from the calibration and the observations, the same in every scenario and draw.  With
    ``marginal`` the grid's marginal CO2 per MWh of extra demand is computed as well (a second
    dispatch with 1 % more demand, spread like the load).
    """
    fac = {f: (0.0 if f.endswith("_shift") else 1.0) for f in FACTORS}
    fac.update(dict(factors or {}))
    unknown = set(fac) - set(FACTORS)
    if unknown:
        raise CatalogError(f"unknown uncertain factor(s): {', '.join(sorted(unknown))}")
    n = max(int(np.size(v)) for v in fac.values())
    f = {k: _col(v, n) for k, v in fac.items()}
    years = inp.years
    t = (years - BASE_YEAR)[None, :].astype(float)
    S, sc = inp.series, inp.scalars
    lo = inp.lo_idx
    eu = _end_use(inp, f, n)
    if inp.calibration_end_use is not None:
        c = inp.calibration_end_use
        eu = _EndUse(
            co2={k: _join(c.co2[k], v, lo) for k, v in eu.co2.items()},
            final={k: _join(c.final[k], v, lo) for k, v in eu.final.items()},
            elec_twh=_join(c.elec_twh, eu.elec_twh, lo), petrochem_act=_join(c.petrochem_act, eu.petrochem_act, lo),
            heat_act=_join(c.heat_act, eu.heat_act, lo), gdp_idx=_join(c.gdp_idx, eu.gdp_idx, lo),
            pop_idx=_join(c.pop_idx, eu.pop_idx, lo))
    co2 = dict(eu.co2)
    losses = S["power.losses"][None, :]
    obs = inp.observed_demand_twh
    if obs is not None and np.isfinite(obs[lo]):
        other_obs = np.where(np.isfinite(obs), obs, 0.0)[None, :] * (1.0 - losses) - eu.elec_twh
        other = np.where(np.isfinite(obs)[None, :], other_obs, other_obs[:, lo:lo + 1])
    else:
        other = S["power.other_demand"][None, :] * np.ones((n, 1))
    demand = (eu.elec_twh + other) / (1.0 - losses)
    pw = _power(inp, f, n, demand, eu.heat_act)
    mef = None
    if marginal:
        bump = 0.01 * demand
        pw2 = _power(inp, f, n, demand + bump, eu.heat_act)
        mef = (pw2["co2_power"] - pw["co2_power"]) / (bump * 1e6)  # tCO2 per MWh
    co2["power"] = pw["co2_power"]
    co2["heat_chp"] = pw["co2_heat"]
    gen = {k[4:]: v for k, v in pw.items() if k.startswith("gen.")}
    cap = {k[4:]: v for k, v in pw.items() if k.startswith("cap.")}

    subst = S["power.coal_substitution_rate"][None, :] / 1000.0 * 1e9  # tce per TWh
    clean = S["power.imports.clean_share"][None, :]
    nonfossil_twh = gen["nuclear"] + gen["hydro"] + gen["biomass"] + pw["vre_used"] + gen["imports"] * clean
    energy = {
        "coal": eu.final["coal"] + pw["coal_fuel"] + pw["heat_coal"],
        "oil": eu.final["oil"] + sc["energy.fossil_other"] * 1e6 * eu.petrochem_act,
        "gas": eu.final["gas"] + pw["gas_fuel"],
        "imported_fossil_electricity": gen["imports"] * (1.0 - clean) * subst,
        "nonfossil": nonfossil_twh * subst,
    }

    from carbonpeak.catalog.gwp import gwp

    gw_ch4, gw_n2o = gwp("CH4"), gwp("N2O")
    agr = (1.0 + S["nonco2.agriculture.growth"][None, :]) ** t
    wst = (1.0 + S["nonco2.waste.growth"][None, :]) ** t
    ones = np.ones((n, 1))
    nonco2 = {
        "agriculture|CH4": sc["nonco2.agriculture.ch4"] * 1e3 * gw_ch4 * agr * ones,
        "agriculture|N2O": sc["nonco2.agriculture.n2o"] * 1e3 * gw_n2o * agr * ones,
        "waste|CH4": sc["nonco2.waste.ch4"] * 1e3 * gw_ch4 * wst * ones,
    }
    stock = _lever(inp, "land.forest_stock", f["forest_sink_delivery"]) * 1e8 * ones  # m3
    incr = np.diff(stock, axis=1, prepend=stock[:, :1] - (stock[:, 1:2] - stock[:, :1]))
    sink = -np.clip(incr, 0.0, None) * sc["land.co2_per_m3"]

    gdp = inp.base["macro.gdp"] * 1e8 * eu.gdp_idx
    pop = inp.base["macro.population"] * 1e4 * eu.pop_idx
    return Result(
        years=years,
        co2_t=co2,
        nonco2_t=nonco2,
        land_sink_t=sink,
        energy_tce=energy,
        final_energy_tce=eu.final,
        generation_mwh={k: v * 1e6 for k, v in gen.items()},
        capacity_gw={**cap, "storage": pw["storage"]},
        forest_stock_m3=stock,
        curtailment_mwh=pw["curtail"] * 1e6,
        gdp_yuan=gdp * ones,
        population=pop * ones,
        last_observed=inp.last_observed,
        demand_mwh=demand * 1e6,
        heat_coal_tce=pw["heat_coal"],
        peak_net_gw=pw["peak_net_gw"],
        peak_thermal_gw=pw["peak_thermal_gw"],
        marginal_co2_t_per_mwh=mef,
        transformation_tce={"power_coal": pw["coal_fuel"], "power_gas": pw["gas_fuel"],
                            "chp_heat_coal": pw["heat_coal"]},
    )


def peak_year_index(total: np.ndarray) -> np.ndarray:
    """Index of the maximum of each row (the first one when tied)."""
    return np.argmax(total, axis=1)
