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

from carbonpeak.i18n import DECLARED, Msg, declare, t

SEVERITIES = ("info", "warning", "error")

#: Every kind of alert, in the order alerts are listed.  The plain explanation of why each matters
#: is the message ``alert_why.<kind>`` of catalog/data/messages/monitoring.yaml (zh and en;
#: documented in docs/methods/monitoring.md).
ALERT_KINDS: tuple[str, ...] = (
    "pue_over_limit",
    "pue_below_gb40879",
    "product_over_limit",
    "product_below_base",
    "budget_warning",
    "budget_forecast_over",
    "inclusion_national",
    "inclusion_provincial",
    "gap",
    "flat_line",
    "negative_value",
    "impossible_value",
    "counter_reset",
    "counter_rollover",
    "duplicate_readings",
    "spike",
    "submeter_mismatch",
    "intensity_jump",
    "reported_vs_metered",
    "digit_test",
    "platform_completeness",
    "platform_daily_vs_monthly",
    "platform_timestamp",
    "platform_interval",
    "platform_missing_indicator",
    "meter_calibration_expired",
    "meter_calibration_unknown",
    "fault_unrepaired",
    "upload_late",
)

#: kind → the English explanation (the catalog's ``en`` text; :func:`why` gives any language).
KINDS: dict[str, str] = {k: t(f"alert_why.{k}", "en") for k in ALERT_KINDS}


declare({f"alert_obs.grain_{g}": {} for g in ("day", "month", "year", "period")}
        | {f"alert_obs.freq_{f}": {} for f in ("day", "month")})


def grain_word(grain: str) -> Msg | str:
    """``day``/``month``/``year``/``period`` as a message (translated where it is printed)."""
    return Msg(f"alert_obs.grain_{grain}") if f"alert_obs.grain_{grain}" in DECLARED else grain


def freq_word(freq: str) -> Msg | str:
    """``day``/``month`` as the adjective of a reporting frequency (daily, monthly)."""
    return Msg(f"alert_obs.freq_{freq}") if f"alert_obs.freq_{freq}" in DECLARED else freq


def why(kind: str, lang: str = "en") -> str:
    """Why an alert of ``kind`` matters, in ``lang``."""
    return t(f"alert_why.{kind}", lang)


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
    observed: str  # a :class:`~carbonpeak.i18n.Msg` (message key + parameters); its str is the English text
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
        d["observed"] = str(self.observed)
        msg = self.observed.to_dict() if isinstance(self.observed, Msg) else {"message_key": None, "params": {}}
        d["message_key"] = msg["message_key"]
        d["params"] = msg["params"]
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
    "message_key",  # the catalog key of ``observed`` (render it in any language with carbonpeak.i18n)
    "params",  # its parameters (a dict; JSON text in the store)
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
