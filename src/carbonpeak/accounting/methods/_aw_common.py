"""Helpers shared by the AFOLU (sector 3) and waste (sector 4) category methods.

Nothing here holds a figure: factors come from the factor set, units from the registry.  The
only numbers in the AFOLU and waste code are the molar-mass ratios below.
"""

from __future__ import annotations

import json
import math
import weakref
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import RESULT_COLUMNS, MethodContext, empty_result
from carbonpeak.catalog.factors import FactorSet, FactorValue
from carbonpeak.catalog.fuel_co2 import CO2_PER_C
from carbonpeak.catalog.items import get_items
from carbonpeak.catalog.units import conversion_factor
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError

# Physical constants (molar-mass ratios, IUPAC atomic weights rounded as in IPCC 2006):
C_TO_CO2 = CO2_PER_C  # t CO2 per t C (catalog.fuel_co2)
C_TO_CH4 = 16.0 / 12.0  # t CH4 per t C
N2O_N_TO_N2O = 44.0 / 28.0  # t N2O per t N2O-N


@lru_cache(maxsize=4096)
def conv(from_unit: str, to_unit: str) -> float:
    """Cached :func:`conversion_factor` (the registry call is the hot spot of per-row methods)."""
    return conversion_factor(from_unit, to_unit)


def to(fv: FactorValue, unit: str) -> float:
    """``fv.to(unit)`` through the cache."""
    return fv.value * conv(fv.unit, unit)


def splice_json(head: dict[str, Any], **pre_serialised: str) -> str:
    """An explain text: ``head`` serialised, with already-serialised JSON values added under their keys
    (used to serialise the factors of a long time series once instead of once per year)."""
    text = json.dumps(head, ensure_ascii=False, default=str)
    extra = ", ".join(f"{json.dumps(k)}: {v}" for k, v in pre_serialised.items())
    return text[:-1] + (", " if len(head) else "") + extra + "}" if extra else text


def problem(row: Any, field: str, message: str) -> Problem:
    """A :class:`Problem` for one activity row (a namedtuple or Series with ``__file__``/``__row__``)."""
    get = row.get if hasattr(row, "get") else lambda k, d=None: getattr(row, k, d)
    file = get("__file__", None)
    rown = get("__row__", None)
    try:
        rown = int(rown) if rown is not None and not (isinstance(rown, float) and math.isnan(rown)) else None
    except (TypeError, ValueError):
        rown = None
    return Problem(str(file) if file is not None else "<data>", rown, field, message)


def prepare(activity: pd.DataFrame) -> pd.DataFrame:
    """A copy with the optional columns present and the row index as ``__row__`` when absent."""
    df = activity.copy()
    if "__file__" not in df.columns:
        df["__file__"] = "<data>"
    if "__row__" not in df.columns:
        df["__row__"] = np.arange(2, 2 + len(df))
    for c, default in (("uncertainty_pct", np.nan), ("source", ""), ("note", "")):
        if c not in df.columns:
            df[c] = default
    df["amount"] = pd.to_numeric(df["amount"], errors="coerce").astype(float)
    df["year"] = pd.to_numeric(df["year"], errors="coerce")
    return df.reset_index(drop=True)


def item_kinds() -> dict[str, str]:
    return {k: v.kind for k, v in get_items().items()}


def check_rows(
    df: pd.DataFrame,
    allowed_kinds: Sequence[str],
    what: str,
    *,
    allowed_items: Iterable[str] | None = None,
) -> list[Problem]:
    """Every row: finite non-negative amount, integer year, an item of one of ``allowed_kinds``."""
    kinds = item_kinds()
    allowed = set(allowed_items) if allowed_items is not None else None
    problems: list[Problem] = []
    for rd in rows_with_file(df):
        rec = rd
        amt = rd["amount"]
        if amt is None or not np.isfinite(amt):
            problems.append(problem(rec, "amount", f"not a number: '{amt}'"))
        elif amt < 0:
            problems.append(problem(rec, "amount", f"must not be negative for {what}: {amt}"))
        y = rd["year"]
        if y is None or not np.isfinite(y) or float(y) != int(y):
            problems.append(problem(rec, "year", f"not a whole year: '{y}'"))
        it = rd["item"]
        ok = kinds.get(it) in allowed_kinds and (allowed is None or it in allowed)
        if not ok:
            names = sorted(
                k for k, v in kinds.items() if v in allowed_kinds and (allowed is None or k in allowed)
            )
            problems.append(
                problem(rec, "item", f"'{it}' is not an item of {what}; use one of: {', '.join(names)}")
            )
    return problems


