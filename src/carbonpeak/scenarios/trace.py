"""Traceability of projections: input hash, parameter diff, breakdown by lever, energy balance.

* :func:`input_hash` — SHA-256 of everything a run depends on: the resolved parameters and
  uncertainty of the scenario, its horizon and the observed history.
* :func:`param_diff` — every parameter (and uncertain factor) whose resolved entry differs between
  two scenarios, with the file that defines it on each side.
* :func:`lever_breakdown` — the gap between two scenarios in a year's CO2 and in the peak value,
  split by parameter with **one-at-a-time replacement**: starting from scenario A, each parameter
  that differs is replaced by B's value alone and the change of the output is that lever's share;
  ``interaction`` = total gap − Σ shares (non-additivity; zero for a linear model).  Deterministic
  runs at nominal values.
* :func:`energy_balance` — supply, transformation and final use by fuel for one year (Mtce), like
  LEAP's Energy Balance view.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import numpy as np

from carbonpeak.scenarios.model import Inputs, Result, nominal_factors, prepare, simulate
from carbonpeak.scenarios.runs import peak_stats
from carbonpeak.scenarios.scenario import Scenario


def input_hash(scenario: Scenario, history: Any = None) -> str:
    """SHA-256 of the resolved scenario (parameters, uncertainty, horizon) and the observed history
    (``history``, default: the bundled observations)."""
    from carbonpeak.scenarios.model import _default_history

    hist = _default_history() if history is None else history
    doc = {
        "params": {k: {kk: vv for kk, vv in p.to_dict().items() if kk != "defined_in"}
                   for k, p in sorted(scenario.params.items())},
        "uncertainty": {k: {kk: vv for kk, vv in vars(u).items() if kk != "defined_in"}
                        for k, u in sorted(scenario.uncertainty.items())},
        "horizon": [scenario.start, scenario.end],
        "observed": {k: {str(y): v for y, v in sorted(d.items())} for k, d in sorted(hist.values.items())},
        "last_observed": hist.last_year,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    da, db = a.to_dict(), b.to_dict()
    da.pop("defined_in", None)
    db.pop("defined_in", None)
    return bool(da == db)


def param_diff(a: Scenario, b: Scenario) -> list[dict[str, Any]]:
    """Parameters and uncertain factors whose resolved entries differ between ``a`` and ``b``."""
    rows = []
    for name in sorted(set(a.params) | set(b.params)):
        pa, pb = a.params.get(name), b.params.get(name)
        if _same(pa, pb):
            continue

        def show(p: Any) -> str:
            if p is None:
                return "—"
            return str(p.value) if p.values is None else ", ".join(f"{y}: {v:g}" for y, v in p.values.items())

        rows.append({"parameter": name, "unit": (pa or pb).unit, a.name: show(pa), b.name: show(pb),
                     f"status_{a.name}": getattr(pa, "status", ""), f"status_{b.name}": getattr(pb, "status", ""),
                     f"defined_in_{a.name}": getattr(pa, "defined_in", ""),
                     f"defined_in_{b.name}": getattr(pb, "defined_in", "")})
    for name in sorted(set(a.uncertainty) | set(b.uncertainty)):
        ua, ub = a.uncertainty.get(name), b.uncertainty.get(name)
        va = {k: v for k, v in vars(ua).items() if k != "defined_in"} if ua else None
        vb = {k: v for k, v in vars(ub).items() if k != "defined_in"} if ub else None
        if va != vb:
            rows.append({"parameter": f"uncertainty.{name}", "unit": "", a.name: str(va), b.name: str(vb)})
    return rows


def _outputs(sc: Scenario, year: int) -> tuple[float, float, int]:
    inp = prepare(sc)
    res = simulate(inp, nominal_factors(sc))
    tot = res.total_co2_t
    j = int(np.searchsorted(res.years, year))
    pk = peak_stats(tot, res.years, last_observed=res.last_observed)
    return float(tot[0, j]), float(pk["peak_value"][0]), int(pk["peak_year"][0])


def lever_breakdown(a: Scenario, b: Scenario, year: int = 2030) -> dict[str, Any]:
    """Split the gap B − A in ``year``'s CO2 and in the peak value by parameter (one-at-a-time
    replacement from A; see the module docstring).  Uncertain factors stay at their nominal values."""
    y_a, pk_a, pky_a = _outputs(a, year)
    y_b, pk_b, pky_b = _outputs(b, year)
    names = [r["parameter"] for r in param_diff(a, b) if not r["parameter"].startswith("uncertainty.")]
    rows = []
    for name in names:
        if name not in b.params:
            continue
        sc = replace(a, params={**a.params, name: b.params[name]}, warnings=[])
        y1, pk1, _ = _outputs(sc, year)
        rows.append({"lever": name, f"co2_{year}_t": y1 - y_a, "peak_co2_t": pk1 - pk_a})
    rows.sort(key=lambda r: r[f"co2_{year}_t"])
    s_y = sum(r[f"co2_{year}_t"] for r in rows)
    s_p = sum(r["peak_co2_t"] for r in rows)
    return {
        "method": "one-at-a-time replacement from the first scenario (deterministic runs at nominal values); "
                  "interaction = total gap − sum of the levers' shares",
        "from": a.name, "to": b.name, "year": year,
        f"co2_{year}_t": {"from": y_a, "to": y_b, "gap": y_b - y_a, "interaction": (y_b - y_a) - s_y},
        "peak_co2_t": {"from": pk_a, "to": pk_b, "gap": pk_b - pk_a, "interaction": (pk_b - pk_a) - s_p,
                       "peak_year_from": pky_a, "peak_year_to": pky_b},
        "levers": rows,
    }


def energy_balance(inp: Inputs, res: Result, year: int, draw: int = 0) -> list[dict[str, Any]]:
    """Rows (section, item, fuel, Mtce, TWh) of one year's energy balance of one draw.

    Supply is primary energy (coal-substitution method for primary electricity, as the statistics
    count it); transformation lists the inputs to power and CHP plants and the electricity they,
    the import lines and the other sources supply; final use is by fuel (electricity at its
    calorific equivalent, 0.1229 kgce/kWh).
    """
    if year not in set(res.years.tolist()):
        raise KeyError(year)
    j = int(np.searchsorted(res.years, year))

    def v(a: np.ndarray) -> float:
        return float(a[draw, j])

    kwh = inp.scalars["energy.electricity_calorific_equivalent"]  # kgce/kWh = tce/MWh
    rows: list[dict[str, Any]] = []
    for fuel, arr in res.energy_tce.items():
        rows.append({"section": "supply", "item": "primary energy", "fuel": fuel, "mtce": v(arr) / 1e6, "twh": None})
    rows.append({"section": "supply", "item": "total primary energy", "fuel": "all",
                 "mtce": v(res.primary_energy_tce) / 1e6, "twh": None})
    for item, arr in res.transformation_tce.items():
        fuel = "gas" if item.endswith("gas") else "coal"
        rows.append({"section": "transformation", "item": f"input: {item}", "fuel": fuel, "mtce": -v(arr) / 1e6,
                     "twh": None})
    for src, arr in res.generation_mwh.items():
        rows.append({"section": "transformation", "item": f"electricity supplied: {src}", "fuel": "electricity",
                     "mtce": v(arr) * kwh / 1e6, "twh": v(arr) / 1e6})
    rows.append({"section": "transformation", "item": "wind and solar curtailed", "fuel": "electricity",
                 "mtce": None, "twh": v(res.curtailment_mwh) / 1e6})
    if res.demand_mwh is not None:
        fin_el = v(res.final_energy_tce["electricity"]) / kwh / 1e6
        rows.append({"section": "transformation", "item": "losses, own use and unallocated demand",
                     "fuel": "electricity", "mtce": None, "twh": v(res.demand_mwh) / 1e6 - fin_el})
    for fuel, arr in res.final_energy_tce.items():
        rows.append({"section": "final use", "item": "end-use sectors", "fuel": fuel, "mtce": v(arr) / 1e6,
                     "twh": v(arr) / kwh / 1e6 if fuel == "electricity" else None})
    rows.append({"section": "final use", "item": "non-energy use and other fossil (as oil)", "fuel": "oil",
                 "mtce": v(res.energy_tce["oil"] - res.final_energy_tce["oil"]) / 1e6, "twh": None})
    return rows
