"""The contract between the inventory engine and its category methods.

The engine (``accounting.engine``) validates activity data, groups it by the category
prefixes each method registered for, calls the method, concatenates what they return and
applies a GWP set.  A *method* is a pure function::

    def fuel_combustion(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame

``activity`` holds only the rows of its categories, with the columns of
:data:`ACTIVITY_COLUMNS` (amounts already typed as float, units as given in the file).  It
returns a frame with exactly :data:`RESULT_COLUMNS`: one row per (year, region, category,
item, gas) with the mass of gas in tonnes (negative for removals), the scope of the row, the
uncertainties of activity and factor (95 % half-width in percent, for Approach 1 and 2),
``factor_key`` (an id of the emission factor used, e.g. ``raw_coal|CO2|1.A.1``: rows sharing a
key share one factor draw in the Monte Carlo, i.e. are fully correlated) and ``explain``, a
JSON text naming the rows and factors behind the figure (with their sources and whether a user
override was used).  Methods never read files or print.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from carbonpeak.catalog.factors import FactorSet, FactorValue
from carbonpeak.i18n import Msg
from carbonpeak.model.activity import OUTPUT_COLUMNS

#: The columns of the activity rows a method receives: exactly what ``model.activity`` validates.
ACTIVITY_COLUMNS = OUTPUT_COLUMNS

#: Scopes of a result row.  Only ``territorial`` rows count towards the inventory totals;
#: the memo items are reported beside them (IPCC 2006 Vol 1 Ch 8 memo items, and Chinese
#: provincial practice for imported electricity).
SCOPES = (
    "territorial",
    "memo_imported_electricity",
    "memo_international_bunkers",
    "memo_biomass_co2",
    "memo_reference_approach",
)

RESULT_COLUMNS = (
    "year",
    "region",
    "category",
    "item",
    "gas",
    "mass_t",
    "scope",
    "ad_uncertainty_pct",
    "ef_uncertainty_pct",
    "factor_key",
    "explain",
)

GASES = (
    "CO2",
    "CH4",
    "N2O",
    "HFC-23",
    "HFC-32",
    "HFC-125",
    "HFC-134a",
    "HFC-143a",
    "CF4",
    "C2F6",
    "SF6",
    "NF3",
)


@dataclass(frozen=True)
class MethodContext:
    """What a method may use besides its activity rows."""

    factors: FactorSet
    options: dict[str, Any] = field(default_factory=dict)
    #: Data warnings a method raises about its results (a factor used for a year it does not
    #: cover, ...): dicts with at least ``code``, ``year``, ``region``, ``category`` and
    #: ``message``.  The engine hands them to the :class:`~carbonpeak.accounting.engine.Inventory`,
    #: whose summary and reports show them.
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def warn(self, code: str, message: str, **where: Any) -> None:
        """Record a data warning; ``message`` is a :class:`~carbonpeak.i18n.Msg` (key and parameters,
        kept as ``message_key``/``params`` so that each reader sees it in its language)."""
        rec = {"code": code, **where, "message": str(message)}
        if isinstance(message, Msg):
            rec |= message.to_dict()
        if rec not in self.warnings:
            self.warnings.append(rec)

    def factor(self, item: str, parameter: str, **kw: Any) -> FactorValue:
        return self.factors.get(item, parameter, **kw)


MethodFn = Callable[[pd.DataFrame, MethodContext], pd.DataFrame]


@dataclass(frozen=True)
class Method:
    """A registered category method."""

    name: str
    prefixes: tuple[str, ...]
    fn: MethodFn
    description: str = ""


_REGISTRY: dict[str, Method] = {}


def register(name: str, prefixes: tuple[str, ...], description: str = "") -> Callable[[MethodFn], MethodFn]:
    """Decorator: register ``fn`` as the method for the IPCC category ``prefixes``."""

    def deco(fn: MethodFn) -> MethodFn:
        _REGISTRY[name] = Method(name, prefixes, fn, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return deco


def registry() -> dict[str, Method]:
    """All registered methods (importing :mod:`carbonpeak.accounting.methods` fills it)."""
    return dict(_REGISTRY)


def explain_json(**parts: Any) -> str:
    """Serialise an explain record (factor values become their ``to_dict()``)."""

    def conv(o: Any) -> Any:
        if isinstance(o, FactorValue):
            return o.to_dict()
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [conv(v) for v in o]
        return o

    return json.dumps(conv(parts), ensure_ascii=False, default=str)


def empty_result() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RESULT_COLUMNS})
