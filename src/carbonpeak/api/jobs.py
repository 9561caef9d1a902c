"""Background jobs of the service: long work (Monte Carlo, reports, large ingests) runs outside requests.

A job is a named kind with validated JSON parameters and the submitter's scope, stored in the
``jobs`` table (:mod:`carbonpeak.workflows.jobs`), so that any worker process runs it: this
service worker's own :class:`~carbonpeak.workflows.jobs.Runner` threads, another service worker
or ``carbonpeak jobs work``.  A job whose worker died is taken over when its lease runs out.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from carbonpeak.store import jobs as job_table
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal
from carbonpeak.workflows import jobs as wf_jobs

#: The reason given to a job of the earlier in-process runner (no parameters stored) that a
#: stopped process left queued or running.
INTERRUPTED = (
    "interrupted: the service stopped while this job was {status}; nothing after the last "
    "committed batch was stored. Send the upload again (a batch already stored is recognised "
    "and not counted twice)."
)
log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, store: Store, workers: int = 1) -> None:
        from carbonpeak.reports.job_kinds import platform_kinds

        self.store = store
        self.runner = wf_jobs.Runner(store, threads=workers, kinds=platform_kinds())

    def recover(self) -> list[str]:
        """Mark the jobs without parameters a previous process left ``queued`` or ``running`` as
        failed, with the reason (durable jobs are taken over by a worker instead).

        Called when the service starts (before it takes work).  The upload folders killed requests
        left in the dedicated ``upload_dir`` are swept too (:func:`carbonpeak.api.uploads.sweep_stale_uploads`).
        """
        from carbonpeak.api.uploads import sweep_stale_uploads

        try:
            sweep_stale_uploads()
        except OSError as exc:  # never keep the service from starting; the operator is told
            logging.getLogger("carbonpeak.jobs").warning("upload folder sweep failed: %s", exc)
        try:
            stale = job_table.unfinished(self.store)
        except Exception:  # a read-only or unmigrated store has nothing to recover
            return []
        for job_id, status in zip(stale["job_id"], stale["status"], strict=True):
            job_table.update(self.store, job_id, status="failed", error=INTERRUPTED.format(status=status),
                             finished_at=datetime.now(UTC))  # fmt: skip
        return list(stale["job_id"])

    def start(self) -> None:
        """Run jobs (this worker's and any other's) on background threads until :meth:`shutdown`."""
        if not self.store.read_only:
            self.runner.start()

    def submit(self, kind: str, p: Principal, params: dict[str, Any], *, files: list[str] | None = None) -> str:
        """Queue a job of ``kind`` with ``params`` for ``p``; ``files`` (the client's names of the
        uploads it works on) are kept with the job so that a failed job can say what to send again."""
        job_id = wf_jobs.submit(self.store, kind, params, p, files=files)
        self.start()
        self.runner.wake()
        return job_id

    def get(self, job_id: str) -> dict[str, Any] | None:
        return wf_jobs.get(self.store, job_id)

    def shutdown(self) -> None:
        """Stop taking jobs and wait for the running one, so the store is never closed under it.

        A job that cannot finish (the process is killed) is taken over by another worker when its
        lease has run out, or by this service when it starts again.
        """
        self.runner.stop()