def rows_with_file(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Records including the dunder columns (itertuples renames them)."""
    cols = list(df.columns)
    values = [df[c].tolist() for c in cols]
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*values, strict=True)] if cols else []


def convert_amounts(df: pd.DataFrame, target: str, what: str) -> tuple[np.ndarray, list[Problem]]:
    """``amount`` of every row in ``target`` unit; rows whose unit has another dimension are problems."""
    out = np.full(len(df), np.nan)
    problems: list[Problem] = []
    units = df["unit"].astype(str).to_numpy()
    for u in pd.unique(units):
        mask = units == u
        try:
            f = conv(str(u), target)
        except CarbonpeakError:
            for rec in rows_with_file(df[mask]):
                problems.append(problem(rec, "unit", f"unit '{u}' cannot be converted to {target} ({what})"))
            continue
        out[mask] = df["amount"].to_numpy(dtype=float)[mask] * f
    return out, problems


def unit_dimension_is(unit: str, target: str) -> bool:
    try:
        conv(unit, target)
        return True
    except CarbonpeakError:
        return False


_MEMO: weakref.WeakKeyDictionary[
    FactorSet, tuple[frozenset[tuple[str, str]], dict[tuple[Any, ...], FactorValue | None]]
] = weakref.WeakKeyDictionary()


def _memo(fs: FactorSet) -> tuple[frozenset[tuple[str, str]], dict[tuple[Any, ...], FactorValue | None]]:
    """(the (item, parameter) pairs with a year-bound row in any layer, the lookup memo) of a factor set."""
    got = _MEMO.get(fs)
    if got is None:
        year_bound = frozenset(
            (fv.item, fv.parameter) for fv in fs.rows() if fv.year_from is not None or fv.year_to is not None
        )
        got = (year_bound, {})
        _MEMO[fs] = got
    return got


def lookup(
    ctx: MethodContext, item: str, parameter: str, *, category: str, region: str, year: int | None, gas: str = ""
) -> FactorValue | None:
    """``ctx.factors.lookup`` with the year dropped when no row of (item, parameter) is year-bound
    (same answer), memoised per factor set: methods ask for the same factor once per row and year."""
    fs = ctx.factors
    year_bound, memo = _memo(fs)
    if year is not None and (item, parameter) not in year_bound:
        year = None
    key = (item, parameter, category, gas, region, year)
    try:
        return memo[key]
    except KeyError:
        fv = memo[key] = fs.lookup(item, parameter, category=category, gas=gas, region=region, year=year)
        return fv


def factor(
    ctx: MethodContext,
    item: str,
    parameter: str,
    *,
    category: str,
    region: str,
    year: int | None,
    gas: str = "",
) -> FactorValue:
    """Like :func:`lookup` but raises :class:`CatalogError` (via ``FactorSet.get``) when nothing matches."""
    fv = lookup(ctx, item, parameter, category=category, region=region, year=year, gas=gas)
    if fv is None:
        return ctx.factor(item, parameter, category=category, gas=gas, region=region, year=year)
    return fv


def combined_uncertainty(fvs: Iterable[FactorValue | None]) -> float:
    """95 % half-width (%) of a product of factors: root-sum-square of the parts (IPCC 2006 Vol 1
    Ch 3 Eq 3.1).  ``nan`` when no part has an uncertainty."""
    parts = [fv.uncertainty_pct for fv in fvs if fv is not None and fv.uncertainty_pct is not None]
    if not parts:
        return float("nan")
    return float(math.sqrt(sum(p * p for p in parts)))


def mean_uncertainty(values: Iterable[Any]) -> float:
    arr = np.asarray([float(v) for v in values if v is not None and np.isfinite(float(v))], dtype=float)
    return float(arr.mean()) if arr.size else float("nan")


def activity_refs(recs: Sequence[dict[str, Any]], limit: int = 50) -> list[dict[str, Any]]:
    """Explain entries for the activity rows behind a figure (first ``limit``)."""
    out = []
    for r in recs[:limit]:
        out.append(
            {
                "file": str(r.get("__file__")),
                "row": int(r["__row__"]) if r.get("__row__") is not None else None,
                "year": int(r["year"]),
                "item": r["item"],
                "amount": float(r["amount"]),
                "unit": r["unit"],
            }
        )
    return out


def to_result(records: list[dict[str, Any]]) -> pd.DataFrame:
    if not records:
        return empty_result()
    cols: dict[str, Any] = {c: [r.get(c, np.nan) for r in records] for c in RESULT_COLUMNS}
    cols["explain"] = pd.Series(cols["explain"], dtype=object)  # long JSON texts: no arrow copy
    out = pd.DataFrame(cols)
    out["year"] = out["year"].astype("int64")
    out["mass_t"] = out["mass_t"].astype(float)
    return out


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError(problems)


def catalog_problem(rec: dict[str, Any], exc: CarbonpeakError) -> Problem:
    return problem(rec, "item", str(exc))


def latest_share_set(shares: dict[str, FactorValue], override_files: Sequence[str]) -> dict[str, FactorValue]:
    """Keep the shares of one layer only: the latest override file that gives any of them, else the
    defaults.  A user who gives a livestock's manure-system shares (or a waste composition) replaces
    the whole default set instead of adding to it."""
    origins = {fv.origin for fv in shares.values()}
    for origin in reversed(list(override_files)):
        if origin in origins:
            return {k: fv for k, fv in shares.items() if fv.origin == origin}
    return {k: fv for k, fv in shares.items() if not fv.overridden} or shares
