"""Alerts: what was seen, where, why it matters, and which rule (with its source) raised it.

An alert's id is a digest of everything that makes two alerts different: its kind (the rule), unit,
meter, product, grain (day, month, year or the reported period), indicator and period.  Running
the rules again on the same data yields the same ids, so a verifier's review is kept; two alerts
that differ only in grain (a data centre's monthly warning and its yearly error over the same
days) keep their own ids and severities.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, fields

import pandas as pd

SEVERITIES = ("info", "warning", "error")

#: Every kind of alert, with the plain explanation of why it matters (documented in
#: docs/methods/monitoring.md).
KINDS: dict[str, str] = {
    "pue_over_limit": "The data centre uses more energy per unit of IT load than the policy limit allows; "
    "it must improve cooling or power distribution or lose approval for expansion.",
    "pue_below_gb40879": "PUE worse than grade 3 of GB 40879-2021 means the centre is below the mandatory "
    "energy-efficiency limit value.",
    "product_over_limit": "Energy per unit of product above the mandatory limit value of the national "
    "standard: the unit must rectify and punitive electricity prices apply.",
    "product_below_base": "Energy per unit of product worse than NDRC's base level: the plant must be "
    "retrofitted or phased out by the deadline of the benchmark document.",
    "budget_warning": "Consumption to date has reached a warning level of the annual energy budget.",
    "budget_forecast_over": "At the current rate the unit will exceed its annual energy budget.",
    "inclusion_national": "The unit's annual consumption reaches 10,000 tce: it should be managed as a key "
    "energy-consuming unit (online monitoring, energy manager, annual reports).",
    "inclusion_provincial": "The unit's annual consumption reaches 5,000 tce: the province may designate it "
    "a key energy-consuming unit.",
    "gap": "Missing readings make totals too low and can hide consumption; completeness below 90 % "
    "breaks the national data-quality requirement.",
    "flat_line": "A meter that repeats one value (or a counter that stops) is frozen or tampered with; "
    "its energy is not being measured.",
    "negative_value": "Negative energy readings are physically impossible for a consumption meter.",
    "impossible_value": "A reading above what the meter can physically measure in one interval.",
    "counter_reset": "A cumulative counter fell back: the meter was replaced, reset or tampered with; the "
    "energy across the reset is uncertain.",
    "counter_rollover": "A cumulative counter wrapped around its maximum; handled, reported for the record.",
    "duplicate_readings": "More readings than time slots in a day: duplicates inflate interval-meter totals.",
    "spike": "A day far outside the meter's usual range (robust statistics) points to a meter fault or "
    "a data error.",
    "submeter_mismatch": "Sub-meters that do not add up to their parent meter mean one of them is wrong "
    "or energy is unaccounted for.",
    "intensity_jump": "Energy per unit of output jumped against the unit's usual level: either output "
    "or energy is misreported.",
    "reported_vs_metered": "The figure the unit reported differs from what its meters measured by more "
    "than the 5 % consistency limit: under-reporting is a form of data falsification.",
    "digit_test": "The digits of the reported figures do not follow the expected distribution "
    "(Benford first digit or uniform last digit): figures may be invented or rounded.",
    "platform_completeness": "Fewer than 90 % of the values the national platform expects for this unit, indicator "
    "and period arrived: the platform's totals are incomplete.",
    "platform_daily_vs_monthly": "The unit's daily reports do not add up to its monthly report within 5 %: one of "
    "them is wrong.",
    "platform_timestamp": "A figure's time label is off the start of its statistic period (daily 00:00 ± 1 min, "
    "monthly the 1st ± 1 day): it may be counted in the wrong period.",
    "platform_interval": "Readings further apart than the platform allows (15 minutes, at most 1 hour) hide load "
    "peaks and break the completeness count.",
    "platform_missing_indicator": "An indicator of the platform's minimum set was not uploaded (total energy, daily "
    "and monthly energy by type, product output and intensity, gross output, value added).",
    "meter_calibration_expired": "Readings came from a meter whose verification or calibration had expired: its "
    "figures are not legally traceable.",
    "meter_calibration_unknown": "Meters without a registered calibration date cannot be shown to be within their "
    "verification period.",
    "fault_unrepaired": "A collection or transmission fault lasted more than 3 working days: it had to be repaired, "
    "or registered with the provincial platform and the data filled in by hand.",
    "upload_late": "Figures uploaded after their deadline reach the platform too late for its daily and monthly "
    "statistics.",
}


@dataclass(frozen=True)
class Alert:
    kind: str
    severity: str
    unit_id: str | None
    meter_id: str | None
    period_start: dt.date | None
    period_end: dt.date | None
    value: float | None
    threshold: float | None
    value_unit: str
    observed: str
    location: str
    rule_source: str
    city: str | None = None
    product: str | None = None
    grain: str = ""  # day | month | year | period | window | registry ("" = the alert's own period)
    indicator: str = ""  # what was measured when a rule checks several (energy type, SEC basis, item)

    @property
    def why(self) -> str:
        return KINDS[self.kind]

    @property
    def alert_id(self) -> str:
        key = "|".join(
            str(x or "")
            for x in (self.kind, self.unit_id, self.meter_id, self.product, self.period_start, self.period_end)
        )
        if self.grain or self.indicator:
            # appended only when set, so that alerts without grain or indicator keep their ids
            # (and their reviews) across the upgrade
            key += f"|grain={self.grain}|indicator={self.indicator}"
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, object]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}  # shallow: asdict deep-copies
        d["alert_id"] = self.alert_id
        d["why"] = self.why
        return d


ALERT_COLUMNS = (
    "alert_id",
    "kind",
    "severity",
    "unit_id",
    "meter_id",
    "city",
    "product",
    "grain",
    "indicator",
    "period_start",
    "period_end",
    "value",
    "threshold",
    "value_unit",
    "observed",
    "location",
    "why",
    "rule_source",
)


def alerts_frame(alerts: Iterable[Alert]) -> pd.DataFrame:
    rows = [a.to_dict() for a in alerts]
    df = pd.DataFrame(rows, columns=list(ALERT_COLUMNS)) if rows else pd.DataFrame(columns=list(ALERT_COLUMNS))
    # identical ids mean identical identity: keep the most severe (never silently the first)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    df = df[list(ALERT_COLUMNS)]
    df = df.assign(_s=df["severity"].map(rank)).sort_values("_s", ascending=False, kind="stable")
    df = df.drop_duplicates(subset=["alert_id"], keep="first").drop(columns="_s")
    order = {k: i for i, k in enumerate(KINDS)}
    df["_o"] = df["kind"].map(order)
    return df.sort_values(["_o", "unit_id", "meter_id", "period_start"], na_position="first").drop(columns="_o").reset_index(drop=True)


def day_runs(days: pd.Series) -> list[tuple[int, int, list[int]]]:
    """Group sorted integer days into runs of consecutive days: [(first, last, positions)]."""
    vals = days.to_numpy()
    out: list[tuple[int, int, list[int]]] = []
    start = 0
    for i in range(1, len(vals) + 1):
        if i == len(vals) or vals[i] != vals[i - 1] + 1:
            out.append((int(vals[start]), int(vals[i - 1]), list(range(start, i))))
            start = i
    return out
