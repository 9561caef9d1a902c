"""The tasks of the schedule (:mod:`carbonpeak.workflows.schedule`): unattended checks, runs and reports.

Each task takes ``(store, params, due)`` — ``due`` is the firing's time, read in the schedule's
time zone — and returns a :class:`~carbonpeak.workflows.schedule.TaskOutcome` with its result and
the notifications to send:

* ``deadline_check`` — reporting deadlines: every registered enterprise without a ``kind``
  submission for the period by the due date gets a ``missed_deadline`` credit event
  (:meth:`DataAccess.check_deadlines`); notified when any is missed;
* ``monitoring_run`` — the monitoring pipeline and rules over the last ``days`` days; notified
  of the alerts this run opened (new, not the ones it saw again);
* ``report_monthly`` — the month's monitoring report (alerts by kind, severity and city; every
  alert opened in the month) as CSV and JSON in ``reports_dir/monthly/``;
* ``report_annual`` — the annual assessment report (HTML, JSON, PDF where Chromium is installed)
  in ``reports_dir/annual/``.

The scheduler acts as the principal ``scheduler`` with the administrator's scope (it checks the
whole province); its actions are in the audit log under that name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carbonpeak.config import get_settings
from carbonpeak.errors import CarbonpeakError
from carbonpeak.i18n import Msg, declare, names
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal
from carbonpeak.workflows.notify import Message
from carbonpeak.workflows.schedule import TaskFn, TaskOutcome

SCHEDULER = Principal("scheduler", "admin")

# the notifications' texts (catalog messages/notify.yaml), rendered in each recipient's language
declare({
    "notify.more": {"n": int},
    "notify.item": {"what": str},
    "notify.kind.readings": {},
    "notify.kind.output": {},
    "notify.deadline.subject": {"n": int, "kind": Msg, "period": str, "due": str},
    "notify.deadline.body": {"kind": Msg, "period": str, "due": str},
    "notify.deadline.tail": {},
    "notify.alerts.subject": {"n": int, "first": str, "last": str},
    "notify.alerts.line": {"severity": Msg, "kind": Msg, "unit": str, "city": str, "period": str, "observed": Msg},
    "notify.alerts.tail": {"run_id": str},
    "notify.monthly.subject": {"month": str, "n": int},
    "notify.monthly.written": {"files": str},
    "notify.monthly.line": {"kind": Msg, "severity": Msg, "city": str, "n": int},
    "notify.annual.subject": {"report_lang": Msg},
    "notify.annual.written": {},
    "notify.lang.zh": {},
    "notify.lang.en": {},
    "notify.test.body_at": {"at": str},
    "notify.test.subject": {},
    "notify.test.body": {},
})


def _key(key: str, default: str) -> Msg | dict[str, Any] | str:
    """A catalog label (``alert.<kind>``, ``severity.<s>``) as a nested message, ``default`` without one."""
    from carbonpeak.i18n import load_messages

    return {"message_key": key, "params": {}} if key in load_messages() else default


def _city(code: str | None) -> dict[str, str] | str:
    """A city's name in both languages (the code if the catalog lacks it)."""
    from carbonpeak.catalog.regions import load_regions

    if not isinstance(code, str) or not code:  # no city (NaN in a count by city)
        return "–"
    r = load_regions().get(code)
    return names(r.name("zh"), r.name("en")) if r is not None else code


def _more(n: int, shown: int) -> list[Msg]:
    return [Msg("notify.more", n=n - shown)] if n > shown else []


def _local(due: datetime, params: Mapping[str, Any]) -> datetime:
    tz = str(params.get("timezone") or get_settings().schedule_timezone)
    return due.astimezone(ZoneInfo(tz))


def _previous_month(d: date) -> tuple[date, date]:
    last = d.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _reports_dir(params: Mapping[str, Any], sub: str) -> Path:
    base = Path(params.get("out_dir") or get_settings().reports_dir)
    return base / sub


