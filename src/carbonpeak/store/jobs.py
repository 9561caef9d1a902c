"""The ``jobs`` table: background jobs of the service (status, progress, result JSON or error).

**Durable jobs** (:func:`enqueue`, :func:`claim_due`, :func:`renew`, :func:`finish`; run by
:mod:`carbonpeak.workflows.jobs`): a row holds the job's kind, its JSON parameters and the scope
of the principal who submitted it, so any worker process can run it.  A worker claims the oldest
runnable job (``queued``, or ``running`` with a lease that ran out: its worker died) with
``SELECT … FOR UPDATE SKIP LOCKED`` and sets ``status = 'running'``, ``attempts + 1``, its
worker id and a lease (database clock) in the same transaction; it renews the lease while the job
runs.  Every later write names the worker *and* the attempt (a fencing token): a worker that lost
its lease cannot overwrite the attempt of the worker that took the job over.  A job whose worker
died ``max_attempts`` times is failed.  Submission, start, take-over and end are audited in the
same transaction as the change.

**Jobs without parameters** (rows of the earlier in-process runner, and the schedule's runs,
:mod:`carbonpeak.workflows.schedule`): claimed with :func:`claim` / :func:`claim_next`
(``SELECT … FOR UPDATE SKIP LOCKED`` then ``UPDATE … SET status = 'running'`` in one transaction);
such a job left unfinished by a stopped process is reported interrupted at start-up
(:func:`unfinished`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from carbonpeak.store.duck import Store

#: The job columns :func:`update` may write (code constants; see the noqa below).
JOB_COLUMNS = frozenset({"status", "progress", "result", "error", "finished_at"})


def unfinished(store: Store) -> pd.DataFrame:
    """Jobs without parameters left ``queued`` or ``running`` by a process that is gone (job_id, status).

    Durable jobs (with parameters) are not among them: a worker takes them over (:func:`claim_due`).
    """
    return store.query(
        "SELECT job_id, status FROM jobs WHERE status IN ('queued', 'running') AND params IS NULL"
    )


def insert(store: Store, job_id: str, kind: str, owner: str, files: list[str] | None = None) -> None:
    with store.transaction() as con:
        con.execute(
            "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at, result) "
            "VALUES (?, ?, 'queued', 0, ?, ?, ?)",
            [job_id, kind, owner, datetime.now(UTC), json.dumps({"files": files}) if files else None],
        )


_CLAIM_ONE = "SELECT job_id FROM jobs WHERE job_id = ? AND status = 'queued'"
_CLAIM_ONE_PG = "SELECT job_id FROM jobs WHERE job_id = ? AND status = 'queued' FOR UPDATE SKIP LOCKED"


def claim(store: Store, job_id: str) -> bool:
    """Move a queued job to ``running``; False when another worker claimed it first."""
    with store.transaction() as con:
        sql = _CLAIM_ONE_PG if store.is_postgres else _CLAIM_ONE
        row = con.execute(sql, [job_id]).fetchone()
        if row is None:
            return False
        con.execute("UPDATE jobs SET status = 'running' WHERE job_id = ?", [job_id])
        return True


def claim_next(store: Store, kinds: tuple[str, ...] | None = None) -> str | None:
    """Claim the oldest queued job (of ``kinds``), or None when there is none left to claim.

    Two workers asking at once get different jobs: the row one of them locked is skipped by the
    other (``FOR UPDATE SKIP LOCKED``).  Durable jobs (with ``params``) are claimed with
    :func:`claim_due` only.
    """
    kinds = kinds or ()
    where = "status = 'queued' AND params IS NULL" + (f" AND kind IN ({', '.join('?' for _ in kinds)})" if kinds else "")
    lock = " FOR UPDATE SKIP LOCKED" if store.is_postgres else ""
    with store.transaction() as con:
        row = con.execute(
            f"SELECT job_id FROM jobs WHERE {where} ORDER BY created_at, job_id LIMIT 1{lock}",  # noqa: S608 -- constant SQL; the kinds are bound
            list(kinds),
        ).fetchone()
        if row is None:
            return None
        con.execute("UPDATE jobs SET status = 'running' WHERE job_id = ?", [row[0]])
        return str(row[0])


def update(store: Store, job_id: str, **fields: Any) -> None:
    if not set(fields) <= JOB_COLUMNS:
        raise ValueError(f"not a job column: {sorted(set(fields) - JOB_COLUMNS)}")
    cols = ", ".join(f"{k} = ?" for k in fields)
    with store.transaction() as con:
        con.execute(f"UPDATE jobs SET {cols} WHERE job_id = ?", [*fields.values(), job_id])  # noqa: S608 -- column names come from the keyword names of code calls (checked against JOB_COLUMNS)


def get(store: Store, job_id: str) -> dict[str, Any] | None:
    df = store.query(
        "SELECT job_id, kind, status, progress, result, error, owner, CAST(created_at AS VARCHAR) AS created_at,"
        " CAST(finished_at AS VARCHAR) AS finished_at FROM jobs WHERE job_id = ?",
        [job_id],
    )
    if df.empty:
        return None
    rec = df.iloc[0].to_dict()
    rec["result"] = json.loads(rec["result"]) if rec.get("result") else None
    return rec  # type: ignore[no-any-return]


# -- durable jobs --------------------------------------------------------------------------------
# Leases are ``now + n seconds`` on the database's clock (one clock for every worker host):
# ``CURRENT_TIMESTAMP + CAST(? AS INTEGER) * INTERVAL '1 second'``.


@dataclass(frozen=True)
class Claim:
    """A job claimed by a worker: what to run, for whom, and the attempt that fences its writes."""

    job_id: str
    kind: str
    params: dict[str, Any]
    principal: dict[str, Any]
    owner: str
    attempt: int
    worker: str


def _audit(store: Store, actor: str, action: str, job_id: str, payload: dict[str, Any]) -> None:
    from carbonpeak.store import audit

    audit.append(store, actor=actor, action=action, entity="job", entity_id=job_id, payload=payload)


def enqueue(store: Store, job_id: str, kind: str, owner: str, params: dict[str, Any], principal: dict[str, Any],
            *, max_attempts: int, files: list[str] | None = None) -> None:  # fmt: skip
    """Queue a durable job (``params`` and ``principal`` as JSON); audited as ``job.submit``."""
    with store.transaction() as con:
        con.execute(
            "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at, result, params, principal, "
            "attempts, max_attempts) VALUES (?, ?, 'queued', 0, ?, CURRENT_TIMESTAMP, ?, ?, ?, 0, ?)",
            [job_id, kind, owner, json.dumps({"files": files}, ensure_ascii=False) if files else None,
             json.dumps(params, ensure_ascii=False, sort_keys=True), json.dumps(principal, sort_keys=True),
             int(max_attempts)],
        )  # fmt: skip
        _audit(store, owner, "job.submit", job_id, {"kind": kind, "files": files or []})


_DUE = (
    "SELECT job_id, kind, status, params, principal, owner, attempts, max_attempts FROM jobs "
    "WHERE params IS NOT NULL AND (status = 'queued' OR (status = 'running' AND lease_until < CURRENT_TIMESTAMP)) "
    "AND list_contains(CAST(? AS VARCHAR[]), kind) ORDER BY created_at, job_id LIMIT 1"
)
_DUE_PG = _DUE + " FOR UPDATE SKIP LOCKED"
#: What a job whose worker died too often is failed with.
WORKER_LOST = (
    "the worker running this job stopped {attempts} time(s) before it finished (the most allowed: "
    "{max_attempts}); nothing after its last committed step was stored. Submit it again."
)


def claim_due(store: Store, kinds: list[str], worker: str, lease_seconds: int) -> Claim | None:
    """Claim the oldest runnable durable job of ``kinds`` for ``worker``, or None.

    Runnable: ``queued``, or ``running`` with its lease run out (its worker died or hung).  A job
    taken over after ``max_attempts`` attempts is failed instead (and the next one is looked at).
    """
    if not kinds:
        return None
    while True:
        with store.transaction() as con:
            row = con.execute(_DUE_PG if store.is_postgres else _DUE, [list(kinds)]).fetchone()
            if row is None:
                return None
            job_id, kind, status, params, principal, owner, attempts, max_attempts = row
            attempts, max_attempts = int(attempts or 0), int(max_attempts or 1)
            if status == "running" and attempts >= max_attempts:
                error = WORKER_LOST.format(attempts=attempts, max_attempts=max_attempts)
                con.execute(
                    "UPDATE jobs SET status = 'failed', error = ?, finished_at = CURRENT_TIMESTAMP, lease_until = NULL "
                    "WHERE job_id = ?",
                    [error, job_id],
                )
                _audit(store, owner, "job.failed", job_id, {"attempt": attempts, "error": error, "worker": worker})
                continue
            con.execute(
                "UPDATE jobs SET status = 'running', attempts = ?, worker = ?, started_at = CURRENT_TIMESTAMP, "
                "lease_until = CURRENT_TIMESTAMP + CAST(? AS INTEGER) * INTERVAL '1 second' WHERE job_id = ?",
                [attempts + 1, worker, int(lease_seconds), job_id],
            )
            _audit(store, owner, "job.start", job_id,
                   {"attempt": attempts + 1, "worker": worker, "taken_over": status == "running"})  # fmt: skip
            return Claim(str(job_id), str(kind), json.loads(params), json.loads(principal or "{}"), str(owner),
                         attempts + 1, worker)  # fmt: skip


# Every write of an attempt is fenced: it names the job, the worker and the attempt, and the job must
# still be running (``… WHERE job_id = ? AND worker = ? AND attempts = ? AND status = 'running'``).
_RENEW = (
    "UPDATE jobs SET lease_until = CURRENT_TIMESTAMP + CAST(? AS INTEGER) * INTERVAL '1 second', "
    "progress = coalesce(?, progress) "
    "WHERE job_id = ? AND worker = ? AND attempts = ? AND status = 'running' RETURNING job_id"
)
_FINISH = (
    "UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = CURRENT_TIMESTAMP, lease_until = NULL, "
    "progress = CASE WHEN ? THEN 1.0 ELSE progress END "
    "WHERE job_id = ? AND worker = ? AND attempts = ? AND status = 'running' RETURNING job_id"
)


def renew(store: Store, c: Claim, lease_seconds: int, progress: float | None = None) -> bool:
    """Extend the lease of attempt ``c`` (and record ``progress``); False when the job was taken over."""
    value = None if progress is None else float(progress)
    with store.transaction() as con:
        rows = con.execute(_RENEW, [int(lease_seconds), value, c.job_id, c.worker, c.attempt]).fetchall()
    return bool(rows)


def finish(store: Store, c: Claim, *, status: str, result: str | None = None, error: str | None = None) -> bool:
    """Record the end of attempt ``c`` (``done`` or ``failed``); False when it was taken over meanwhile.

    Audited as ``job.done`` / ``job.failed`` in the same transaction.
    """
    if status not in ("done", "failed"):
        raise ValueError(f"not a final job status: {status}")
    with store.transaction() as con:
        rows = con.execute(
            _FINISH, [status, result, error, status == "done", c.job_id, c.worker, c.attempt]
        ).fetchall()
        if not rows:
            return False
        payload: dict[str, Any] = {"attempt": c.attempt, "worker": c.worker}
        if error:
            payload["error"] = error
        _audit(store, c.owner, f"job.{status}", c.job_id, payload)
    return True


def durable_state(store: Store, job_id: str) -> dict[str, Any] | None:
    """The lease columns of a durable job (attempts, max_attempts, worker, lease_until)."""
    df = store.query(
        "SELECT attempts, max_attempts, worker, CAST(lease_until AS VARCHAR) AS lease_until FROM jobs WHERE job_id = ?",
        [job_id],
    )
    return None if df.empty else df.iloc[0].to_dict()  # type: ignore[no-any-return]


def latest(store: Store, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest jobs, newest first (optionally of one status)."""
    df = store.query(
        "SELECT job_id, kind, owner, status, coalesce(attempts, 0) AS attempts, worker, "
        "CAST(created_at AS VARCHAR) AS created_at, CAST(finished_at AS VARCHAR) AS finished_at, error "
        "FROM jobs WHERE (CAST(? AS VARCHAR) IS NULL OR status = ?) ORDER BY created_at DESC, job_id LIMIT ?",
        [status, status, int(limit)],
    )
    return df.to_dict(orient="records")  # type: ignore[return-value]
