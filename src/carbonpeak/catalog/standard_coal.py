"""Standard-coal coefficients (GB/T 2589-2020) with the electricity method selectable.

``method="calorific"`` (当量值): every energy uses ``standard_coal_coef`` (electricity 0.1229
kgce/kWh).  ``method="coal_substitution"`` (等价值, 发电煤耗计算法): electricity uses the yearly
``standard_coal_coef_substitution`` (national average 供电标准煤耗 of the year); a year without a
row uses the nearest earlier year, and the note says so.  Data: ``data/factors/standard_coal.csv``.
"""

from __future__ import annotations

from carbonpeak.catalog.factors import FactorSet, FactorValue
from carbonpeak.catalog.yearly import nearest_year_factor
from carbonpeak.errors import CatalogError

METHODS = ("calorific", "coal_substitution")


def standard_coal_coefficient(
    item: str,
    year: int | None = None,
    method: str = "calorific",
    factors: FactorSet | None = None,
) -> FactorValue:
    """kgce per unit of ``item`` (unit in the returned value), for ``year`` under ``method``."""
    if method not in METHODS:
        raise CatalogError(f"unknown standard-coal method '{method}'; choose one of {', '.join(METHODS)}")
    fs = factors if factors is not None else FactorSet.default()
    if item == "electricity" and method == "coal_substitution":
        if year is None:
            raise CatalogError("the coal-substitution coefficient of electricity needs a year")
        fv = nearest_year_factor(fs, "electricity", "standard_coal_coef_substitution", year)
        if fv is None:
            raise CatalogError("no 'standard_coal_coef_substitution' rows for electricity in the factor set")
        return fv
    fv = fs.lookup(item, "standard_coal_coef", year=year) if year is not None else None
    return fv or fs.get(item, "standard_coal_coef")
