"""Scheduled work: the schedule file, one firing per job whoever runs it, the tasks, the CLI
(`carbonpeak schedule …`), the service's APScheduler and the admin's view."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.platform.conftest import PW, USERS, login, monitored_store, seed_registry, seed_users
from tests.stores import db_location
from typer.testing import CliRunner

from carbonpeak.config import Settings
from carbonpeak.errors import ValidationError
from carbonpeak.reports.scheduled import TASKS
from carbonpeak.store import Store
from carbonpeak.workflows.notify import Message, Notifier
from carbonpeak.workflows.schedule import (
    Entry,
    TaskOutcome,
    claim,
    fire,
    history,
    last_runs,
    load_schedule,
    run_due,
)


def _entry(name: str = "job", task: str = "count", cron: str = "0 9 * * *", grace: timedelta = timedelta(hours=6),
           **params: Any) -> Entry:  # fmt: skip
    return Entry(name, task, cron, "Asia/Shanghai", grace, True, params)


class Counter:
    def __init__(self) -> None:
        self.calls: list[datetime] = []
        self.lock = threading.Lock()

    def __call__(self, store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
        with self.lock:
            self.calls.append(due)
        time.sleep(0.05)
        return TaskOutcome({"n": len(self.calls)}, [Message("report", "counted", "done")])


class Recorder(Notifier):
    """A notifier that keeps the messages instead of sending them."""

    def __init__(self) -> None:
        super().__init__(Settings(notify_retries=1))
        self.sent: list[Message] = []

    def send(self, msg: Message) -> list[Any]:
        self.sent.append(msg)
        return []


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(db_location(tmp_path / "s.duckdb"))
    yield s
    s.close()


# -- the schedule file -------------------------------------------------------------------------
def test_packaged_schedule_names_known_tasks() -> None:
    entries = load_schedule(tasks=TASKS)
    assert {e.task for e in entries} == {"monitoring_run", "deadline_check", "report_monthly", "report_annual"}
    assert all(e.timezone == "Asia/Shanghai" for e in entries)


def test_bad_schedule_names_file_job_and_field(tmp_path: Path) -> None:
    p = tmp_path / "schedule.yaml"
    p.write_text(
        "jobs:\n"
        "  - {name: a, task: nosuch, cron: '0 9 * * *'}\n"
        "  - {name: a, task: report_monthly, cron: '61 9 * * *'}\n"
        "  - {name: Bad Name, task: report_monthly, cron: '0 9 * * *', grace: soon}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as ei:
        load_schedule(p, tasks=TASKS)
    got = {(pr.row, pr.field) for pr in ei.value.problems}
    assert {(1, "task"), (2, "name"), (2, "cron"), (3, "name"), (3, "grace")} <= got
    assert all(pr.file == str(p) for pr in ei.value.problems)


def test_due_is_the_latest_firing_within_grace() -> None:
    e = _entry(cron="0 9 * * *", grace=timedelta(hours=6))  # 09:00 China Standard Time = 01:00 UTC
    assert e.due(datetime(2026, 3, 2, 0, 59, tzinfo=UTC)) is None  # the day's firing not yet come; yesterday's too old
    due = e.due(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    assert due == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert e.due(datetime(2026, 3, 2, 7, 1, tzinfo=UTC)) is None  # more than 6 h late: skipped
    assert e.next_run(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


# -- one firing, however many runners ----------------------------------------------------------
def test_a_firing_is_claimed_once(store: Store) -> None:
    e = _entry()
    due = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    first = claim(store, e, due)
    assert first == "sched:job:2026-03-02T01:00Z"
    assert claim(store, e, due) is None
    assert claim(store, e, due + timedelta(days=1)) is not None


def test_concurrent_runners_fire_once(store: Store) -> None:
    """Four runners (service workers, a systemd timer …) reach the same firing at once: one runs it."""
    count = Counter()
    e = _entry()
    due = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    results: list[Any] = []

    def runner() -> None:
        results.append(fire(store, e, {"count": count}, due, notifier=Recorder()))

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(count.calls) == 1
    assert sum(r is not None for r in results) == 1


def test_run_due_runs_each_firing_once_and_records_it(store: Store) -> None:
    count, rec = Counter(), Recorder()
    entries = [_entry("daily"), _entry("monthly", cron="0 8 1 * *", grace=timedelta(days=2))]
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 CST on 2 March
    ran = run_due(store, entries, {"count": count}, now=now, notifier=rec)
    assert sorted(r["name"] for r in ran) == ["daily", "monthly"]  # monthly: 1 March 08:00, within 2 days
    assert run_due(store, entries, {"count": count}, now=now + timedelta(minutes=5), notifier=rec) == []
    assert len(count.calls) == 2
    assert [m.subject for m in rec.sent] == ["counted", "counted"]
    runs = last_runs(store)
    assert runs["daily"]["status"] == "done"
    assert runs["daily"]["result"]["due"] == "2026-03-02T09:00:00+08:00"


def test_a_failing_task_is_recorded_and_notified(store: Store) -> None:
    def broken(store: Store, params: Mapping[str, Any], due: datetime) -> TaskOutcome:
        raise RuntimeError("boom with a secret path /etc/x")

    rec = Recorder()
    r = fire(store, _entry(task="broken"), {"broken": broken}, datetime(2026, 3, 2, 1, tzinfo=UTC), notifier=rec)
    assert r is not None
    assert r["status"] == "failed"
    assert "internal error" in r["error"]
    assert "/etc/x" not in r["error"]
    assert [m.event for m in rec.sent] == ["failure"]
    (h,) = history(store)
    assert h["status"] == "failed"


def test_a_failing_notification_does_not_fail_the_job(store: Store) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    n = Notifier(Settings(webhook_urls=[f"http://127.0.0.1:{port}/hook?key=k"], notify_retries=2,
                          notify_retry_seconds=0))  # fmt: skip
    r = fire(store, _entry(), {"count": Counter()}, datetime(2026, 3, 2, 1, tzinfo=UTC), notifier=n)
    assert r is not None
    assert r["status"] == "done"
    (d,) = r["notifications"]
    assert d["ok"] is False
    assert d["attempts"] == 2
    stored = history(store)[0]["result"]["notifications"][0]
    assert stored["ok"] is False
    assert "key=k" not in json.dumps(stored)


# -- the tasks ---------------------------------------------------------------------------------
def test_deadline_check_records_and_notifies_missed_deadlines(store: Store) -> None:
    seed_registry(store)
    rec = Recorder()
    e = _entry("deadline", task="deadline_check", cron="0 9 11 * *", kind="readings", period="previous_month")
    r = fire(store, e, TASKS, datetime(2026, 2, 11, 1, 0, tzinfo=UTC), notifier=rec)
    assert r is not None
    assert r["status"] == "done", r
    assert r["period"] == "2026-01"
    assert r["due_date"] == "2026-02-10"
    assert r["missed"]
    events = store.query("SELECT enterprise_id, kind, period FROM credit_events")
    assert set(events["kind"]) == {"missed_deadline"}
    assert set(events["period"]) == {"2026-01"}
    assert [m.event for m in rec.sent] == ["deadline"]
    assert "2026-01" in rec.sent[0].subject


def test_monitoring_run_notifies_new_alerts_once(tmp_path: Path) -> None:
    store = monitored_store(tmp_path)
    try:
        store.con.execute("DELETE FROM mon_alerts")  # as if the alerts were not seen yet
        rec = Recorder()
        e = _entry("mon", task="monitoring_run", cron="30 2 * * *", days=35)
        due = datetime(2025, 2, 5, 2, 30, tzinfo=UTC).astimezone(UTC)
        r = fire(store, e, TASKS, due, notifier=rec)
        assert r is not None
        assert r["status"] == "done", r
        assert r["from"] == "2025-01-01"
        assert r["to"] == "2025-02-04"
        assert r["new_alerts"] > 0
        assert [m.event for m in rec.sent] == ["alerts"]
        rec.sent.clear()
        again = _entry("mon-again", task="monitoring_run", cron="30 2 * * *", days=35)
        r2 = fire(store, again, TASKS, due, notifier=rec)  # the same window again: nothing new to tell
        assert r2 is not None
        assert r2["status"] == "done"
        assert r2["alerts"] == r["alerts"]
        assert r2["new_alerts"] == 0
        assert rec.sent == []
        # report_monthly of January: the alerts of the month, as CSV (BOM) and JSON
        m = fire(store, _entry("monthly", task="report_monthly", out_dir=str(tmp_path / "rep")), TASKS,
                 datetime(2025, 2, 1, 0, 0, tzinfo=UTC), notifier=rec)  # fmt: skip
        assert m is not None
        assert m["status"] == "done", m
        assert m["month"] == "2025-01"
        csv = (tmp_path / "rep" / "monthly" / "monitoring-2025-01-alerts.csv").read_bytes()
        assert csv.startswith(b"\xef\xbb\xbf")
        summary = json.loads((tmp_path / "rep" / "monthly" / "monitoring-2025-01.json").read_text(encoding="utf-8"))
        assert summary["alerts"] == m["alerts"] > 0
    finally:
        store.close()


# -- the command line (systemd timer / cron) ---------------------------------------------------
def test_cli_run_due_fires_once(tmp_path: Path) -> None:
    from carbonpeak.cli import app

    sched = tmp_path / "schedule.yaml"
    sched.write_text("timezone: Asia/Shanghai\njobs:\n"
                     "  - {name: deadline, task: deadline_check, cron: '0 9 11 * *', grace: 1d,"
                     " params: {kind: output, period: previous_year}}\n", encoding="utf-8")  # fmt: skip
    db = db_location(tmp_path / "c.duckdb")
    runner = CliRunner()
    args = ["schedule", "run-due", "--schedule", str(sched), "--db", str(db), "--now", "2026-01-11T02:00:00+00:00"]
    r = runner.invoke(app, [*args, "-f", "json"])
    assert r.exit_code == 0, r.output
    ran = json.loads(r.stdout)["ran"]
    assert [(x["name"], x["status"], x["period"]) for x in ran] == [("deadline", "done", "2025")]
    r2 = runner.invoke(app, args)
    assert r2.exit_code == 0
    assert "nothing due" in r2.stdout
    r3 = runner.invoke(app, ["schedule", "list", "--schedule", str(sched), "--db", str(db), "-f", "json"])
    (job,) = json.loads(r3.stdout)["jobs"]
    assert job["last_status"] == "done"
    assert job["next_run"].startswith("20")
    r4 = runner.invoke(app, ["schedule", "run", "nosuch", "--schedule", str(sched), "--db", str(db)])
    assert r4.exit_code != 0


# -- the service -------------------------------------------------------------------------------
def test_service_scheduler_and_admin_view(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from carbonpeak.web import create_site

    sched = tmp_path / "schedule.yaml"
    sched.write_text("jobs:\n  - {name: every-minute, task: deadline_check, cron: '* * * * *', grace: 2m,"
                     " params: {kind: readings, period: '2025-01'}}\n", encoding="utf-8")  # fmt: skip
    store = Store(db_location(tmp_path / "svc.duckdb"))
    seed_users(store, {k: v for k, v in USERS.items() if k in ("admin", "analyst")})
    seed_registry(store)
    app = create_site(store, scheduler=True, schedule_file=sched)
    try:
        with TestClient(app) as client:
            sc = app.state.cp.scheduler
            assert sc.running
            # the catch-up at start runs the firing of this minute (once), then APScheduler takes over
            deadline = time.monotonic() + 30
            # a firing is first queued as a durable job, then claimed by the service's runner
            while time.monotonic() < deadline and (not history(store) or history(store)[0]["status"] == "queued"):
                time.sleep(0.2)
            assert history(store)[0]["status"] in ("running", "done")
            admin = login(client, "admin")
            r = client.get("/api/admin/schedule", headers=admin)
            assert r.status_code == 200
            body = r.json()
            assert body["scheduler_running"] is True
            assert body["jobs"][0]["name"] == "every-minute"
            assert body["jobs"][0]["next_run"]
            assert client.get("/api/admin/schedule", headers=login(client, "analyst")).status_code == 403
            client.cookies.clear()
            assert client.post("/api/auth/login", json={"username": "admin", "password": PW}).status_code == 200
            page = client.get("/admin/schedule?lang=en")  # the dashboard page, with the session cookie
            assert page.status_code == 200
            assert 'id="schedule-table"' in page.text
            assert "every-minute" in page.text
            assert "This service runs the schedule" in page.text
        assert not sc.running  # stopped with the service
    finally:
        store.close()
    reopened = Store(db_location(tmp_path / "svc.duckdb"))
    rows = [h for h in history(reopened) if h["name"] == "every-minute"]
    reopened.close()
    dues = [h["job_id"] for h in rows]
    assert len(dues) == len(set(dues))  # never two runs of one firing


def test_a_bad_schedule_file_stops_only_a_service_that_runs_it(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from carbonpeak.api import create_app

    bad = tmp_path / "schedule.yaml"
    bad.write_text("jobs:\n  - {name: x, task: report_monthly, cron: 'every day'}\n", encoding="utf-8")
    store = Store(db_location(tmp_path / "b.duckdb"))
    seed_users(store, {"admin": USERS["admin"]})
    try:
        with pytest.raises(ValidationError):
            create_app(store, scheduler=True, schedule_file=bad)
        app = create_app(store, scheduler=False, schedule_file=bad)
        with TestClient(app) as client:
            body = client.get("/api/admin/schedule", headers=login(client, "admin")).json()
        assert body["jobs"] == []
        assert "cron" in body["schedule_error"]
        assert body["scheduler_running"] is False
    finally:
        store.close()
