"""Issue 9, high: bounded uploads.

* The whole request body is limited while it streams in (``max_request_bytes``): the limit is
  enforced on the ASGI ``receive`` stream, so the rest of an oversized body is never read, and a
  declared ``Content-Length`` over the limit is refused before anything is read.
* One file is limited while it is copied to disk (``max_upload_bytes``): HTTP 413.
* An .xlsx (a zip) is refused when its parts would inflate beyond ``max_unzipped_bytes``.
* No store cell holds a whole upload: submissions keep one row per row.
"""

from __future__ import annotations

import asyncio
import io
import zipfile

import pandas as pd
import pytest
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import login, make_client
from tests.stores import copy_store, db_location

from carbonpeak.api.uploads import BodyLimitMiddleware
from carbonpeak.store import Store

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures


def _run_middleware(limit: int, chunks: int, chunk: int = 1024, declared: int | None = None):
    """Drive the middleware with a body of ``chunks`` chunks; return (status, chunks read, app reached)."""
    read = 0
    sent: list[dict] = []
    reached = False

    async def receive():
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * chunk, "more_body": read < chunks}

    async def send(msg):
        sent.append(msg)

    async def app(scope, rcv, snd):
        nonlocal reached
        reached = True
        while (await rcv()).get("more_body"):
            pass
        await snd({"type": "http.response.start", "status": 200, "headers": []})
        await snd({"type": "http.response.body", "body": b"ok"})

    headers = [] if declared is None else [(b"content-length", str(declared).encode())]
    mw = BodyLimitMiddleware(app, limit)
    asyncio.run(mw({"type": "http", "headers": headers}, receive, send))
    return sent[0]["status"], read, reached


def test_request_body_is_cut_off_while_streaming():
    status, read, _ = _run_middleware(limit=10 * 1024, chunks=10_000)
    assert status == 413
    assert read == 11  # the 11th chunk crossed the limit; the remaining 9,989 were never read


def test_declared_length_over_the_limit_is_refused_before_reading():
    status, read, reached = _run_middleware(limit=1024, chunks=5, declared=10**9)
    assert status == 413
    assert read == 0
    assert not reached


def test_a_body_within_the_limit_passes():
    status, read, _ = _run_middleware(limit=10 * 1024, chunks=5)
    assert (status, read) == (200, 5)


@pytest.fixture
def small_limits(tmp_path, _template_db, upload_root):
    copy_store(_template_db, tmp_path / "s.duckdb")
    store = Store(db_location(tmp_path / "s.duckdb"))
    with make_client(store, max_upload_bytes=2_000, max_request_bytes=50_000) as c:
        yield c, store
    store.close()


def _readings(n: int) -> bytes:
    rows = [f"M1,2024-01-{1 + i // 96:02d}T{(i // 4) % 24:02d}:{15 * (i % 4):02d}:00+08:00,{i}" for i in range(n)]
    return ("meter_id,ts,value\n" + "\n".join(rows) + "\n").encode()


def test_a_file_over_max_upload_bytes_is_413_and_leaves_nothing(small_limits, upload_root):
    c, store = small_limits
    body = _readings(200)
    assert len(body) > 2_000
    r = c.post(
        "/api/submissions",
        headers=login(c, "ent_a"),
        data={"kind": "readings", "period": "2024-01"},
        files={"file": ("big.csv", body, "text/csv")},
    )
    assert r.status_code == 413
    assert "big.csv" in r.json()["message"]
    assert list(upload_root.iterdir()) == []
    assert store.query("SELECT count(*) n FROM submissions")["n"][0] == 0


@pytest.mark.parametrize("path", ["/api/submissions", "/api/monitoring/ingest", "/api/activity"])
def test_a_request_over_max_request_bytes_is_413(small_limits, path):
    c, _ = small_limits
    field = "file" if path == "/api/submissions" else "files"
    r = c.post(
        path,
        headers=login(c, "admin"),
        data={"kind": "readings", "period": "2024-01", "enterprise_id": "ENT-A"},
        files={field: ("big.csv", b"x" * 60_000, "text/csv")},
    )
    assert r.status_code == 413


