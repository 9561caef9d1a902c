"""The job claims of every worker read the partial index of the unfinished jobs (revision
``0900_jobs_claim_index``), not the whole history of the ``jobs`` table.

PostgreSQL only (DuckDB has no partial indexes): the plan of each claim query, with sequential
scans switched off so that the plan says whether the index *can* serve the query (its predicate
implied by the query's conditions), whatever the size of the table; and the claims still take the
oldest runnable job first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carbonpeak.store import Store
from carbonpeak.store import jobs as store_jobs

#: the claim of a job without parameters (``store.jobs.claim_next``, no kinds), as it runs on PostgreSQL
_CLAIM_NEXT_PG = (
    "SELECT job_id FROM jobs WHERE status = 'queued' AND params IS NULL ORDER BY created_at, job_id LIMIT 1"
    " FOR UPDATE SKIP LOCKED"
)


@pytest.fixture
def pg_store():
    from .pg import fresh_database

    s = Store(fresh_database())
    try:
        yield s
    finally:
        s.close()


def _add(s: Store, job_id: str, status: str, created: datetime, *, durable: bool, lease: datetime | None = None) -> None:
    with s.transaction() as con:
        con.execute(
            "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at, params, principal, attempts,"
            " max_attempts, lease_until) VALUES (?, 'report', ?, 0, 'admin', ?, ?, ?, ?, 3, ?)",
            [job_id, status, created, "{}" if durable else None, "{}" if durable else None,
             1 if status == "running" else 0, lease],
        )  # fmt: skip


def _plan(s: Store, sql: str, params: list[object]) -> str:
    with s.transaction() as con:
        con.execute("SET LOCAL enable_seqscan = off")
        return "\n".join(str(r[0]) for r in con.execute("EXPLAIN " + sql, params).fetchall())


def test_both_claims_can_use_the_partial_index(pg_store):
    s = pg_store
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for k in range(50):
        _add(s, f"done-{k}", "done", t0 + timedelta(minutes=k), durable=bool(k % 2))
    _add(s, "q-durable", "queued", t0 + timedelta(hours=2), durable=True)
    _add(s, "q-plain", "queued", t0 + timedelta(hours=2), durable=False)
    s.con.execute("ANALYZE jobs")
    idx = s.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'jobs_claim'")["indexdef"].tolist()
    assert len(idx) == 1
    assert "WHERE" in idx[0]
    assert "queued" in idx[0]
    assert "running" in idx[0]
    assert "jobs_claim" in _plan(s, store_jobs._DUE_PG, [["report"]])
    assert "jobs_claim" in _plan(s, _CLAIM_NEXT_PG, [])
    # a query the index cannot serve is not planned on it (the assertions above can fail)
    assert "jobs_claim" not in _plan(s, "SELECT job_id FROM jobs WHERE status = 'done' ORDER BY created_at LIMIT 1", [])


def test_the_claims_take_the_oldest_runnable_job_first(pg_store):
    s = pg_store
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    _add(s, "old-done", "done", t0, durable=True)
    _add(s, "b-later", "queued", t0 + timedelta(minutes=2), durable=True)
    _add(s, "a-lost", "running", t0 + timedelta(minutes=1), durable=True, lease=t0)  # its worker died
    _add(s, "live", "running", t0, durable=True, lease=datetime.now(UTC) + timedelta(hours=1))
    first = store_jobs.claim_due(s, ["report"], "w1", 60)
    second = store_jobs.claim_due(s, ["report"], "w2", 60)
    assert (first.job_id, second.job_id) == ("a-lost", "b-later")  # type: ignore[union-attr]
    assert store_jobs.claim_due(s, ["report"], "w3", 60) is None
    _add(s, "plain-2", "queued", t0 + timedelta(minutes=5), durable=False)
    _add(s, "plain-1", "queued", t0 + timedelta(minutes=4), durable=False)
    assert [store_jobs.claim_next(s), store_jobs.claim_next(s), store_jobs.claim_next(s)] == ["plain-1", "plain-2", None]
