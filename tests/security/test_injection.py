"""Issue 9, critical: a client's file name never reaches SQL or the file system.

Every upload endpoint of the service (found from the app's own route table: a route that takes
an ``UploadFile``) is sent files with hostile names.  Whatever the name, the proof is that
nothing but the named data is read or written:

* another enterprise's meter rows are unchanged;
* no file appears outside the server's upload folder (the working folder stays empty, no
  ``pwn``/``evil`` file appears anywhere we can see), and the upload folder is emptied again;
* answers never echo a server path.
"""

from __future__ import annotations

import io
import tempfile
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from fastapi.params import File
from fastapi.routing import APIRoute
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import foreign_rows, login, wait_job

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

REPO = Path(__file__).resolve().parents[2]

HOSTILE = [
    "x.csv",
    "a'); COPY (SELECT 42) TO 'pwn.csv' (HEADER); --.csv",
    "x') UNION ALL SELECT * FROM read_csv('/etc/passwd') --.csv",
    "'; DROP TABLE mon_readings; --.csv",
    "--.csv",
    ";.csv",
    "*.csv",
    "../../../../../tmp/evil.csv",
    "..\\..\\..\\evil.csv",
    "/etc/passwd.csv",
    "a\x00b.csv",
    "a" * 1000 + ".csv",
    '".csv',
    "名字 with spaces.csv",
]

READINGS_OWN = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\nM1,2025-01-01T00:15:00+08:00,12\n"
ACTIVITY = "year,region,category,item,amount,unit,source\n2020,GD,1.A.1.a,natural_gas,100,10^4 Nm3,test\n"
OBSERVATIONS = "indicator,region,year,value,unit,source,status\ngdp_current,GD,2015,72812.55,亿元,test,verified\n"


def _parquet_of(csv_text: str) -> bytes:
    buf = io.BytesIO()
    pd.read_csv(io.StringIO(csv_text)).to_parquet(buf)
    return buf.getvalue()


def _with_suffix(name: str, suffix: str) -> str:
    return name[: -len(".csv")] + suffix if name.endswith(".csv") else name + suffix


# How to drive each upload endpoint: (user, form fields, file field, file content, suffix).
DRIVERS = {
    "/api/activity": ("analyst", {}, "files", ACTIVITY.encode(), ".csv"),
    "/api/observations": ("analyst", {}, "files", OBSERVATIONS.encode(), ".csv"),
    "/api/submissions": ("ent_a", {"kind": "readings", "period": "2025-01"}, "file", READINGS_OWN.encode(), ".csv"),
    "/api/monitoring/ingest": ("ent_a", {}, "files", _parquet_of(READINGS_OWN), ".parquet"),
}


def upload_routes(app) -> list[str]:
    out = []
    for r in app.routes:
        if isinstance(r, APIRoute) and any(isinstance(p.field_info, File) for p in r.dependant.body_params):
            out.append(r.path)
    return sorted(out)


def test_every_upload_endpoint_is_driven(svc):
    client, _ = svc
    assert upload_routes(client.app) == sorted(DRIVERS), "a new upload endpoint needs a driver here"


def _send(client, path, name):
    user, form, field, content, suffix = DRIVERS[path]
    h = login(client, user)
    r = client.post(path, headers=h, data=form, files={field: (_with_suffix(name, suffix), content, "text/csv")})
    if r.status_code == 202:
        rec = wait_job(client, h, r.json()["job_id"])
        return r, rec
    return r, None


def _visible_files(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


@pytest.mark.parametrize("path", sorted(DRIVERS))
@pytest.mark.parametrize("name", HOSTILE, ids=lambda n: repr(n[:30]))
def test_hostile_names_read_and_write_nothing_else(svc, upload_root, path, name):
    client, store = svc
    before = foreign_rows(store)
    cwd = Path.cwd()
    tmp = Path(tempfile.gettempdir())
    tmp_before = {p.name for p in tmp.iterdir()}
    r, job = _send(client, path, name)
    assert r.status_code < 500, r.text
    # another enterprise's rows are unchanged
    pd.testing.assert_frame_equal(foreign_rows(store), before)
    # nothing was written outside the server's folder, and that folder is cleaned up
    assert _visible_files(cwd) == set()
    new_tmp = {p for p in {p.name for p in tmp.iterdir()} - tmp_before if "pwn" in p or "evil" in p}
    assert not new_tmp
    assert _visible_files(upload_root) == set()
    # the answer names no server path
    text = r.text + (str(job) if job else "")
    for secret in (str(upload_root), str(cwd), str(store.path), "/etc/passwd:", "root:x:0:0"):
        assert secret not in text
    if job is not None:
        assert job["status"] == "done", job
    elif r.status_code >= 400:
        assert r.status_code in (400, 403, 413, 422), r.text


@pytest.mark.parametrize("name", HOSTILE[:6], ids=lambda n: repr(n[:30]))
def test_the_data_of_a_hostile_name_is_stored_under_the_clients_name(svc, name):
    """The file is read (it is the named data), and its name is shown, not used."""
    client, store = svc
    _, job = _send(client, "/api/monitoring/ingest", name)
    assert job is not None
    assert job["status"] == "done", job
    rows = store.query("SELECT DISTINCT source_file FROM mon_readings WHERE meter_id = 'M1'")
    assert len(rows) == 1
    shown = rows["source_file"][0]
    assert "/" not in shown
    assert "\\" not in shown
    assert "\x00" not in shown


def test_enterprise_cannot_write_another_enterprises_meter_through_any_name(svc):
    client, store = svc
    before = foreign_rows(store)
    h = login(client, "ent_a")
    body = _parquet_of("meter_id,ts,value\nMB1,2025-01-01T00:00:00+08:00,999\n")
    for name in ("x.parquet", "a') UNION SELECT 'M1' --.parquet"):
        r = client.post("/api/monitoring/ingest", headers=h, files={"files": (name, body, "application/octet-stream")})
        assert r.status_code == 403, r.text
        assert "MB1" in r.json()["message"]
    pd.testing.assert_frame_equal(foreign_rows(store), before)


def test_s608_is_on_for_src():
    """ruff's flake8-bandit SQL rule is selected; only tests and bench may ignore it."""
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert "S608" in cfg["select"] or "S" in cfg["select"]
    for pattern, ignored in cfg.get("per-file-ignores", {}).items():
        if "S608" in ignored:
            assert pattern.split("/")[0] in ("tests", "bench", "scripts"), pattern


def test_no_sql_in_src_splices_a_quoted_path():
    """No ``read_parquet('`` / ``read_csv('`` with an interpolated path is left in src/."""
    import re

    pat = re.compile(r"read_(parquet|csv|json)[a-z_]*\(\s*'\{")
    hits = [
        f"{p.relative_to(REPO)}"
        for p in (REPO / "src").rglob("*.py")
        if pat.search(p.read_text(encoding="utf-8"))
    ]
    assert hits == []
