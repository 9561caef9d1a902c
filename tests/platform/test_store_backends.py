"""The store on DuckDB or PostgreSQL (issue 10 §1): locations, Alembic revisions, the upgrade of a
store made by the earlier migration runner, and several workers on PostgreSQL (job claims without
double claims, `serve --workers`, the CLI writing while the service runs).

The PostgreSQL tests run when the suite runs on a server (`make test`, second pass;
CARBONPEAK_TEST_DATABASE_URL); on the DuckDB pass they are skipped, and the DuckDB-only tests run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from tests.stores import db_location, on_postgres

from carbonpeak.cli import main
from carbonpeak.store import Store
from carbonpeak.store import jobs as job_table
from carbonpeak.store.engine import locate, translate
from carbonpeak.store.migrate import head, revisions

pg_only = pytest.mark.skipif(not on_postgres(), reason="needs the PostgreSQL pass (CARBONPEAK_TEST_DATABASE_URL)")

OLD_FILES = [
    "0001_core", "0100_accounting", "0200_targets", "0300_scenarios", "0400_monitoring", "0410_monitoring_rules",
    "0420_monitoring_incremental", "0600_platform", "0610_submission_rows", "0620_audit_keys", "0630_login_failures",
]  # fmt: skip


def test_locations_plain_path_duckdb_url_and_postgres_url():
    assert locate("a/b.duckdb").backend == "duckdb"
    assert locate(":memory:").path == ":memory:"
    assert locate("duckdb:///rel/x.duckdb").path == "rel/x.duckdb"
    assert locate("duckdb:////abs/x.duckdb").path == "/abs/x.duckdb"
    pg = locate("postgresql+psycopg://u:secret@h:5432/db")
    assert pg.is_postgres
    assert "secret" not in pg.path
    assert "secret" in pg.url
    # a URL passed through a Path option lost one slash: still understood
    assert locate(str(Path("postgresql+psycopg://u@h:5432/db"))).url == "postgresql+psycopg://u@h:5432/db"
    assert locate("postgresql://u@h/db").url.startswith("postgresql+psycopg://")


def test_placeholders_translated_for_psycopg_outside_string_literals():
    assert translate("SELECT ? , '?', '%', $user FROM t WHERE a LIKE 'x%'") == (
        "SELECT %s , '?', '%%', %(user)s FROM t WHERE a LIKE 'x%%'"
    )
    assert translate("list_contains(?::VARCHAR[], entity)") == "list_contains(%s::VARCHAR[], entity)"


def test_revisions_are_the_old_migration_files_in_order():
    """The first revisions are the former SQL files, in order; later ones (0700_markets …) follow."""
    assert revisions()[: len(OLD_FILES)] == OLD_FILES
    assert head() == revisions()[-1]


@pytest.mark.skipif(on_postgres(), reason="DuckDB stores of the former migration runner (PostgreSQL never had one)")
def test_a_store_of_the_old_runner_is_stamped_and_upgraded(tmp_path):
    """A DuckDB store the hand-written runner migrated up to 0600_platform: its data stay, the
    later revisions are applied, and Alembic records the head."""
    from importlib import util

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)")
    versions = Path(__file__).resolve().parents[2] / "src/carbonpeak/store/alembic/versions"
    for name in OLD_FILES[: OLD_FILES.index("0600_platform") + 1]:
        spec = util.spec_from_file_location(name, versions / f"{name}.py")
        mod = util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        con.execute(mod.ddl("duckdb"))
        con.execute("INSERT INTO _migrations VALUES (?, now())", [f"{name}.sql"])
    con.execute("INSERT INTO users VALUES ('old_admin', 'x', 'admin', NULL, NULL, NULL, false, now())")
    con.close()

    with Store(db) as s:
        assert s.query("SELECT version_num FROM alembic_version")["version_num"].tolist() == [head()]
        assert s.query("SELECT username FROM users")["username"].tolist() == ["old_admin"]
        assert s.has_table("login_failures")
        assert s.has_table("submission_rows")
        assert "key_id" in s.query("SELECT * FROM audit_log LIMIT 0").columns
    with Store(db) as s:  # opening again applies nothing
        assert s.migrate() == []


@pytest.mark.skipif(on_postgres(), reason="the refusal is about a DuckDB store (several workers need PostgreSQL)")
def test_serve_refuses_several_workers_on_duckdb(tmp_path, capsys):
    assert main(["serve", "--workers", "2", "--db", str(tmp_path / "one.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "PostgreSQL" in err
    assert "CARBONPEAK_DATABASE_URL" in err


def test_claim_next_takes_each_job_once_on_either_backend(tmp_path):
    with Store(db_location(tmp_path / "jobs.duckdb")) as s:
        for i in range(5):
            job_table.insert(s, f"j{i}", "test", "admin")
        got = [job_table.claim_next(s) for _ in range(6)]
        assert got[:5] == [f"j{i}" for i in range(5)]
        assert got[5] is None
        assert job_table.claim(s, "j0") is False  # already running


CLAIMER = """
import json, sys
from carbonpeak.store import Store
from carbonpeak.store import jobs
s = Store(sys.argv[1])
mine = []
while (j := jobs.claim_next(s)) is not None:
    mine.append(j)
