"""Issue 9: numbers must be finite and plausible, in every importer.

``inf``, ``-inf``, ``nan``, ``1e309`` (overflows to inf) and ``1e308`` (finite, absurd) amounts
and readings are refused with a file/row/field error by the activity, observation, monitoring
readings (CSV and Parquet) and service submission importers (CSV and Excel).  Bounds are data:
``catalog/data/validation/plausible_ranges.yaml`` (each with its reason).  A hypothesis test
sends arbitrary floats: each either imports with finite results or is refused naming the row
and field; never a 500, never a stored non-finite value.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import login
from tests.stores import copy_store, db_location

from carbonpeak.errors import CarbonpeakError, ValidationError
from carbonpeak.store import Store

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

BAD = ["inf", "-inf", "Infinity", "nan", "NaN", "1e309", "-1e309", "1e308", "-1e308"]

ACTIVITY = "year,region,category,item,amount,unit,source\n2020,GD,1.A.1.a,natural_gas,{v},10^4 Nm3,test\n"
OBS = "indicator,region,year,value,unit,source\npopulation,GD,2020,{v},10^4 person,test\n"
READINGS = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,{v}\n"


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    if name.endswith(".xlsx"):
        pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).to_excel(p, index=False)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def _load_activity(p: Path) -> pd.DataFrame:
    from carbonpeak.model.activity import load_activity

    return load_activity([p])


def _load_obs(p: Path) -> pd.DataFrame:
    from carbonpeak.model.observation import load_observations

    return load_observations([p])


def _assert_names(exc: ValidationError, file: str, field: str) -> None:
    assert any(p.row == 2 and p.field == field and p.file.endswith(file) for p in exc.problems), exc.problems


@pytest.mark.parametrize("v", BAD)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_activity_amount(tmp_path, v, suffix):
    p = _write(tmp_path, f"act{suffix}", ACTIVITY.format(v=v))
    with pytest.raises(ValidationError) as ei:
        _load_activity(p)
    _assert_names(ei.value, p.name, "amount")


@pytest.mark.parametrize("v", BAD)
def test_observation_value(tmp_path, v):
    p = _write(tmp_path, "obs.csv", OBS.format(v=v))
    with pytest.raises(ValidationError) as ei:
        _load_obs(p)
    _assert_names(ei.value, "obs.csv", "value")


@pytest.fixture
def mon_store(tmp_path):
    from tests.platform.conftest import seed_registry

    s = Store(db_location(tmp_path / "m.duckdb"))
    seed_registry(s)
    yield s
    s.close()


@pytest.mark.parametrize("v", BAD)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_monitoring_readings_table(tmp_path, mon_store, v, suffix):
    from carbonpeak.store.monitoring import ingest_path

    p = _write(tmp_path, f"r{suffix}", READINGS.format(v=v))
    with pytest.raises(ValidationError) as ei:
        ingest_path(mon_store, p, kind="readings")
    _assert_names(ei.value, p.name, "value")
    assert mon_store.query("SELECT count(*) n FROM mon_readings")["n"][0] == 0


@pytest.mark.parametrize("v", [math.inf, -math.inf, math.nan, 1e308, -1e308])
def test_monitoring_readings_parquet(tmp_path, mon_store, v):
    from carbonpeak.store.monitoring import ingest_path

    p = tmp_path / "r.parquet"
    pd.DataFrame({"meter_id": ["M1"], "ts": pd.to_datetime(["2025-01-01T00:00:00+08:00"]), "value": [v]}).to_parquet(p)
    with pytest.raises(ValidationError) as ei:
        ingest_path(mon_store, p, kind="readings")
    assert any(pr.row == 1 and pr.field == "value" for pr in ei.value.problems), ei.value.problems
    assert mon_store.query("SELECT count(*) n FROM mon_readings")["n"][0] == 0


# -- negative readings: refused for interval meters, left to the quality checks for cumulative ones -----
NEG_READINGS = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\nM1,2025-01-01T00:15:00+08:00,{v}\n"


@pytest.mark.parametrize("v", ["-1", "-0.001", "-1e12"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_negative_interval_reading_is_refused_at_ingest(tmp_path, mon_store, v, suffix):
    """``monitor ingest`` (ingest_path) refuses the whole file naming the file, row and field."""
    from carbonpeak.store.monitoring import ingest_path

    if suffix == ".parquet":
        p = tmp_path / "r.parquet"
        ts = pd.to_datetime(["2025-01-01T00:00:00+08:00", "2025-01-01T00:15:00+08:00"])
        pd.DataFrame({"meter_id": ["M1", "M1"], "ts": ts, "value": [10.0, float(v)]}).to_parquet(p)
        row = 2  # Parquet rows count from 1 (no header line)
    else:
        p = _write(tmp_path, f"r{suffix}", NEG_READINGS.format(v=v))
        row = 3  # the header is line 1
    with pytest.raises(ValidationError) as ei:
        ingest_path(mon_store, p, kind="readings")
    bad = [pr for pr in ei.value.problems if pr.field == "value"]
    assert [pr.row for pr in bad] == [row], ei.value.problems
    assert "interval meter" in bad[0].message
    assert mon_store.query("SELECT count(*) n FROM mon_readings")["n"][0] == 0  # all or nothing


def test_negative_cumulative_reading_is_kept_for_the_quality_checks(tmp_path, mon_store):
    """A cumulative meter's register may fall (reset, rollover); its readings are judged by the
    pipeline (counter_reset, negative_value alerts), not refused at the door."""
    from carbonpeak.store.monitoring import ingest_path

    meters = pd.DataFrame(
        [dict(meter_id="G1", unit_id="U-A", energy_type="natural_gas", point="site", kind="cumulative", unit="m**3",
              interval_minutes=15, parent_meter_id="", product="", rollover=1e9, max_interval_value=None)]
    )  # fmt: skip
    mon_store.import_frame("mon_meters", meters, kind="mon_meters", source="test registry")
    p = _write(tmp_path, "g.csv", NEG_READINGS.replace("M1", "G1").format(v="-3"))
    r = ingest_path(mon_store, p, kind="readings")
    assert r.rows == 2
    assert sorted(mon_store.query("SELECT value FROM mon_readings")["value"]) == [-3.0, 10.0]


def test_negative_interval_reading_is_refused_by_the_service(svc, tmp_path):
    """``POST /api/monitoring/ingest``: the job fails naming the client's file, the row and the field."""
    client, store = svc
    h = login(client, "ent_a")
    before = store.query("SELECT count(*) n FROM mon_readings")["n"][0]
    r = client.post(
        "/api/monitoring/ingest",
        headers=h,
        files={"files": ("neg.csv", NEG_READINGS.format(v="-5").encode(), "text/csv")},
    )
    assert r.status_code in (200, 202), r.text
    rec = fx.wait_job(client, h, r.json()["job_id"])
    assert rec["status"] == "failed", rec
    assert "neg.csv" in str(rec["error"])
    assert "interval meter" in str(rec["error"])
    assert store.query("SELECT count(*) n FROM mon_readings")["n"][0] == before


