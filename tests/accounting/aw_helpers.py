"""Helpers of the AFOLU and waste tests: activity frames and factor overrides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from carbonpeak.accounting.base import MethodContext
from carbonpeak.catalog.factors import FactorSet, FactorValue

COLS = ["year", "region", "category", "item", "amount", "unit"]


def act(rows: Sequence[tuple[object, ...]], uncertainty: Sequence[float] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=COLS)
    if uncertainty is not None:
        df["uncertainty_pct"] = list(uncertainty)
    return df


def ov(item: str, parameter: str, value: float, unit: str, *, category: str = "", gas: str = "",
       region: str = "", unc: float | None = None) -> FactorValue:
    """A user-override factor row (origin = a pretend file, so ``overridden`` is true)."""
    return FactorValue(item=item, parameter=parameter, value=value, unit=unit, source="test fixture",
                       status="synthetic", category=category, gas=gas, region=region, uncertainty_pct=unc,
                       origin="test-overrides.csv")


def factors(extra: Iterable[FactorValue] = ()) -> FactorSet:
    """The packaged defaults with ``extra`` layered on top."""
    base = FactorSet.default()
    extra = list(extra)
    return FactorSet([base.rows(), extra]) if extra else base


def ctx(extra: Iterable[FactorValue] = (), **options: object) -> MethodContext:
    return MethodContext(factors=factors(extra), options=dict(options))


def mass(res: pd.DataFrame, **where: object) -> float:
    m = pd.Series(True, index=res.index)
    for k, v in where.items():
        m &= res[k] == v
    return float(res.loc[m, "mass_t"].sum())
