"""Ingest into the store: idempotent batches, corrections with history, bad files rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carbonpeak.errors import CarbonpeakError, ValidationError
from carbonpeak.store.monitoring import (
    ingest_path,
    list_alerts,
    load_registry,
    reading_history,
    review_alert,
)

UNITS = """unit_id,name,uscc,industry_code,city,kind,hub_node
U1,Test DC,91350100M000100Y43,6450,GD-SG,data_centre,yes
"""
METERS = """meter_id,unit_id,energy_type,point,kind,unit,parent_meter_id
S1,U1,electricity,site,interval,kWh,
IT1,U1,electricity,it,interval,kWh,S1
"""


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def reg_store(store, tmp_path):
    ingest_path(store, _write(tmp_path, "units.csv", UNITS))
    ingest_path(store, _write(tmp_path, "meters.csv", METERS))
    return store


def test_registry_import_is_idempotent(reg_store, tmp_path):
    r = ingest_path(reg_store, _write(tmp_path, "units_again.csv", UNITS))
    assert not r.created
    reg = load_registry(reg_store)
    assert reg["units"]["hub_node"].tolist() == [True]
    assert sorted(reg["meters"]["parent_meter_id"].tolist()) == ["", "S1"]


def test_readings_idempotent_and_corrections_keep_history(reg_store, tmp_path):
    r1 = ingest_path(reg_store, _write(tmp_path, "r1.csv", "meter_id,ts,value\nS1,2025-01-01T00:00+08:00,10\nS1,2025-01-01T00:15+08:00,11\n"))
    assert (r1.created, r1.inserted) == (True, 2)
    again = ingest_path(reg_store, _write(tmp_path, "r1_copy.csv", "meter_id,ts,value\nS1,2025-01-01T00:15+08:00,11\nS1,2025-01-01T00:00+08:00,10\n"))
    assert not again.created
    assert again.batch_id == r1.batch_id
    r2 = ingest_path(reg_store, _write(tmp_path, "r2.csv", "meter_id,ts,value\nS1,2025-01-01T00:15+08:00,12.5\nS1,2025-01-01T00:00+08:00,10\n"))
    assert (r2.inserted, r2.corrected, r2.unchanged) == (0, 1, 1)
    h = reading_history(reg_store, "S1", "2025-01-01T00:15+08:00")
    assert h["value"].tolist() == [11.0, 12.5]
    assert h["is_current"].tolist() == [False, True]
    assert h["superseded_by"].iloc[0] == r2.batch_id
    assert reg_store.query("SELECT count(*) AS n FROM mon_readings WHERE is_current")["n"].iloc[0] == 2


def test_bad_csv_readings_rejected_with_file_row_field(reg_store, tmp_path):
    p = _write(tmp_path, "bad.csv", "meter_id,ts,value\nS1,2025-01-01T00:00+08:00,1\nS1,yesterday,2\nS1,2025-01-01T00:30+08:00,abc\n")
    with pytest.raises(ValidationError) as ei:
        ingest_path(reg_store, p)
    got = {(Path(q.file).name, q.row, q.field) for q in ei.value.problems}
    assert {("bad.csv", 3, "ts"), ("bad.csv", 4, "value")} <= got
    assert reg_store.query("SELECT count(*) AS n FROM mon_readings")["n"].iloc[0] == 0  # all or nothing


def test_bad_parquet_readings_rejected_in_engine(reg_store, tmp_path):
    ts = pd.date_range("2025-01-01T00:00+08:00", periods=4, freq="15min").tz_convert("UTC")
    t = pa.table({"meter_id": ["S1", "S1", "NOPE", "S1"], "ts": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
                  "value": [1.0, float("nan"), 2.0, 3.0]})  # fmt: skip
    d = tmp_path / "lake" / "date=2025-01-01"
    d.mkdir(parents=True)
    pq.write_table(t, d / "part-0.parquet")
    with pytest.raises(ValidationError) as ei:
        ingest_path(reg_store, tmp_path / "lake")
    got = {(Path(q.file).name, q.row, q.field) for q in ei.value.problems}
    assert ("part-0.parquet", 2, "value") in got
    assert ("part-0.parquet", 3, "meter_id") in got
    assert reg_store.query("SELECT count(*) AS n FROM mon_readings")["n"].iloc[0] == 0


def test_conflicting_values_in_one_batch_rejected(reg_store, tmp_path):
    p = _write(tmp_path, "dup.csv", "meter_id,ts,value\nS1,2025-01-01T00:00+08:00,1\nS1,2025-01-01T00:00+08:00,2\n")
    with pytest.raises(ValidationError, match="another value"):
        ingest_path(reg_store, p)


def test_meters_need_known_units(store, tmp_path):
    with pytest.raises(ValidationError, match="unknown unit"):
        ingest_path(store, _write(tmp_path, "meters.csv", METERS))


def test_review_needs_existing_alert_and_comment(store):
    with pytest.raises(CarbonpeakError):
        review_alert(store, "nope", comment="x")
    assert list_alerts(store).empty


def test_timestamps_need_an_offset(reg_store, tmp_path):
    p = _write(tmp_path, "naive.csv", "meter_id,ts,value\nS1,2025-01-01T00:00+08:00,1\nS1,2025-01-01 00:15,2\n")
    with pytest.raises(ValidationError) as ei:
        ingest_path(reg_store, p)
    assert [(q.row, q.field) for q in ei.value.problems] == [(3, "ts")]