@pytest.mark.parametrize("v", BAD)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_service_submission(svc, tmp_path, v, suffix):
    client, store = svc
    p = _write(tmp_path, f"sub{suffix}", READINGS.format(v=v))
    r = client.post(
        "/api/submissions",
        headers=login(client, "ent_a"),
        data={"kind": "readings", "period": "2025-01"},
        files={"file": (p.name, p.read_bytes(), "application/octet-stream")},
    )
    assert r.status_code == 422, r.text
    assert any(x["row"] == 2 and x["field"] == "value" and x["file"] == p.name for x in r.json()["problems"])
    assert store.query("SELECT count(*) n FROM submissions")["n"][0] == 0


def test_bounds_are_data_with_a_reason():
    from carbonpeak.catalog.loader import load_yaml

    doc = load_yaml("validation/plausible_ranges.yaml")
    assert doc["ranges"]
    for r in doc["ranges"]:
        assert r["reason"].strip(), r
        assert r["status"] in ("verified", "derived", "estimate"), r
        assert r["min"] < r["max"]
    covered = {(r["table"], r["column"]) for r in doc["ranges"]}
    assert {("activity", "amount"), ("observations", "value"), ("readings", "value"), ("output", "amount")} <= covered


def test_plausible_values_still_import(tmp_path):
    for v in ("0", "1e12", "-5e3", "123456.789"):
        p = _write(tmp_path, "ok.csv", OBS.format(v=v))
        assert _load_obs(p)["value"].map(math.isfinite).all()


