"""The meter-level data-quality checks of :mod:`carbonpeak.monitoring.quality`, as one rule."""

from __future__ import annotations

from carbonpeak.monitoring.alerts import Alert
from carbonpeak.monitoring.quality import quality_alerts
from carbonpeak.monitoring.rulebase import RuleContext, register


@register(
    "data_quality",
    kinds=("gap", "flat_line", "negative_value", "impossible_value", "counter_reset", "counter_rollover",
           "duplicate_readings", "spike", "submeter_mismatch"),
    source="national online-monitoring data-quality requirements; DBJ/T13-158-2012 range, sudden-change and correlation checks",
)  # fmt: skip
def data_quality(ctx: RuleContext) -> list[Alert]:
    """Gaps, flat lines, impossible values, counter resets and rollovers, duplicates, spikes, sub-meters."""
    return quality_alerts(ctx.res, ctx.cat, ctx.options.get("as_of"))
