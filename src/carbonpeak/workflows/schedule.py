"""The schedule of unattended work: which task runs when, and the rule that fires each once.

The schedule is configuration, a YAML file (setting ``schedule_file``; default ``schedule.yaml``
beside the config file when there is one, else the packaged :file:`schedule.yaml` next to this
module)::

    timezone: Asia/Shanghai        # of the cron expressions (default: setting schedule_timezone)
    jobs:
      - name: monitoring-daily     # unique; [a-z0-9-]
        task: monitoring_run       # a task of carbonpeak.reports.scheduled.TASKS
        cron: "30 2 * * *"         # minute hour day month weekday (crontab)
        grace: 6h                  # a missed firing still runs this long after its time
        enabled: true
        params: {days: 1}          # passed to the task

**One firing, however many runners.**  A firing of job ``name`` due at ``t`` is claimed by
inserting the row ``sched:<name>:<t>`` into the ``jobs`` table: its primary key lets exactly
one insert succeed, whichever process (a service worker's APScheduler, a systemd timer or cron
running ``carbonpeak schedule run-due``) gets there first; the others see the row and skip.  The
same row records the run (status, result with the notifications sent, or error), so the jobs
table is also the schedule's history.  No table of its own.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.store import jobs as job_table
from carbonpeak.store.duck import Store
from carbonpeak.workflows.notify import Delivery, Message, Notifier

declare({"notify.failure.subject": {"name": str}, "notify.failure.internal": {"name": str, "error_type": str}})

log = logging.getLogger("carbonpeak.schedule")

PACKAGED = Path(__file__).with_name("schedule.yaml")
JOB_PREFIX = "sched:"
OWNER = "scheduler"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class TaskOutcome:
    """What a task did: a JSON-able ``result`` and the notifications it asks for."""

    result: dict[str, Any]
    messages: list[Message] = field(default_factory=list)


#: A task: ``(store, params, due)`` → :class:`TaskOutcome`; raises CarbonpeakError on bad input.
TaskFn = Callable[[Store, Mapping[str, Any], datetime], TaskOutcome]


@dataclass(frozen=True)
class Entry:
    """One job of the schedule."""

    name: str
    task: str
    cron: str
    timezone: str
    grace: timedelta = timedelta(hours=6)
    enabled: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def trigger(self) -> Any:
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))

    def next_run(self, now: datetime) -> datetime | None:
        """The first firing after ``now``."""
        return self.trigger().get_next_fire_time(None, now + timedelta(microseconds=1))  # type: ignore[no-any-return]

    def due(self, now: datetime) -> datetime | None:
        """The latest firing at or before ``now`` that is still within ``grace``, else ``None``."""
        trig = self.trigger()
        t = trig.get_next_fire_time(None, now - self.grace)
        last = None
        while t is not None and t <= now:
            last = t
            t = trig.get_next_fire_time(t, t)
        return last

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "task": self.task,
            "cron": self.cron,
            "timezone": self.timezone,
            "grace_seconds": int(self.grace.total_seconds()),
            "enabled": self.enabled,
            "params": dict(self.params),
            "description": self.description,
        }
        if now is not None:
            nxt = self.next_run(now) if self.enabled else None
            d["next_run"] = nxt.isoformat() if nxt else None
        return d


def _duration(v: Any, where: Problem) -> timedelta:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return timedelta(seconds=float(v))
    m = _DURATION_RE.match(str(v))
    if not m:
        raise ValidationError([Problem(where.file, where.row, where.field, f"not a duration (30m, 6h, 2d): '{v}'")])
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def schedule_path(setting: Path | None = None) -> Path:
    """The schedule file in force: the setting, ``schedule.yaml`` beside the config file, or the packaged one."""
    import os

    if setting is not None:
        return Path(setting)
    cfg = Path(os.environ.get("CARBONPEAK_CONFIG", "carbonpeak.toml"))
    beside = cfg.parent / "schedule.yaml"
    if cfg.exists() and beside.exists():
        return beside
    return PACKAGED


def load_schedule(path: Path | None = None, *, tasks: Mapping[str, Any] | None = None,
                  default_tz: str | None = None) -> list[Entry]:  # fmt: skip
    """Read and check a schedule file; errors name the file, the job (as row) and the field."""
    from apscheduler.triggers.cron import CronTrigger

    from carbonpeak.catalog.loader import load_yaml
    from carbonpeak.config import get_settings

    p = schedule_path(path if path is not None else get_settings().schedule_file)
    if not p.exists():
        raise ValidationError([Problem(str(p), None, None, "schedule file not found")])
    try:
        doc = load_yaml(p.resolve()) or {}
    except CarbonpeakError as exc:
        raise ValidationError([Problem(str(p), None, None, str(exc))]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs", []), list):
        raise ValidationError([Problem(str(p), None, "jobs", "expected a mapping with a list 'jobs'")])
    tz = str(doc.get("timezone") or default_tz or get_settings().schedule_timezone)
    problems: list[Problem] = []
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(str(p), None, "timezone", f"unknown time zone '{tz}'"))
        tz = "UTC"
    out: list[Entry] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc.get("jobs") or [], start=1):
        if not isinstance(raw, dict):
            problems.append(Problem(str(p), i, None, "a job must be a mapping"))
            continue
        name = str(raw.get("name", ""))
        if not _NAME_RE.match(name):
            problems.append(Problem(str(p), i, "name", f"job {i}: name must be [a-z0-9-] (1-64 chars): '{name}'"))
        elif name in seen:
            problems.append(Problem(str(p), i, "name", f"duplicate job name '{name}'"))
        seen.add(name)
        task = str(raw.get("task", ""))
        if tasks is not None and task not in tasks:
            problems.append(Problem(str(p), i, "task", f"unknown task '{task}'; known: {', '.join(sorted(tasks))}"))
        cron = str(raw.get("cron", ""))
        try:
            CronTrigger.from_crontab(cron, timezone=ZoneInfo(tz))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(str(p), i, "cron", f"not a crontab expression '{cron}': {exc}"))
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            problems.append(Problem(str(p), i, "params", "params must be a mapping"))
            params = {}
        try:
            grace = _duration(raw.get("grace", "6h"), Problem(str(p), i, "grace", ""))
        except ValidationError as exc:
            problems += exc.problems
            grace = timedelta(hours=6)
        out.append(Entry(name, task, cron, tz, grace, bool(raw.get("enabled", True)), params,
                         str(raw.get("description", ""))))  # fmt: skip
    if problems:
        raise ValidationError(problems)
    return out


def job_id(entry: Entry, due: datetime) -> str:
    return f"{JOB_PREFIX}{entry.name}:{due.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"


def claim(store: Store, entry: Entry, due: datetime) -> str | None:
    """Claim the firing of ``entry`` due at ``due``: its job id, or ``None`` when another runner has it.

    The claim is the insert of the job's row: the primary key of ``jobs`` lets one insert win on
    any backend (DuckDB, PostgreSQL), so no lock is held while the task runs.
    """
    jid = job_id(entry, due)
    try:
        job_table.insert(store, jid, f"schedule:{entry.name}", OWNER)
    except Exception:  # a duplicate key (the backends raise different classes): somebody else has it
        if job_table.get(store, jid) is not None:
            return None
        raise
    return jid


def history(store: Store, limit: int = 200) -> list[dict[str, Any]]:
    """The latest scheduled runs (newest first) from the jobs table."""
    df = store.query(
        "SELECT job_id, kind, status, error, result, CAST(created_at AS VARCHAR) AS created_at, "
        "CAST(finished_at AS VARCHAR) AS finished_at FROM jobs WHERE owner = ? AND kind LIKE 'schedule:%' "
        "ORDER BY created_at DESC LIMIT ?",
        [OWNER, int(limit)],
    )
    out = []
    for rec in df.to_dict(orient="records"):
        rec["name"] = str(rec.pop("kind")).removeprefix("schedule:")
        rec["result"] = json.loads(rec["result"]) if rec.get("result") else None
        out.append(rec)
    return out


def last_runs(store: Store) -> dict[str, dict[str, Any]]:
    """The latest run of each job name."""
    out: dict[str, dict[str, Any]] = {}
    for rec in history(store, limit=1000):
        out.setdefault(rec["name"], rec)
    return out


def run_entry(store: Store, entry: Entry, tasks: Mapping[str, TaskFn], due: datetime, *,
              notifier: Notifier | None = None, jid: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Run a claimed firing: the task, then its notifications; the outcome is stored on the job row.

    A failing task marks the job failed (a CarbonpeakError with its message; anything else as an
    internal error, logged) and sends a ``failure`` notification; a failing notification is
    recorded in the result and never fails the job.
    """
    jid = jid or job_id(entry, due)
    notifier = notifier or Notifier()
    job_table.update(store, jid, status="running")
    deliveries: list[Delivery] = []
    try:
        fn = tasks[entry.task]
        outcome = fn(store, entry.params, due)
    except Exception as exc:
        arg = exc.args[0] if len(exc.args) == 1 else None
        detail: Msg | str
        if isinstance(exc, CarbonpeakError):
            detail = arg if isinstance(arg, Msg) else str(exc)  # an error with a message key stays one
        else:
            log.exception("scheduled job %s failed", entry.name)
            detail = Msg("notify.failure.internal", name=entry.name, error_type=type(exc).__name__)
        error = str(detail)  # the job row keeps the English text
        deliveries = notifier.send(Message("failure", Msg("notify.failure.subject", name=entry.name), detail))
        result = {"due": due.isoformat(), "notifications": [d.to_dict() for d in deliveries]}
        job_table.update(store, jid, status="failed", error=error, finished_at=datetime.now(UTC),
                         result=json.dumps(result, ensure_ascii=False, default=str))  # fmt: skip
        return {"job_id": jid, "name": entry.name, "status": "failed", "error": error, **result}
    deliveries = notifier.send_all(outcome.messages)
    result = {
        "due": due.isoformat(),
        **outcome.result,
        "notifications": [d.to_dict() for d in deliveries],
    }
    job_table.update(store, jid, status="done", progress=1.0, finished_at=datetime.now(UTC),
                     result=json.dumps(result, ensure_ascii=False, default=str))  # fmt: skip
    return {"job_id": jid, "name": entry.name, "status": "done", **result}


