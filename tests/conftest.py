"""Shared fixtures."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def store(tmp_path: Path):
    """A fresh store: a DuckDB file, or a PostgreSQL database when the suite runs on a server
    (tests/stores.py)."""
    from tests.stores import db_location

    from carbonpeak.store import Store

    s = Store(db_location(tmp_path / "test.duckdb"))
    yield s
    s.close()


@pytest.fixture
def make_store(tmp_path: Path):
    """A factory of fresh stores (``make_store()``; ``make_store(path)`` reopens the same one)."""
    from tests.stores import db_location

    from carbonpeak.store import Store

    opened = []

    def make(path: str | Path | None = None) -> Store:
        s = Store(db_location(path if path is not None else tmp_path / f"s{len(opened)}.duckdb"))
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


#: The service's password hasher as the code builds it (argon2id, the library's defaults); the
#: tests swap in a cheap one below and tests/security/test_passwords.py checks this one.
PRODUCTION_HASHER = None


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    """argon2id at the library's defaults (RFC 9106's second recommended option: 3 passes over
    64 MiB, 4 lanes) costs about 0.5 s of CPU per hash and 0.25 s per check on a 2-core machine, and
    the tests seed and log in users thousands of times.  They use the same algorithm and code with
    the smallest cost instead (as Django's test settings swap in a fast hasher).  A stored hash
    carries its parameters, so a service started in another process checks these hashes too."""
    global PRODUCTION_HASHER
    from argon2 import PasswordHasher

    from carbonpeak.store import users

    PRODUCTION_HASHER = users._hasher
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    users._hasher = PRODUCTION_HASHER


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory):
    """Keyrings and checkpoints of PostgreSQL test stores go to a temporary folder."""
    import os

    old = os.environ.get("CARBONPEAK_STATE_DIR")
    os.environ["CARBONPEAK_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        os.environ.pop("CARBONPEAK_STATE_DIR", None)
    else:
        os.environ["CARBONPEAK_STATE_DIR"] = old


# -- The two passes of `make test` (DuckDB, then PostgreSQL) -----------------------------------
#
# Tests that never open a store do not depend on the backend: the PostgreSQL pass of `make test`
# (CARBONPEAK_TEST_DATABASE_URL set, CARBONPEAK_TEST_PG_ALL unset) leaves them out, so they run
# once.  Which tests those are is the list below (directories or files under tests/), and it is
# checked, not trusted: on the DuckDB pass a test in these paths fails if it opens a Store or
# uses one (a session fixture's store, a service thread's) while it runs.  `make test-pg`
# (CARBONPEAK_TEST_PG_ALL=1) runs the whole suite on PostgreSQL, these tests included.
#
# On the PostgreSQL pass every test that opens a store must open it on PostgreSQL (through
# tests/stores.py: db_location, copy_store or the store fixtures); a test that opens a DuckDB
# store there fails, unless it is marked ``duckdb_store`` with the reason it needs the DuckDB
# file itself (a migration from DuckDB, the DuckDB lock, …).
BACKEND_FREE: tuple[str, ...] = (
    "architecture", "catalog", "cli", "demo", "docs", "io", "foundation/test_units.py",
    # accounting: the engine over frames and files (test_engine_validation imports into a store)
    *(f"accounting/test_{m}.py" for m in (
        "afolu_agriculture", "afolu_catalog", "afolu_lulucf", "analysis_cli", "deferred_explain", "engine",
        "engine_cli", "engine_properties", "fossil_ch4", "grid_warnings", "ippu", "keycategory", "notation_keys",
        "recalc", "sinks", "uncertainty", "waste_closed_sites", "waste_fod", "waste_treatment")),
    *(f"markets/test_{m}.py" for m in (
        "allocation_methods", "allocation_peak_link", "compliance_properties", "compliance_rules", "rules_catalog",
        "rules_coverage", "rules_reference")),
    # monitoring: the rule engine on DuckDB or Spark over readings (its own connections, not the store)
    *(f"monitoring/test_{m}.py" for m in (
        "cli_lazy", "coal_substitution_years", "pipeline", "platform_checks", "registry", "rule_semantics",
        "setchecks", "single_scan", "spark_connect", "synthetic", "unfinished_day")),
    "platform/test_notify.py", "reports/test_report_presentable.py",
    *(f"scenarios/test_{m}.py" for m in ("iamc", "lmdi", "model", "outlook", "projection", "python_results")),
    *(f"targets/test_{m}.py" for m in ("catalog", "coal_items", "decompose", "indicators_assess", "progress")),
)  # fmt: skip

_opened: list[tuple[str, str]] = []  # (backend, location) of the stores opened or used by the running test
_watching = False
_sql_errors: list[str] = []  # SQL the database could not parse, logged (and swallowed) by a page


class _SqlErrorLog(logging.Handler):
    """Pages degrade to "unavailable" with a warning when a query fails (carbonpeak.web.data).  A
    query the backend cannot even parse (a dialect gap) is a bug, not missing data: the test fails."""

    def emit(self, record: logging.LogRecord) -> None:
        import duckdb
        import psycopg

        bad = (psycopg.errors.SyntaxError, psycopg.errors.UndefinedFunction, duckdb.ParserException)
        args = record.args if isinstance(record.args, tuple) else ()
        for a in (*args, record.exc_info[1] if record.exc_info else None):
            if isinstance(a, bad):
                _sql_errors.append(f"{record.name}: {record.getMessage()}")


def _backend_free(item: pytest.Item) -> bool:
    try:
        rel = Path(str(item.path)).resolve().relative_to(REPO / "tests").as_posix()
    except ValueError:  # not under tests/
        return False
    return any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in BACKEND_FREE)


#: The service's own background threads (job runners and their heartbeats, the scheduler, the
#: checkpointer): a runner started by an earlier test's service keeps polling that test's store
#: while later tests run, which is not a use of a store by the test being checked.
BACKGROUND_THREADS = ("carbonpeak-job", "carbonpeak-schedule", "carbonpeak-run-", "cp-checkpointer")


def _background() -> bool:
    import threading

    return threading.current_thread().name.startswith(BACKGROUND_THREADS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "duckdb_store(reason): the test opens a DuckDB store on purpose, also on the PostgreSQL pass",
    )
    logging.getLogger("carbonpeak").addHandler(_SqlErrorLog(logging.WARNING))
    from carbonpeak.store import duck

    init, con = duck.Store.__init__, duck.Store.con

    def watched_init(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
        init(self, *a, **kw)
        if _watching and not _background():
            _opened.append((self.backend, str(self.path)))

    def watched_con(self):  # type: ignore[no-untyped-def]
        if _watching and not _background():
            _opened.append((self.backend, str(self.path)))
        return con.fget(self)

    duck.Store.__init__ = watched_init  # type: ignore[method-assign]
    duck.Store.con = property(watched_con)  # type: ignore[assignment,method-assign]


def pytest_report_header(config: pytest.Config) -> str:
    from tests.stores import on_postgres

    if not on_postgres():
        return "stores: DuckDB"
    if os.environ.get("CARBONPEAK_TEST_PG_ALL"):
        return "stores: PostgreSQL, whole suite"
    return (f"stores: PostgreSQL; the backend-free tests ({', '.join(BACKEND_FREE)}) and the browser tests "
            "ran on the DuckDB pass")  # fmt: skip


def _browser_once(item: pytest.Item) -> bool:
    """A browser test (headless Chromium) runs on the DuckDB pass of ``make test`` only.

    The browser sees the same HTML and JSON whatever the backend; what is backend-specific under a
    page is its queries, and every page and every route is requested on the PostgreSQL pass too, by
    each role, without a browser (tests/platform/test_demo_store.py, tests/security/
    test_route_matrix.py, the page tests of each area), with the guard above failing any query the
    database could not parse.  Chromium costs about 280 s of the PostgreSQL pass on 2 cores, which
    the 30-minute CI budget cannot carry.  ``make test-pg`` still drives the browser on PostgreSQL.
    """
    return item.get_closest_marker("browser") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests.stores import on_postgres

    if not on_postgres() or os.environ.get("CARBONPEAK_TEST_PG_ALL"):
        return
    keep, drop = [], []
    for item in items:
        (drop if _backend_free(item) or _browser_once(item) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _store_guard(request: pytest.FixtureRequest):
    """The checks described above, around each test (its fixtures' set-up included)."""
    global _watching
    from tests.stores import on_postgres

    free = _backend_free(request.node)
    check_pg = on_postgres() and request.node.get_closest_marker("duckdb_store") is None
    _sql_errors.clear()
    _opened.clear()
    _watching = free or check_pg
    try:
        yield
    finally:
        _watching = False
    seen = sorted(set(_opened))
    _opened.clear()
    errors = list(_sql_errors)
    _sql_errors.clear()
    if errors:
        pytest.fail(f"{request.node.nodeid}: a query the database could not parse was logged: {errors[0]}")
    if free and seen:
        pytest.fail(
            f"{request.node.nodeid} is listed in BACKEND_FREE (tests/conftest.py) but used a store "
            f"({seen[0][0]} {seen[0][1]}): take its path out of the list, so that it runs on both backends"
        )
    duck_seen = [loc for backend, loc in seen if backend == "duckdb"]
    if check_pg and duck_seen:
        pytest.fail(
            f"{request.node.nodeid} opened a DuckDB store ({duck_seen[0]}) on the PostgreSQL pass: open "
            "stores through tests/stores.py (db_location, copy_store, the store fixtures), or mark the "
            "test duckdb_store(reason) if it needs the DuckDB file itself"
        )