print(json.dumps(mine))
s.close()
"""


@pg_only
def test_two_worker_processes_claim_jobs_without_double_claims(tmp_path):
    url = str(db_location(tmp_path / "claims.duckdb"))
    with Store(url) as s, s.transaction() as con:
        for i in range(300):
            con.execute(
                "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at) "
                "VALUES (?, 'test', 'queued', 0, 'admin', now())",
                [f"job{i:03d}"],
            )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, url], stdout=subprocess.PIPE, env=env) for _ in range(2)]
    claimed = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    a, b = set(claimed[0]), set(claimed[1])
    assert not a & b, "a job was claimed by both workers"
    assert a | b == {f"job{i:03d}" for i in range(300)}
    assert len(claimed[0]) + len(claimed[1]) == 300
    with Store(url) as s:
        assert s.query("SELECT count(*) AS n FROM jobs WHERE status = 'running'")["n"][0] == 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ACTIVITY = (
    "year,region,category,item,amount,unit,uncertainty_pct,source,note\n"
    "2020,GD,1.A.2.a,raw_coal,10,万吨,5,test,\n2020,GD-GZ,1.A.3.b,diesel_oil,2,t,,test,\n"
)


@pg_only
@pytest.mark.service
@pytest.mark.slow
def test_two_service_workers_and_the_cli_writing_beside_them(tmp_path):
    url = str(db_location(tmp_path / "svc.duckdb"))
    with Store(url) as s:
        from carbonpeak.store.users import add_user

        add_user(s, "admin1", "correct horse battery", "admin")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from carbonpeak.cli import main; raise SystemExit(main())", "serve",
         "--workers", "2", "--port", str(port), "--db", url],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server died"
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.3)
        # the CLI writes to the same database while the service runs (no "store in use")
        f = tmp_path / "act.csv"
        f.write_text(ACTIVITY, encoding="utf-8")
        assert main(["inventory", "import", str(f), "--db", url, "-f", "json"]) == 0
        # every request, whichever worker answers it, sees the session and the CLI's batch
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            token = c.post("/api/auth/login", json={"username": "admin1", "password": "correct horse battery"}).json()[
                "token"
            ]
            for _ in range(20):
                r = c.get("/api/audit", headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text
                assert any(e["action"] == "activity.import" for e in r.json())
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pg_only
def test_write_transactions_of_two_threads_do_not_wait_for_each_other(tmp_path):
    """PostgreSQL: no process-wide write lock. While one thread's transaction is open, another
    thread of the same process commits its own write (on DuckDB the second would wait)."""
    import threading

    with Store(db_location(tmp_path / "conc.duckdb")) as s:
        inside, release = threading.Event(), threading.Event()

        def long_writer() -> None:
            with s.transaction() as con:
                con.execute("INSERT INTO login_failures VALUES ('user', 'slow', 1.0)")
                inside.set()
                assert release.wait(60)

        t = threading.Thread(target=long_writer)
        t.start()
        assert inside.wait(60)
        done = threading.Event()

        def quick_writer() -> None:
            with s.transaction() as con:
                con.execute("INSERT INTO login_failures VALUES ('user', 'quick', 2.0)")
            done.set()

        q = threading.Thread(target=quick_writer)
        q.start()
        assert done.wait(30), "the second transaction waited for the first"
        # the first one's row is not visible before it commits
        assert s.query("SELECT subject FROM login_failures ORDER BY subject")["subject"].tolist() == ["quick"]
        release.set()
        t.join(60)
        q.join(60)
        assert s.query("SELECT subject FROM login_failures ORDER BY subject")["subject"].tolist() == ["quick", "slow"]