# -- hypothesis: any float, every importer -------------------------------------------------------------
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e15, 1e16, 5e-324, -0.0]),
).map(repr)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _finite_or_named(load, text: str, field: str, tmp: Path) -> None:
    p = _write(tmp, "f.csv", text)
    problems = None
    try:
        df = load(p)
    except ValidationError as exc:
        problems = exc.problems
    except CarbonpeakError as exc:  # pragma: no cover - would be a failure
        raise AssertionError(f"a CarbonpeakError without a row/field: {exc}") from exc
    if problems is not None:
        assert problems
        assert all(pr.row == 2 and pr.field for pr in problems), problems
        return
    assert df[field].map(math.isfinite).all()


@SETTINGS
@given(v=FLOATS)
def test_any_float_activity(tmp_path_factory, v):
    _finite_or_named(_load_activity, ACTIVITY.format(v=v), "amount", tmp_path_factory.mktemp("a"))


@SETTINGS
@given(v=FLOATS)
def test_any_float_observation(tmp_path_factory, v):
    _finite_or_named(_load_obs, OBS.format(v=v), "value", tmp_path_factory.mktemp("o"))


@pytest.fixture(scope="module")
def any_float_service(tmp_path_factory, _template_db):

    d = tmp_path_factory.mktemp("svc")
    copy_store(_template_db, d / "s.duckdb")
    store = Store(db_location(d / "s.duckdb"))
    with fx.make_client(store) as c:
        yield c, store, login(c, "ent_a")
    store.close()


@SETTINGS
@given(v=FLOATS, month=st.integers(1, 12))
def test_any_float_through_the_service_never_500(any_float_service, v, month):
    client, store, h = any_float_service
    r = client.post(
        "/api/submissions",
        headers=h,
        data={"kind": "readings", "period": f"2024-{month:02d}"},
        files={"file": ("f.csv", READINGS.format(v=v).encode(), "text/csv")},
    )
    assert r.status_code in (201, 422), r.text
    if r.status_code == 422:
        assert all(p["row"] == 2 and p["field"] == "value" for p in r.json()["problems"])
    values = store.query("SELECT record FROM submission_rows")["record"].map(lambda s: pd.read_json(io.StringIO(f"[{s}]"))["value"][0])
    assert values.map(lambda x: math.isfinite(float(x))).all()


@SETTINGS
@given(v=st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_readings_parquet(tmp_path_factory, v):
    from tests.platform.conftest import seed_registry

    from carbonpeak.store.monitoring import ingest_path

    d = tmp_path_factory.mktemp("p")
    s = Store(db_location(d / "m.duckdb"))
    try:
        seed_registry(s)
        p = d / "r.parquet"
        pd.DataFrame({"meter_id": ["M1"], "ts": pd.to_datetime(["2025-01-01T00:00:00+08:00"]), "value": [v]}).to_parquet(p)
        problems = []
        try:
            ingest_path(s, p, kind="readings")
        except ValidationError as exc:
            problems = exc.problems
        assert all(pr.row == 1 and pr.field == "value" for pr in problems), problems
        stored = s.query("SELECT value FROM mon_readings")["value"]
        assert stored.map(math.isfinite).all()
    finally:
        s.close()
