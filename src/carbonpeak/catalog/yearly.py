"""Year-indexed factors (one row per year) with the nearest-earlier-year rule.

Used by :mod:`carbonpeak.catalog.grid` (grid CO2 factors) and
:mod:`carbonpeak.catalog.standard_coal` (the yearly coal-substitution coefficient).  When the
asked year has no row, the nearest earlier year is used (before the first year, the first year);
grid factors use the closest year either side (``rule="nearest"``).
The returned value's ``note`` then starts with ``"year Y not published; using Y0"``.
"""

from __future__ import annotations

from dataclasses import replace

from carbonpeak.catalog.factors import FactorSet, FactorValue


def factor_years(fs: FactorSet, item: str, parameter: str) -> list[int]:
    """Every year bound of the rows of ``item``/``parameter`` in any layer."""
    years: set[int] = set()
    for fv in fs.rows():
        if fv.item == item and fv.parameter == parameter:
            if fv.year_from is not None:
                years.add(fv.year_from)
            if fv.year_to is not None:
                years.add(fv.year_to)
    return sorted(years)


def nearest_year_factor(
    fs: FactorSet, item: str, parameter: str, year: int, gas: str = "", *, rule: str = "earlier"
) -> FactorValue | None:
    """The factor of ``year``, else of another year with a note; None if none.

    ``rule="earlier"``: the nearest earlier year (before the first year, the first one).
    ``rule="nearest"``: the closest year either side (a tie goes to the earlier year).
    """
    direct = fs.lookup(item, parameter, year=year, gas=gas)
    if direct is not None:
        return direct
    years = factor_years(fs, item, parameter)
    if not years:
        return None
    if rule == "nearest":
        used = min(years, key=lambda y: (abs(y - year), y))
    else:
        earlier = [y for y in years if y <= year]
        used = earlier[-1] if earlier else years[0]
    fv = fs.lookup(item, parameter, year=used, gas=gas)
    if fv is None:
        return None
    msg = f"year {year} not published; using {used}"
    return replace(fv, note=f"{msg}. {fv.note}" if fv.note else msg)
