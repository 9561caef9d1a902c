"""Global warming potentials (100-year) by assessment report, from ``data/gwp.csv``.

The default set is **AR5**: inventories under the Paris Agreement enhanced transparency
framework must use AR5 GWP-100 values (decision 18/CMA.1, annex, para. 37), and China's first
Biennial Transparency Report (2024) reports its 2020-2021 inventory under those modalities.

**Fossil methane.**  AR6 gives CH4 two GWP-100 values (WG1 AR6 Ch 7, Table 7.15): 27.0 for
non-fossil CH4 and 29.8 for fossil CH4 (the extra 2.8 is the CO2 from the oxidation of fossil
carbon, which no other part of the inventory counts).  The GWP applied to each result row is
chosen here, in one place, by :func:`gwp_gas` / :func:`gwp_for`: CH4 is *fossil* when it comes
from fossil carbon:

* ``1.B`` fugitive emissions from fuels (coal mining and handling, oil and natural gas);
* ``1.A`` fuel combustion of fossil fuels (items of kind ``fossil_solid``, ``fossil_liquid``,
  ``fossil_gas``; international bunkers included) — not biomass or waste fuels;
* ``2.B.8`` petrochemicals (steam cracking of fossil feedstocks) and ``2.C.1`` iron and steel
  (sinter and coke), whose CH4 is released from fossil feedstock carbon.

Everything else (agriculture, LULUCF, waste, biomass combustion) is non-fossil.  Sets without a
separate fossil value (AR4, AR5 as used under the ETF) apply their single CH4 value to both.
"""

from __future__ import annotations

from functools import lru_cache

from carbonpeak.catalog.loader import load_csv
from carbonpeak.errors import CatalogError

GWP_SETS = ("AR4", "AR5", "AR6")
DEFAULT_GWP = "AR5"
DEFAULT_GWP_SOURCE = (
    "Decision 18/CMA.1 annex para 37 (MPGs of the ETF: AR5 GWP-100); "
    "China First Biennial Transparency Report (2024)"
)


@lru_cache(maxsize=8)
def gwp_values(gwp_set: str = DEFAULT_GWP) -> dict[str, float]:
    """Gas → GWP-100 for one set (``AR4``, ``AR5`` or ``AR6``)."""
    key = gwp_set.upper()
    if key not in GWP_SETS:
        raise CatalogError(f"unknown GWP set '{gwp_set}'; choose one of {', '.join(GWP_SETS)}")
    df = load_csv("gwp.csv")
    sub = df[df["gwp_set"] == key]
    return {g: float(v) for g, v in zip(sub["gas"], sub["value"], strict=True)}


def gwp(gas: str, gwp_set: str = DEFAULT_GWP) -> float:
    """GWP-100 of ``gas`` in ``gwp_set``; raises :class:`CatalogError` for an unknown gas."""
    values = gwp_values(gwp_set)
    if gas not in values:
        if gas == "CH4_fossil":
            return values["CH4"]
        raise CatalogError(f"no GWP for gas '{gas}' in {gwp_set}")
    return values[gas]


#: IPCC 2006 category prefixes whose CH4 is fossil whatever the item (see the module docstring).
FOSSIL_CH4_CATEGORIES = ("1.B", "2.B.8", "2.C.1")
#: Fuel combustion: CH4 is fossil when the item is a fossil fuel (item kinds below).
FOSSIL_CH4_COMBUSTION = "1.A"
FOSSIL_FUEL_KINDS = ("fossil_solid", "fossil_liquid", "fossil_gas")


def ch4_is_fossil(category: str, item: str = "") -> bool:
    """Whether CH4 of ``category`` (and ``item``) comes from fossil carbon (AR6 Table 7.15)."""
    from carbonpeak.catalog.categories import is_prefix

    if any(is_prefix(p, category) for p in FOSSIL_CH4_CATEGORIES):
        return True
    if is_prefix(FOSSIL_CH4_COMBUSTION, category):
        from carbonpeak.catalog.items import get_items

        it = get_items().get(item)
        return it is not None and it.kind in FOSSIL_FUEL_KINDS
    return False


def gwp_gas(gas: str, category: str = "", item: str = "") -> str:
    """The key of the GWP table that applies to ``gas`` emitted by ``category``/``item``:
    ``CH4_fossil`` for fossil methane (:func:`ch4_is_fossil`), else ``gas`` itself."""
    if gas == "CH4" and category and ch4_is_fossil(category, item):
        return "CH4_fossil"
    return gas


def gwp_for(gas: str, category: str = "", item: str = "", gwp_set: str = DEFAULT_GWP) -> tuple[float, str]:
    """``(GWP-100, table key)`` of ``gas`` emitted by ``category``/``item`` in ``gwp_set``.

    The one place where a result row's GWP is chosen (the engine and ``explain`` call it).
    """
    key = gwp_gas(gas, category, item)
    return gwp(key, gwp_set), key


def gwp_sources(gwp_set: str = DEFAULT_GWP) -> dict[str, str]:
    """Gas → source text for one set (for ``explain`` and reports)."""
    df = load_csv("gwp.csv")
    sub = df[df["gwp_set"] == gwp_set.upper()]
    return dict(zip(sub["gas"], sub["source"], strict=True))
