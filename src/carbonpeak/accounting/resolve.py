"""Vectorised factor resolution for category methods.

Activity rows are unique on (year, region, category, item), so resolving factors row by row
would look up as many factors as there are rows.  :func:`resolve` collapses the key to what
the factor set can actually distinguish: the region (year) enters the key only when some
factor row for that (item, parameter, gas) is restricted to a region (year).  Each distinct
key is looked up once and the result is broadcast back to the rows.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from carbonpeak.catalog.factors import FactorSet, FactorValue
from carbonpeak.catalog.units import conversion_factor
from carbonpeak.errors import CarbonpeakError, Problem

_DEPS: weakref.WeakKeyDictionary[FactorSet, tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]] = (
    weakref.WeakKeyDictionary()
)


@lru_cache(maxsize=1024)
def _conv(from_unit: str, to_unit: str) -> float:
    return conversion_factor(from_unit, to_unit)


def _deps(fs: FactorSet) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(keys with region-specific rows, keys with year-bounded rows) of a factor set."""
    got = _DEPS.get(fs)
    if got is None:
        by_region: set[tuple[str, str, str]] = set()
        by_year: set[tuple[str, str, str]] = set()
        for fv in fs.rows():
            k = (fv.item, fv.parameter, fv.gas)
            if fv.region:
                by_region.add(k)
            if fv.year_from is not None or fv.year_to is not None:
                by_year.add(k)
        got = (by_region, by_year)
        _DEPS[fs] = got
    return got


@dataclass
class Resolved:
    """Factors resolved for each row of a frame."""

    values: np.ndarray  # value converted to the asked unit; NaN where missing
    group: np.ndarray  # index into ``factors`` for each row
    factors: list[FactorValue | None]  # one per distinct key
    problems: list[Problem]

    def factor_of(self, i: int) -> FactorValue | None:
        return self.factors[int(self.group[i])]

    @property
    def uncertainty(self) -> np.ndarray:
        u = np.array(
            [np.nan if f is None or f.uncertainty_pct is None else f.uncertainty_pct for f in self.factors],
            dtype=float,
        )
        return u[self.group] if len(self.group) else np.zeros(0)


def resolve(
    fs: FactorSet,
    rows: pd.DataFrame,
    parameter: str,
    *,
    unit: str | None,
    gas: str = "",
    item: str | pd.Series | None = None,
    category: str | pd.Series | None = None,
    required: bool = True,
    field: str = "item",
) -> Resolved:
    """Resolve ``parameter`` for every row of ``rows`` (columns item, category, region, year).

    ``item``/``category`` override the row's own columns (a constant or a Series).  Values are
    converted to ``unit`` (``None`` keeps the factor's own unit, only when all agree).  Missing
    factors give NaN and, if ``required``, a :class:`Problem` per row naming file and row.
    """
    n = len(rows)
    items = (
        rows["item"]
        if item is None
        else (pd.Series(item, index=rows.index) if isinstance(item, str) else item)
    )
    cats = (
        rows["category"]
        if category is None
        else (pd.Series(category, index=rows.index) if isinstance(category, str) else category)
    )
    by_region, by_year = _deps(fs)
    item_codes, item_uniq = pd.factorize(np.asarray(items.to_numpy(), dtype=object))
    uniq_items = set(item_uniq)
    needs_region = any((i, parameter, gas) in by_region for i in uniq_items)
    needs_year = any((i, parameter, gas) in by_year for i in uniq_items)
    parts = [item_codes, pd.factorize(np.asarray(cats.to_numpy(), dtype=object))[0]]
    if needs_region:
        parts.append(pd.factorize(np.asarray(rows["region"].to_numpy(), dtype=object))[0])
    if needs_year:
        parts.append(pd.factorize(rows["year"].to_numpy())[0])
    combined = np.zeros(n, dtype=np.int64)
    for codes in parts:
        combined = combined * (int(codes.max()) + 1 if n else 1) + codes
    # groups numbered in order of first appearance; ``first_idx`` is a row of each group
    group, uniq = pd.factorize(combined)
    first_idx = np.zeros(len(uniq), dtype=np.int64)
    first_idx[group[::-1]] = np.arange(n - 1, -1, -1)
    it_arr = np.asarray(items.to_numpy(), dtype=object)[first_idx]
    cat_arr = np.asarray(cats.to_numpy(), dtype=object)[first_idx]
    reg_arr = (
        np.asarray(rows["region"].to_numpy(), dtype=object)[first_idx] if needs_region else [""] * len(uniq)
    )
    yr_arr = rows["year"].to_numpy()[first_idx] if needs_year else [-1] * len(uniq)
    firsts = list(zip(it_arr, cat_arr, reg_arr, yr_arr, strict=True))
    factors: list[FactorValue | None] = []
    vals: list[float] = []
    unit_errors: dict[int, str] = {}
    for gi, (it, cat, reg, yr) in enumerate(firsts):
        fv = fs.lookup(it, parameter, category=cat, gas=gas, region=reg, year=None if yr == -1 else int(yr))
        factors.append(fv)
        if fv is None:
            vals.append(np.nan)
            continue
        if unit is None:
            vals.append(fv.value)
            continue
        try:
            vals.append(fv.value * _conv(fv.unit, unit))
        except CarbonpeakError as exc:
            unit_errors[gi] = f"factor '{parameter}' of {it} has unit '{fv.unit}', expected {unit}: {exc}"
            vals.append(np.nan)
    values = np.asarray(vals, dtype=float)[group] if n else np.zeros(0)
    problems: list[Problem] = []
    if required and n:
        missing = np.array([f is None for f in factors])[group]
        if missing.any() or unit_errors:
            sub = rows.loc[missing]
            for it, cat, reg, yr, row, file in zip(
                items[missing],
                cats[missing],
                sub["region"],
                sub["year"],
                sub["__row__"],
                sub["__file__"],
                strict=True,
            ):
                g = f" gas {gas}" if gas else ""
                problems.append(
                    Problem(
                        str(file),
                        int(row),
                        field,
                        f"no factor '{parameter}'{g} for '{it}' (category {cat}, region {reg}, year {yr}); "
                        "add one with --factors FILE",
                    )
                )
            for gi, msg in unit_errors.items():
                idx = np.nonzero(group == gi)[0]
                for i in idx:
                    problems.append(
                        Problem(str(rows["__file__"].iloc[i]), int(rows["__row__"].iloc[i]), field, msg)
                    )
    return Resolved(values=values, group=group, factors=factors, problems=problems)
