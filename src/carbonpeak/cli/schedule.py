"""``carbonpeak schedule``: the schedule of unattended work, for systemd timers, cron and admins.

* ``list`` — every job of the schedule with its next and last run;
* ``run-due`` — run every job whose time has come and nobody ran yet (call it every few minutes
  from a systemd timer or cron; docs/operations.md has the recipes);
* ``run NAME`` — run one job now;
* ``history`` — the latest scheduled runs, with their notifications;
* ``notify-test`` — send a test notification on every configured channel.

The schedule file and the notification channels are settings (docs/operations.md, "Scheduled
work and notifications").
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from carbonpeak.cli.output import Format, FormatOption, emit
from carbonpeak.errors import CarbonpeakError

DbOption = typer.Option(None, "--db", help="DuckDB file of the store (default: CARBONPEAK_DB_PATH).")
FileOption = typer.Option(
    None, "--schedule", help="Schedule YAML (default: setting schedule_file, else the packaged one)."
)


def _store(db: Path | None) -> Any:
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store

    return Store(db or get_settings().store_location)


def _entries(path: Path | None) -> list[Any]:
    from carbonpeak.reports.scheduled import TASKS
    from carbonpeak.workflows.schedule import load_schedule

    return load_schedule(path, tasks=TASKS)


def _now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CarbonpeakError(f"--now: not an ISO 8601 time: '{text}'") from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        notes = r.get("notifications") or []
        out.append({
            "name": r["name"], "status": r["status"], "due": r.get("due"),
            "error": r.get("error") or "",
            "notified": ", ".join(f"{n['channel']}:{'ok' if n['ok'] else 'FAILED'}" for n in notes),
        })  # fmt: skip
    return out


def register(app: typer.Typer) -> None:
    sch = typer.Typer(help="Scheduled work (deadline checks, monitoring runs, reports) and notifications.",
                      no_args_is_help=True)  # fmt: skip
    app.add_typer(sch, name="schedule")

    @sch.command("list")
    def list_cmd(
        schedule: Path | None = FileOption,
        db: Path | None = typer.Option(None, "--db", help="Also show the last run of each job from this store."),
        fmt: Format = FormatOption,
    ) -> None:
        """Every job of the schedule: task, cron, time zone, next run (and last run with --db)."""
        entries = _entries(schedule)
        now = datetime.now(UTC)
        last: dict[str, dict[str, Any]] = {}
        if db is not None:
            from carbonpeak.workflows.schedule import last_runs

            store = _store(db)
            try:
                last = last_runs(store)
            finally:
                store.close()
        rows = []
        for e in entries:
            d = e.to_dict(now)
            lr = last.get(e.name) or {}
            d["last_run"] = lr.get("created_at")
            d["last_status"] = lr.get("status")
            rows.append(d)
        table = [{k: r[k] for k in ("name", "task", "cron", "timezone", "enabled", "next_run", "last_run",
                                    "last_status")} for r in rows]  # fmt: skip
        emit(fmt, data={"jobs": rows}, table=table, title="Schedule")

    @sch.command("run-due")
    def run_due_cmd(
        schedule: Path | None = FileOption,
        db: Path | None = DbOption,
        now: str | None = typer.Option(None, "--now", help="Pretend it is this time (ISO 8601; for tests)."),
        fmt: Format = FormatOption,
    ) -> None:
        """Run every job whose time has come and that nobody ran yet (for a systemd timer or cron)."""
        from carbonpeak.reports.scheduled import TASKS
        from carbonpeak.workflows.schedule import run_due

        entries = _entries(schedule)
        store = _store(db)
        try:
            results = run_due(store, entries, TASKS, now=_now(now))
        finally:
            store.close()
        if not results and fmt == Format.table:
            typer.echo("nothing due")
        else:
            emit(fmt, data={"ran": results}, table=_rows(results), title=f"{len(results)} job(s) run")
        if any(r["status"] != "done" for r in results):
            raise typer.Exit(1)

    @sch.command("run")
    def run_cmd(
        name: str = typer.Argument(..., help="Name of a job of the schedule."),
        schedule: Path | None = FileOption,
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Run one job of the schedule now."""
        from carbonpeak.reports.scheduled import TASKS
        from carbonpeak.workflows.schedule import run_now

        entries = {e.name: e for e in _entries(schedule)}
        if name not in entries:
            raise CarbonpeakError(f"no job '{name}' in the schedule; known: {', '.join(sorted(entries))}")
        store = _store(db)
        try:
            r = run_now(store, entries[name], TASKS)
        finally:
            store.close()
        emit(fmt, data=r, table=_rows([r]), title=f"job {name}")
        if r["status"] != "done":
            raise typer.Exit(1)

    @sch.command("history")
    def history_cmd(
        db: Path | None = DbOption,
        limit: int = typer.Option(50, "--limit", min=1, max=1000),
        fmt: Format = FormatOption,
    ) -> None:
        """The latest scheduled runs (from the jobs table), newest first."""
        from carbonpeak.workflows.schedule import history

        store = _store(db)
        try:
            runs = history(store, limit)
        finally:
            store.close()
        table = [{"name": r["name"], "status": r["status"], "started": r["created_at"],
                  "finished": r["finished_at"], "error": r.get("error") or ""} for r in runs]  # fmt: skip
        emit(fmt, data={"runs": runs}, table=table, title="Scheduled runs")

    @sch.command("notify-test")
    def notify_test_cmd(fmt: Format = FormatOption) -> None:
        """Send a test notification on every configured channel (e-mail, webhooks)."""
        from carbonpeak.i18n import Msg, declare
        from carbonpeak.workflows.notify import Message, Notifier

        declare({"notify.test.subject": {}, "notify.test.body": {}})

        n = Notifier()
        if not n.channels:
            raise CarbonpeakError(
                "no notification channel configured: set smtp_host and mail_to, or webhook_urls "
                "(docs/operations.md, 'Scheduled work and notifications')"
            )
        out = [d.to_dict() for d in n.send(Message("test", Msg("notify.test.subject"), Msg("notify.test.body")))]
        emit(fmt, data={"deliveries": out}, table=out, title="Test notification")
        if not all(d["ok"] for d in out):
            raise typer.Exit(1)
