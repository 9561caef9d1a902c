"""The provincial peak-projection model, vectorised over Monte Carlo draws.

Every quantity is an array shaped ``(draws, years)``; a deterministic run is one draw with every
uncertain factor at its nominal value.  The equations (documented with their sources in
``docs/methods/scenarios.md``):

* **Drivers.**  GDP_t = GDP_2020 · Π(1 + g_τ + Δg), population likewise.  Each end-use sector's
  activity index is ``(GDP_t/GDP_2020)^ε`` (``driver: gdp``) or
  ``(P_t/P_2020) · (GDPpc_t/GDPpc_2020)^ε`` (``driver: population``).
* **End-use energy** (LEAP activity analysis).  Service energy S = A · I · S_2020 with
  I_t = Π_{τ≤t}(1 + r_τ) · (1 − d·cut_t); electricity supplies the share x_t of the service,
  needing S·x/k (k = efficiency advantage of electric end use), fossil fuels the rest, split by
  the base-year coal/oil/gas shares (with an optional coal-to-gas shift).  ``intensity_cut``,
  ``electric_share_gain`` and ``coal_to_gas`` are changes from 2020 (0 in 2020).
  CO2 = Σ_fuel E_fuel · EF_fuel; cement adds process CO2 ∝ activity · (1 − clinker cut).
* **Power.**  Demand = Σ electricity / (1 − losses).  Dispatch order: nuclear, hydro, biomass,
  imports over the West-to-East lines (must-take), wind and solar, then gas at its planned
  utilisation, then coal as the balancing plant.  If must-run + wind + solar exceeds demand less
  the coal minimum, the surplus is shifted by storage and demand response up to their absorption
  limit; the rest is curtailed.
* **Non-fossil share** by the statistics' rule (coal-substitution method): primary electricity
  (nuclear, hydro, wind, solar, biomass, and imports) is counted at the year's average coal
  consumption per kWh of thermal power supplied.

Uncertain factors (``FACTORS``) enter as ``(draws, 1)`` arrays: ``*_delivery`` factors scale the
change of a lever from its 2020 value (1 = as the scenario says), ``*_scale`` factors multiply,
``*_shift`` factors add.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from carbonpeak.catalog.units import convert
from carbonpeak.errors import CatalogError
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
    "gdp_growth_shift": "added to the annual GDP growth rate from 2025 (1/a)",
    "population_growth_shift": "added to the annual population growth rate from 2025 (1/a)",
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
    "power.coal.fuel_rate": "kgce/kWh",
    "power.gas.fuel_rate": "kgce/kWh",
    "power.coal_substitution_rate": "kgce/kWh",
    "power.imports.clean_share": "1",
    "power.storage.capacity": "GW",
    "power.storage.shift_hours": "h",
    "power.demand_response.share": "1",
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

    out: dict[str, tuple[float, str]] = {}
    try:
        fs = FactorSet.default()
    except Exception:  # a broken factor file must not stop projections; the scenario values apply
        return out
    for group, item in CATALOG_FUELS.items():
        try:
            cc = fs.get(item, "carbon_content")
            ox = fs.get(item, "oxidation")
        except CatalogError:
            continue
        ef = cc.to("tC/tce") * ox.to("1") * 44.0 / 12.0
        out[group] = (ef, f"catalog {item}: carbon_content ({cc.source}) × oxidation ({ox.source}) × 44/12")
    return out


def prepare(scenario: Scenario, start: int | None = None, end: int | None = None,
            use_catalog_factors: bool = True) -> Inputs:
    """Convert a scenario's parameters to model units over the horizon (raises if any is missing).

    With ``use_catalog_factors`` the CO2 factors of coal, oil and gas come from the catalog factor
    set where it has them (``inputs.provenance`` says which were used).
    """
    start = BASE_YEAR if start is None else start
    end = scenario.end if end is None else end
    if start != BASE_YEAR:
        raise CatalogError(f"the model is calibrated to {BASE_YEAR}; horizon must start there")
    years = np.arange(start, end + 1)
    inp = Inputs(years=years)
    missing = [n for n in PARAMETERS if n not in scenario.params]
    if missing:
        raise CatalogError(f"scenario '{scenario.name}' lacks parameters: {', '.join(missing)}")
    for name, unit in PARAMETERS.items():
        p: Param = scenario.params[name]
        if unit == "text":
            inp.text[name] = str(p.value)
            continue
        if p.values is not None and _is_scalar_param(name):
            raise CatalogError(f"{p.defined_in}: parameter '{name}' takes one 'value', not year 'values'")
        if p.values is not None:
            anchors = {y: convert(v, p.unit, unit) for y, v in p.values.items()}
            inp.series[name] = interp_anchors(anchors, years)
            inp.base[name] = float(interp_anchors(anchors, np.array([BASE_YEAR]))[0])
        else:
            v = convert(float(p.value), p.unit, unit)  # type: ignore[arg-type]
            inp.scalars[name] = v
            inp.series[name] = np.full(years.shape, v)
            inp.base[name] = v
    for fu in FOSSILS:
        p = scenario.params[f"fuel.{fu}.ef"]
        inp.provenance[f"fuel.{fu}.ef"] = f"scenario {Path(p.defined_in).stem}: {p.source}"
    if use_catalog_factors:
        for fu, (ef, src) in catalog_fuel_factors().items():
            inp.scalars[f"fuel.{fu}.ef"] = ef
            inp.series[f"fuel.{fu}.ef"] = np.full(years.shape, ef)
            inp.base[f"fuel.{fu}.ef"] = ef
            inp.provenance[f"fuel.{fu}.ef"] = src
    return inp


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
    """Lever path with its change from 2020 scaled by the delivery factor ``d`` (draws, 1)."""
    base = inp.base[name]
    return base + d * (inp.series[name][None, :] - base)


def simulate(inp: Inputs, factors: Mapping[str, np.ndarray | float] | None = None) -> Result:
    """Run the model for every draw of ``factors`` (each a scalar or a (draws,) array)."""
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

    # --- drivers -------------------------------------------------------------------------------
    late = (years >= 2025)[None, :]
    g = S["macro.gdp_growth"][None, :] + f["gdp_growth_shift"] * late
    gp = S["macro.population_growth"][None, :] + f["population_growth_shift"] * late
    g = np.where(t == 0, 0.0, g)
    gp = np.where(t == 0, 0.0, gp)
    gdp_idx = np.cumprod(1.0 + g, axis=1)
    pop_idx = np.cumprod(1.0 + gp, axis=1)
    gdppc_idx = gdp_idx / pop_idx

    ef = {fu: sc[f"fuel.{fu}.ef"] for fu in FOSSILS}
    kwh_tce = sc[KWH_TCE_CALORIFIC_PARAM] / 1000.0  # tce per kWh → ×1e9 for TWh
    co2: dict[str, np.ndarray] = {}
    final = {fu: np.zeros((n, len(years))) for fu in (*FOSSILS, "electricity")}
    petrochem_act = np.ones((n, len(years)))
    elec_twh = np.zeros((n, len(years)))

    # --- end-use sectors -----------------------------------------------------------------------
    for s in END_USE:
        eps = sc[f"{s}.elasticity"]
        if s.startswith("industry."):
            eps = eps * f["industry_elasticity_scale"]
        driver = inp.text[f"{s}.driver"]
        if driver == "gdp":
            act = gdp_idx ** eps
        elif driver == "population":
            act = pop_idx * gdppc_idx ** eps
        else:
            raise CatalogError(f"{s}.driver must be 'gdp' or 'population', not '{driver}'")
        if s == "industry.petrochem":
            act = 1.0 + (act - 1.0) * f["petrochem_output_scale"]
            petrochem_act = act
        d = f[_DELIVERY_OF_SECTOR[s]] if s in _DELIVERY_OF_SECTOR else np.ones((n, 1))
        fos0 = {fu: inp.base[f"{s}.{fu}"] * 1e6 for fu in FOSSILS}  # tce
        el0_tce = inp.base[f"{s}.electricity"] * 1e9 * kwh_tce
        k = sc[f"{s}.electric_efficiency"]
        serv0 = sum(fos0.values()) + el0_tce * k
        if serv0 <= 0:
            co2[s] = np.zeros((n, len(years)))
            continue
        x0 = el0_tce * k / serv0
        rate = np.where(t == 0, 0.0, S[f"{s}.intensity_change"][None, :])
        cut = d * S[f"{s}.intensity_cut"][None, :]
        intensity = np.cumprod(1.0 + rate, axis=1) * (1.0 - cut)
        serv = serv0 * act * intensity
        if s in ("buildings.public", "industry.other"):
            serv_el_extra = f["electricity_demand_scale"]
        else:
            serv_el_extra = np.ones((n, 1))
        x = x0 + d * S[f"{s}.electric_share_gain"][None, :]
        x = np.clip(x, 0.0, 1.0)
        el_tce = serv * x / k * (1.0 + (serv_el_extra - 1.0) * np.clip(act - 1.0, 0.0, None))
        fossil = serv * (1.0 - x)
        tot0 = sum(fos0.values())
        sh = {fu: (fos0[fu] / tot0 if tot0 > 0 else 0.0) for fu in FOSSILS}
        shift = np.clip(S[f"{s}.coal_to_gas"][None, :] * d, 0.0, 1.0) * sh["coal"]
        shares = {"coal": sh["coal"] - shift, "oil": sh["oil"] + 0 * shift, "gas": sh["gas"] + shift}
        em = np.zeros((n, len(years)))
        for fu in FOSSILS:
            e = fossil * shares[fu]
            final[fu] += e
            em = em + e * ef[fu]
        if s == "industry.cement":
            clinker = 1.0 - d * S["industry.cement.clinker_cut"][None, :]
            em = em + sc["industry.cement.process_co2"] * 1e6 * act * clinker
        co2[s] = em
        final["electricity"] += el_tce
        elec_twh = elec_twh + el_tce / kwh_tce / 1e9

    # --- power -----------------------------------------------------------------------------------
    demand = (elec_twh + S["power.other_demand"][None, :]) / (1.0 - S["power.losses"][None, :])
    cap = {}
    for src in POWER_SOURCES:
        name = f"power.{src}.capacity"
        dmap = {"wind_onshore": "wind_solar_delivery", "wind_offshore": "wind_solar_delivery",
                "solar": "wind_solar_delivery", "nuclear": "nuclear_delivery",
                "imports": "imports_delivery", "gas": "gas_power_delivery"}
        cap[src] = _lever(inp, name, f[dmap[src]]) if src in dmap else S[name][None, :] * np.ones((n, 1))
    hours = {src: S[f"power.{src}.hours"][None, :] for src in POWER_SOURCES if src != "coal"}
    hours["wind_onshore"] = hours["wind_onshore"] * f["wind_cf_scale"]
    hours["wind_offshore"] = hours["wind_offshore"] * f["wind_cf_scale"]
    hours["solar"] = hours["solar"] * f["solar_cf_scale"]
    hours["hydro"] = hours["hydro"] * f["hydro_cf_scale"]
    hours["imports"] = hours["imports"] * f["imports_hours_scale"]
    gen = {src: cap[src] * hours[src] / 1000.0 for src in hours}  # GW·h/1000 = TWh
    must = gen["nuclear"] + gen["hydro"] + gen["biomass"] + gen["imports"]
    vre = gen["wind_onshore"] + gen["wind_offshore"] + gen["solar"]
    coal_min = cap["coal"] * S["power.coal.min_hours"][None, :] / 1000.0
    room = np.clip(demand - must - coal_min, 0.0, None)
    surplus = np.clip(vre - room, 0.0, None)
    storage = _lever(inp, "power.storage.capacity", f["storage_delivery"])
    absorb = storage * S["power.storage.shift_hours"][None, :] / 1000.0 + \
        demand * _lever(inp, "power.demand_response.share", f["storage_delivery"])
    curtail = np.clip(surplus - absorb, 0.0, None)
    vre_used = vre - curtail
    vre_scale = np.where(vre > 0, vre_used / np.where(vre > 0, vre, 1.0), 1.0)
    for src in ("wind_onshore", "wind_offshore", "solar"):
        gen[src] = gen[src] * vre_scale
    residual = np.clip(demand - must - vre_used, 0.0, None)
    gen["gas"] = np.minimum(residual, gen["gas"])
    gen["coal"] = residual - gen["gas"]
    coal_fuel = gen["coal"] * 1e9 * S["power.coal.fuel_rate"][None, :] / 1000.0 * f["coal_heat_rate_scale"]
    gas_fuel = gen["gas"] * 1e9 * S["power.gas.fuel_rate"][None, :] / 1000.0
    co2["power"] = coal_fuel * ef["coal"] + gas_fuel * ef["gas"]

    # --- primary energy, coal-substitution method -----------------------------------------------
    subst = S["power.coal_substitution_rate"][None, :] / 1000.0 * 1e9  # tce per TWh
    clean = S["power.imports.clean_share"][None, :]
    nonfossil_twh = gen["nuclear"] + gen["hydro"] + gen["biomass"] + vre_used + gen["imports"] * clean
    energy = {
        "coal": final["coal"] + coal_fuel,
        "oil": final["oil"] + sc["energy.fossil_other"] * 1e6 * petrochem_act,
        "gas": final["gas"] + gas_fuel,
        "imported_fossil_electricity": gen["imports"] * (1.0 - clean) * subst,
        "nonfossil": nonfossil_twh * subst,
    }

    # --- non-CO2 and land --------------------------------------------------------------------------
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
    stock = _lever(inp, "land.forest_stock", f["forest_sink_delivery"]) * 1e8  # m3
    incr = np.diff(stock, axis=1, prepend=stock[:, :1] - (stock[:, 1:2] - stock[:, :1]))
    sink = -np.clip(incr, 0.0, None) * sc["land.co2_per_m3"]

    gdp = inp.base["macro.gdp"] * 1e8 * gdp_idx
    pop = inp.base["macro.population"] * 1e4 * pop_idx
    return Result(
        years=years,
        co2_t=co2,
        nonco2_t=nonco2,
        land_sink_t=sink,
        energy_tce=energy,
        final_energy_tce=final,
        generation_mwh={k: v * 1e6 for k, v in gen.items()},
        capacity_gw={**cap, "storage": storage},
        forest_stock_m3=stock,
        curtailment_mwh=curtail * 1e6,
        gdp_yuan=gdp * ones,
        population=pop * ones,
    )


def peak_year_index(total: np.ndarray) -> np.ndarray:
    """Index of the maximum of each row (the first one when tied)."""
    return np.argmax(total, axis=1)
