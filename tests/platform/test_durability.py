"""Ingest acknowledges a batch only once it is durably stored (issue 6 §3).

A real server process (uvicorn) is started on loopback, fed a stream of batches and killed with
SIGKILL in the middle.  After a restart on the same file: every acknowledged batch is there, no
partial batch is, and re-sending every batch counts none twice.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.stores import db_location

from carbonpeak.store import Store
from carbonpeak.store.users import add_user

pytestmark = [pytest.mark.service, pytest.mark.slow]

PW = "correct horse battery"
SERVER = """
import sys, uvicorn
from carbonpeak.api import create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(db), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died")
    proc.kill()
    raise RuntimeError("server did not start in 60 s")


def _batch(i: int, n: int = 200) -> bytes:
    lines = ["meter_id,ts,value"]
    for k in range(n):
        minute = k * 15
        lines.append(
            f"M{i},2025-01-{1 + minute // 1440:02d}T{(minute // 60) % 24:02d}:{minute % 60:02d}:00+08:00,{i * 1000 + k}"
        )
    return ("\n".join(lines) + "\n").encode()


def _period(i: int) -> str:
    """A distinct month per batch (periods have the exact format YYYY-MM)."""
    return f"{1900 + i // 12:04d}-{i % 12 + 1:02d}"


def _index(submission_id: str) -> int:
    year, month = submission_id.rsplit("/", 1)[1].split("-")
    return (int(year) - 1900) * 12 + int(month) - 1


def _send(client: httpx.Client, token: str, i: int) -> httpx.Response:
    return client.post(
        "/api/submissions",
        headers={"Authorization": f"Bearer {token}"},
        data={"kind": "readings", "period": _period(i), "enterprise_id": "ENT-A"},
        files={"file": (f"b{i}.csv", _batch(i), "text/csv")},
        timeout=30,
    )


def test_sigkill_during_ingest_loses_no_acknowledged_batch(tmp_path: Path):
    db = db_location(tmp_path / "durable.duckdb")
    s = Store(db)
    add_user(s, "ent_a", PW, "enterprise", enterprise_id="ENT-A")
    from tests.platform.conftest import seed_registry

    seed_registry(s, {"U-A": ("ENT-A", "GD-GZ", tuple(f"M{i}" for i in range(2000)))})
    s.close()
    port = _free_port()
    proc = _start(db, port)
    acked: list[int] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            token = c.post("/api/auth/login", json={"username": "ent_a", "password": PW}).json()["token"]
            for i in range(10_000):
                if stop.is_set():
                    return
                try:
                    r = _send(c, token, i)
                except httpx.HTTPError:
                    return  # the server died under us: this batch was not acknowledged
                if r.status_code == 201:
                    acked.append(i)

    t = threading.Thread(target=stream)
    t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    stop.set()
    t.join(timeout=60)
    assert len(acked) >= 15, "the stream did not get going"

    # after the crash: every acknowledged batch is stored whole, nothing partial
    s = Store(db)
    df = s.query("SELECT submission_id, version, rows FROM submissions")
    stored = {_index(sid) for sid in df["submission_id"]}
    assert set(acked) <= stored
    assert len(stored - set(acked)) <= 1  # at most the batch in flight, committed but not yet answered
    assert (df["rows"] == 200).all()
    per_version = s.query("SELECT submission_id, version, count(*) n FROM submission_rows GROUP BY ALL")
    assert len(per_version) == len(df)
    assert (per_version["n"] == 200).all()  # each acknowledged batch whole, one stored row per row
    s.close()

    # restart and resend everything that was sent: nothing is counted twice
    proc = _start(db, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            token = c.post("/api/auth/login", json={"username": "ent_a", "password": PW}).json()["token"]
            for i in sorted(stored):
                r = _send(c, token, i)
                assert r.status_code == 201
                assert r.json()["created"] is False
                assert r.json()["version"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    s = Store(db)
    assert s.query("SELECT count(*) n FROM submissions")["n"][0] == len(stored)
    s.close()
