"""Shared fixtures."""

from __future__ import annotations

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
