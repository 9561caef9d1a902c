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
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal
from carbonpeak.workflows.notify import Message
from carbonpeak.workflows.schedule import TaskFn, TaskOutcome

SCHEDULER = Principal("scheduler", "admin")


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
    msgs = []
    if missed:
        shown = "\n".join(f"- {e}" for e in missed[:50]) + (f"\n… and {len(missed) - 50} more" if len(missed) > 50 else "")
        msgs.append(Message(
            "deadline",
            f"{len(missed)} enterprise(s) missed the {kind} deadline for {period} (due {due_date.isoformat()})",
            f"No {kind} submission for {period} arrived by {due_date.isoformat()} (China Standard Time) from:\n{shown}\n"
            "Each is recorded as a missed_deadline credit event.",
        ))  # fmt: skip
    return TaskOutcome(result, msgs)


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
        "SELECT alert_id, kind, severity, unit_id, city, CAST(period_start AS VARCHAR) AS period_start, why "
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
    msgs = []
    if len(new):
        lines = [f"- [{r.severity}] {r.kind} {r.unit_id} ({r.city}) {r.period_start}: {r.why}"
                 for r in new.head(30).itertuples()]  # fmt: skip
        more = f"\n… and {len(new) - 30} more" if len(new) > 30 else ""
        msgs.append(Message(
            "alerts",
            f"{len(new)} new monitoring alert(s), {d_from.isoformat()} – {d_to.isoformat()}",
            "\n".join(lines) + more + f"\nRun {o.run_id}; review them on the monitoring page.",
        ))  # fmt: skip
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
    top = "\n".join(f"- {r.kind} [{r.severity}] {r.city}: {r.alerts}" for r in counts.head(20).itertuples())
    msg = Message("report", f"monthly monitoring report {month}: {len(alerts)} alert(s)",
                  f"Written: {', '.join(files)}\n{top}".strip())  # fmt: skip
    return TaskOutcome({"month": month, "files": files, "alerts": len(alerts)}, [msg])


def report_annual(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
    """The annual assessment report; ``params``: ``year`` (default: the latest year with an
    inventory), ``lang`` (zh | en, default zh), ``pdf`` (default true)."""
    from carbonpeak.reports.annual import write_assessment_report

    year = params.get("year")
    lang = str(params.get("lang", "zh"))
    files = write_assessment_report(store, int(year) if year else None, _reports_dir(params, "annual"),
                                    lang=lang, pdf=bool(params.get("pdf", True)))  # fmt: skip
    names = [str(f) for f in files]
    msg = Message("report", f"annual assessment report written ({lang})", "Written:\n" + "\n".join(names))
    return TaskOutcome({"files": names, "lang": lang}, [msg])


def notify_test(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
    """Send a test notification on every channel (checks the settings)."""
    return TaskOutcome({"test": True}, [Message("test", "test notification",
                                                f"carbonpeak can reach you (sent {due.isoformat()}).")])  # fmt: skip


TASKS: dict[str, TaskFn] = {
    "deadline_check": deadline_check,
    "monitoring_run": monitoring_run,
    "report_monthly": report_monthly,
    "report_annual": report_annual,
    "notify_test": notify_test,
}
