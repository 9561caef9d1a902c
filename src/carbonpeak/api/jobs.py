"""Background jobs: long work (Monte Carlo, reports, large ingests) runs outside requests.

A job is a row in the ``jobs`` table (:mod:`carbonpeak.store.jobs`: status, progress, result
JSON or error) and a function run on a worker thread.  The function receives a ``progress(fraction)`` callback.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from carbonpeak.store import jobs as job_table
from carbonpeak.store.duck import Store

JobFn = Callable[[Callable[[float], None]], Any]

#: The reason given to a job that a stopped process left queued or running.
INTERRUPTED = (
    "interrupted: the service stopped while this job was {status}; nothing after the last "
    "committed batch was stored. Send the upload again (a batch already stored is recognised "
    "and not counted twice)."
)
log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, store: Store, workers: int = 1) -> None:
        self.store = store
        self.workers = workers
        self.pool: ThreadPoolExecutor | None = None  # started on first use, again after a shutdown
        self.alive = job_table.Liveness(store)

    def recover(self) -> list[str]:
        """Mark the jobs a previous process left ``queued`` or ``running`` as failed, with the reason.

        Called when the service starts (before it takes work), so a client polling such a job
        learns that it must send its upload again instead of waiting forever.  The upload folders
        such jobs (or killed requests) left in the dedicated ``upload_dir`` are swept too
        (:func:`carbonpeak.api.uploads.sweep_stale_uploads`).
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
            self._set(job_id, status="failed", error=INTERRUPTED.format(status=status), finished_at=datetime.now(UTC))
        return list(stale["job_id"])

    def submit(self, kind: str, owner: str, fn: JobFn, *, files: list[str] | None = None) -> str:
        """Queue ``fn``; ``files`` (the client's names of the uploads it works on) are kept with the job
        so that an interrupted job can say what to send again."""
        job_id = uuid.uuid4().hex
        job_table.insert(self.store, job_id, kind, owner, files)
        self.alive.hold(job_id)  # PostgreSQL: other workers see it is alive
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="carbonpeak-job")
        self.pool.submit(self._run, job_id, fn)
        return job_id

    def _set(self, job_id: str, **fields: Any) -> None:
        job_table.update(self.store, job_id, **fields)

    def _run(self, job_id: str, fn: JobFn) -> None:
        try:
            if job_table.claim(self.store, job_id):
                self._work(job_id, fn)
        finally:
            self.alive.release(job_id)

    def _work(self, job_id: str, fn: JobFn) -> None:
        from carbonpeak.errors import CarbonpeakError

        try:
            result = fn(lambda f: self._set(job_id, progress=float(max(0.0, min(1.0, f)))))
        except CarbonpeakError as exc:  # the user's own error: its message names their file, row, field
            detail = exc.to_dict() if hasattr(exc, "to_dict") else None
            self._set(
                job_id,
                status="failed",
                error=str(exc),
                result=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
                finished_at=datetime.now(UTC),
            )
            return
        except Exception:  # a bug: logged with its traceback here, never shown to the client
            log.exception("job %s failed", job_id)
            self._set(
                job_id,
                status="failed",
                error=f"internal error (job {job_id}); the operator can find it in the service log",
                finished_at=datetime.now(UTC),
            )
            return
        # The work is done (and its data committed): from here on the job is a success, even if
        # recording the result fails once.
        done = {"status": "done", "progress": 1.0, "finished_at": datetime.now(UTC)}
        try:
            self._set(job_id, **done, result=json.dumps(result, ensure_ascii=False, default=str))
        except Exception:
            log.exception("job %s: result could not be recorded", job_id)
            self._set(job_id, **done, result=json.dumps({"note": "done; the result could not be recorded"}))

    def get(self, job_id: str) -> dict[str, Any] | None:
        return job_table.get(self.store, job_id)

    def shutdown(self) -> None:
        """Cancel queued jobs and wait for the running one, so the store is never closed under it.

        A job that cannot finish (the process is killed) is marked failed at the next start-up
        (:meth:`recover`).
        """
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        self.alive.close()
