"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def store(tmp_path: Path):
    """A fresh DuckDB store in a temporary file."""
    from carbonpeak.store import Store

    s = Store(tmp_path / "test.duckdb")
    yield s
    s.close()
