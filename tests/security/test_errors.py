"""Issue 9: errors show the user's own file name, never a server path or a traceback.

Unreadable files (corrupt Parquet or Excel, wrong encoding, wrong type) sent to each upload
endpoint are answered 4xx naming the file as the client named it; a bug answers 500 with a
reference only, in the API and in the dashboard.
"""

from __future__ import annotations

import pytest
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import login, wait_job

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

SECRET = "/srv/secret/carbonpeak"

BAD_FILES = [
    ("my data.parquet", b"PAR1 this is not parquet at all"),
    ("book.xlsx", b"PK\x03\x04 truncated zip"),
    ("latin.csv", "meter_id,ts,value\nMü,2025-01-01T00:00:00+08:00,1\n".encode("latin-1")),
    ("program.exe", b"MZ"),
]
ENDPOINTS = {
    "/api/submissions": ("ent_a", {"kind": "readings", "period": "2025-01"}, "file"),
    "/api/monitoring/ingest": ("ent_a", {}, "files"),
    "/api/activity": ("analyst", {}, "files"),
}


def _leaks(text: str, *paths: str) -> list[str]:
    return [p for p in (*paths, "Traceback", 'File "/') if p and p in text]


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
@pytest.mark.parametrize(("name", "content"), BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_unreadable_files_are_named_as_sent(svc, upload_root, path, name, content):
    client, store = svc
    user, form, field = ENDPOINTS[path]
    h = login(client, user)
    r = client.post(path, headers=h, data=form, files={field: (name, content, "application/octet-stream")})
    text = r.text
    if r.status_code == 202:  # the ingest reads registry files in its job
        rec = wait_job(client, h, r.json()["job_id"])
        assert rec["status"] == "failed"
        text = str(rec)
    else:
        assert r.status_code in (400, 403, 422), r.text
    assert name in text
    assert _leaks(text, str(upload_root), str(store.path), "/tmp/") == []


def test_a_bug_in_the_api_answers_500_with_a_reference_only(svc, monkeypatch):
    client, _ = svc

    def boom(*a, **k):
        raise RuntimeError(f"{SECRET}/store.db is corrupt")

    monkeypatch.setattr("carbonpeak.workflows.assessment.assess_year", boom)
    r = client.get("/api/assessment", headers=login(client, "analyst"))
    assert r.status_code == 500
    assert r.json()["error"] == "internal"
    assert "reference" in r.json()["message"]
    assert _leaks(r.text, SECRET) == []


def test_a_bug_in_the_dashboard_answers_500_without_details(svc, monkeypatch):
    client, _ = svc

    def boom(*a, **k):
        raise RuntimeError(f"{SECRET}/templates broken")

    monkeypatch.setattr("carbonpeak.web.data.province_overview", boom)
    login(client, "analyst")  # the dashboard uses the session cookie
    client.cookies.set("cp_session", client.post("/api/auth/login", json={"username": "analyst", "password": fx.PW}).json()["token"])
    r = client.get("/province")
    assert r.status_code == 500
    assert _leaks(r.text, SECRET) == []


def test_dashboard_errors_carry_their_status(svc):
    client, _ = svc
    tok = client.post("/api/auth/login", json={"username": "gz_officer", "password": fx.PW}).json()["token"]
    client.cookies.set("cp_session", tok)
    assert client.get("/cities/GD-SZ").status_code == 403
    assert client.get("/enterprise").status_code == 403
