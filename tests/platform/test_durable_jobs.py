"""Durable background jobs (issue 10 §1: "background jobs are claimed safely by any worker").

A job is a named kind with validated JSON parameters and the submitter's scope, stored in the
``jobs`` table; any worker process runs it (carbonpeak.workflows.jobs).  Proved here, on the
backend of the pass (DuckDB, or PostgreSQL with CARBONPEAK_TEST_DATABASE_URL):

* parameters are validated and stored; the scope is the stored submitter's, never the parameters';
* a job whose worker died is taken over when its lease ran out, up to max_attempts; the dead
  worker's late writes are fenced off; every state change is in the audit chain;
* N jobs across two runners run exactly once each (hypothesis);
* with real processes: a killed worker's job is finished by another process (both backends);
  on PostgreSQL a job submitted by process A is run by process B, and N jobs across two worker
  processes run exactly once each (hypothesis).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.platform import job_worker
from tests.platform.job_worker import ANALYST, make_runs_table
from tests.stores import db_location, on_postgres

from carbonpeak.errors import NotFound, ValidationError
from carbonpeak.store import Store, audit
from carbonpeak.store import jobs as job_table
from carbonpeak.store.users import Principal
from carbonpeak.workflows.jobs import Runner, get, submit

pg_only = pytest.mark.skipif(not on_postgres(), reason="needs the PostgreSQL pass (CARBONPEAK_TEST_DATABASE_URL)")
GZ = Principal("gz_officer", "city_officer", city="GD-GZ")
WORKER = [sys.executable, "-m", "tests.platform.job_worker"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    s = Store(db_location(tmp_path / "jobs.duckdb"))
    make_runs_table(s)
    yield s
    s.close()


def _runs(store: Store) -> list[int]:
    return sorted(store.query("SELECT n FROM t_job_runs")["n"].tolist())


def _job_audit(store: Store, job_id: str) -> list[tuple[str, dict]]:
    df = store.query("SELECT action, payload FROM audit_log WHERE entity = 'job' AND entity_id = ? ORDER BY seq", [job_id])
    return [(a, json.loads(p)) for a, p in zip(df["action"], df["payload"], strict=True)]


def test_a_job_is_a_named_kind_with_validated_params_and_the_submitters_scope(store):
    jid = submit(store, "test.record", {"n": 7}, ANALYST)
    row = store.query("SELECT kind, status, params, principal, owner, attempts FROM jobs WHERE job_id = ?", [jid])
    assert row["kind"][0] == "test.record"
    assert row["status"][0] == "queued"
    assert json.loads(row["params"][0]) == {"n": 7}
    assert json.loads(row["principal"][0])["role"] == "province_analyst"
    assert row["owner"][0] == "ana"
    assert Runner(store).run_pending() == [jid]
    rec = get(store, jid)
    assert rec["status"] == "done"
    assert rec["result"]["n"] == 7
    assert rec["progress"] == 1.0
    assert _runs(store) == [7]
    assert [a for a, _ in _job_audit(store, jid)] == ["job.submit", "job.start", "job.done"]
    assert audit.verify_chain(store).ok
    with pytest.raises(NotFound):
        submit(store, "no.such.kind", {}, ANALYST)
    with pytest.raises(ValidationError) as exc:
        submit(store, "test.record", {"n": -1}, ANALYST)
    assert exc.value.problems[0].field == "n"
    # nothing JSON cannot hold, nothing the kind does not define
    with pytest.raises(ValidationError):
        submit(store, "test.record", {"n": 1, "note": object()}, ANALYST)


def test_the_scope_cannot_be_widened_through_params(store):
    """A city officer's inventory job covers its own city: a parameter naming the role or scope is
    refused, another city in the parameters fails the job, and so does a row tampered with in the
    database (the stored principal is re-applied when the job runs)."""
    for extra in ({"role": "admin"}, {"principal": {"role": "admin"}}, {"city": "GD-SZ"}):
        with pytest.raises(ValidationError):
            submit(store, "inventory.compile", {"uncertainty": "approach1", **extra}, GZ)
    other = submit(store, "inventory.compile", {"uncertainty": "approach1", "region": "GD-SZ"}, GZ)
    tampered = submit(store, "inventory.compile", {"uncertainty": "approach1"}, GZ)
    widened = submit(store, "inventory.compile", {"uncertainty": "approach1"}, GZ)
    store.con.execute("UPDATE jobs SET params = ? WHERE job_id = ?",
                      [json.dumps({"uncertainty": "approach1", "region": "GD-SZ"}), tampered])  # fmt: skip
    store.con.execute("UPDATE jobs SET params = ? WHERE job_id = ?",
                      [json.dumps({"uncertainty": "approach1", "role": "admin", "region": None}), widened])  # fmt: skip
    Runner(store).run_pending()
    for jid in (other, tampered):
        rec = get(store, jid)
        assert rec["status"] == "failed", rec
        assert "own city" in rec["error"]
    rec = get(store, widened)
    assert rec["status"] == "failed"
    assert "role" in rec["error"]


def test_a_job_whose_worker_died_is_taken_over_after_its_lease(store):
    jid = submit(store, "test.record", {"n": 1}, ANALYST)
    dead = job_table.claim_due(store, ["test.record"], "dead-worker", lease_seconds=2)
    assert dead is not None
    assert dead.job_id == jid
    assert dead.attempt == 1
    b = Runner(store, worker="worker-b", lease_seconds=2)
    assert b.run_pending() == []  # the lease still runs: nobody else may start it
    time.sleep(2.5)
    assert b.run_pending() == [jid]
    assert get(store, jid)["status"] == "done"
    st_ = job_table.durable_state(store, jid)
    assert (st_["attempts"], st_["worker"]) == (2, "worker-b")
    assert _runs(store) == [1]
    # the dead worker comes back: its writes are fenced off by the attempt
    assert job_table.renew(store, dead, 2) is False
    assert job_table.finish(store, dead, status="failed", error="late") is False
    assert get(store, jid)["status"] == "done"
    trail = _job_audit(store, jid)
    assert [a for a, _ in trail] == ["job.submit", "job.start", "job.start", "job.done"]
    assert trail[2][1] == {"attempt": 2, "worker": "worker-b", "taken_over": True}
    assert audit.verify_chain(store).ok


def test_a_job_whose_workers_keep_dying_fails_after_max_attempts(store):
    jid = submit(store, "test.record", {"n": 1}, ANALYST)
    assert job_table.durable_state(store, jid)["max_attempts"] == 3  # the setting job_max_attempts
    for attempt in (1, 2, 3):
        c = job_table.claim_due(store, ["test.record"], f"dying-{attempt}", lease_seconds=1)
        assert c is not None
        assert c.attempt == attempt
        time.sleep(1.3)
    assert Runner(store).run_pending() == []
    rec = get(store, jid)
    assert rec["status"] == "failed"
    assert "stopped 3 time(s)" in rec["error"]
    assert _runs(store) == []
    assert [a for a, _ in _job_audit(store, jid)][-1] == "job.failed"


def test_a_runner_renews_its_lease_while_the_job_runs(store, monkeypatch):
    """A job longer than its lease is not taken over while its worker is alive (heartbeat)."""
    monkeypatch.setenv("CP_TEST_SLOW", "1")
    monkeypatch.delenv("CP_TEST_MARK", raising=False)
    jid = submit(store, "test.sleep", {"seconds": 4.5}, ANALYST)
    a = Runner(store, worker="worker-a", lease_seconds=2)
    t = threading.Thread(target=a.run_pending)
    t.start()
    time.sleep(0.5)
    b = Runner(store, worker="worker-b", lease_seconds=2)
    seen = []
    while t.is_alive():
        seen += b.run_pending()
        time.sleep(0.3)
    t.join()
    assert seen == []
    assert get(store, jid)["status"] == "done"
    assert job_table.durable_state(store, jid)["attempts"] == 1


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=25))
def test_n_jobs_two_runners_each_job_runs_exactly_once(tmp_path, n):
    with Store(db_location(":memory:" if on_postgres() else tmp_path / f"p{n}-{time.monotonic_ns()}.duckdb")) as s:
        make_runs_table(s)
        ids = [submit(s, "test.record", {"n": i}, ANALYST) for i in range(n)]
        got: list[list[str]] = [[], []]

        def work(i: int) -> None:
            got[i] = Runner(s, worker=f"w{i}").run_pending()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not set(got[0]) & set(got[1])
        assert sorted(got[0] + got[1]) == sorted(ids)
        assert _runs(s) == list(range(n))


# -- real processes -------------------------------------------------------------------------------
def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]), **extra}


def _wait(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_killed_workers_job_is_taken_over_and_finished_by_another_process(tmp_path):
    """Process A starts a job and is killed (SIGKILL); once the lease ran out, process B finishes
    it.  DuckDB: B opens the file after A died; PostgreSQL: both at once."""
    loc = str(db_location(tmp_path / "killed.duckdb"))
    with Store(loc) as s:
        make_runs_table(s)
        jid = submit(s, "test.sleep", {"seconds": 120}, ANALYST)
    mark = tmp_path / "started"
    a = subprocess.Popen([*WORKER, "work", loc], env=_env(CP_TEST_SLOW="1", CP_TEST_MARK=str(mark)),
                         stdout=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
    try:
        a_name = a.stdout.readline().strip()
        _wait(mark.exists, 120, "worker A did not start the job")
    finally:
        a.send_signal(signal.SIGKILL)
        a.wait(30)
    with Store(loc) as s:
        rec = get(s, jid)
        assert rec["status"] == "running"
        assert job_table.durable_state(s, jid)["worker"] == a_name
    b = subprocess.run([*WORKER, "run", loc], env=_env(), capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert b.returncode == 0, b.stderr
    if json.loads(b.stdout) == []:  # B looked before A's lease ran out: look again after it
        time.sleep(2.5)
        b = subprocess.run([*WORKER, "run", loc], env=_env(), capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert json.loads(b.stdout) == [jid]
    with Store(loc) as s:
        rec = get(s, jid)
        assert rec["status"] == "done", rec
        st_ = job_table.durable_state(s, jid)
        assert st_["attempts"] == 2
        assert st_["worker"] != a_name
        assert [a for a, _ in _job_audit(s, jid)] == ["job.submit", "job.start", "job.start", "job.done"]


@pg_only
def test_a_job_submitted_by_process_a_is_run_by_process_b(tmp_path):
    loc = str(db_location(tmp_path / "ab.duckdb"))
    with Store(loc) as s:
        make_runs_table(s)
    sub = subprocess.run([*WORKER, "submit", loc, "test.record", "3"], env=_env(), capture_output=True,
                         text=True, cwd=ROOT, timeout=120, check=True)  # fmt: skip
    ids = json.loads(sub.stdout)
    ran = subprocess.run([*WORKER, "run", loc], env=_env(), capture_output=True, text=True, cwd=ROOT,
                         timeout=120, check=True)  # fmt: skip
    assert sorted(json.loads(ran.stdout)) == sorted(ids)
    with Store(loc) as s:
        pids = {get(s, j)["result"]["pid"] for j in ids}
        assert len(pids) == 1
        assert all(get(s, j)["status"] == "done" for j in ids)
        assert _runs(s) == [0, 1, 2]
        assert set(s.query("SELECT who FROM t_job_runs")["who"]) == {"ana"}  # the submitter's scope


@pg_only
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=60))
def test_n_jobs_across_two_worker_processes_each_run_exactly_once(n):
    loc = str(db_location(":memory:"))
    with Store(loc) as s:
        make_runs_table(s)
        ids = [submit(s, "test.record", {"n": i}, ANALYST) for i in range(n)]
    procs = [subprocess.Popen([*WORKER, "run", loc], env=_env(), stdout=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(2)]  # fmt: skip
    got = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert not set(got[0]) & set(got[1]), "a job ran in both processes"
    assert sorted(got[0] + got[1]) == sorted(ids)
    with Store(loc) as s:
        assert _runs(s) == list(range(n))
        assert set(s.query("SELECT status FROM jobs")["status"]) == {"done"}


def test_worker_module_registers_its_kinds():
    assert {"test.record", "test.sleep"} <= set(job_worker.load_kinds())


def test_the_cli_runs_pending_jobs_and_lists_them(tmp_path, capsys):
    from carbonpeak.cli import main

    loc = str(db_location(tmp_path / "cli.duckdb"))
    with Store(loc) as s:
        make_runs_table(s)
        ids = [submit(s, "test.record", {"n": i}, ANALYST) for i in range(2)]
    assert main(["jobs", "run-pending", "--db", loc, "--max", "1", "-f", "json"]) == 0
    first = json.loads(capsys.readouterr().out)["jobs"]
    assert [(j["job_id"], j["status"]) for j in first] == [(ids[0], "done")]
    assert main(["jobs", "list", "--db", loc, "--status", "queued", "-f", "json"]) == 0
    assert [j["job_id"] for j in json.loads(capsys.readouterr().out)["jobs"]] == [ids[1]]
    assert main(["jobs", "run-pending", "--db", loc, "-f", "json"]) == 0
    assert [j["job_id"] for j in json.loads(capsys.readouterr().out)["jobs"]] == [ids[1]]