def _xlsx(rows: int = 2) -> bytes:
    buf = io.BytesIO()
    df = pd.DataFrame({"meter_id": ["M1"] * rows, "ts": [f"2024-01-01T0{i}:00:00+08:00" for i in range(rows)], "value": [1.0] * rows})
    df.to_excel(buf, index=False)
    return buf.getvalue()


def _bomb(inflated: int) -> bytes:
    """A valid-looking .xlsx with one part that inflates to ``inflated`` bytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_xlsx())) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, src.read(item.filename))
        with out.open("xl/media/padding.bin", "w") as fh:
            block = b"\0" * (1 << 20)
            for _ in range(inflated >> 20):
                fh.write(block)
    return buf.getvalue()


@pytest.fixture
def unzip_limit(monkeypatch):
    from carbonpeak.config import get_settings

    monkeypatch.setenv("CARBONPEAK_MAX_UNZIPPED_BYTES", str(8 << 20))
    get_settings.cache_clear()
    yield 8 << 20
    get_settings.cache_clear()


def test_a_zip_bomb_xlsx_is_refused(svc, unzip_limit):
    client, store = svc
    bomb = _bomb(64 << 20)
    assert len(bomb) < 200_000  # small on the wire, 64 MiB inflated
    r = client.post(
        "/api/submissions",
        headers=login(client, "ent_a"),
        data={"kind": "readings", "period": "2024-01"},
        files={"file": ("bomb.xlsx", bomb, "application/octet-stream")},
    )
    assert r.status_code == 422
    p = r.json()["problems"][0]
    assert p["file"] == "bomb.xlsx"
    assert "max_unzipped_bytes" in p["message"]
    assert store.query("SELECT count(*) n FROM submissions")["n"][0] == 0


def test_an_ordinary_xlsx_is_accepted(svc, unzip_limit):
    client, _ = svc
    r = client.post(
        "/api/submissions",
        headers=login(client, "ent_a"),
        data={"kind": "readings", "period": "2024-01"},
        files={"file": ("ok.xlsx", _xlsx(), "application/octet-stream")},
    )
    assert r.status_code == 201, r.text


def test_no_store_cell_holds_a_whole_upload(svc):
    client, store = svc
    h = login(client, "ent_a")
    body = _readings(2_000)
    r = client.post(
        "/api/submissions", headers=h, data={"kind": "readings", "period": "2024-01"}, files={"file": ("r.csv", body, "text/csv")}
    )
    assert r.status_code == 201, r.text
    assert store.query("SELECT count(*) n FROM submission_rows")["n"][0] == 2_000
    for table in ("submissions", "submission_rows", "jobs", "audit_log", "batches"):
        cols = store.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND data_type = 'VARCHAR'", [table]
        )["column_name"]
        for col in cols:
            longest = store.query(f'SELECT coalesce(max(length("{col}")), 0) n FROM "{table}"')["n"][0]
            assert longest < 2_000, (table, col, longest)
    # and the version still reads back whole
    v = client.get("/api/submissions/ENT-A/readings/2024-01", headers=h).json()
    assert v["payload"].count('"meter_id"') == 2_000


def test_a_parquet_that_inflates_hugely_is_refused(svc, unzip_limit):
    """A Parquet file's row groups are sized from its footer before anything is decoded."""
    client, store = svc
    buf = io.BytesIO()
    n = 2_000_000  # 16 MB of doubles, a few kB compressed
    pd.DataFrame({"meter_id": ["M1"] * n, "ts": pd.Timestamp("2025-01-01", tz="UTC"), "value": [0.0] * n}).to_parquet(
        buf, compression="zstd"
    )
    assert len(buf.getvalue()) < 200_000
    h = login(client, "ent_a")
    r = client.post("/api/monitoring/ingest", headers=h, files={"files": ("big.parquet", buf.getvalue(), "x")})
    assert r.status_code == 422, r.text
    p = r.json()["problems"][0]
    assert p["file"] == "big.parquet"
    assert "max_unzipped_bytes" in p["message"]
    assert store.query("SELECT count(*) n FROM mon_readings WHERE meter_id = 'M1'")["n"][0] == 0


