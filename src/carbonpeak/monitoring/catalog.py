"""Reference data of the monitoring rules, loaded from ``catalog/data/monitoring/``.

Every threshold, limit and surcharge comes from a file there with its source and status; the
conversion coefficients (standard coal, CO2) come from the factor catalog
(:class:`~carbonpeak.catalog.factors.FactorSet`) and the grid factor of the year.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from carbonpeak.catalog.loader import load_csv, load_yaml
from carbonpeak.catalog.standard_coal import standard_coal_coefficient
from carbonpeak.catalog.units import conversion_factor
from carbonpeak.errors import CatalogError, UnitError


@dataclass(frozen=True)
class Threshold:
    key: str
    value: Any
    unit: str
    source: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class MonitoringCatalog:
    """Everything the rules need besides the data: thresholds, PUE limits, product limits, surcharges."""

    thresholds: dict[str, Threshold]
    pue_limits: list[dict[str, Any]]
    pue_grades: list[dict[str, Any]]
    product_limits: pd.DataFrame
    surcharges: pd.DataFrame
    kgce_per_kgoe: float
    kgoe_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def t(self, key: str) -> Any:
        try:
            return self.thresholds[key].value
        except KeyError as exc:
            raise CatalogError(f"monitoring threshold '{key}' is not defined") from exc

    def source(self, key: str) -> str:
        th = self.thresholds[key]
        return f"{th.source} [{th.status}]"


def load_catalog(
    threshold_overrides: Mapping[str, Any] | None = None, path: Path | None = None
) -> MonitoringCatalog:
    """The packaged monitoring catalog; ``threshold_overrides`` (key → value) win over the file."""
    base = (str(path) + "/") if path else "monitoring/"
    th_doc = load_yaml(base + "thresholds.yaml")["thresholds"]
    thresholds = {
        k: Threshold(k, v["value"], str(v.get("unit", "")), v["source"], v["status"], v.get("note", ""))
        for k, v in th_doc.items()
    }
    for k, v in (threshold_overrides or {}).items():
        if k not in thresholds:
            raise CatalogError(f"unknown monitoring threshold '{k}'; known: {', '.join(sorted(thresholds))}")
        old = thresholds[k]
        thresholds[k] = Threshold(k, v, old.unit, "user override", "estimate", f"default was {old.value}")
    pue = load_yaml(base + "pue.yaml")
    units = load_yaml(base + "units.yaml")["oil_equivalent"]
    limits = load_csv(base + "product_limits.csv")
    limits["value"] = limits["value"].astype(float)
    limits["decimals"] = pd.to_numeric(limits["decimals"], errors="raise").astype(int)
    for c, allowed in (("basis", ("comprehensive", "electricity", "electricity_site")),
                       ("electricity_basis", ("calorific", "substitution_prev"))):  # fmt: skip
        bad = sorted(set(limits[c]) - set(allowed))
        if bad:
            raise CatalogError(f"product_limits.csv: unknown {c} {bad}; allowed {', '.join(allowed)}")
    sur = load_csv(base + "electricity_surcharge.csv")
    for c in ("band_low", "band_high", "surcharge_yuan_per_kwh", "step_size", "step_yuan"):
        sur[c] = pd.to_numeric(sur[c].replace("", None), errors="raise")
    for c in ("year_from", "year_to"):
        sur[c] = pd.to_numeric(sur[c].replace("", None), errors="raise").astype("Int64")
    for c in ("low_inclusive", "high_inclusive", "exclusive"):
        sur[c] = sur[c].fillna("").astype(str).str.strip().str.lower().isin(("true", "1", "yes"))
    bad_round = sorted(set(sur["step_rounding"].fillna("").astype(str)) - {"", "ceil", "floor"})
    if bad_round:
        raise CatalogError(f"electricity_surcharge.csv: unknown step_rounding {bad_round}; use ceil or floor")
    return MonitoringCatalog(
        thresholds=thresholds,
        pue_limits=list(pue["pue_limits"]),
        pue_grades=sorted(pue["gb40879_grades"], key=lambda g: g["max_pue"]),
        product_limits=limits,
        surcharges=sur,
        kgce_per_kgoe=float(units["kgce_per_kgoe"]),
        kgoe_source=f"{units['source']} [{units['status']}]",
        extra={
            "gb40879_excluded_sizes": list(pue.get("gb40879_excluded_sizes", [])),
            "corrections": load_yaml(base + "corrections.yaml")["corrections"],
            "platform": load_yaml(base + "platform.yaml"),
        },
    )


def limit_unit_factor(cat: MonitoringCatalog, limit_unit: str, output_unit: str) -> float:
    """Multiplier taking ``kgce per output_unit`` (or ``kWh per …``) to the limit's unit.

    Handles ``kgoe`` (not in the unit registry) via the catalog's oil-equivalent factor.
    """
    return _limit_unit_factor(cat.kgce_per_kgoe, limit_unit, output_unit)


@lru_cache(maxsize=256)
def _limit_unit_factor(kgce_per_kgoe: float, limit_unit: str, output_unit: str) -> float:
    num, _, den = limit_unit.partition("/")
    scale = 1.0
    if num.strip() == "kgoe":
        scale = 1.0 / kgce_per_kgoe
        num = "kgce"
    base_num = "kWh" if num.strip() == "kWh" else "kgce"
    return scale * conversion_factor(f"{base_num}/({output_unit})", f"{num.strip()}/({den.strip()})")


# -- conversion coefficients -------------------------------------------------------------------
@dataclass(frozen=True)
class Coefficient:
    """Per meter unit: tonnes of standard coal and tonnes of CO2, with where they came from."""

    energy_type: str
    unit: str
    year: int
    tce_per_unit: float
    co2_t_per_unit: float
    kwh_per_unit: float  # 0 for non-electricity
    tce_source: str
    co2_source: str
    # the compliance bases, whatever ``electricity_method`` the statistics use: the calorific
    # equivalent (当量值, GB/T 2589-2020) and the previous year's coal-substitution value (等价值
    # "按上年电厂发电标准煤耗", GB 30251-2024 §6.1.5 for refining and ethylene); NaN if unknown
    tce_calorific_per_unit: float = math.nan
    tce_substitution_prev_per_unit: float = math.nan


CoefficientFn = Callable[[str, str, int], Coefficient]


def catalog_coefficients(
    factors: Any = None,
    *,
    electricity_method: str = "calorific",
    grid: str = "national",
    grid_fn: Callable[..., Any] | None = None,
) -> CoefficientFn:
    """A coefficient function backed by the factor catalog.

    * tce: ``standard_coal_coef`` of the energy type (GB/T 2589), or for electricity under the
      coal-substitution method ``standard_coal_coef_substitution`` of the year.
    * CO2: electricity → the grid factor of the year (``carbonpeak.catalog.grid.grid_factor``);
      other energy types → ``ef_co2`` if the catalog has it, else ``ncv × carbon_content ×
      oxidation × 44/12``.
    """
    from carbonpeak.catalog.factors import FactorSet

    fs = factors if factors is not None else FactorSet.default()
    cache: dict[tuple[str, str, int], Coefficient] = {}

    def _grid(year: int) -> Any:
        if grid_fn is not None:
            return grid_fn(year, grid=grid)
        try:
            from carbonpeak.catalog.grid import grid_factor
        except ImportError as exc:  # pragma: no cover - the catalog module is part of the package
            raise CatalogError(
                "carbonpeak.catalog.grid is not available for the electricity grid factor"
            ) from exc
        return grid_factor(year, grid=grid)

    def fn(energy_type: str, unit: str, year: int) -> Coefficient:
        key = (energy_type, unit, year)
        if key in cache:
            return cache[key]
        # the catalog's rule (catalog/standard_coal.py): for electricity under the coal-substitution
        # method, the coefficient of the year or of the nearest earlier published year (noted)
        substitution = electricity_method == "coal_substitution" and energy_type == "electricity"
        fv = standard_coal_coefficient(
            energy_type, year, "coal_substitution" if substitution else "calorific", fs
        )
        num, _, den = fv.unit.partition("/")
        try:
            tce = fv.value * conversion_factor(num, "tce") * conversion_factor(unit, den)
        except UnitError as exc:
            raise CatalogError(
                f"meter unit '{unit}' does not match the standard-coal coefficient of {energy_type} ({fv.unit})"
            ) from exc
        tce_src = f"{fv.source} [{fv.status}]"
        kwh = 0.0
        if energy_type == "electricity":
            kwh = conversion_factor(unit, "kWh")
            g = _grid(year)
            gnum, _, gden = g.unit.partition("/")
            co2 = g.value * conversion_factor(gnum, "t") * conversion_factor(unit, gden)
            co2_src = f"{g.source} [{g.status}]"
        else:
            co2, co2_src = _fuel_co2(fs, energy_type, unit, year)
        tce_cal, tce_prev = tce, math.nan
        if energy_type == "electricity":
            tce_cal = _tce_per_unit(standard_coal_coefficient(energy_type, year, "calorific", fs), unit, energy_type)
            try:
                tce_prev = _tce_per_unit(
                    standard_coal_coefficient(energy_type, year - 1, "coal_substitution", fs), unit, energy_type
                )
            except CatalogError:
                tce_prev = math.nan  # no substitution series in this factor set
        c = Coefficient(energy_type, unit, year, tce, co2, kwh, tce_src, co2_src, tce_cal, tce_prev)
        cache[key] = c
        return c

    return fn


def _tce_per_unit(fv: Any, unit: str, energy_type: str) -> float:
    num, _, den = fv.unit.partition("/")
    try:
        return float(fv.value * conversion_factor(num, "tce") * conversion_factor(unit, den))
    except UnitError as exc:
        raise CatalogError(
            f"meter unit '{unit}' does not match the standard-coal coefficient of {energy_type} ({fv.unit})"
        ) from exc


def _fuel_co2(fs: Any, energy_type: str, unit: str, year: int) -> tuple[float, str]:
    ef = fs.lookup(energy_type, "ef_co2", year=year) or fs.lookup(energy_type, "ef_co2")
    if ef is not None:
        num, _, den = ef.unit.partition("/")
        return ef.value * conversion_factor(num, "t") * conversion_factor(
            unit, den
        ), f"{ef.source} [{ef.status}]"
    from carbonpeak.catalog.fuel_co2 import fuel_co2_factor

    value, src = fuel_co2_factor(fs, energy_type, unit, year)
    return value, src + " [derived]"


def coefficient_frame(fn: CoefficientFn, pairs: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Coefficients for each (energy_type, unit) in ``pairs`` and each year."""
    rows = []
    for et, u in pairs[["energy_type", "unit"]].drop_duplicates().itertuples(index=False):
        for y in years:
            c = fn(et, u, int(y))
            if not (math.isfinite(c.tce_per_unit) and math.isfinite(c.co2_t_per_unit)):
                raise CatalogError(f"non-finite coefficient for {et} [{u}] in {y}")
            rows.append(
                {
                    "energy_type": et,
                    "unit": u,
                    "year": int(y),
                    "tce_per_unit": c.tce_per_unit,
                    "co2_t_per_unit": c.co2_t_per_unit,
                    "kwh_per_unit": c.kwh_per_unit,
                    "tce_source": c.tce_source,
                    "co2_source": c.co2_source,
                    "tce_calorific_per_unit": c.tce_calorific_per_unit,
                    "tce_substitution_prev_per_unit": c.tce_substitution_prev_per_unit,
                }
            )
    return pd.DataFrame(rows)
