"""The keyed audit chain and its signed checkpoints resist someone who can write the database file.

Each test tampers *behind the store* (plain SQL on the DuckDB file, as an operator with file
access could) and shows that ``carbonpeak audit verify`` (with ``--against`` a checkpoint file
where the attack needs one) exits 1 and says what failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.store import Store, audit, audit_keys, checkpoints
from carbonpeak.store.users import add_user, set_disabled

PW = "correct horse battery"


@pytest.fixture
def db(tmp_path):
    path = db_location(tmp_path / "a.duckdb")
    s = Store(path)
    for i in range(4):
        add_user(s, f"user{i}", PW, "province_analyst")
    s.close()
    return path


def _verify(db, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["audit", "verify", "--db", str(db), "--format", "json", *extra])
    return rc, json.loads(capsys.readouterr().out)


def _checkpoint(db, tmp_path, capsys, name: str = "cp.json"):
    out = tmp_path / "published" / name
    assert main(["audit", "checkpoint", "--db", str(db), "--out", str(out), "--format", "json"]) == 0
    capsys.readouterr()
    return out


def test_key_file_is_generated_beside_the_store_owner_only(db):
    key = db.with_name(db.name + audit_keys.KEYRING_SUFFIX)
    assert key.exists()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    s = Store(db)
    kids = {r[0] for r in s.con.execute("SELECT DISTINCT key_id FROM audit_log").fetchall()}
    s.close()
    assert kids == {json.loads(key.read_text())["hmac"]["active"]}


def test_untouched_store_verifies_against_its_checkpoint(db, tmp_path, capsys):
    cp = _checkpoint(db, tmp_path, capsys)
    rc, rep = _verify(db, capsys, "--against", str(cp))
    assert rc == 0, rep
    assert rep["ok"]
    assert rep["checkpoint"]["ok"]
    assert set(rep["checkpoint"]["tables"].values()) == {"unchanged"}


def test_deleting_newest_entries_is_caught_by_the_checkpoint(db, tmp_path, capsys):
    cp = _checkpoint(db, tmp_path, capsys)
    s = Store(db)
    s.con.execute("DELETE FROM audit_log WHERE seq >= 3")
    s.close()
    # the shorter chain is internally consistent ...
    s = Store(db)
    assert audit.verify_chain(s).ok
    s.close()
    # ... but not against the checkpoint
    rc, rep = _verify(db, capsys, "--against", str(cp))
    assert rc == 1
    assert any("entries were removed" in p for p in rep["checkpoint"]["problems"])


def test_plain_verify_uses_the_newest_checkpoint_file_outside_the_store(db, capsys):
    assert main(["audit", "checkpoint", "--db", str(db)]) == 0
    s = Store(db)
    s.con.execute("DELETE FROM audit_log WHERE seq = 4")
    s.con.execute("DELETE FROM audit_checkpoints")  # the attacker also removes the stored copy
    s.close()
    rc, rep = _verify(db, capsys)
    assert rc == 1
    assert not rep["checkpoint"]["ok"]


def test_appending_a_forged_entry_is_caught(db, capsys):
    s = Store(db)
    last = s.con.execute("SELECT seq, hash, key_id FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev, kid = int(last[0]) + 1, last[1], last[2]
    ts = "2026-01-01T00:00:00.000000+00:00"
    fields = [seq, ts, "admin", "user.create", "user", "mallory", '{"role":"admin"}', prev]
    forged = hashlib.sha256("\x1f".join(map(str, [*fields, kid])).encode()).hexdigest()
    s.con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [*fields, forged, kid])
    s.close()
    rc, rep = _verify(db, capsys)
    assert rc == 1
    assert rep["first_bad_seq"] == seq
    assert rep["problem"] == "entry content does not match its hash"


def test_recomputing_the_whole_chain_without_the_key_is_caught(db, capsys):
    """The attacker edits entry 2 and recomputes every hash as the unkeyed chain did, or keyed
    with a key of their own: neither verifies."""
    s = Store(db)
    s.con.execute("UPDATE audit_log SET payload = '{\"role\":\"admin\"}' WHERE seq = 2")
    rows = s.con.execute(
        "SELECT seq, ts, actor, action, entity, entity_id, payload FROM audit_log ORDER BY seq"
    ).fetchall()
    prev = audit.GENESIS
    for seq, ts, actor, action, entity, entity_id, payload in rows:
        h = audit.entry_hash(seq, ts, actor, action, entity, entity_id, payload, prev)
        s.con.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ?, key_id = NULL WHERE seq = ?", [prev, h, seq]
        )
        prev = h
    s.close()
    rc, rep = _verify(db, capsys)
    assert rc == 1
    assert rep["first_bad_seq"] == 1
    assert rep["problem"] == "entry is not sealed with an audit key"

    own = audit_keys.Keyring.generate()
    s = Store(db)
    prev = audit.GENESIS
    for seq, ts, actor, action, entity, entity_id, payload in rows:
        h = audit.entry_mac(own, own.active_hmac, seq, ts, actor, action, entity, entity_id, payload, prev)
        s.con.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ?, key_id = ? WHERE seq = ?",
            [prev, h, own.active_hmac, seq],
        )
        prev = h
    s.close()
    rc, rep = _verify(db, capsys)
    assert rc == 1
    assert "unknown key" in rep["problem"]


def test_editing_a_guarded_table_row_is_caught_by_the_table_digest(db, tmp_path, capsys):
    cp = _checkpoint(db, tmp_path, capsys)
    s = Store(db)
    s.con.execute("UPDATE users SET role = 'admin' WHERE username = 'user1'")  # no audit entry
    s.close()
    rc, rep = _verify(db, capsys, "--against", str(cp))
    assert rc == 1
    assert rep["ok"] is False
    assert rep["checkpoint"]["chain"]["ok"]  # the chain itself is intact: only the digest tells
    assert rep["checkpoint"]["tables"]["users"] == "changed behind the chain"
    assert any("table users changed" in p for p in rep["checkpoint"]["problems"])


def test_audited_changes_after_a_checkpoint_are_not_flagged(db, tmp_path, capsys):
    cp = _checkpoint(db, tmp_path, capsys)
    s = Store(db)
    set_disabled(s, "user2", True)
    s.close()
    rc, rep = _verify(db, capsys, "--against", str(cp))
    assert rc == 0, rep
    assert rep["checkpoint"]["tables"]["users"].startswith("changed by 1 audited")


def test_a_forged_or_edited_checkpoint_is_refused(db, tmp_path, capsys):
    cp = _checkpoint(db, tmp_path, capsys)
    doc = json.loads(cp.read_text())
    doc["seq"] = 2  # claim an earlier head, as if later entries never existed
    cp.write_text(json.dumps(doc))
    rc, rep = _verify(db, capsys, "--against", str(cp))
    assert rc == 1
    assert "signature is not valid" in " ".join(rep["checkpoint"]["problems"])


def test_checkpoint_signature_verifies_with_the_published_public_key_alone(db, tmp_path, capsys):
    cp_path = _checkpoint(db, tmp_path, capsys)
    cp = checkpoints.Checkpoint.read(cp_path)
    assert checkpoints.verify_signature_with(cp, cp.body["public_key"])
    other = audit_keys.public_key_b64(audit_keys.Keyring.generate().signer()[1])
    assert not checkpoints.verify_signature_with(cp, other)


def test_key_rotation_keeps_old_entries_and_checkpoints_verifiable(db, tmp_path, capsys):
    old_cp = _checkpoint(db, tmp_path, capsys, "old.json")
    key = db.with_name(db.name + audit_keys.KEYRING_SUFFIX)
    old_kid = json.loads(key.read_text())["hmac"]["active"]
    assert main(["audit", "rotate-key", "--db", str(db)]) == 0
    new_kid = json.loads(key.read_text())["hmac"]["active"]
    assert new_kid != old_kid
    s = Store(db)
    add_user(s, "after_rotation", PW, "province_analyst")
    kids = [r[0] for r in s.con.execute("SELECT key_id FROM audit_log ORDER BY seq").fetchall()]
    s.close()
    assert kids[0] == old_kid
    assert kids[-1] == new_kid
    new_cp = _checkpoint(db, tmp_path, capsys, "new.json")
    assert json.loads(new_cp.read_text())["key_id"] != json.loads(old_cp.read_text())["key_id"]
    for cp in (old_cp, new_cp):
        rc, rep = _verify(db, capsys, "--against", str(cp))
        assert rc == 0, rep
    # losing the old key makes the old entries unverifiable: rotation must keep it
    doc = json.loads(key.read_text())
    del doc["hmac"]["keys"][old_kid]
    key.write_text(json.dumps(doc))
    rc, rep = _verify(db, capsys)
    assert rc == 1
    assert "unknown key" in rep["problem"]


def test_keyring_from_an_environment_secret(tmp_path, monkeypatch, capsys):
    from carbonpeak.config import get_settings

    ring = audit_keys.Keyring.generate()
    monkeypatch.setenv("CARBONPEAK_AUDIT_KEYRING", ring.to_json())
    get_settings.cache_clear()
    try:
        db = db_location(tmp_path / "env.duckdb")
        s = Store(db)
        add_user(s, "envuser", PW, "province_analyst")
        kid = s.con.execute("SELECT key_id FROM audit_log").fetchone()[0]
        s.close()
        assert kid == ring.active_hmac
        assert not db.with_name(db.name + audit_keys.KEYRING_SUFFIX).exists()  # no file written
        rc, rep = _verify(db, capsys)
        assert rc == 0, rep
    finally:
        monkeypatch.delenv("CARBONPEAK_AUDIT_KEYRING")
        get_settings.cache_clear()


def test_service_verify_uses_the_newest_checkpoint_file(tmp_path):
    """``GET /api/audit/verify`` (and so ``carbonpeak remote audit-verify``) reports a truncation
    that only the checkpoint reveals."""
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from carbonpeak.api import create_app

    store = Store(db_location(tmp_path / "svc.duckdb"))
    add_user(store, "analyst", PW, "province_analyst")
    add_user(store, "other", PW, "province_analyst")
    with TestClient(create_app(store, session_ttl=timedelta(minutes=5))) as c:
        tok = c.post("/api/auth/login", json={"username": "analyst", "password": PW}).json()["token"]
        h = {"Authorization": f"Bearer {tok}"}
        _, path = checkpoints.create(store)
        assert path is not None
        assert path.parent == tmp_path / "svc.duckdb.checkpoints"
        assert c.get("/api/audit/verify", headers=h).json()["ok"] is True
        newest = store.con.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
        store.con.execute("DELETE FROM audit_log WHERE seq = ?", [newest])
        rep = c.get("/api/audit/verify", headers=h).json()
        assert rep["ok"] is False
        assert any("entries were removed" in p for p in rep["checkpoint"]["problems"])
    store.close()


def test_the_service_signs_checkpoints_while_it_owns_the_store(tmp_path):
    """The service holds the only write handle, so it takes the checkpoints itself: one when the
    chain grew, none when it did not."""
    import time

    from carbonpeak.api.checkpointer import Checkpointer

    store = Store(db_location(tmp_path / "svc.duckdb"))
    add_user(store, "analyst", PW, "province_analyst")
    ck = Checkpointer(store, interval=0)
    assert ck.tick() is True
    assert ck.tick() is False  # head unchanged
    add_user(store, "second", PW, "province_analyst")
    assert ck.tick() is True
    assert store.con.execute("SELECT count(*) FROM audit_checkpoints").fetchone()[0] == 2
    # the background thread does the same on its own
    add_user(store, "third", PW, "province_analyst")
    bg = Checkpointer(store, interval=0.05)
    bg.start()
    try:
        deadline = time.monotonic() + 10
        while store.con.execute("SELECT count(*) FROM audit_checkpoints").fetchone()[0] < 3:
            assert time.monotonic() < deadline, "no checkpoint from the background thread"
            time.sleep(0.05)
    finally:
        bg.stop()
    files = sorted((tmp_path / "svc.duckdb.checkpoints").glob("checkpoint-*.json"))
    assert len(files) == 3
    assert checkpoints.verify_against(store, checkpoints.Checkpoint.read(files[-1])).ok
    store.close()


# -- the monitoring registry and alert reviews are guarded tables -------------------------------------
MON_UNITS = """unit_id,name,uscc,industry_code,city,kind,hub_node
U1,Test DC,91350100M000100Y43,6450,GD-SG,data_centre,yes
"""
MON_METERS = """meter_id,unit_id,energy_type,point,kind,unit,parent_meter_id
S1,U1,electricity,site,interval,kWh,
IT1,U1,electricity,it,interval,kWh,S1
"""
_ALERT_SQL = (
    "INSERT INTO mon_alerts (alert_id, kind, severity, unit_id, observed, location, why, rule_source) "
    "VALUES (?, 'gap', 'warning', 'U1', 'no data', 'U1', 'test', 'test')"
)


@pytest.fixture
def mon_db(db, tmp_path):
    from carbonpeak.store.monitoring import ingest_path, review_alert

    (tmp_path / "units.csv").write_text(MON_UNITS, encoding="utf-8")
    (tmp_path / "meters.csv").write_text(MON_METERS, encoding="utf-8")
    s = Store(db)
    ingest_path(s, tmp_path / "units.csv", submitter="analyst")
    ingest_path(s, tmp_path / "meters.csv", submitter="analyst")
    s.con.execute(_ALERT_SQL, ["A1"])  # as a monitoring run writes its alerts
    review_alert(s, "A1", comment="checked on site", reviewer="verifier1")
    s.close()
    return db


def test_monitoring_registry_and_alert_reviews_are_guarded(mon_db, tmp_path, capsys):
    cp = _checkpoint(mon_db, tmp_path, capsys)
    tables = json.loads(cp.read_text())["tables"]
    for name in ("mon_units", "mon_meters", "mon_output", "mon_budgets", "mon_reported", "mon_uploads"):
        assert name in tables
    assert tables["mon_meters"]["rows"] == 2
    assert tables["alert_reviews"]["rows"] == 1
    # a later monitoring run adds open alerts: not a review, not flagged
    s = Store(mon_db)
    s.con.execute(_ALERT_SQL, ["A2"])
    s.close()
    rc, rep = _verify(mon_db, capsys, "--against", str(cp))
    assert rc == 0, rep
    assert rep["checkpoint"]["tables"]["alert_reviews"] == "unchanged"


@pytest.mark.parametrize(
    ("table", "sql"),
    [
        ("mon_meters", "UPDATE mon_meters SET unit_id = 'U9' WHERE meter_id = 'IT1'"),
        ("mon_units", "DELETE FROM mon_units"),
        ("alert_reviews", "UPDATE mon_alerts SET review_comment = 'nothing found' WHERE alert_id = 'A1'"),
        ("alert_reviews", "UPDATE mon_alerts SET status = 'open', review_comment = NULL, reviewed_by = NULL, "
                          "reviewed_at = NULL WHERE alert_id = 'A1'"),
        ("alert_reviews", "UPDATE mon_alerts SET status = 'reviewed', reviewed_by = 'someone' WHERE alert_id = 'A2'"),
    ],
)
def test_registry_or_review_edited_behind_the_chain_is_caught(mon_db, tmp_path, capsys, table, sql):
    s = Store(mon_db)
    s.con.execute(_ALERT_SQL, ["A2"])
    s.close()
    cp = _checkpoint(mon_db, tmp_path, capsys)
    s = Store(mon_db)
    s.con.execute(sql)  # no audit entry
    s.close()
    rc, rep = _verify(mon_db, capsys, "--against", str(cp))
    assert rc == 1
    assert rep["checkpoint"]["tables"][table] == "changed behind the chain"


def test_audited_registry_import_and_review_are_not_flagged(mon_db, tmp_path, capsys):
    from carbonpeak.store.monitoring import ingest_path, review_alert

    s = Store(mon_db)
    s.con.execute(_ALERT_SQL, ["A2"])
    s.close()
    cp = _checkpoint(mon_db, tmp_path, capsys)
    (tmp_path / "meters2.csv").write_text(MON_METERS + "G1,U1,natural_gas,site,cumulative,m3,\n", encoding="utf-8")
    s = Store(mon_db)
    ingest_path(s, tmp_path / "meters2.csv", submitter="analyst")
    review_alert(s, "A2", comment="false alarm: maintenance", reviewer="verifier1")
    s.close()
    rc, rep = _verify(mon_db, capsys, "--against", str(cp))
    assert rc == 0, rep
    assert rep["checkpoint"]["tables"]["mon_meters"].startswith("changed by")
    assert rep["checkpoint"]["tables"]["alert_reviews"].startswith("changed by")