# -- upload folders left behind by a killed process are swept at start-up ---------------------------
@pytest.fixture
def dedicated_upload_dir(tmp_path, monkeypatch):
    from carbonpeak.config import get_settings

    root = tmp_path / "uploads"
    monkeypatch.setenv("CARBONPEAK_UPLOAD_DIR", str(root))
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def _age(path, seconds: float) -> None:
    import os
    import time

    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


def test_stale_upload_folders_are_swept_at_service_start(dedicated_upload_dir, tmp_path):
    """Only folders the service made (name and marker), older than the grace period, directly in
    the dedicated upload_dir, are removed; links are never followed; nothing outside is touched."""
    import os

    from carbonpeak.api import create_app
    from carbonpeak.api.uploads import MARKER, SWEEP_GRACE_SECONDS, new_upload_folder

    day = SWEEP_GRACE_SECONDS + 3600
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.csv").write_text("keep me")
    (outside / MARKER).touch()

    stale = new_upload_folder()  # a request killed mid-upload
    (stale / "000.csv").write_text("meter_id,ts,value\n")
    os.symlink(outside / "precious.csv", stale / "link.csv")  # a link inside: removed, target kept
    _age(stale, day)
    stale_job = new_upload_folder("cp-ingest-")  # a background ingest killed mid-run
    _age(stale_job, day)
    fresh = new_upload_folder()  # within the grace period: perhaps another process's
    unmarked = dedicated_upload_dir / "cp-upload-abcd1234"  # right name, no marker: not ours
    unmarked.mkdir()
    _age(unmarked, day)
    foreign = dedicated_upload_dir / "operator-notes"  # marker but not our name
    foreign.mkdir()
    (foreign / MARKER).touch()
    _age(foreign, day)
    link = dedicated_upload_dir / "cp-upload-zzzz9999"  # a link with our name to a marked folder outside
    os.symlink(outside, link)
    _age(link, day)
    marker_link = dedicated_upload_dir / "cp-upload-link0000"  # our name, the marker a link: not ours
    marker_link.mkdir()
    os.symlink(outside / MARKER, marker_link / MARKER)
    _age(marker_link, day)

    store = Store(db_location(tmp_path / "s.duckdb"))
    try:
        create_app(store)  # the service starts: jobs are recovered and stale uploads swept
    finally:
        store.close()

    left = {p.name for p in dedicated_upload_dir.iterdir()}
    assert stale.name not in left
    assert stale_job.name not in left
    assert {fresh.name, unmarked.name, foreign.name, link.name, marker_link.name} <= left
    assert (outside / "precious.csv").read_text() == "keep me"
    assert (outside / MARKER).exists()


def test_no_sweep_without_a_dedicated_upload_dir(tmp_path, monkeypatch):
    """Uploads in the shared system temp folder are never swept (it is not the service's alone)."""
    import tempfile

    from carbonpeak.api.uploads import SWEEP_GRACE_SECONDS, new_upload_folder, sweep_stale_uploads
    from carbonpeak.config import get_settings

    monkeypatch.delenv("CARBONPEAK_UPLOAD_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the "system temp folder" of this test
    get_settings.cache_clear()
    try:
        assert get_settings().upload_dir is None
        old = new_upload_folder()
        assert old.parent == tmp_path
        _age(old, SWEEP_GRACE_SECONDS + 3600)
        assert sweep_stale_uploads() == []
        assert old.is_dir()
        assert sweep_stale_uploads(tmp_path / "missing") == []
    finally:
        get_settings.cache_clear()
