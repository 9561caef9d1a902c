"""The ``jobs`` table: background jobs of the service (status, progress, result JSON or error).

Several service workers (PostgreSQL): a job is claimed by exactly one worker,
``SELECT … FOR UPDATE SKIP LOCKED`` then ``UPDATE … SET status = 'running'`` in one transaction
(:func:`claim`, :func:`claim_next`); a worker that has a job queued or running holds a
session-level advisory lock on it (:class:`Liveness`), so that another worker starting up leaves it
alone and only jobs of a stopped process are reported interrupted (:func:`unfinished`).  DuckDB
has one process: claims run under its write lock and every unfinished job at start-up is stale.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from carbonpeak.store.duck import Store

#: The job columns :func:`update` may write (code constants; see the noqa below).
JOB_COLUMNS = frozenset({"status", "progress", "result", "error", "finished_at"})


def unfinished(store: Store) -> pd.DataFrame:
    """Jobs left ``queued`` or ``running`` by a process that is gone (job_id, status).

    On PostgreSQL a job whose advisory lock another live worker holds is not returned.
    """
    df = store.query("SELECT job_id, status FROM jobs WHERE status IN ('queued', 'running')")
    if not store.is_postgres or df.empty:
        return df
    orphans = []
    con = store.con
    for job_id in df["job_id"]:
        row = con.execute("SELECT pg_try_advisory_lock(hashtext(?))", [job_id]).fetchone()
        if row and row[0]:
            con.execute("SELECT pg_advisory_unlock(hashtext(?))", [job_id])
            orphans.append(job_id)
    return df[df["job_id"].isin(orphans)].reset_index(drop=True)


class Liveness:
    """PostgreSQL: the jobs this worker has queued or running, as session advisory locks held on
    one dedicated connection (another worker's :func:`unfinished` skips them).  DuckDB: no-op."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._con: Any = None

    def _session(self) -> Any:
        if self._con is None:
            from carbonpeak.store.engine import PgConnection

            self._con = PgConnection(self.store.engine.raw_connection())
        return self._con

    def hold(self, job_id: str) -> None:
        if self.store.is_postgres:
            self._session().execute("SELECT pg_advisory_lock(hashtext(?))", [job_id])

    def release(self, job_id: str) -> None:
        if self.store.is_postgres and self._con is not None:
            self._con.execute("SELECT pg_advisory_unlock(hashtext(?))", [job_id])

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


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
    other (``FOR UPDATE SKIP LOCKED``).
    """
    kinds = kinds or ()
    where = "status = 'queued'" + (f" AND kind IN ({', '.join('?' for _ in kinds)})" if kinds else "")
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
