"""``carbonpeak jobs``: background jobs run outside the service, beside it, or by a dedicated worker.

* ``run-pending`` — run the jobs queued now (and those whose worker died), then stop;
* ``work`` — keep running jobs as they come, until stopped (SIGTERM or Ctrl-C);
* ``list`` — the latest jobs and their state.

Any worker process may run any job: the job's kind, parameters and submitter's scope are in the
store (docs/operations.md, "Background jobs").
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer

from carbonpeak.cli.output import Format, FormatOption, emit

DbOption = typer.Option(
    None, "--db", help="The store (DuckDB file or postgresql+psycopg:// URL; default: the settings)."
)


def _store(db: str | None) -> Any:
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store

    return Store(db or get_settings().store_location)


def _runner(store: Any, worker: str | None, lease: int | None, poll: float | None, threads: int = 1) -> Any:
    from carbonpeak.reports.job_kinds import platform_kinds
    from carbonpeak.workflows.jobs import Runner

    return Runner(store, worker=worker, lease_seconds=lease, poll_seconds=poll, threads=threads,
                  kinds=platform_kinds())  # fmt: skip


def register(app: typer.Typer) -> None:
    jobs_app = typer.Typer(help="Background jobs: run the queued ones here, or work as a job worker.",
                           no_args_is_help=True)  # fmt: skip
    app.add_typer(jobs_app, name="jobs")

    worker_opt = typer.Option(None, "--worker", help="This worker's name (default: host:pid:random).")
    lease_opt = typer.Option(None, "--lease", min=2, help="Lease of a running job in seconds (default: setting).")

    @jobs_app.command("run-pending")
    def run_pending(
        db: str | None = DbOption,
        max_jobs: int | None = typer.Option(None, "--max", min=1, help="Run at most this many jobs."),
        worker: str | None = worker_opt,
        lease: int | None = lease_opt,
        fmt: Format = FormatOption,
    ) -> None:
        """Run the jobs that are runnable now (queued, or taken over from a worker that died), then stop."""
        from carbonpeak.workflows.jobs import get

        store = _store(db)
        try:
            ran = _runner(store, worker, lease, None).run_pending(max_jobs)
            rows = [{k: (get(store, j) or {}).get(k) for k in ("job_id", "kind", "status", "error")} for j in ran]
        finally:
            store.close()
        emit(fmt, data={"jobs": rows}, table=rows, title=f"{len(rows)} job(s) run")

    @jobs_app.command("work")
    def work(
        db: str | None = DbOption,
        threads: int = typer.Option(1, "--threads", min=1, max=64, help="Jobs run at the same time."),
        poll: float | None = typer.Option(None, "--poll", min=0.05, help="Seconds between looks (default: setting)."),
        worker: str | None = worker_opt,
        lease: int | None = lease_opt,
    ) -> None:
        """Run jobs as they come until stopped (SIGTERM, SIGINT): a dedicated job worker."""
        store = _store(db)
        runner = _runner(store, worker, lease, poll, threads)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
        runner.start()
        typer.echo(f"job worker {runner.worker} running; stop with SIGTERM or Ctrl-C", err=True)
        try:
            stop.wait()
        finally:
            runner.stop()  # the running job ends first
            store.close()

    @jobs_app.command("list")
    def list_cmd(
        db: str | None = DbOption,
        status: str | None = typer.Option(None, "--status", help="queued, running, done or failed."),
        limit: int = typer.Option(50, "--limit", min=1, max=1000),
        fmt: Format = FormatOption,
    ) -> None:
        """The latest jobs, newest first (kind, owner, status, attempts, worker)."""
        from carbonpeak.store import jobs as job_table

        store = _store(db)
        try:
            rows = job_table.latest(store, status=status, limit=limit)
        finally:
            store.close()
        emit(fmt, data={"jobs": rows}, table=rows, title="Jobs")
