"""Fixtures of the monitoring tests: a factor set of our own (independent of the packaged
catalog), the rule catalog, and an ``engine`` fixture that runs each case on DuckDB and on
Spark (local mode, one session shared by the whole test session)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from carbonpeak.catalog.factors import FactorSet, read_factor_table
from carbonpeak.monitoring.catalog import catalog_coefficients, load_catalog

HERE = Path(__file__).parent
START = dt.date(2025, 1, 1)


@pytest.fixture(scope="session")
def factors() -> FactorSet:
    return FactorSet([[], read_factor_table(HERE / "factors_fixture.csv")])


@pytest.fixture(scope="session")
def coef(factors: FactorSet):
    return catalog_coefficients(factors, grid_fn=lambda year, grid="national": factors.get("electricity", "grid_ef_test"))


@pytest.fixture(scope="session")
def cat():
    return load_catalog()


@pytest.fixture(scope="session", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def con_factory():
    from carbonpeak.monitoring.engine import connect

    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = connect(name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Path:
    """A small synthetic data set (48 units, 40 days) shared by the tests that need one."""
    from carbonpeak.monitoring.synthetic import generate

    out = tmp_path_factory.mktemp("synthetic")
    generate(out, units=48, days=40, start=START, seed=11, negative_fault=True)  # read as a lake: no ingest
    return out


@pytest.fixture(scope="session")
def reg_of():
    return registry_of


def registry_of(path: Path) -> dict[str, pd.DataFrame]:
    from carbonpeak.io import read_table
    from carbonpeak.monitoring.registry import validate_kind

    return {k: validate_kind(read_table(path / "registry" / f"{k}.csv"), k)
            for k in ("units", "meters", "output", "budgets", "reported", "uploads")}  # fmt: skip


def has_alert(alerts: pd.DataFrame, kind: str, *, unit=None, meter=None, on=None) -> bool:
    """Whether ``alerts`` hold one of ``kind`` (for ``unit``/``meter``, covering day ``on``)."""
    a = alerts[alerts["kind"] == kind]
    if unit:
        a = a[a["unit_id"] == unit]
    if meter:
        a = a[a["meter_id"] == meter]
    if on:
        d = dt.date.fromisoformat(on)
        a = a[(a["period_start"] <= d) & (a["period_end"] >= d)]
    return not a.empty
