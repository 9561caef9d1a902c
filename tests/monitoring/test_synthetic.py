"""The synthetic data set: every injected fault is found, on both engines, with identical results."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from tests.monitoring.conftest import has_alert

from carbonpeak.monitoring.engine import read_lake
from carbonpeak.monitoring.pipeline import run_pipeline
from carbonpeak.monitoring.registry import uscc_valid
from carbonpeak.monitoring.rules import evaluate

START = dt.date(2025, 1, 1)
END = START + dt.timedelta(days=39)
_CACHE: dict[str, object] = {}


def _evaluate(engine, con_factory, synth, coef, cat, reg_of):
    if engine not in _CACHE:
        reg = reg_of(synth)
        con = con_factory(engine)
        res = run_pipeline(con, read_lake(con, synth / "readings"), reg["meters"], reg["units"], coef,
                           date_from=START, date_to=END)  # fmt: skip
        _CACHE[engine] = (res, evaluate(res, cat, output=reg["output"], budgets=reg["budgets"], reported=reg["reported"],
                                        uploads=reg["uploads"]))
    return _CACHE[engine]


_has = has_alert


def test_generator_labels_and_registry(synth, reg_of):
    reg = reg_of(synth)
    assert reg["units"]["synthetic"].all()
    assert reg["units"]["name"].str.contains("synthetic").all()
    assert reg["units"]["uscc"].map(uscc_valid).all()
    assert set(reg["units"]["kind"]) >= {"data_centre", "cement", "steel", "ceramics", "paper", "ethylene", "refining"}
    summary = json.loads((synth / "faults.json").read_text())
    assert summary["synthetic"] is True
    assert summary["seed"] == 11


def test_synthetic_faults_are_found(engine, con_factory, synth, coef, cat, reg_of):
    _res, rr = _evaluate(engine, con_factory, synth, coef, cat, reg_of)
    f = json.loads((synth / "faults.json").read_text())["faults"]
    al = rr.alerts
    assert _has(al, "pue_over_limit", unit=f["dc_over_pue"]["unit_id"])
    assert _has(al, "product_below_base", unit=f["cement_below_base"]["unit_id"])
    assert _has(al, "product_over_limit", unit=f["cement_below_base"]["unit_id"])
    assert _has(al, "gap", meter=f["gap"]["meter_id"], on=f["gap"]["date"])
    assert _has(al, "gap", meter=f["gap"]["meter_id"], on=f["gap"]["date_full"])
    assert _has(al, "flat_line", meter=f["frozen"]["meter_id"], on=f["frozen"]["date"])
    assert _has(al, "spike", meter=f["spike"]["meter_id"], on=f["spike"]["date"])
    assert _has(al, "negative_value", meter=f["negative"]["meter_id"], on=f["negative"]["date"])
    assert _has(al, "counter_reset", meter=f["counter_reset"]["meter_id"], on=f["counter_reset"]["date"])
    ur = al[(al["kind"] == "reported_vs_metered") & (al["unit_id"] == f["under_reporting"]["unit_id"])]
    assert len(ur) == 1
    assert ur["value"].iloc[0] == pytest.approx(-0.3, abs=0.02)
    # no false alarms of these kinds on other units/meters
    assert set(al.loc[al["kind"] == "reported_vs_metered", "unit_id"]) == {f["under_reporting"]["unit_id"]}
    assert set(al.loc[al["kind"] == "flat_line", "meter_id"]) == {f["frozen"]["meter_id"]}
    assert set(al.loc[al["kind"] == "product_over_limit", "unit_id"]) == {f["cement_below_base"]["unit_id"]}
    # the national platform's checks (uploads.csv and the meter registry)
    assert _has(al, "fault_unrepaired", meter=f["outage"]["meter_id"], on=f["outage"]["date"])
    assert set(al.loc[al["kind"] == "fault_unrepaired", "meter_id"]) == {f["outage"]["meter_id"]}
    assert set(al.loc[al["kind"] == "meter_calibration_expired", "meter_id"]) == {f["calibration_expired"]["meter_id"]}
    assert f["daily_vs_monthly"]["unit_id"] in set(al.loc[al["kind"] == "platform_daily_vs_monthly", "unit_id"])
    assert set(al.loc[al["kind"] == "platform_timestamp", "unit_id"]) == {f["timestamp_offset"]["unit_id"]}
    miss = al[al["kind"] == "platform_missing_indicator"]
    assert set(zip(miss["unit_id"], miss["indicator"], strict=True)) == {(f["missing_indicator"]["unit_id"], "value_added/month")}
    assert set(al.loc[al["kind"] == "upload_late", "unit_id"]) == {f["late_upload"]["unit_id"]}
    inc = al[al["kind"] == "platform_completeness"]
    assert set(inc["unit_id"]) == {f["uploads_incomplete"]["unit_id"]}
    # the month of the PUE fault: a warning for the month and an error for the year, both kept
    pue = al[(al["kind"] == "pue_over_limit") & (al["unit_id"] == f["dc_over_pue"]["unit_id"])]
    assert {"month": "warning", "year": "error"}.items() <= dict(zip(pue["grain"], pue["severity"], strict=False)).items()
    monthly = rr.pue[(rr.pue["grain"] == "month") & rr.pue["over_limit"]]
    assert set(monthly["unit_id"]) == {f["dc_over_pue"]["unit_id"]}
    every_alert_explained = al[["observed", "location", "why", "rule_source"]].apply(lambda c: c.str.len() > 0).all()
    assert every_alert_explained.all()


@pytest.mark.spark
def test_spark_and_duckdb_identical(con_factory, synth, coef, cat, reg_of):
    r_d, a_d = _evaluate("duckdb", con_factory, synth, coef, cat, reg_of)
    r_s, a_s = _evaluate("spark", con_factory, synth, coef, cat, reg_of)
    cols = ["meter_id", "day", "n", "n_negative", "n_impossible", "n_resets", "n_rollovers"]
    pd.testing.assert_frame_equal(r_d.meter_day[cols], r_s.meter_day[cols])
    assert r_s.meter_day["energy"].to_numpy() == pytest.approx(r_d.meter_day["energy"].to_numpy(), rel=1e-12)
    assert a_s.alerts["alert_id"].tolist() == a_d.alerts["alert_id"].tolist()
    assert a_s.alerts["value"].to_numpy() == pytest.approx(a_d.alerts["value"].to_numpy(), rel=1e-9, nan_ok=True)


def test_generator_is_deterministic(tmp_path):
    from carbonpeak.monitoring.synthetic import generate

    a = generate(tmp_path / "a", units=12, days=3, seed=5)
    b = generate(tmp_path / "b", units=12, days=3, seed=5)
    assert a["readings"] == b["readings"]
    assert a["faults"] == b["faults"]
    ra = pd.read_parquet(tmp_path / "a" / "readings")
    rb = pd.read_parquet(tmp_path / "b" / "readings")
    pd.testing.assert_frame_equal(ra, rb)
