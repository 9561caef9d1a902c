"""The schedule inside the service: APScheduler fires the jobs of the schedule file.

Switched on by the setting ``scheduler`` (``CARBONPEAK_SCHEDULER=true``) or ``create_app(...,
scheduler=True)``.  Each service worker runs its own :class:`ServiceScheduler`; a firing is
still run once, because running it starts with claiming its row in the ``jobs`` table
(:func:`carbonpeak.workflows.schedule.fire`): with several workers on PostgreSQL, or a systemd
timer running ``carbonpeak schedule run-due`` beside the service, the first claim wins and the
others skip.  At start-up the scheduler also runs what fell due while the service was down
(within each job's ``grace``).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carbonpeak.errors import ValidationError
from carbonpeak.store.duck import Store
from carbonpeak.workflows.notify import Notifier
from carbonpeak.workflows.schedule import (
    Entry,
    claim,
    fire,
    last_runs,
    load_schedule,
    run_due,
    run_entry,
    run_now,
)

log = logging.getLogger("carbonpeak.scheduler")


class ServiceScheduler:
    """The schedule of one service process (APScheduler ``BackgroundScheduler``)."""

    def __init__(self, store: Store, *, schedule_file: Path | None = None, notifier: Notifier | None = None,
                 enabled: bool = False) -> None:  # fmt: skip
        from carbonpeak.config import get_settings
        from carbonpeak.reports.scheduled import TASKS
        from carbonpeak.workflows.schedule import schedule_path

        self.store = store
        self.tasks = TASKS
        self.schedule_file = schedule_path(schedule_file or get_settings().schedule_file)
        self.notifier = notifier
        self.enabled = enabled
        #: why the schedule file could not be read (shown to the admin); fatal only when enabled
        self.load_error: str | None = None
        try:
            self.entries: list[Entry] = load_schedule(self.schedule_file, tasks=TASKS)
        except ValidationError as exc:
            if enabled:
                raise
            self.entries, self.load_error = [], str(exc)
        self._sched: Any = None
        self._catch_up: threading.Thread | None = None
        self._manual: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return self._sched is not None and bool(self._sched.running)

    def entry(self, name: str) -> Entry | None:
        return next((e for e in self.entries if e.name == name), None)

    def start(self) -> None:
        """Start firing the enabled jobs (and run, in the background, what fell due while down)."""
        if not self.enabled or self.running:
            return
        from apscheduler.schedulers.background import BackgroundScheduler

        sched = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
        for e in self.entries:
            if e.enabled:
                sched.add_job(self._fire, e.trigger(), args=[e.name], id=e.name, name=e.name,
                              misfire_grace_time=max(1, int(e.grace.total_seconds())))  # fmt: skip
        sched.start()
        self._sched = sched
        self._catch_up = threading.Thread(target=self._run_missed, name="carbonpeak-schedule-catch-up", daemon=True)
        self._catch_up.start()

    def stop(self) -> None:
        if self._sched is not None:
            self._sched.shutdown(wait=True)
            self._sched = None
        for th in [self._catch_up, *self._manual]:
            if th is not None:
                th.join(timeout=60)
        self._catch_up = None
        self._manual = []

    def _run_missed(self) -> None:
        try:
            run_due(self.store, self.entries, self.tasks, notifier=self.notifier)
        except Exception:  # never take the service down; the jobs table has what ran
            log.exception("catching up the schedule failed")

    def _fire(self, name: str) -> None:
        e = self.entry(name)
        if e is None:
            return
        due = e.due(datetime.now(UTC))
        if due is None:  # fired later than its grace (a stalled process): skipped, like a missed run
            return
        try:
            fire(self.store, e, self.tasks, due, notifier=self.notifier)
        except Exception:
            log.exception("scheduled job %s could not be run", name)

    def run_now(self, name: str) -> dict[str, Any]:
        """Run one job now and wait for it (the CLI's ``schedule run``)."""
        return run_now(self.store, self._entry_or_404(name), self.tasks, notifier=self.notifier)

    def start_now(self, name: str) -> str:
        """Claim a run of job ``name`` now and run it on a thread (the admin's "run now"); its job id.

        Poll ``GET /api/jobs/{job_id}`` for the outcome.  Answers Conflict when a run of this job
        was already claimed this minute.
        """
        from carbonpeak.errors import Conflict

        e = self._entry_or_404(name)
        due = datetime.now(UTC).replace(second=0, microsecond=0)
        jid = claim(self.store, e, due)
        if jid is None:
            raise Conflict(f"job {name} was already started at {due.isoformat()}; try again in a minute")
        th = threading.Thread(target=self._run_claimed, args=(e, due, jid), name=f"carbonpeak-run-{name}",
                              daemon=True)  # fmt: skip
        self._manual = [t for t in self._manual if t.is_alive()] + [th]
        th.start()
        return jid

    def _run_claimed(self, e: Entry, due: datetime, jid: str) -> None:
        try:
            run_entry(self.store, e, self.tasks, due, notifier=self.notifier, jid=jid)
        except Exception:
            log.exception("scheduled job %s could not be run", e.name)

    def _entry_or_404(self, name: str) -> Entry:
        from carbonpeak.errors import NotFound

        e = self.entry(name)
        if e is None:
            raise NotFound(f"no job '{name}' in the schedule")
        return e

    def overview(self) -> dict[str, Any]:
        """The schedule as the admin sees it: every job with its next and last run, and the channels."""
        now = datetime.now(UTC)
        try:
            last = last_runs(self.store)
        except Exception:  # an unmigrated or read-only store: no history to show
            last = {}
        jobs = []
        for e in self.entries:
            d = e.to_dict(now)
            lr = last.get(e.name)
            d["last_run"] = (
                {k: lr.get(k) for k in ("job_id", "status", "created_at", "finished_at", "error")} if lr else None
            )
            jobs.append(d)
        n = self.notifier or Notifier()
        return {
            "scheduler_running": self.running,
            "schedule_file": str(self.schedule_file) if self.schedule_file else None,
            "schedule_error": self.load_error,
            "channels": n.channels,
            "events": list(n.cfg.notify_events),
            # the language of each channel's messages (e-mail recipients by mail_lang; no addresses)
            "languages": sorted({n.cfg.notify_lang, *(lang for lang, _ in n.mail_groups())}),
            "jobs": jobs,
        }
