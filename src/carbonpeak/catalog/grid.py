"""Grid CO2 emission factors for purchased and imported electricity.

The factors live in ``data/factors/grid.csv`` (or any user factor file) as ordinary factor
rows: item ``grid_<grid>`` (``grid_national``, ``grid_south``, ``grid_guangdong``, ...), unit
``tCO2/MWh``, one row per year (``year_from = year_to``).  The *series* is encoded in the
parameter name:

=========  ==============  ==================================================================
series     parameter       what it is
=========  ==============  ==================================================================
mee_nbs    ``ef_co2``      average grid factors: MEE + NBS statistical 电力平均二氧化碳排放因子
                           (national, regional, provincial; 2021, 2022, 2023) and the earlier
                           NDRC regional averages (2012, released 2014)
ets        ``ef_co2_ets``  MEE enterprise/ETS reporting national grid factor (0.5810, 0.5703)
=========  ==============  ==================================================================

:func:`grid_factor` returns the factor of the asked year; when that year is not published it
uses the closest published year (a tie goes to the earlier one) and says so in the returned
value's ``note`` (``year_from``/``year_to`` then do not contain the asked year: the inventory's
``imported_electricity`` method turns that into a ``grid_factor_year_not_covered`` warning).
Override files win over the defaults as for every factor.
"""

from __future__ import annotations

from carbonpeak.catalog.factors import FactorSet, FactorValue
from carbonpeak.catalog.yearly import factor_years, nearest_year_factor
from carbonpeak.errors import CatalogError

SERIES = ("mee_nbs", "ets")
SERIES_PARAMETER = {"mee_nbs": "ef_co2", "ets": "ef_co2_ets"}
GRID_PREFIX = "grid_"
UNIT = "tCO2/MWh"

_default_set: FactorSet | None = None


def _factors(factors: FactorSet | None) -> FactorSet:
    global _default_set
    if factors is not None:
        return factors
    if _default_set is None:
        _default_set = FactorSet.default()
    return _default_set


def _parameter(series: str) -> str:
    try:
        return SERIES_PARAMETER[series]
    except KeyError:
        raise CatalogError(
            f"unknown grid-factor series '{series}'; choose one of {', '.join(SERIES)}"
        ) from None


def available_grids(factors: FactorSet | None = None) -> list[str]:
    """Grid names (without the ``grid_`` prefix) that have a factor in any series."""
    params = set(SERIES_PARAMETER.values())
    return sorted(
        {
            fv.item[len(GRID_PREFIX) :]
            for fv in _factors(factors).rows()
            if fv.item.startswith(GRID_PREFIX) and fv.parameter in params
        }
    )


def grid_years(
    grid: str = "national", series: str = "mee_nbs", factors: FactorSet | None = None
) -> list[int]:
    """The years for which ``grid`` has a factor in ``series`` (any layer)."""
    return factor_years(_factors(factors), GRID_PREFIX + grid, _parameter(series))


def grid_factor(
    year: int,
    grid: str = "national",
    series: str = "mee_nbs",
    factors: FactorSet | None = None,
) -> FactorValue:
    """The CO2 factor (tCO2/MWh) of ``grid`` for ``year`` in ``series``.

    If ``year`` is not published, the closest published year is used (a tie goes to the earlier
    one) and the returned value's ``note`` starts with
    ``"year Y not published; using Y0"``.  Raises :class:`CatalogError` for an unknown grid or
    series.
    """
    fs = _factors(factors)
    param = _parameter(series)
    item = GRID_PREFIX + grid
    fv = nearest_year_factor(fs, item, param, year, rule="nearest")
    if fv is None:
        fv = nearest_year_factor(fs, item, param, year, gas="CO2", rule="nearest")
    if fv is not None:
        return fv
    if grid in available_grids(fs):
        raise CatalogError(
            f"grid '{grid}' has no factor in series '{series}'; "
            f"series with data: {', '.join(s for s in SERIES if grid_years(grid, s, fs))}"
        )
    from carbonpeak.catalog.items import get_items

    if item in get_items():
        raise CatalogError(
            f"grid '{grid}' is a catalog item but has no published factor in the catalog; "
            f"bring one with --factors FILE (docs/factors.md); grids with factors: {', '.join(available_grids(fs))}"
        )
    raise CatalogError(
        f"unknown grid '{grid}' (no factor rows for item '{item}'); available: "
        f"{', '.join(available_grids(fs))}; bring your own with --factors FILE (docs/factors.md)"
    )
