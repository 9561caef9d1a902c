"""The monitoring rules: PUE, product energy intensity and surcharges, energy budgets and
inclusion, reported vs metered energy, digit tests, data quality and the national platform's checks.

Each rule is one registered function in :mod:`carbonpeak.monitoring.checks` (see
:mod:`carbonpeak.monitoring.rulebase`); every threshold, limit and surcharge comes from
:class:`~carbonpeak.monitoring.catalog.MonitoringCatalog`.  :func:`evaluate` runs every registered
rule over the pipeline result and the registry inputs and returns the tables and all alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

import carbonpeak.monitoring.checks  # noqa: F401  (registers every rule)
from carbonpeak.errors import CarbonpeakError
from carbonpeak.monitoring.alerts import Alert, alerts_frame
from carbonpeak.monitoring.catalog import MonitoringCatalog
from carbonpeak.monitoring.checks.digits import BENFORD, digit_tests
from carbonpeak.monitoring.checks.products import round_std, surcharge
from carbonpeak.monitoring.engine import release_memory
from carbonpeak.monitoring.pipeline import PipelineResult
from carbonpeak.monitoring.rulebase import RuleContext, registered_rules

__all__ = ["BENFORD", "RuleResult", "digit_tests", "evaluate", "round_std", "surcharge"]

EMPTY_INPUTS: dict[str, list[str]] = {
    "output": ["unit_id", "product", "period_start", "period_end", "quantity", "unit"],
    "budgets": ["unit_id", "year", "budget_tce"],
    "reported": ["unit_id", "period_start", "period_end", "energy_tce"],
    "uploads": ["unit_id", "indicator", "frequency", "period_start", "value", "unit", "uploaded_at"],
}


@dataclass
class RuleResult:
    alerts: pd.DataFrame
    pue: pd.DataFrame
    products: pd.DataFrame
    budgets: pd.DataFrame
    reported: pd.DataFrame
    digits: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)


def evaluate(
    res: PipelineResult,
    cat: MonitoringCatalog,
    *,
    output: pd.DataFrame | None = None,
    budgets: pd.DataFrame | None = None,
    reported: pd.DataFrame | None = None,
    uploads: pd.DataFrame | None = None,
    warn_levels: list[float] | None = None,
    only: Iterable[str] | None = None,
    as_of: dt.datetime | None = None,
) -> RuleResult:
    """Run every registered rule (or the ``only`` ones) and return the tables and all alerts."""
    given = {"output": output, "budgets": budgets, "reported": reported, "uploads": uploads}
    inputs = {k: (v if v is not None else pd.DataFrame(columns=EMPTY_INPUTS[k])) for k, v in given.items()}
    ctx = RuleContext(res, cat, inputs, {"warn_levels": warn_levels, "as_of": as_of})
    rules = registered_rules()
    names = list(rules) if only is None else list(only)
    unknown = [n for n in names if n not in rules]
    if unknown:
        raise CarbonpeakError(f"unknown monitoring rule(s) {', '.join(unknown)}; known: {', '.join(rules)}")
    alerts: list[Alert] = []
    for name in names:
        rule = rules[name]
        found = rule.fn(ctx)
        stray = {a.kind for a in found} - set(rule.kinds)
        if stray:
            raise CarbonpeakError(f"monitoring rule '{name}' raised undeclared alert kinds {sorted(stray)}")
        alerts += found
        release_memory()  # each rule's temporaries back to the system: the next rule's peak does not stack on them
    tables = {k: v for k, v in ctx.tables.items() if not k.startswith("__")}
    return RuleResult(
        alerts_frame(alerts),
        ctx.table("pue"),
        ctx.table("products"),
        ctx.table("budgets"),
        ctx.table("reported"),
        ctx.table("digits"),
        tables,
        names,
    )
