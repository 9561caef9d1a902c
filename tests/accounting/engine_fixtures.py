"""Small, self-contained factor sets and activity frames for the engine tests.

The values below are test fixtures (status ``synthetic``); where a test is a reference test it
cites the published source of the numbers it reproduces.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from carbonpeak.catalog.factors import FactorSet, FactorValue
from carbonpeak.model.activity import validate_activity

SRC = "test fixture"

ITEMS = (
    "raw_coal",
    "natural_gas",
    "diesel_oil",
    "biomass",
    "electricity",
    "heat",
    "fuel_oil",
    "kerosene",
)
REGIONS = ("GD", "GD-GZ", "GD-SZ", "GD-FS")
COLUMNS = ["year", "region", "category", "item", "amount", "unit"]


def fv(
    item: str,
    parameter: str,
    value: float,
    unit: str,
    *,
    gas: str = "",
    category: str = "",
    unc: float | None = None,
    origin: str = "default",
    year_from: int | None = None,
    year_to: int | None = None,
) -> FactorValue:
    return FactorValue(
        item=item,
        parameter=parameter,
        value=value,
        unit=unit,
        source=SRC,
        status="synthetic",
        gas=gas,
        category=category,
        uncertainty_pct=unc,
        origin=origin,
        year_from=year_from,
        year_to=year_to,
    )


def guideline_factors() -> list[FactorValue]:
    """Provincial-guideline style factors: raw coal 20.908 GJ/t, 26.37 tC/TJ, OF 0.94."""
    rows = [
        fv("raw_coal", "ncv", 20.908, "GJ/t", unc=5),
        fv("raw_coal", "carbon_content", 26.37, "tC/TJ", unc=3),
        fv("raw_coal", "oxidation", 0.94, "1"),
        fv("raw_coal", "oxidation", 0.98, "1", category="1.A.1"),
        fv("natural_gas", "ncv", 389.31, "GJ/(10^4 Nm3)"),
        fv("natural_gas", "carbon_content", 15.3, "tC/TJ"),
        fv("natural_gas", "oxidation", 0.99, "1"),
        fv("diesel_oil", "ncv", 42.652, "GJ/t"),
        fv("diesel_oil", "carbon_content", 20.2, "tC/TJ"),
        fv("diesel_oil", "oxidation", 0.98, "1"),
        fv("kerosene", "ncv", 43.07, "GJ/t"),
        fv("kerosene", "carbon_content", 19.5, "tC/TJ"),
        fv("kerosene", "oxidation", 0.98, "1"),
        fv("fuel_oil", "ncv", 41.816, "GJ/t"),
        fv("fuel_oil", "carbon_content", 21.1, "tC/TJ"),
        fv("fuel_oil", "oxidation", 0.98, "1"),
        fv("biomass", "ncv", 15.0, "GJ/t"),
        fv("biomass", "carbon_content", 30.5, "tC/TJ"),
        fv("biomass", "oxidation", 1.0, "1"),
        fv("biomass", "biogenic_fraction", 1.0, "1"),
        fv("raw_coal", "ef", 10.0, "kg/TJ", gas="CH4", category="1.A.4.b"),
        fv("raw_coal", "ef", 18.0, "m3/t", gas="CH4", category="1.B.1.a.i.1"),
        fv("CH4", "density", 0.67, "kg/m3"),
        fv("electricity", "grid_ef", 0.5, "tCO2/MWh", category="M.ELEC"),
    ]
    for item in ("raw_coal", "natural_gas", "diesel_oil", "kerosene", "fuel_oil", "biomass"):
        rows.append(fv(item, "ef", 1.0, "kg/TJ", gas="CH4"))
        rows.append(fv(item, "ef", 1.5, "kg/TJ", gas="N2O"))
    return rows


def factor_set(*overrides: Sequence[FactorValue]) -> FactorSet:
    return FactorSet([guideline_factors(), *overrides])


def activity(records: Sequence[tuple[object, ...]], file: str = "act.csv") -> pd.DataFrame:
    """A validated activity frame from (year, region, category, item, amount, unit) tuples."""
    df = pd.DataFrame(list(records), columns=COLUMNS)
    df["year"] = df["year"].astype(str)
    df["amount"] = df["amount"].map(repr)
    df["__file__"] = file
    df["__row__"] = range(2, 2 + len(df))
    return validate_activity(df, items=ITEMS, regions=REGIONS)
