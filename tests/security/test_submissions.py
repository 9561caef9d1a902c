"""Issue 9: submissions and other form input are validated exactly.

Periods have one exact format per kind (no '/', '%', pattern characters); deadline checks match
the period exactly and end at midnight (China Standard Time) of the due day; meters must belong
to the enterprise; negative and future readings are refused; text fields have length limits and
refuse control characters; identifiers in lists (a verifier's assigned enterprises) are
validated one by one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import login
from tests.stores import db_location

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

OWN = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\n"
CST = ZoneInfo("Asia/Shanghai")


def submit(client, user="ent_a", *, body=OWN, period="2025-01", kind="readings"):
    return client.post(
        "/api/submissions",
        headers=login(client, user),
        data={"kind": kind, "period": period},
        files={"file": ("r.csv", body.encode(), "text/csv")},
    )


@pytest.mark.parametrize(
    "period", ["2025/01", "2025-1", "2025-13", "2025-00", "%", "2025-0%", "2025-01%", "../2025-01", "2025-01 x", "2025_01", "2025-01\n"]
)
def test_bad_periods_are_refused(svc, period):
    client, store = svc
    r = submit(client, period=period)
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["field"] == "period"
    assert store.query("SELECT count(*) n FROM submissions")["n"][0] == 0


def test_good_period_is_accepted(svc):
    client, _ = svc
    assert submit(client, period="2025-01").status_code == 201


def _deadline(client, period, due):
    return client.post(
        "/api/credit/check-deadlines",
        headers=login(client, "analyst"),
        json={"kind": "readings", "period": period, "due": due},
    )


@pytest.mark.parametrize("period", ["%", "2025-0%", "2025/01", "_"])
def test_deadline_periods_are_exact_formats(svc, period):
    client, _ = svc
    assert _deadline(client, period, "2025-02-15").status_code == 422


def test_deadline_counts_only_the_exact_period(svc):
    client, store = svc
    assert submit(client, period="2025-01").status_code == 201
    store.con.execute("UPDATE submissions SET submitted_at = ?", [datetime(2025, 2, 1, tzinfo=CST)])
    r = _deadline(client, "2025-01", "2025-02-15").json()
    assert "ENT-A" not in r["missed"]
    assert "ENT-B" in r["missed"]
    r = _deadline(client, "2025-02", "2025-03-15").json()  # another period: ENT-A missed it
    assert "ENT-A" in r["missed"]


@pytest.mark.parametrize(
    ("submitted", "on_time"),
    [
        (datetime(2025, 2, 15, 23, 59, 59, 999_000, tzinfo=CST), True),
        (datetime(2025, 2, 16, 0, 0, 0, tzinfo=CST), False),
        (datetime(2025, 2, 15, 16, 0, 0, tzinfo=UTC), False),  # = 00:00 on the 16th in Guangdong
    ],
)
def test_deadline_ends_at_midnight_china_time(svc, submitted, on_time):
    client, store = svc
    assert submit(client, period="2025-01").status_code == 201
    store.con.execute("UPDATE submissions SET submitted_at = ?", [submitted])
    r = _deadline(client, "2025-01", "2025-02-15").json()
    assert ("ENT-A" not in r["missed"]) is on_time


def test_foreign_meter_is_refused(svc):
    client, _ = svc
    r = submit(client, body=OWN.replace("M1", "MB1"))
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "meter_id"


def test_unknown_meter_is_refused(svc):
    client, _ = svc
    assert submit(client, body=OWN.replace("M1", "NOPE")).status_code == 422


def test_negative_readings_are_refused(svc):
    client, _ = svc
    r = submit(client, body=OWN.replace(",10\n", ",-1\n"))
    assert r.status_code == 422
    assert (r.json()["problems"][0]["row"], r.json()["problems"][0]["field"]) == (2, "value")


def test_future_readings_are_refused(svc):
    client, _ = svc
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = submit(client, body=f"meter_id,ts,value\nM1,{future},1\n")
    assert r.status_code == 422
    p = r.json()["problems"][0]
    assert (p["row"], p["field"]) == (2, "ts")
    assert "future" in p["message"]
    just_now = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert submit(client, body=f"meter_id,ts,value\nM1,{just_now},1\n").status_code == 201


@pytest.mark.parametrize("text", ["M1\x00", "M1\x1b[31m", "M" * 2001])
def test_text_cells_with_control_characters_or_too_long_are_refused(svc, text):
    client, _ = svc
    r = submit(client, body=f'meter_id,ts,value\n"{text}",2025-01-01T00:00:00+08:00,1\n')
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["field"] == "meter_id"


@pytest.mark.parametrize("detail", ["late\x00", "late\x1b", "x" * 2001, ""])
def test_json_text_fields_are_bounded_and_clean(svc, detail):
    client, store = svc
    r = client.post(
        "/api/credit",
        headers=login(client, "analyst"),
        json={"enterprise_id": "ENT-A", "kind": "missed_deadline", "detail": detail},
    )
    assert r.status_code == 422
    assert store.query("SELECT count(*) n FROM credit_events")["n"][0] == 0


@pytest.mark.parametrize(
    "assigned",
    [["ENT-A", "ENT-B,ENT-C"], ["ENT-A", "'; DROP TABLE users; --"], ["ENT-A", ""], ["ENT A"], ["ENT-A\x00"]],
)
def test_assigned_enterprises_are_validated_one_by_one(svc, assigned):
    client, store = svc
    r = client.post(
        "/api/users",
        headers=login(client, "admin"),
        json={"username": "ver2", "password": "a long enough passphrase", "role": "verifier", "assigned": assigned},
    )
    assert r.status_code == 422, r.text
    assert store.query("SELECT count(*) n FROM users WHERE username = 'ver2'")["n"][0] == 0


def test_a_valid_assignment_list_is_stored_as_given(svc):
    client, _ = svc
    h = login(client, "admin")
    r = client.post(
        "/api/users",
        headers=h,
        json={"username": "ver2", "password": "a long enough passphrase", "role": "verifier", "assigned": ["ENT-A", "ENT-B"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["assigned"] == ["ENT-A", "ENT-B"]


@pytest.mark.parametrize("comment", ["ok\x00", "x" * 2001])
def test_review_comments_are_bounded_and_clean(svc, comment):
    client, _ = svc
    r = client.post(
        "/api/monitoring/alerts/any/review", headers=login(client, "analyst"), json={"comment": comment}
    )
    assert r.status_code == 422


def test_future_readings_are_refused_by_the_monitoring_ingest_too(svc):
    from tests.security.ingest_fixtures import wait_job

    client, store = svc
    h = login(client, "ent_a")
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = client.post(
        "/api/monitoring/ingest",
        headers=h,
        files={"files": ("f.csv", f"meter_id,ts,value\nM1,{future},1\n".encode(), "text/csv")},
    )
    rec = wait_job(client, h, r.json()["job_id"])
    assert rec["status"] == "failed"
    p = rec["result"]["problems"][0]
    assert (p["file"], p["row"], p["field"]) == ("f.csv", 2, "ts")
    assert "future" in p["message"]
    assert store.query("SELECT count(*) n FROM mon_readings WHERE meter_id = 'M1'")["n"][0] == 0


BAD_ASSIGN_CLI = ["ENT-A,'; DROP TABLE users; --", "ENT-A,", "ENT-A,ENT B", "ENT-A\x00", ",ENT-A"]


@pytest.mark.parametrize("assign", BAD_ASSIGN_CLI)
def test_cli_assign_list_is_validated_id_by_id(tmp_path, monkeypatch, capsys, assign):
    """``users add --assign a,b`` checks every id with the API's validator (carbonpeak.model.ids)."""
    import io

    from carbonpeak.cli import main
    from carbonpeak.store import Store

    db = str(db_location(tmp_path / "cli.duckdb"))
    monkeypatch.setattr("sys.stdin", io.StringIO("a sufficiently long password\n"))
    cmd = ["users", "add", "ver9", "--role", "verifier", "--assign", assign, "--password-stdin", "--db", db]
    assert main(cmd) == 2
    assert "not an enterprise id" in capsys.readouterr().err
    s = Store(db)
    try:
        assert s.query("SELECT count(*) n FROM users WHERE username = 'ver9'")["n"][0] == 0
    finally:
        s.close()


