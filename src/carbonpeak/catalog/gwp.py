"""Global warming potentials (100-year) by assessment report, from ``data/gwp.csv``.

The default set is **AR5**: inventories under the Paris Agreement enhanced transparency
framework must use AR5 GWP-100 values (decision 18/CMA.1, annex, para. 37), and China's first
Biennial Transparency Report (2024) reports its 2020-2021 inventory under those modalities.
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


def gwp_sources(gwp_set: str = DEFAULT_GWP) -> dict[str, str]:
    """Gas → source text for one set (for ``explain`` and reports)."""
    df = load_csv("gwp.csv")
    sub = df[df["gwp_set"] == gwp_set.upper()]
    return dict(zip(sub["gas"], sub["source"], strict=True))
