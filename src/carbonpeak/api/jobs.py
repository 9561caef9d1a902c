"""Background jobs: long work (Monte Carlo, reports, large ingests) runs outside requests.

A job is a row in the ``jobs`` table (status, progress, result JSON or error) and a function
run on a worker thread.  The function receives a ``progress(fraction)`` callback.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from carbonpeak.store.duck import Store

JobFn = Callable[[Callable[[float], None]], Any]


class JobRunner:
    def __init__(self, store: Store, workers: int = 1) -> None:
        self.store = store
        self.workers = workers
        self.pool: ThreadPoolExecutor | None = None  # started on first use, again after a shutdown

    def submit(self, kind: str, owner: str, fn: JobFn) -> str:
        job_id = uuid.uuid4().hex
        with self.store.transaction() as con:
            con.execute(
                "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at) VALUES (?, ?, 'queued', 0, ?, ?)",
                [job_id, kind, owner, datetime.now(UTC)],
            )
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="carbonpeak-job")
        self.pool.submit(self._run, job_id, fn)
        return job_id

    def _set(self, job_id: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.store.transaction() as con:
            con.execute(f"UPDATE jobs SET {cols} WHERE job_id = ?", [*fields.values(), job_id])

    def _run(self, job_id: str, fn: JobFn) -> None:
        self._set(job_id, status="running")
        try:
            result = fn(lambda f: self._set(job_id, progress=float(max(0.0, min(1.0, f)))))
            self._set(
                job_id,
                status="done",
                progress=1.0,
                result=json.dumps(result, ensure_ascii=False, default=str),
                finished_at=datetime.now(UTC),
            )
        except Exception as exc:  # a failed job is reported, never lost
            self._set(
                job_id,
                status="failed",
                error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}",
                finished_at=datetime.now(UTC),
            )

    def get(self, job_id: str) -> dict[str, Any] | None:
        df = self.store.query(
            "SELECT job_id, kind, status, progress, result, error, owner, CAST(created_at AS VARCHAR) AS created_at,"
            " CAST(finished_at AS VARCHAR) AS finished_at FROM jobs WHERE job_id = ?",
            [job_id],
        )
        if df.empty:
            return None
        rec = df.iloc[0].to_dict()
        rec["result"] = json.loads(rec["result"]) if rec.get("result") else None
        return rec

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
