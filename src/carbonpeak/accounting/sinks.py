"""Carbon-sink accounting: removals of forest, blue-carbon and other land on their own.

The inventory reports removals as negative CO2 masses of the LULUCF categories (3.B).  This
module turns them into a sink account — net tonnes of CO2 *removed* (positive numbers) by
ecosystem, region and year — as the plan's 碳汇 (land and marine sink) accounting asks.

The ecosystem of a result row is the ``ecosystem`` field of its item in
``catalog/data/items/lulucf.yaml`` (``forest``, ``mangrove``, ``salt_marsh``, ``seagrass``,
``tidal_flat``, ``land_use_change``); rows of items without one fall back on their IPCC land
category (3.B.1 forest, 3.B.4 wetland, other 3.B codes ``other_land``).  Blue carbon is the set
of ecosystems whose items are in the ``blue_carbon`` group.

Columns of :func:`sink_account`:

========================  ===================================================================
year, region, ecosystem   the key
removals_tco2             net removal, t CO2 (positive = sink; negative = net source)
gross_removals_tco2       sum of the removal rows (>= 0)
gross_emissions_tco2      sum of the emission rows (>= 0), e.g. harvest, deforestation
blue_carbon               whether the ecosystem is coastal blue carbon
========================  ===================================================================

JSON of :func:`sink_summary` (``carbonpeak sinks --format json``): ``unit``, ``years``,
``regions``, ``total_removals_tco2``, ``forest_tco2``, ``blue_carbon_tco2``,
``other_tco2``, ``by_ecosystem`` {ecosystem: t}, ``by_region`` {region: t},
``by_year`` {year: {"total": t, "by_ecosystem": {...}}}.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from carbonpeak.catalog.items import get_items

ACCOUNT_COLUMNS = (
    "year",
    "region",
    "ecosystem",
    "removals_tco2",
    "gross_removals_tco2",
    "gross_emissions_tco2",
    "blue_carbon",
)

_CATEGORY_ECOSYSTEM = (("3.B.1", "forest"), ("3.B.4", "wetland"))


def _ecosystem_of(item: str, category: str) -> str:
    it = get_items().get(item)
    if it is not None and it.extra.get("ecosystem"):
        return str(it.extra["ecosystem"])
    for prefix, eco in _CATEGORY_ECOSYSTEM:
        if category == prefix or category.startswith(prefix + "."):
            return eco
    return "other_land"


def blue_carbon_ecosystems() -> frozenset[str]:
    """Ecosystems of the items in the ``blue_carbon`` group of the catalog."""
    return frozenset(
        str(v.extra.get("ecosystem", k)) for k, v in get_items().items() if v.group == "blue_carbon"
    )


def sink_account(results: pd.DataFrame) -> pd.DataFrame:
    """Net removals (t CO2, positive) by year, region and ecosystem from inventory results.

    ``results`` has at least ``year, region, category, item, gas, mass_t, scope`` (the result
    columns of :mod:`carbonpeak.accounting.base`).  Only territorial CO2 of the land categories
    (3.B) counts.
    """
    need = {"year", "region", "category", "item", "gas", "mass_t", "scope"}
    missing = need - set(results.columns)
    if missing:
        raise ValueError(f"results lack columns {sorted(missing)}")
    cat = results["category"].astype(str)
    land = (cat == "3.B") | cat.str.startswith("3.B.")
    r = results[land & (results["gas"] == "CO2") & (results["scope"] == "territorial")]
    if r.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCOUNT_COLUMNS})
    eco = [_ecosystem_of(i, c) for i, c in zip(r["item"], r["category"], strict=True)]
    mass = r["mass_t"].astype(float)
    df = pd.DataFrame(
        {
            "year": r["year"].astype("int64").to_numpy(),
            "region": r["region"].astype(str).to_numpy(),
            "ecosystem": eco,
            "removals_tco2": (-mass).to_numpy(),
            "gross_removals_tco2": (-mass.clip(upper=0.0)).to_numpy(),
            "gross_emissions_tco2": mass.clip(lower=0.0).to_numpy(),
        }
    )
    out = df.groupby(["year", "region", "ecosystem"], as_index=False, sort=True)[
        ["removals_tco2", "gross_removals_tco2", "gross_emissions_tco2"]
    ].sum()
    out["blue_carbon"] = out["ecosystem"].isin(blue_carbon_ecosystems())
    return out[list(ACCOUNT_COLUMNS)].reset_index(drop=True)


def sink_summary(
    results: pd.DataFrame, *, year: int | None = None, region: str | None = None
) -> dict[str, Any]:
    """The sink account as a JSON-ready dict (keys in the module docstring)."""
    acc = sink_account(results)
    if year is not None:
        acc = acc[acc["year"] == int(year)]
    if region is not None:
        acc = acc[acc["region"] == region]
    blue = acc["blue_carbon"].astype(bool) if len(acc) else pd.Series([], dtype=bool)
    forest = acc["ecosystem"] == "forest" if len(acc) else pd.Series([], dtype=bool)
    by_year: dict[str, Any] = {}
    for y, g in acc.groupby("year", sort=True):
        by_year[str(int(y))] = {
            "total": float(g["removals_tco2"].sum()),
            "by_ecosystem": {str(k): float(v) for k, v in g.groupby("ecosystem")["removals_tco2"].sum().items()},
        }
    total = float(acc["removals_tco2"].sum())
    return {
        "unit": "t CO2 removed (positive = net removal)",
        "years": sorted(int(y) for y in acc["year"].unique()),
        "regions": sorted(str(r) for r in acc["region"].unique()),
        "total_removals_tco2": total,
        "forest_tco2": float(acc.loc[forest, "removals_tco2"].sum()) if len(acc) else 0.0,
        "blue_carbon_tco2": float(acc.loc[blue, "removals_tco2"].sum()) if len(acc) else 0.0,
        "other_tco2": float(acc.loc[~(blue | forest), "removals_tco2"].sum()) if len(acc) else 0.0,
        "by_ecosystem": {str(k): float(v) for k, v in acc.groupby("ecosystem")["removals_tco2"].sum().items()},
        "by_region": {str(k): float(v) for k, v in acc.groupby("region")["removals_tco2"].sum().items()},
        "by_year": by_year,
    }
