"""A day that has not ended at the data's as-of time is unfinished, not incomplete: a 15-minute batch
that opens a new day raises no gap (nor platform completeness) alert for that day, while a meter that
sent nothing over a day that had ended still does."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from carbonpeak.monitoring.pipeline import run_pipeline
from carbonpeak.monitoring.quality import ended_days
from carbonpeak.monitoring.rules import evaluate

START = dt.date(2025, 1, 1)
CST = dt.timezone(dt.timedelta(hours=8))


def _run(con, readings, reg, coef, cat, date_to, **kw):
    res = run_pipeline(con, ibis.memtable(readings), reg["meters"], reg["units"], coef, date_from=START, date_to=date_to)
    return res, evaluate(res, cat, output=reg["output"], budgets=reg["budgets"], reported=reg["reported"], **kw)


def test_unfinished_day_is_not_a_gap(con_factory, synth, coef, cat, reg_of):
    reg = reg_of(synth)
    con = con_factory("duckdb")
    allr = pd.read_parquet(synth / "readings", columns=["meter_id", "ts", "value"])
    allr["meter_id"] = allr["meter_id"].astype(str)
    last = START + dt.timedelta(days=9)
    new_day = last + dt.timedelta(days=1)
    t_new = pd.Timestamp(dt.datetime.combine(new_day, dt.time(), tzinfo=CST))
    t_end = t_new + pd.Timedelta(minutes=15)
    # the lake up to the new day's first 15-minute slot (00:00–00:15 CST), every meter but one
    silent = str(reg["meters"].loc[reg["meters"]["kind"] == "interval", "meter_id"].iloc[0])
    r = allr[(allr["ts"] < t_end) & ~((allr["ts"] >= t_new) & (allr["meter_id"] == silent))].reset_index(drop=True)

    res, rr = _run(con, r, reg, coef, cat, new_day)
    assert ended_days(res) == 10  # the new day had not ended at 00:15
    al = rr.alerts
    on_new = al[(al["period_end"] >= new_day) & al["kind"].isin(["gap", "platform_completeness", "fault_unrepaired"])]
    assert on_new.empty, on_new[["kind", "meter_id", "unit_id", "observed"]]

    # the same data judged at a later as-of time: the new day has ended with one reading (or none) per meter
    later = dt.datetime.combine(new_day + dt.timedelta(days=1), dt.time(1), tzinfo=CST)
    _res, rr2 = _run(con, r, reg, coef, cat, new_day, as_of=later)
    gaps = rr2.alerts[(rr2.alerts["kind"] == "gap") & (rr2.alerts["period_end"] == new_day)]
    assert silent in set(gaps["meter_id"])
    assert len(gaps) >= len(reg["meters"]) - 1  # every meter's new day is now incomplete

    # and a day that had ended without readings of one meter is still a gap at the data's own as-of time
    r3 = r[~((r["meter_id"] == silent) & (r["ts"] >= t_new - pd.Timedelta(days=1)) & (r["ts"] < t_new))]
    _res, rr3 = _run(con, r3.reset_index(drop=True), reg, coef, cat, new_day)
    g3 = rr3.alerts[(rr3.alerts["kind"] == "gap") & (rr3.alerts["meter_id"] == silent)]
    assert (g3["period_end"] == last).any()
    assert not (rr3.alerts[rr3.alerts["kind"] == "gap"]["period_end"] >= new_day).any()