def deadline_check(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
    """``params``: ``kind`` (readings | output), ``period`` (previous_month | previous_year | YYYY[-MM]),
    ``days_after`` (the check runs this many days after the due date; default 1)."""
    from carbonpeak.store.access import DataAccess

    kind = str(params.get("kind", "readings"))
    if kind not in ("readings", "output"):
        raise CarbonpeakError(f"deadline_check: kind must be readings or output, not '{kind}'")
    due_date = _local(due, params).date() - timedelta(days=int(params.get("days_after", 1)))
    spec = str(params.get("period", "previous_month"))
    if spec == "previous_month":
        period = _previous_month(due_date)[0].strftime("%Y-%m")
    elif spec == "previous_year":
        period = str(due_date.year - 1)
    else:
        period = spec
    missed = DataAccess(store, SCHEDULER).check_deadlines(kind=kind, period=period, due=due_date)
    result = {"kind": kind, "period": period, "due_date": due_date.isoformat(), "missed": missed}
    msgs = [deadline_message(missed, kind, period, due_date)] if missed else []
    return TaskOutcome(result, msgs)


def deadline_message(missed: list[str], kind: str, period: str, due_date: date) -> Message:
    """The notification of enterprises that missed a reporting deadline (at most 50 named)."""
    what = Msg(f"notify.kind.{kind}")
    due_s = due_date.isoformat()
    return Message(
        "deadline",
        Msg("notify.deadline.subject", n=len(missed), kind=what, period=period, due=due_s),
        (Msg("notify.deadline.body", kind=what, period=period, due=due_s),
         *[Msg("notify.item", what=str(e)) for e in missed[:50]], *_more(len(missed), 50),
         Msg("notify.deadline.tail")),
    )  # fmt: skip


def alerts_message(new: Any, d_from: date, d_to: date, run_id: str) -> Message:
    """The notification of a run's new alerts (a frame of ``mon_alerts`` rows; at most 30 listed):
    severity, kind and city in the recipient's language, then what was observed."""
    import json

    lines = []
    for r in new.head(30).itertuples():
        params = json.loads(r.params) if isinstance(r.params, str) else (r.params or {})
        observed = ({"message_key": r.message_key, "params": params} if r.message_key
                    else str(r.observed or r.why))  # fmt: skip
        lines.append(Msg("notify.alerts.line", severity=_key(f"severity.{r.severity}", str(r.severity)),
                         kind=_key(f"alert.{r.kind}", str(r.kind)), unit=str(r.unit_id), city=_city(r.city),
                         period=str(r.period_start), observed=observed))  # fmt: skip
    return Message(
        "alerts",
        Msg("notify.alerts.subject", n=len(new), first=d_from.isoformat(), last=d_to.isoformat()),
        (*lines, *_more(len(new), 30), Msg("notify.alerts.tail", run_id=str(run_id))),
    )


def monitoring_run(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
    """``params``: ``days`` (window ending yesterday; default 1), ``incremental`` (default false),
    ``grid`` (default national)."""
    from carbonpeak.workflows.monitoring_run import run_monitoring

    s = get_settings()
    today = _local(due, params).date()
    days = max(1, int(params.get("days", 1)))
    d_to = today - timedelta(days=1)
    d_from = d_to - timedelta(days=days - 1)
    o = run_monitoring(
        store, d_from, d_to, engine=s.engine, lake=s.lake_path, electricity_method=s.electricity_method,
        grid=str(params.get("grid", "national")), spark_master=s.spark_master,
        incremental=bool(params.get("incremental", False)),
    )  # fmt: skip
    new = store.query(
        "SELECT alert_id, kind, severity, unit_id, city, CAST(period_start AS VARCHAR) AS period_start, why, "
        "observed, message_key, params "
        "FROM mon_alerts WHERE first_run = ? ORDER BY severity DESC, kind, unit_id",
        [o.run_id],
    )
    result = {
        "run_id": o.run_id,
        "from": d_from.isoformat(),
        "to": d_to.isoformat(),
        "alerts": len(o.rules.alerts),
        "new_alerts": len(new),
    }
    msgs = [alerts_message(new, d_from, d_to, o.run_id)] if len(new) else []
    return TaskOutcome(result, msgs)


def report_monthly(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
    """The previous month's monitoring report: alerts opened in the month (CSV) and counts (JSON)."""
    import pandas as pd

    from carbonpeak.jsonutil import to_json
    from carbonpeak.store.access import DataAccess

    first, last = _previous_month(_local(due, params).date())
    month = first.strftime("%Y-%m")
    try:
        alerts = DataAccess(store, SCHEDULER).monitoring_alerts(status=None)
    except Exception as exc:  # no monitoring tables in this store
        raise CarbonpeakError(f"report_monthly: no monitoring data in this store ({type(exc).__name__})") from exc
    if len(alerts):
        ps = pd.to_datetime(alerts["period_start"]).dt.date
        alerts = alerts[(ps >= first) & (ps <= last)]
    counts = (
        alerts.groupby(["kind", "severity", "city"], dropna=False).size().reset_index(name="alerts")
        if len(alerts) else pd.DataFrame(columns=["kind", "severity", "city", "alerts"])
    )  # fmt: skip
    out = _reports_dir(params, "monthly")
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"monitoring-{month}-alerts.csv"
    alerts.to_csv(csv_path, index=False, encoding="utf-8-sig")  # BOM: opens in zh-CN Excel
    summary = {
        "month": month,
        "alerts": len(alerts),
        "open": int((alerts["status"] == "open").sum()) if len(alerts) else 0,
        "by_kind_severity_city": counts.to_dict(orient="records"),
    }
    json_path = out / f"monitoring-{month}.json"
    json_path.write_text(to_json(summary), encoding="utf-8")
    files = [str(csv_path), str(json_path)]
    top = [Msg("notify.monthly.line", kind=_key(f"alert.{r.kind}", str(r.kind)),
               severity=_key(f"severity.{r.severity}", str(r.severity)), city=_city(r.city), n=int(r.alerts))
           for r in counts.head(20).itertuples()]  # fmt: skip
    msg = Message("report", Msg("notify.monthly.subject", month=month, n=len(alerts)),
                  (Msg("notify.monthly.written", files=", ".join(files)), *top))  # fmt: skip
    return TaskOutcome({"month": month, "files": files, "alerts": len(alerts)}, [msg])


def report_annual(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
    """The annual assessment report; ``params``: ``year`` (default: the latest year with an
    inventory), ``lang`` (zh | en, default zh), ``pdf`` (default true)."""
    from carbonpeak.reports.annual import write_assessment_report

    year = params.get("year")
    lang = str(params.get("lang", "zh"))
    files = write_assessment_report(store, int(year) if year else None, _reports_dir(params, "annual"),
                                    lang=lang, pdf=bool(params.get("pdf", True)))  # fmt: skip
    written = [str(f) for f in files]
    msg = Message("report", Msg("notify.annual.subject", report_lang=_key(f"notify.lang.{lang}", lang)),
                  (Msg("notify.annual.written"), *written))  # fmt: skip
    return TaskOutcome({"files": written, "lang": lang}, [msg])


def notify_test(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
    """Send a test notification on every channel (checks the settings)."""
    return TaskOutcome({"test": True}, [Message("test", Msg("notify.test.subject"),
                                                Msg("notify.test.body_at", at=due.isoformat()))])  # fmt: skip


TASKS: dict[str, TaskFn] = {
    "deadline_check": deadline_check,
    "monitoring_run": monitoring_run,
    "report_monthly": report_monthly,
    "report_annual": report_annual,
    "notify_test": notify_test,
}
