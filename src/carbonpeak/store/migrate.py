"""Schema migrations of the store with Alembic, run programmatically (no ``alembic.ini``).

The revisions are in ``store/alembic/versions/``; their ids are the names of the SQL files of
the earlier hand-written runner (``0001_core`` … ``0630_login_failures``).  A DuckDB store made
by that runner has a ``_migrations`` table and no ``alembic_version``: it is stamped with the
revision of its last applied file, then upgraded to the head like any other store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from carbonpeak.store.duck import Store

ALEMBIC_DIR = Path(__file__).parent / "alembic"


class AlembicDuckDBImpl(DefaultImpl):
    """Alembic's DDL implementation for duckdb_engine (registered by defining it)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def _config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("version_locations", str(ALEMBIC_DIR / "versions"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision id."""
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None
    return rev


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def current(store: Store) -> str | None:
    """The store's revision (None: not migrated yet)."""
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _legacy_revision(conn: Any) -> str | None:
    """The revision matching the last file applied by the hand-written runner, if it ran here."""
    from sqlalchemy import inspect

    if "_migrations" not in inspect(conn).get_table_names():
        return None
    names = [r[0] for r in conn.exec_driver_sql("SELECT name FROM _migrations").fetchall()]
    known = set(revisions())
    done = sorted(Path(n).stem for n in names if Path(n).stem in known)
    return done[-1] if done else None


def upgrade(store: Store, target: str = "heads") -> list[str]:
    """Stamp a store of the old runner, then upgrade to ``target``; return the revisions applied."""
    with store.engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        if before is None:
            legacy = _legacy_revision(conn)
            if legacy is not None:
                command.stamp(_config(conn), legacy)
                conn.commit()
                before = legacy
        if before is not None and before == head():
            return []
        command.upgrade(_config(conn), target)
        conn.commit()
    order = revisions()
    start = order.index(before) + 1 if before in order else 0
    return order[start:]
