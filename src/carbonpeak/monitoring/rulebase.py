"""The rule registry of the monitoring checks, the way accounting methods register themselves.

A rule is one function ``fn(ctx) -> list[Alert]`` decorated with :func:`register`; a table that
several rules (or the caller) need is one function ``fn(ctx) -> DataFrame`` decorated with
:func:`register_table` and read with ``ctx.table(name)`` (computed once per evaluation).  Every
module of :mod:`carbonpeak.monitoring.checks` is imported by :mod:`carbonpeak.monitoring.rules`,
so a new rule is one function in one file of that package::

    @register("my_rule", kinds=("my_kind",), source="document, clause")
    def my_rule(ctx: RuleContext) -> list[Alert]:
        ...

:func:`basis_tce` gives standard coal on the basis a compliance rule prescribes (当量值 or the
previous year's 等价值), whatever electricity method the statistics use.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.errors import CarbonpeakError
from carbonpeak.monitoring.alerts import Alert
from carbonpeak.monitoring.catalog import MonitoringCatalog
from carbonpeak.monitoring.pipeline import PipelineResult

RuleFn = Callable[["RuleContext"], list[Alert]]
TableFn = Callable[["RuleContext"], pd.DataFrame]

#: the compliance bases of electricity (see :func:`basis_tce`)
BASES = ("calorific", "substitution_prev", "statistics")


@dataclass(frozen=True)
class Rule:
    name: str
    fn: RuleFn
    kinds: tuple[str, ...]
    source: str
    description: str


_RULES: dict[str, Rule] = {}
_TABLES: dict[str, TableFn] = {}


def register(name: str, *, kinds: tuple[str, ...], source: str = "", description: str = "") -> Callable[[RuleFn], RuleFn]:
    """Decorator: register ``fn`` as the rule ``name`` raising alerts of ``kinds``."""

    def deco(fn: RuleFn) -> RuleFn:
        if name in _RULES and _RULES[name].fn is not fn:
            raise CarbonpeakError(f"monitoring rule '{name}' is registered twice")
        _RULES[name] = Rule(name, fn, kinds, source, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return deco


def unregister(name: str) -> None:
    """Remove a rule (tests and plug-ins that replace a packaged rule)."""
    _RULES.pop(name, None)


def register_table(name: str) -> Callable[[TableFn], TableFn]:
    """Decorator: register ``fn`` as the builder of the table ``name`` (``ctx.table(name)``)."""

    def deco(fn: TableFn) -> TableFn:
        _TABLES[name] = fn
        return fn

    return deco


def registered_rules() -> dict[str, Rule]:
    """All registered rules in registration order (importing :mod:`carbonpeak.monitoring.rules` fills it)."""
    return dict(_RULES)


@dataclass
class RuleContext:
    """What a rule sees: the pipeline result, the catalog, the registry inputs and options."""

    res: PipelineResult
    cat: MonitoringCatalog
    inputs: dict[str, pd.DataFrame]
    options: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            if name not in _TABLES:
                raise CarbonpeakError(f"no monitoring table '{name}' is registered")
            self.tables[name] = _TABLES[name](self)
        return self.tables[name]

    def input(self, name: str) -> pd.DataFrame:
        return self.inputs.get(name, pd.DataFrame())

    @property
    def units(self) -> pd.DataFrame:
        u = self.tables.get("__units")
        if u is None:
            u = self.res.units.set_index("unit_id", drop=False)
            self.tables["__units"] = u
        return u


# -- helpers shared by the rules ------------------------------------------------------------------
class RangeSum:
    """Sums of daily values over [d0, d1] per key, by cumulative sums and binary search."""

    def __init__(self, df: pd.DataFrame, keys: list[str], values: list[str]) -> None:
        self.values = values
        self.idx: dict[tuple, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        if df.empty:
            return
        # one sort by key and day, then numpy slices per key (iterating a pandas groupby costs a
        # frame per key: seconds for a few thousand units)
        d = df.sort_values([*keys, "day"], kind="stable")
        kcols = [d[k].to_numpy(dtype=object) for k in keys]
        days_all = d["day"].to_numpy()
        vals = {v: d[v].to_numpy(dtype=float) for v in values}
        n = len(d)
        new = np.zeros(n, dtype=bool)
        new[0] = True
        for c in kcols:
            new[1:] |= c[1:] != c[:-1]
        starts = np.flatnonzero(new)
        ends = np.append(starts[1:], n)
        for i0, i1 in zip(starts.tolist(), ends.tolist(), strict=True):
            cums = {v: np.concatenate([[0.0], np.cumsum(a[i0:i1])]) for v, a in vals.items()}
            self.idx[tuple(c[i0] for c in kcols)] = (days_all[i0:i1], cums)

    def get(self, key: tuple, d0: int, d1: int) -> tuple[dict[str, float], int]:
        if key not in self.idx:
            return dict.fromkeys(self.values, 0.0), 0
        days, cums = self.idx[key]
        i0, i1 = np.searchsorted(days, d0, "left"), np.searchsorted(days, d1, "right")
        return {v: float(c[i1] - c[i0]) for v, c in cums.items()}, int(i1 - i0)


def dn(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def num(v: object) -> float | None:
    """A float, or None for missing values (None, NaN, pd.NA, "")."""
    if v is None or v is pd.NA or (isinstance(v, str) and not v.strip()):
        return None
    f = float(v)  # type: ignore[arg-type]
    return None if math.isnan(f) else f


def grain_of(start: dt.date, end: dt.date) -> str:
    """day, month, year or period, from the bounds of a reported period."""
    if start == end:
        return "day"
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1 and start.month == end.month and start.year == end.year:
        return "month"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return "year"
    return "period"


def electricity_adjustment(res: PipelineResult, basis: str) -> tuple[dict[int, float], str]:
    """tce per kWh to add to the statistics' tce of electricity to put it on ``basis``, by year.

    ``calorific``: 当量值 (GB/T 2589-2020, 0.1229 kgce/kWh); ``substitution_prev``: the previous
    year's 等价值 (coal substitution); ``statistics``: whatever the run used (no change).  Returns
    the adjustment by year and a note when the coefficients do not carry the basis (a custom
    coefficient function), in which case the statistics' basis is kept and the note says so.
    """
    if basis not in BASES:
        raise CarbonpeakError(f"unknown electricity basis '{basis}'; choose one of {', '.join(BASES)}")
    if basis == "statistics":
        return {}, ""
    col = "tce_calorific_per_unit" if basis == "calorific" else "tce_substitution_prev_per_unit"
    c = res.coefficients
    if c.empty or col not in c.columns:
        return {}, f"the coefficients carry no {basis} basis: the run's electricity method is used"
    e = c[(c["energy_type"] == "electricity") & (c["kwh_per_unit"] > 0)]
    out: dict[int, float] = {}
    missing = []
    for r in e.itertuples(index=False):
        target = getattr(r, col)
        if target is None or (isinstance(target, float) and math.isnan(target)):
            missing.append(int(r.year))
            continue
        out[int(r.year)] = (float(target) - float(r.tce_per_unit)) / float(r.kwh_per_unit)
    note = f"no {basis} coefficient for {sorted(set(missing))}: the run's method is used there" if missing else ""
    return out, note


def basis_tce(res: PipelineResult, frame: pd.DataFrame, basis: str, kwh_col: str = "kwh") -> tuple[np.ndarray, str]:
    """tce of meter-day or unit-day rows (columns ``day``, ``energy_type``, ``tce``, ``kwh_col``) on ``basis``."""
    adj, note = electricity_adjustment(res, basis)
    tce = frame["tce"].to_numpy(dtype=float).copy()
    if not adj or frame.empty:
        return tce, note
    years = frame["day"].to_numpy().astype("datetime64[D]").astype("datetime64[Y]").astype("int64") + 1970
    a = pd.Series(years).map(adj).fillna(0.0).to_numpy(dtype=float)
    is_el = frame["energy_type"].to_numpy() == "electricity"
    tce[is_el] += frame[kwh_col].to_numpy(dtype=float)[is_el] * a[is_el]
    return tce, note
