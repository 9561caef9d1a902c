"""Schema migrations of the store with Alembic, run programmatically (no ``alembic.ini``).

The revisions are in ``store/alembic/versions/``; their ids are the names of the SQL files of
the earlier hand-written runner (``0001_core`` … ``0630_login_failures``).  A DuckDB store made
by that runner has a ``_migrations`` table and no ``alembic_version``: it is stamped with the
revision of its last applied file, then upgraded to the head like any other store.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.environment import EnvironmentContext
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
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("version_locations", str(ALEMBIC_DIR / "versions"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


# The revision files ship with the package and do not change while a process runs, so they are
# read once per process: Alembic's ScriptDirectory imports every revision file each time it is
# built (about 0.2 s), which every store open (each CLI command, each test) used to pay.
@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


@functools.cache
def _revision_ids() -> tuple[str, ...]:
    return tuple(s.revision for s in reversed(list(_script().walk_revisions())))


@functools.cache
def head() -> str:
    """The newest revision id."""
    rev = _script().get_current_head()
    assert rev is not None
    return rev


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    return list(_revision_ids())


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


def _upgrade(cfg: Config, target: str) -> None:
    """``alembic.command.upgrade`` with the script directory read once per process (the same
    three steps as that command: an environment context whose function lists the revisions from
    the current one to ``target``, then env.py runs them)."""
    script = _script()

    def step(rev: Any, context: Any) -> Any:
        return script._upgrade_revs(target, rev)

    with EnvironmentContext(cfg, script, fn=step, as_sql=False, starting_rev=None, destination_rev=target):
        script.run_env()


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
        _upgrade(_config(conn), target)
        conn.commit()
    order = revisions()
    start = order.index(before) + 1 if before in order else 0
    return order[start:]
