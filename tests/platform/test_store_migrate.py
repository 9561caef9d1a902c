"""`carbonpeak store migrate`: a whole store DuckDB -> PostgreSQL -> DuckDB, verified on the target.

Runs against a real PostgreSQL server (tests/pg.py: the test cluster of the suite, or a temporary
cluster of its own); skipped only where no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from carbonpeak.cli import app
from carbonpeak.store import Store, audit, audit_keys, checkpoints, transfer
from carbonpeak.store.audit_keys import KEYRING_SUFFIX, read_keyring
from carbonpeak.store.users import add_user, set_disabled
from carbonpeak.workflows.store_migrate import migrate_store

from .pg import fresh_database

PW = "correct horse battery"

# DuckDB files on both passes: the migration goes between a DuckDB file and PostgreSQL
pytestmark = pytest.mark.duckdb_store("copies stores between a DuckDB file and PostgreSQL")


def _activity(n: int, year: int = 2024) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [year] * n,
            "region": ["GD-GZ"] * n,
            "category": ["1.A.1.a"] * n,
            "item": [f"item{i}" for i in range(n)],
            "amount": [1.5 + i / 7 for i in range(n)],  # non-terminating binary fractions
            "unit": ["t"] * n,
            "uncertainty_pct": [None if i % 3 == 0 else 5.0 for i in range(n)],
            "source": ["统计年鉴 2025"] * n,
            "note": [None] * n,
            "__row__": list(range(2, n + 2)),
            "__file__": ["activity.csv"] * n,
        }
    )


def seeded_duckdb(path: Path) -> Path:
    """A DuckDB store with users, two activity batches, audit entries and a checkpoint in between."""
    s = Store(path)
    add_user(s, "admin", PW, "admin")
    add_user(s, "ent_a", PW, "enterprise", enterprise_id="ENT-A")
    s.import_frame("activity", _activity(40), kind="activity", source="activity.csv")
    checkpoints.create(s)
    s.import_frame("activity", _activity(25, 2025), kind="activity", source="activity-2025.csv")
    set_disabled(s, "ent_a", True)
    assert audit.verify_chain(s).ok
    s.close()
    return path


def _counts(place: str) -> dict[str, int]:
    with Store(place) as s:
        return transfer.row_counts(s)


@pytest.fixture
def pg_url() -> str:
    return fresh_database()


def test_duckdb_to_postgres_and_back(tmp_path: Path, pg_url: str) -> None:
    src = seeded_duckdb(tmp_path / "src.duckdb")
    key_file = tmp_path / "keys" / "audit-keys.json"
    res = migrate_store(pg_url, str(src), key_file=key_file)
    assert res.report.ok
    assert res.report.committed
    counts = _counts(str(src))
    assert counts["activity"] == 65
    assert counts["audit_log"] >= 5
    assert counts["audit_checkpoints"] == 1
    assert {t.table: t.target_rows for t in res.report.tables} == counts
    assert res.report.chain["ok"]
    assert res.report.chain["entries"] == counts["audit_log"]
    assert [c["status"] for c in res.report.checkpoints] == ["ok"]
    # the keys went to the named file (0600), not into the database
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert read_keyring(key_file).hmac_keys == read_keyring(Path(str(src) + KEYRING_SUFFIX)).hmac_keys
    with Store(pg_url) as pg:
        assert pg.is_postgres
        assert audit.verify_chain(pg, read_keyring(key_file)).ok
    # ... and back to a fresh DuckDB file: the keys land beside it, the chain verifies there
    back = tmp_path / "back.duckdb"
    env = {"CARBONPEAK_AUDIT_KEY_FILE": str(key_file)}  # a PostgreSQL store's keys: the setting
    back_keys = Path(str(back) + KEYRING_SUFFIX)  # a copy to take away: its keys beside it
    out = _cli(
        [
            "store",
            "migrate",
            "--from",
            pg_url,
            "--to",
            str(back),
            "--key-file",
            str(back_keys),
            "--format",
            "json",
        ],
        env,
    )
    data = json.loads(out)
    assert data["ok"], data
    assert data["committed"]
    signed = 1 if res.checkpoint and "seq" in res.checkpoint else 0  # the new baseline on PostgreSQL
    assert {t["table"]: t["target_rows"] for t in data["tables"]} == {
        k: v + (signed if k == "audit_checkpoints" else 0) for k, v in counts.items()
    }
    with Store(back) as s:
        assert audit.verify_chain(s).ok
        rep = checkpoints.verify_against(s, checkpoints.latest(s))  # type: ignore[arg-type]
        assert rep.ok, rep.problems
        assert s.query("SELECT sum(amount) AS a FROM activity")["a"][0] == pytest.approx(
            _activity(40)["amount"].sum() + _activity(25)["amount"].sum(), rel=1e-15
        )


def _cli(args: list[str], env: dict[str, str]) -> str:
    from carbonpeak.config import get_settings

    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.mark.parametrize("direction", ["to_pg", "to_duckdb"])
def test_tampered_row_during_copy_is_detected_and_rolled_back(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    src = seeded_duckdb(tmp_path / "src.duckdb")
    target = pg_url if direction == "to_pg" else str(tmp_path / "dst.duckdb")
    real = transfer.write_table

    def tampering(target_store, con, table, frame, types):  # type: ignore[no-untyped-def]
        if table == "activity":
            frame = frame.copy()
            frame.loc[frame.index[3], "amount"] = frame["amount"].iloc[3] * 0.9  # 10 % less fuel
        return real(target_store, con, table, frame, types)

    monkeypatch.setattr(transfer, "write_table", tampering)
    with pytest.raises(transfer.CopyNotVerifiedError) as exc:
        migrate_store(target, str(src), key_file=tmp_path / "k.json")
    bad = {t.table for t in exc.value.report.tables if not t.ok}
    assert bad == {"activity"}
    assert not exc.value.report.committed
    assert not (tmp_path / "k.json").exists()  # the keys written for the copy are removed again
    assert sum(_counts(target).values()) == 0  # nothing was written: all or nothing


def test_tampered_audit_entry_breaks_the_chain_on_the_target(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = seeded_duckdb(tmp_path / "src.duckdb")
    real = transfer.write_table

    def tampering(target_store, con, table, frame, types):  # type: ignore[no-untyped-def]
        if table == "audit_log":
            frame = frame.copy()
            frame.loc[frame.index[1], "actor"] = "mallory"
        return real(target_store, con, table, frame, types)

    monkeypatch.setattr(transfer, "write_table", tampering)
    with pytest.raises(transfer.CopyNotVerifiedError) as exc:
        migrate_store(pg_url, str(src), key_file=tmp_path / "k.json")
    rep = exc.value.report
    assert rep.chain["ok"] is False
    assert rep.chain["first_bad_seq"] == 2
    assert any("audit chain" in p for p in rep.problems)
    assert _counts(pg_url)["audit_log"] == 0


def test_truncated_copy_is_detected(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    src = seeded_duckdb(tmp_path / "src.duckdb")
    real = transfer.write_table

    def truncating(target_store, con, table, frame, types):  # type: ignore[no-untyped-def]
        return real(target_store, con, table, frame.iloc[:-1] if table == "audit_log" else frame, types)

    monkeypatch.setattr(transfer, "write_table", truncating)
    with pytest.raises(transfer.CopyNotVerifiedError) as exc:
        migrate_store(pg_url, str(src), key_file=tmp_path / "k.json")
    rep = exc.value.report
    assert [t.table for t in rep.tables if t.source_rows != t.target_rows] == ["audit_log"]
    # the newest entry is gone: the chain alone is still valid, the signed checkpoint and the
    # row count are what catch it
    assert any("audit_log" in p and "rows" in p for p in rep.problems)


def test_non_empty_target_is_refused_unless_replace(tmp_path: Path, pg_url: str) -> None:
    src = seeded_duckdb(tmp_path / "src.duckdb")
    keys = tmp_path / "k.json"
    assert migrate_store(pg_url, str(src), key_file=keys).report.ok
    before = _counts(pg_url)
    with pytest.raises(transfer.TransferError, match="not empty"):
        migrate_store(pg_url, str(src), key_file=keys)
    assert _counts(pg_url) == before
    res = migrate_store(pg_url, str(src), key_file=keys, replace=True)
    assert res.report.ok
    assert _counts(pg_url)["activity"] == 65


def test_keys_go_where_the_target_looks_and_are_never_overwritten(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carbonpeak.errors import CarbonpeakError

    src = seeded_duckdb(tmp_path / "src.duckdb")
    other = seeded_duckdb(tmp_path / "other.duckdb")  # another store: other keys
    with pytest.raises(CarbonpeakError, match="other audit keys"):
        migrate_store(pg_url, str(src), key_file=Path(str(other) + KEYRING_SUFFIX))
    assert sum(_counts(pg_url).values()) == 0
    # no key file named, no setting: the host's state folder, where the PostgreSQL store looks
    monkeypatch.setenv("CARBONPEAK_STATE_DIR", str(tmp_path / "state"))
    res = migrate_store(pg_url, str(src))
    assert res.report.ok
    assert res.key_file is not None
    assert Path(res.key_file).parent == tmp_path / "state"
    with Store(pg_url) as pg:
        assert audit.verify_chain(pg).ok  # found by itself, no setting
        assert audit_keys.default_key_file(pg.sidecar_base) == Path(res.key_file)


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_store_upgrade_reports_the_revision(tmp_path: Path, backend: str) -> None:
    from carbonpeak.store import migrate

    place = fresh_database() if backend == "postgresql" else str(tmp_path / "u.duckdb")
    if backend == "duckdb":
        Store(place).close()
    out = _cli(["store", "upgrade", "--db", place, "--format", "json"], {})
    data = json.loads(out)
    assert data["after"] == migrate.head()
    assert data["up_to_date"] is True
    # a PostgreSQL database not opened before: no revision, then the head
    assert data["before"] == (None if backend == "postgresql" else migrate.head())
