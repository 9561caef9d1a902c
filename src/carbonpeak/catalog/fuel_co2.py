"""A fuel's CO2 factor, computed in one place: NCV × carbon content × oxidation × 44/12.

IPCC 2006 GL Vol 2 Eq 2.1 / NDRC 省级温室气体清单编制指南(试行) 2011: CO2 = AD × NCV × CC × OF × 44/12.
Accounting (vectorised over activity rows, with :data:`CO2_PER_C`), monitoring (per meter unit)
and scenarios (per tce of a fuel group) all use this module.
"""

from __future__ import annotations

from typing import Any

from carbonpeak.catalog.units import conversion_factor
from carbonpeak.errors import CatalogError, UnitError

#: Mass ratio CO2/C (molar masses 44.01/12.011, rounded as in IPCC 2006 Vol 2 Eq 2.1 / 6.1).
CO2_PER_C = 44.0 / 12.0


def _lookup(fs: Any, item: str, parameter: str, year: int | None) -> Any:
    if year is not None:
        v = fs.lookup(item, parameter, year=year)
        if v is not None:
            return v
    return fs.lookup(item, parameter)


def fuel_co2_factor(fs: Any, item: str, unit: str, year: int | None = None) -> tuple[float, str]:
    """tCO2 per ``unit`` of fuel ``item`` and the sources it came from.

    ``unit`` may be a quantity of fuel (t, 10^4 m3, ... through the NCV) or of energy (GJ, tce:
    no NCV needed).  Without an oxidation factor the oxidation is 1 (complete).
    """
    cc = _lookup(fs, item, "carbon_content", year)
    ox = _lookup(fs, item, "oxidation", year)
    if cc is None:
        raise CatalogError(f"no CO2 factor for '{item}': the catalog needs 'carbon_content' (and 'ncv')")
    c_num, _, c_den = cc.unit.partition("/")
    tc_per_gj = cc.value * conversion_factor(c_num, "t") / conversion_factor(c_den, "GJ")
    try:
        gj = conversion_factor(unit, "GJ")  # an energy unit
        srcs = [cc.source]
    except UnitError:
        ncv = _lookup(fs, item, "ncv", year)
        if ncv is None:
            raise CatalogError(
                f"no CO2 factor for '{item}' per {unit}: the catalog needs 'ncv' and 'carbon_content'"
            ) from None
        n_num, _, n_den = ncv.unit.partition("/")
        gj = ncv.value * conversion_factor(n_num, "GJ") * conversion_factor(unit, n_den)
        srcs = [ncv.source, cc.source]
    oxv = float(ox.value) if ox is not None else 1.0
    if ox is not None:
        srcs.append(ox.source)
    return float(gj * tc_per_gj * oxv * CO2_PER_C), "; ".join(srcs)
