"""Issue 10 proof: derived results are cached per data version, and every write invalidates them
at once — in this process, in another service worker, and from the CLI while the service runs.

The versions are read from the database (carbonpeak.store.versions: PostgreSQL triggers, DuckDB
derived counts); the caches are carbonpeak.workflows.cache.  Real servers, no mocks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.platform.conftest import PW, seed_users
from tests.stores import db_location

from carbonpeak.store import Store
from carbonpeak.store import versions as sv
from carbonpeak.store.access import DataAccess
from carbonpeak.store.users import Principal
from carbonpeak.workflows import cache
from carbonpeak.workflows.inventory import compile_summary, import_activity

REPO = Path(__file__).resolve().parents[2]
HEADER = "year,region,category,item,amount,unit,uncertainty_pct,source,note\n"


def _activity(folder: Path, name: str, head: float) -> Path:
    """One activity file: GD's swine (enteric fermentation, 3.A.1) in 2020, ``head`` animals."""
    p = folder / name
    p.write_text(HEADER + f"2020,GD,3.A.1,swine,{head},head,10.0,test file,test\n", encoding="utf-8")
    return p


def _total(summary: dict) -> float:
    """The summary's territorial total (t CO2e)."""
    return sum(float(v) for v in summary["by_sector"].values())


def _summary_total(store: Store) -> float:
    return _total(compile_summary(store, year=2020))


@pytest.fixture
def store(tmp_path):
    s = Store(db_location(tmp_path / "v.duckdb"))
    yield s
    s.close()


def test_an_import_changes_the_batches_version_and_nothing_else_does(store, tmp_path) -> None:
    v0 = sv.read(store)
    assert v0.epoch is not None
    import_activity(store, [(_activity(tmp_path, "a.csv", 1000.0), "a.csv")], submitter="t")
    v1 = sv.read(store)
    assert v1.batches != v0.batches
    assert v1.epoch == v0.epoch
    # a re-import of the same batch writes nothing: the version stays
    import_activity(store, [(_activity(tmp_path, "a2.csv", 1000.0), "a2.csv")], submitter="t")
    assert sv.read(store) == v1
    # an enterprise's readings submission is not inventory data: the inventory's caches stay
    rows = __import__("pandas").DataFrame(
        {
            "meter_id": ["M1"],
            "ts": ["2025-01-01T00:00:00+08:00"],
            "value": [1.0],
            "__row__": [2],
            "__file__": ["r"],
        }
    )
    DataAccess(store, Principal("e", "enterprise", enterprise_id="ENT-A")).submit(
        submission_id="ENT-A/readings/2025-01",
        kind="readings",
        rows=rows,
        enterprise_id="ENT-A",
        city="GD-GZ",
    )
    assert sv.read(store).batches == v1.batches


def test_two_stores_never_share_an_entry(tmp_path) -> None:
    a, b = Store(db_location(":memory:")), Store(db_location(":memory:"))
    try:
        assert sv.read(a).key() != sv.read(b).key()  # equal counters, different epochs or places
    finally:
        a.close()
        b.close()


def test_cached_results_follow_every_import(store, tmp_path) -> None:
    import_activity(store, [(_activity(tmp_path, "a.csv", 1000.0), "a.csv")], submitter="t")
    first = _summary_total(store)
    assert _summary_total(store) == first  # cached
    import_activity(store, [(_activity(tmp_path, "b.csv", 3000.0), "b.csv")], submitter="t")
    assert _summary_total(store) == pytest.approx(3 * first)


def test_a_read_request_reads_the_version_once_and_a_write_is_seen_after_it(store, tmp_path) -> None:
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        return len(builds)

    with cache.pinned():
        assert cache.cached(store, ("t", "pinned"), build) == 1
        import_activity(store, [(_activity(tmp_path, "a.csv", 1.0), "a.csv")], submitter="t")
        # inside one read request the version is the one read first (no write happens in a GET)
        assert cache.cached(store, ("t", "pinned"), build) == 1
    assert cache.cached(store, ("t", "pinned"), build) == 2  # the next request sees the write


