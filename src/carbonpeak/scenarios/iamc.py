"""IAMC long format (model, scenario, region, variable, unit, year, value): export and import.

Variables use the IAMC ``|`` hierarchy so that ``pyam.IamDataFrame.check_aggregate`` holds:
``Emissions|CO2`` is the sum of ``Emissions|CO2|<Sector>|<Subsector>``.  Units are pint-parsable
strings with ``/yr`` as IAMC writes them.  Reading accepts the long layout or the wide layout
(one column per year) that pyam writes with ``to_csv``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.catalog.gwp import gwp
from carbonpeak.catalog.units import convert
from carbonpeak.errors import Problem, ValidationError

IAMC_COLUMNS = ("model", "scenario", "region", "variable", "unit", "year", "value")
MODEL_NAME = "carbonpeak"
REGION = "CN-GD"

SECTOR_VARIABLES = {
    "power": "Emissions|CO2|Energy Supply|Electricity",
    "heat_chp": "Emissions|CO2|Energy Supply|Heat",
    "industry.steel": "Emissions|CO2|Industry|Steel",
    "industry.petrochem": "Emissions|CO2|Industry|Petrochemicals",
    "industry.cement": "Emissions|CO2|Industry|Cement",
    "industry.ceramics": "Emissions|CO2|Industry|Ceramics",
    "industry.paper": "Emissions|CO2|Industry|Paper",
    "industry.other": "Emissions|CO2|Industry|Other",
    "buildings.public": "Emissions|CO2|Buildings|Public",
    "buildings.residential": "Emissions|CO2|Buildings|Residential",
    "transport.road_passenger": "Emissions|CO2|Transport|Road Passenger",
    "transport.road_freight": "Emissions|CO2|Transport|Road Freight",
    "transport.rail": "Emissions|CO2|Transport|Rail",
    "transport.water": "Emissions|CO2|Transport|Water",
    "transport.aviation": "Emissions|CO2|Transport|Aviation",
    "agriculture": "Emissions|CO2|Agriculture",
}
FUEL_VARIABLES = {
    "coal": "Primary Energy|Coal",
    "oil": "Primary Energy|Oil",
    "gas": "Primary Energy|Gas",
    "imported_fossil_electricity": "Primary Energy|Electricity Imports|Fossil",
    "nonfossil": "Primary Energy|Non-Fossil",
}


def _label(src: str) -> str:
    return src.replace("_", " ").title().replace("Wind Onshore", "Wind|Onshore").replace(
        "Wind Offshore", "Wind|Offshore")


def run_to_iamc(run: Mapping[str, Any], model: str = MODEL_NAME, region: str = REGION) -> pd.DataFrame:
    """A deterministic run (:func:`carbonpeak.scenarios.runs.run_scenario`) as an IAMC long frame."""
    rows: list[tuple[str, str, float, dict[Any, float]]] = []

    def add(variable: str, unit: str, factor: float, series: Mapping[Any, float]) -> None:
        rows.append((variable, unit, factor, series))

    add("Emissions|CO2", "Mt CO2/yr", 1e-6, run["trajectory"])
    groups: dict[str, dict[Any, float]] = {}
    for sector, var in SECTOR_VARIABLES.items():
        if sector in run["co2_by_sector_t"]:
            add(var, "Mt CO2/yr", 1e-6, run["co2_by_sector_t"][sector])
            parent = "|".join(var.split("|")[:3])
            if parent != var:
                g = groups.setdefault(parent, {})
                for y, v in run["co2_by_sector_t"][sector].items():
                    g[y] = g.get(y, 0.0) + v
    for var, series in groups.items():  # intermediate levels, so that check_aggregate holds
        add(var, "Mt CO2/yr", 1e-6, series)
    for gas in ("CH4", "N2O"):
        if gas in run["ghg_by_gas_t"]:
            add(f"Emissions|{gas}", f"kt {gas}/yr", 1e-3 / gwp(gas), run["ghg_by_gas_t"][gas])
    add("Carbon Sequestration|Land Use", "Mt CO2/yr", -1e-6, run["land_sink_t"])
    ej_per_tce = convert(1.0, "tce", "EJ")
    total_pe: dict[Any, float] = {}
    for fuel, var in FUEL_VARIABLES.items():
        s = run["primary_energy_tce"][fuel]
        add(var, "EJ/yr", ej_per_tce, s)
        for y, v in s.items():
            total_pe[y] = total_pe.get(y, 0.0) + v
    add("Primary Energy", "EJ/yr", ej_per_tce, total_pe)
    total_gen: dict[Any, float] = {}
    for src, s in run["generation_mwh"].items():
        add(f"Secondary Energy|Electricity|{_label(src)}", "TWh/yr", 1e-6, s)
        for y, v in s.items():
            total_gen[y] = total_gen.get(y, 0.0) + v
    add("Secondary Energy|Electricity", "TWh/yr", 1e-6, total_gen)
    add("Share|Primary Energy|Non-Fossil", "%", 100.0, run["nonfossil_share"])
    add("GDP|MER", "billion CNY_2020/yr", 1e-9, run["gdp_yuan"])
    add("Population", "million", 1e-6, run["population"])
    out = []
    for variable, unit, factor, series in rows:
        for y, v in series.items():
            out.append((model, run["scenario"], region, variable, unit, int(y), float(v) * factor))
    return pd.DataFrame(out, columns=list(IAMC_COLUMNS))


def runs_to_iamc(runs: Iterable[Mapping[str, Any]], model: str = MODEL_NAME, region: str = REGION,
                 ) -> pd.DataFrame:
    """Several runs stacked into one IAMC frame."""
    frames = [run_to_iamc(r, model, region) for r in runs]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(IAMC_COLUMNS))


def read_iamc(df: pd.DataFrame, file: str = "") -> pd.DataFrame:
    """Validate a long or wide IAMC table (as read by :func:`carbonpeak.io.read_table`) into the long form.

    Raises :class:`ValidationError` naming file, row and field for every bad cell.
    """
    cols = {str(c).strip().lower(): c for c in df.columns}
    rowno = df["__row__"] if "__row__" in df.columns else pd.Series(np.arange(2, len(df) + 2), index=df.index)
    problems: list[Problem] = []
    for c in IAMC_COLUMNS[:5]:
        if c not in cols:
            problems.append(Problem(file, None, c, "required IAMC column is missing"))
    if problems:
        raise ValidationError(problems)
    base = pd.DataFrame({c: df[cols[c]].astype(str).str.strip() for c in IAMC_COLUMNS[:5]})
    base["__row__"] = rowno.to_numpy()
    if "year" in cols and "value" in cols:
        long = base.assign(year=df[cols["year"]].to_numpy(), value=df[cols["value"]].to_numpy())
    else:
        years = [c for c in df.columns if str(c).strip().isdigit()]
        if not years:
            raise ValidationError([Problem(file, None, "year", "no 'year'/'value' columns and no year columns")])
        parts = []
        for yc in years:
            parts.append(base.assign(year=int(str(yc).strip()), value=df[yc].to_numpy()))
        long = pd.concat(parts, ignore_index=True)
        long = long[long["value"].astype(str).str.strip() != ""]
    for c in IAMC_COLUMNS[:5]:
        for i in np.flatnonzero((long[c] == "") | (long[c] == "nan")):
            problems.append(Problem(file, int(long["__row__"].iloc[i]), c, "empty"))
    year = pd.to_numeric(long["year"], errors="coerce")
    value = pd.to_numeric(long["value"], errors="coerce")
    for i in np.flatnonzero(year.isna().to_numpy()):
        problems.append(Problem(file, int(long["__row__"].iloc[i]), "year", f"'{long['year'].iloc[i]}' is not a year"))
    for i in np.flatnonzero(value.isna().to_numpy()):
        problems.append(Problem(file, int(long["__row__"].iloc[i]), "value",
                                f"'{long['value'].iloc[i]}' is not a number"))
    if problems:
        raise ValidationError(problems)
    out = long.assign(year=year.astype(int), value=value.astype(float))
    dup = out.duplicated(list(IAMC_COLUMNS[:6]), keep=False)
    if dup.any():
        raise ValidationError([
            Problem(file, int(r), "variable", "duplicate (model, scenario, region, variable, unit, year)")
            for r in out.loc[dup, "__row__"]
        ])
    return out[list(IAMC_COLUMNS)].sort_values(list(IAMC_COLUMNS[:6])).reset_index(drop=True)


def summarise_iamc(long: pd.DataFrame, variable: str = "Emissions|CO2") -> pd.DataFrame:
    """Per (model, scenario, region): years, peak year and peak value of ``variable``."""
    sub = long[long["variable"] == variable]
    rows = []
    for (m, s, r), g in sub.groupby(["model", "scenario", "region"]):
        g = g.sort_values("year")
        i = int(np.argmax(g["value"].to_numpy()))
        rows.append({
            "model": m, "scenario": s, "region": r, "unit": g["unit"].iloc[0],
            "first_year": int(g["year"].iloc[0]), "last_year": int(g["year"].iloc[-1]),
            "peak_year": int(g["year"].iloc[i]), "peak_value": float(g["value"].iloc[i]),
            "peaked": bool(i < len(g) - 1),
            "variables": int(long[(long.model == m) & (long.scenario == s)]["variable"].nunique()),
        })
    return pd.DataFrame(rows)
