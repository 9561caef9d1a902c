"""Incremental runs: adding 15-minute batches one at a time and recomputing only the days they
touch gives exactly the meter-day table and the alerts of a full run, and every injected fault of
the synthetic data set is still found."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import ibis
import pandas as pd
import pytest
from tests.monitoring.conftest import has_alert
from tests.stores import db_location

from carbonpeak.monitoring.pipeline import STAGE1_COLUMNS, run_pipeline
from carbonpeak.monitoring.rules import evaluate

START = dt.date(2025, 1, 1)
END = START + dt.timedelta(days=39)
CST = dt.timezone(dt.timedelta(hours=8))


def _slot(day: str | dt.date, hh: int, mm: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    t0 = pd.Timestamp(dt.datetime.combine(d, dt.time(hh, mm), tzinfo=CST))
    return t0, t0 + pd.Timedelta(minutes=15)


def _run(con, readings, reg, coef, cat, **kw):
    res = run_pipeline(con, ibis.memtable(readings), reg["meters"], reg["units"], coef, date_from=START, date_to=END, **kw)
    rr = evaluate(res, cat, output=reg["output"], budgets=reg["budgets"], reported=reg["reported"])
    return res, rr


def test_batches_give_the_full_run(con_factory, synth, coef, cat, reg_of):
    reg = reg_of(synth)
    con = con_factory("duckdb")
    allr = pd.read_parquet(synth / "readings", columns=["meter_id", "ts", "value"])
    allr["meter_id"] = allr["meter_id"].astype(str)
    f = json.loads((synth / "faults.json").read_text())["faults"]
    # batches: the first slot of the counter-reset day (ends the previous day's last counter interval),
    # a slot on the spike day, the negative reading's day, and the very last slot of the window
    slots = [
        _slot(f["counter_reset"]["date"], 0, 0),
        _slot(f["spike"]["date"], 10, 0),
        _slot(f["negative"]["date"], 12, 0),
        _slot(END, 23, 45),
    ]
    in_batch = [(allr["ts"] >= a) & (allr["ts"] < b) for a, b in slots]
    assert all(m.any() for m in in_batch)
    held = pd.concat(in_batch, axis=1).any(axis=1)

    full_res, full_rr = _run(con, allr, reg, coef, cat)
    res, _rr = _run(con, allr[~held].reset_index(drop=True), reg, coef, cat)
    have = allr[~held]
    for (a, _b), m in zip(slots, in_batch, strict=True):
        have = pd.concat([have, allr[m]], ignore_index=True)
        day = a.tz_convert(CST).date()
        res, rr = _run(con, have, reg, coef, cat, previous=res.meter_day, changed=(day, day))
        assert res.info["incremental"] is True
        lo, hi = (dt.date.fromisoformat(x) for x in res.info["recomputed_days"])
        assert (lo, hi) == (max(day - dt.timedelta(days=1), START), day)  # the batch's day and the one before

    cols = list(STAGE1_COLUMNS)
    pd.testing.assert_frame_equal(res.meter_day[cols], full_res.meter_day[cols], check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(res.unit_day, full_res.unit_day, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(rr.alerts, full_rr.alerts, check_exact=False, rtol=1e-9)

    al = rr.alerts

    def has(kind: str, **where: str) -> bool:
        return has_alert(al, kind, **where)

    assert has("pue_over_limit", unit=f["dc_over_pue"]["unit_id"])
    assert has("product_below_base", unit=f["cement_below_base"]["unit_id"])
    assert has("gap", meter=f["gap"]["meter_id"], on=f["gap"]["date"])
    assert has("gap", meter=f["gap"]["meter_id"], on=f["gap"]["date_full"])
    assert has("flat_line", meter=f["frozen"]["meter_id"], on=f["frozen"]["date"])
    assert has("spike", meter=f["spike"]["meter_id"], on=f["spike"]["date"])
    assert has("negative_value", meter=f["negative"]["meter_id"], on=f["negative"]["date"])
    assert has("counter_reset", meter=f["counter_reset"]["meter_id"], on=f["counter_reset"]["date"])
    assert has("reported_vs_metered", unit=f["under_reporting"]["unit_id"])


def test_held_back_batch_changes_the_result(con_factory, synth, coef, cat, reg_of):
    """The comparison above can fail: without the batch the counter-reset day differs."""
    reg = reg_of(synth)
    con = con_factory("duckdb")
    allr = pd.read_parquet(synth / "readings", columns=["meter_id", "ts", "value"])
    allr["meter_id"] = allr["meter_id"].astype(str)
    f = json.loads((synth / "faults.json").read_text())["faults"]
    a, b = _slot(f["counter_reset"]["date"], 0, 0)
    m = (allr["ts"] >= a) & (allr["ts"] < b)
    full, _ = _run(con, allr, reg, coef, cat)
    part, _ = _run(con, allr[~m].reset_index(drop=True), reg, coef, cat)
    # incremental with the wrong changed day (a day the batch does not touch) keeps the stale rows
    day = a.tz_convert(CST).date()
    wrong = day + dt.timedelta(days=5)
    res, _ = _run(con, allr, reg, coef, cat, previous=part.meter_day, changed=(wrong, wrong))
    cols = list(STAGE1_COLUMNS)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(res.meter_day[cols], full.meter_day[cols])


def test_cli_incremental_run_on_the_store(tmp_path, capsys):
    """ingest → full run → ingest a 15-minute batch → incremental run = a full run on a fresh store."""
    from carbonpeak.cli import main
    from carbonpeak.monitoring.synthetic import generate

    out = tmp_path / "syn"
    generate(out, units=12, days=6, start=START, seed=4)
    r = pd.read_parquet(out / "readings", columns=["meter_id", "ts", "value"])
    a, b = _slot(START + dt.timedelta(days=3), 0, 0)
    m = (r["ts"] >= a) & (r["ts"] < b)
    r[~m].to_parquet(tmp_path / "base.parquet")
    r[m].to_parquet(tmp_path / "batch.parquet")
    files = [str(out / "registry" / f"{k}.csv") for k in ("units", "meters", "output", "budgets", "reported")]
    files = [f for f in files if len(Path(f).read_text(encoding="utf-8").splitlines()) > 1]  # a short window has no output rows
    win = ["--from", str(START), "--to", str(START + dt.timedelta(days=5))]

    def run(db: str, *extra: str) -> dict:
        assert main(["monitor", "run", *win, *extra, "--db", db, "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)

    db = str(db_location(tmp_path / "inc.duckdb"))
    assert main(["monitor", "ingest", *files, str(tmp_path / "base.parquet"), "--db", db, "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["monitor", "run", *win, "--incremental", "--db", db]) == 2  # nothing stored yet: refused
    capsys.readouterr()
    run(db)
    assert main(["monitor", "ingest", str(tmp_path / "batch.parquet"), "--db", db, "--format", "json"]) == 0
    capsys.readouterr()
    inc = run(db, "--incremental")
    assert inc["incremental"] is True
    assert inc["recomputed_days"] == [str(START + dt.timedelta(days=2)), str(START + dt.timedelta(days=3))]
    again = run(db, "--incremental")  # no new batch: nothing recomputed
    assert again["recomputed_days"] == []

    fresh = str(db_location(tmp_path / "full.duckdb"))
    assert main(["monitor", "ingest", *files, str(tmp_path / "base.parquet"), str(tmp_path / "batch.parquet"),
                 "--db", fresh, "--format", "json"]) == 0  # fmt: skip
    capsys.readouterr()
    full = run(fresh)
    for k in ("intervals", "meter_days", "tce", "co2_t"):
        assert inc[k] == pytest.approx(full[k], rel=1e-12), k
        assert again[k] == pytest.approx(full[k], rel=1e-12), k
    assert inc["alerts"] == full["alerts"] == again["alerts"]