def test_concurrent_misses_build_once(store) -> None:
    calls: list[int] = []
    gate = threading.Event()

    def build() -> str:
        calls.append(1)
        gate.wait(2)
        return "built"

    out: list[str] = []
    threads = [
        threading.Thread(target=lambda: out.append(cache.cached(store, ("t", "single-flight"), build)))
        for _ in range(8)
    ]
    for th in threads:
        th.start()
    time.sleep(0.3)
    gate.set()
    for th in threads:
        th.join(10)
    assert out == ["built"] * 8
    assert len(calls) == 1


def test_a_failure_is_cached_until_the_data_change(store, tmp_path) -> None:
    calls: list[int] = []

    def build() -> None:
        calls.append(1)
        raise ValueError("bad data")

    for _ in range(3):
        with pytest.raises(ValueError):
            cache.cached(store, ("t", "fails"), build)
    assert len(calls) == 1
    import_activity(store, [(_activity(tmp_path, "a.csv", 1.0), "a.csv")], submitter="t")
    with pytest.raises(ValueError):
        cache.cached(store, ("t", "fails"), build)
    assert len(calls) == 2


# -- several processes on PostgreSQL ------------------------------------------------------------


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, state: Path) -> tuple[subprocess.Popen, str]:
    """``carbonpeak serve`` on ``url`` in a process of its own (one service worker)."""
    port = _port()
    env = {**os.environ, "CARBONPEAK_STATE_DIR": str(state), "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from carbonpeak.cli import main; main()", "serve", "--db", url,
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the service stopped: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the service did not start")


def _compiled(base: str, token: str) -> float:
    r = httpx.post(base + "/api/inventory/compile", json={"year": 2020},
                   headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    return _total(r.json())


def _token(base: str, user: str) -> str:
    r = httpx.post(base + "/api/auth/login", json={"username": user, "password": PW}, timeout=60)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def test_a_write_in_one_worker_or_the_cli_is_seen_by_the_next_read_of_another(tmp_path) -> None:
    from tests.platform.pg import fresh_database

    url = fresh_database()
    state = tmp_path / "state"
    os.environ.setdefault("CARBONPEAK_STATE_DIR", str(state))
    s = Store(url)
    seed_users(s, {"analyst": dict(role="province_analyst")})
    import_activity(s, [(_activity(tmp_path, "a.csv", 1000.0), "a.csv")], submitter="t")
    s.close()
    a, base_a = _serve(url, state)
    b, base_b = _serve(url, state)
    try:
        ta, tb = _token(base_a, "analyst"), _token(base_b, "analyst")
        first = _compiled(base_a, ta)
        assert _compiled(base_b, tb) == first  # both workers have it cached now

        # worker A stores a correction; the very next read of worker B sees it
        up = _activity(tmp_path, "b.csv", 2000.0)
        with up.open("rb") as fh:
            r = httpx.post(base_a + "/api/activity", files={"files": ("b.csv", fh, "text/csv")},
                           headers={"Authorization": f"Bearer {ta}"}, timeout=60)  # fmt: skip
        assert r.status_code == 201, r.text
        assert _compiled(base_b, tb) == pytest.approx(2 * first)

        # the CLI writes beside the running service: both workers' next reads see it
        cli = subprocess.run(
            [sys.executable, "-c", "from carbonpeak.cli import main; main()", "inventory", "import",
             str(_activity(tmp_path, "c.csv", 5000.0)), "--db", url, "--submitter", "operator"],
            env={**os.environ, "CARBONPEAK_STATE_DIR": str(state), "PYTHONPATH": str(REPO / "src")},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert _compiled(base_b, tb) == pytest.approx(5 * first)
        assert _compiled(base_a, ta) == pytest.approx(5 * first)
    finally:
        for p in (a, b):
            p.terminate()
            p.wait(30)
