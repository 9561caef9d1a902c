"""Where the tests' stores live: DuckDB files, or PostgreSQL databases when the suite runs on a
server (``CARBONPEAK_TEST_DATABASE_URL``, set by ``make test`` for its second pass).

``db_location(path)`` returns ``path`` on DuckDB; when no file is there yet, it first puts there a
copy of a store migrated once per test process (migrating a new DuckDB file runs about a hundred
DDL statements, 0.3–0.6 s, which most tests used to pay).  On PostgreSQL it returns the URL of a
database that stands for that path: the same path gives the same database (a test that closes
and reopens its store sees its data again), a new path or ``:memory:`` a new database, created
in milliseconds from a template migrated once per test process (``CREATE DATABASE … TEMPLATE``).
Either way a test's new store is exactly what migrating an empty one gives; the tests of the
migrations themselves build their files without ``db_location``.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path

ENV = "CARBONPEAK_TEST_DATABASE_URL"

_lock = threading.Lock()
_made: dict[str, str] = {}
_template: str | None = None
_duck_template: Path | None = None


def server_url() -> str | None:
    """The PostgreSQL server of this test run (its ``postgres`` database), or None (DuckDB)."""
    return os.environ.get(ENV) or None


def on_postgres() -> bool:
    return server_url() is not None


def _admin():
    import sqlalchemy as sa

    return sa.create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _url(db: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url()).set(database=db).render_as_string(hide_password=False)


def _ensure_template() -> str:
    """A database migrated to the head once per test process, the template of every other."""
    global _template
    if _template is None:
        from carbonpeak.store import Store

        name = "cptpl_" + os.environ.get("PYTEST_XDIST_WORKER", "main") + "_" + uuid.uuid4().hex[:6]
        with _admin().connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        Store(_url(name)).close()
        _template = name
    return _template


def _duck_copy(path: Path) -> None:
    """Put a freshly migrated DuckDB store at ``path`` (a copy of one migrated once per process)."""
    global _duck_template
    import shutil
    import tempfile

    from carbonpeak.store import Store

    with _lock:
        if _duck_template is None:
            folder = Path(tempfile.mkdtemp(prefix="cp-duck-template-"))
            Store(folder / "template.duckdb").close()
            _duck_template = folder / "template.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_duck_template, path)


def db_location(path: str | Path = ":memory:") -> str | Path:
    """``path`` on DuckDB (a migrated store put there if none is); on PostgreSQL the URL of the
    database standing for ``path``."""
    if str(path).startswith("postgresql"):
        return path
    if not on_postgres():
        if str(path) != ":memory:" and not Path(path).exists() and Path(path).suffix == ".duckdb":
            _duck_copy(Path(path))
        return path
    key = str(Path(path).resolve()) if str(path) != ":memory:" else ":memory:" + uuid.uuid4().hex
    with _lock:
        if key in _made:
            return _made[key]
        tpl = _ensure_template()
        name = "cp_" + hashlib.sha1(f"{key}|{uuid.uuid4().hex}".encode()).hexdigest()[:20]
        with _admin().connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"')
        _made[key] = _url(name)
        return _made[key]


def sidecar(location: str | Path) -> str:
    """The base name of the files beside a store (``+ ".audit-keys.json"``, ``+ ".checkpoints"``)."""
    from carbonpeak.store.duck import sidecar_base

    return sidecar_base(db_location(location))


def copy_store(src: str | Path, dst: str | Path) -> str | Path:
    """A copy of the store at ``src`` standing for ``dst``, with its audit keyring (DuckDB: the file
    is copied; PostgreSQL: ``CREATE DATABASE … TEMPLATE`` the source database, which must have no
    open connection)."""
    import shutil

    if not on_postgres():
        shutil.copy(src, dst)
        if Path(f"{src}.audit-keys.json").exists():
            shutil.copy(f"{src}.audit-keys.json", f"{dst}.audit-keys.json")
        return dst
    from sqlalchemy.engine import make_url

    src_db = make_url(str(db_location(src))).database
    key = str(Path(dst).resolve())
    name = "cp_" + hashlib.sha1(f"{key}|{uuid.uuid4().hex}".encode()).hexdigest()[:20]
    with _admin().connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{src_db}"')
    with _lock:
        _made[key] = _url(name)
    keys = Path(sidecar(src) + ".audit-keys.json")
    if keys.exists():
        shutil.copy(keys, sidecar(_made[key]) + ".audit-keys.json")
    return _made[key]
