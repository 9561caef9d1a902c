"""The Alembic revisions define each table once (carbonpeak.store.alembic.portable) and build the
same schema as the DuckDB and PostgreSQL scripts they replaced.

The snapshots in ``tests/platform/data/schema_0700_markets_<backend>.json`` were taken from the
revisions as they were before the de-duplication (commit a919d3c, ``tests/platform/schema_snapshot.py``):
tables, columns (type, nullability, default, position), primary keys, indexes, views (the engine's
own rendering of their definition), sequences and, on PostgreSQL, the functions of the dialect
layer.  A store upgraded with today's revisions to the same revision must match them exactly, on
both backends; the revision ids are unchanged, so stores stamped with them upgrade as before.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from carbonpeak.store.alembic.portable import DIALECTS, latest_view, portable, statements
from carbonpeak.store.migrate import head, revisions

from .schema_snapshot import SNAPSHOT_REVISION, schema_of, snapshot_path, store_at

VERSIONS = Path(__file__).resolve().parents[2] / "src/carbonpeak/store/alembic/versions"
#: The revision ids as stores are stamped with them (never renamed).
IDS = [
    "0001_core", "0100_accounting", "0200_targets", "0300_scenarios", "0400_monitoring", "0410_monitoring_rules",
    "0420_monitoring_incremental", "0600_platform", "0610_submission_rows", "0620_audit_keys",
    "0630_login_failures", "0700_markets",
]  # fmt: skip


#: the DuckDB case builds a DuckDB file on purpose (its schema against its snapshot), on either pass
BACKENDS = [
    pytest.param("duckdb", marks=pytest.mark.duckdb_store("the DuckDB schema itself, against its snapshot")),
    "postgresql",
]


def _location(backend: str, tmp_path: Path) -> str:
    if backend == "postgresql":
        from .pg import fresh_database

        return fresh_database()
    return str(tmp_path / "schema.duckdb")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_revisions_build_the_schema_of_the_snapshot(backend, tmp_path):
    expected = json.loads(snapshot_path(backend).read_text(encoding="utf-8"))
    store = store_at(_location(backend, tmp_path), SNAPSHOT_REVISION)
    try:
        got = schema_of(store)
    finally:
        store.close()
    for part in ("tables", "columns", "keys", "indexes", "views", "sequences", "functions"):
        assert got[part] == expected[part], f"{backend}: {part} differ from the snapshot"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_store_at_the_snapshot_revision_upgrades_to_the_head(backend, tmp_path):
    from carbonpeak.store import Store

    loc = _location(backend, tmp_path)
    store_at(loc, SNAPSHOT_REVISION).close()
    with Store(loc) as s:
        assert s.query("SELECT version_num FROM alembic_version")["version_num"].tolist() == [head()]
        assert {"params", "principal", "attempts", "lease_until"} <= set(s.query("SELECT * FROM jobs LIMIT 0").columns)


def test_the_revision_ids_are_unchanged():
    assert revisions()[: len(IDS)] == IDS


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, VERSIONS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", revisions())
def test_each_revision_has_one_definition_for_both_dialects(name):
    """Both dialects run the same statements, except the generated views, PostgreSQL's functions and
    the statements a revision declares for one engine only (``DUCKDB_EXTRA`` / ``POSTGRESQL_EXTRA``)."""
    mod = _module(name)
    duck, pg = (statements(mod.ddl(d)) for d in DIALECTS)
    extra_duck = statements(getattr(mod, "DUCKDB_EXTRA", ""))
    extra_pg = statements(getattr(mod, "POSTGRESQL_EXTRA", ""))
    if extra_duck:  # the one-engine statements come last, after the shared script
        assert duck[-len(extra_duck) :] == extra_duck
        duck = duck[: -len(extra_duck)]
    if extra_pg:
        assert pg[-len(extra_pg) :] == extra_pg
        pg = pg[: -len(extra_pg)]
    shared_duck = [s for s in duck if not s.startswith("CREATE OR REPLACE VIEW")]
    shared_pg = [s for s in pg if not s.startswith(("CREATE OR REPLACE VIEW", "CREATE OR REPLACE FUNCTION"))]
    assert shared_duck == shared_pg
    assert len([s for s in duck if s.startswith("CREATE OR REPLACE VIEW")]) == len(
        [s for s in pg if s.startswith("CREATE OR REPLACE VIEW")]
    )
    assert not [s for s in duck if s.startswith("CREATE OR REPLACE FUNCTION")]
    portable("\n".join(s + ";" for s in shared_duck))
    assert not hasattr(mod, "DUCKDB_SQL")
    assert not hasattr(mod, "POSTGRESQL_SQL")


def test_portable_refuses_duckdb_only_words_outside_comments():
    assert portable("CREATE TABLE t (x DOUBLE PRECISION); -- not a DOUBLE").startswith("CREATE")
    for bad in ("x DOUBLE", "x HUGEINT", "x UBIGINT", "x TINYINT", "x STRUCT(a INT)", "SELECT * EXCLUDE (a) FROM t",
                "CREATE OR REPLACE TABLE t (x INT)", "x double,"):  # fmt: skip
        with pytest.raises(ValueError, match="not portable"):
            portable(f"CREATE TABLE t ({bad});")


def test_latest_view_is_generated_per_dialect_from_names_only():
    duck = latest_view("v", "t_x", ("a", "b"), "duckdb")
    pg = latest_view("v", "t_x", ("a", "b"), "postgresql")
    assert "EXCLUDE (rn_)" in duck
    assert "PARTITION BY t.a, t.b ORDER BY b.created_at DESC, t.source_row DESC" in duck
    assert "DISTINCT ON (t.a, t.b)" in pg
    assert "ORDER BY t.a, t.b, b.created_at DESC, t.source_row DESC" in pg
    for bad in (("v; DROP TABLE x", "t", ("a",)), ("v", "t", ("a b",)), ("v", 'T"', ("a",))):
        with pytest.raises(ValueError, match="plain SQL name"):
            latest_view(*bad, "duckdb")
    with pytest.raises(ValueError, match="dialect"):
        latest_view("v", "t", ("a",), "sqlite")
