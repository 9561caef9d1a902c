"""The ``jobs`` table: background jobs of the service (status, progress, result JSON or error)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from carbonpeak.store.duck import Store

#: The job columns :func:`update` may write (code constants; see the noqa below).
JOB_COLUMNS = frozenset({"status", "progress", "result", "error", "finished_at"})


def unfinished(store: Store) -> pd.DataFrame:
    """Jobs left ``queued`` or ``running`` (job_id, status)."""
    return store.query("SELECT job_id, status FROM jobs WHERE status IN ('queued', 'running')")


def insert(store: Store, job_id: str, kind: str, owner: str, files: list[str] | None = None) -> None:
    with store.transaction() as con:
        con.execute(
            "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at, result) "
            "VALUES (?, ?, 'queued', 0, ?, ?, ?)",
            [job_id, kind, owner, datetime.now(UTC), json.dumps({"files": files}) if files else None],
        )


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