def test_cli_assign_comma_list_and_repeats_store_each_id(tmp_path, monkeypatch):
    import io

    from carbonpeak.cli import main
    from carbonpeak.store import Store

    db = str(db_location(tmp_path / "cli.duckdb"))
    monkeypatch.setattr("sys.stdin", io.StringIO("a sufficiently long password\n"))
    cmd = ["users", "add", "ver9", "--role", "verifier", "--assign", "ENT-A, ENT-B", "--assign", "91440101MA5X",
           "--password-stdin", "--db", db]  # fmt: skip
    assert main(cmd) == 0
    s = Store(db)
    try:
        assert s.query("SELECT assigned FROM users WHERE username = 'ver9'")["assigned"][0] == "ENT-A,ENT-B,91440101MA5X"
    finally:
        s.close()


def test_store_refuses_a_comma_joined_id(tmp_path):
    """The store's add_user (behind the CLI and the API) refuses an id that hides a second one."""
    from carbonpeak.errors import CarbonpeakError
    from carbonpeak.store import Store
    from carbonpeak.store.users import add_user

    s = Store(db_location(tmp_path / "u.duckdb"))
    try:
        with pytest.raises(CarbonpeakError, match="not an enterprise id"):
            add_user(s, "ver9", "a sufficiently long password", "verifier", assigned=["ENT-A,ENT-B"])
        with pytest.raises(CarbonpeakError, match="not an enterprise id"):
            add_user(s, "ent9", "a sufficiently long password", "enterprise", enterprise_id="E 1")
    finally:
        s.close()