def fire(store: Store, entry: Entry, tasks: Mapping[str, TaskFn], due: datetime,
         *, notifier: Notifier | None = None) -> dict[str, Any] | None:  # fmt: skip
    """Claim and run one firing; ``None`` when another runner claimed it."""
    jid = claim(store, entry, due)
    if jid is None:
        return None
    return run_entry(store, entry, tasks, due, notifier=notifier, jid=jid)


def run_due(store: Store, entries: list[Entry], tasks: Mapping[str, TaskFn], *, now: datetime | None = None,
            notifier: Notifier | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Run every enabled job whose latest firing (within its grace) nobody has claimed yet.

    Meant to be called every few minutes (a systemd timer or cron, see docs/operations.md); a
    firing is run at most once, a missed one once when the runner comes back within ``grace``.
    """
    now = now or datetime.now(UTC)
    out = []
    for e in entries:
        if not e.enabled:
            continue
        due = e.due(now)
        if due is None:
            continue
        r = fire(store, e, tasks, due, notifier=notifier)
        if r is not None:
            out.append(r)
    return out


def run_now(store: Store, entry: Entry, tasks: Mapping[str, TaskFn], *, now: datetime | None = None,
            notifier: Notifier | None = None) -> dict[str, Any]:  # fmt: skip
    """Run ``entry`` now, outside its schedule (an administrator's "run now"): due = now."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    r = fire(store, entry, tasks, now, notifier=notifier)
    if r is None:
        raise CarbonpeakError(f"job {entry.name} is already running or ran at {now.isoformat()}")
    return r
