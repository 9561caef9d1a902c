"""The set-operation quality checks run by the engine (monitoring/setchecks.py): the rows they flag
equal an independent NumPy/pandas computation of the same definitions, on DuckDB and on Spark, and
injected duplicates, gaps and sub-meter mismatches are flagged; the DuckDB limits are settings."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from carbonpeak.errors import CarbonpeakError
from carbonpeak.monitoring.engine import connect, read_lake
from carbonpeak.monitoring.pipeline import PipelineResult, day_number, run_pipeline
from carbonpeak.monitoring.quality import completeness_matrix, ended_days
from carbonpeak.monitoring.setchecks import duplicate_rows, gap_rows, submeter_rows

START = dt.date(2025, 1, 1)
END = START + dt.timedelta(days=39)
CMIN, TOL = 0.9, 0.10
_RES: dict[str, PipelineResult] = {}


def _base(con_factory, synth, coef, reg_of) -> PipelineResult:
    if "r" not in _RES:
        reg = reg_of(synth)
        con = con_factory("duckdb")
        _RES["r"] = run_pipeline(con, read_lake(con, synth / "readings"), reg["meters"], reg["units"], coef,
                                 date_from=START, date_to=END)  # fmt: skip
    return _RES["r"]


def _on(res: PipelineResult, con, md: pd.DataFrame | None = None) -> PipelineResult:
    """The same result (or one with a changed meter-day table) checked on ``con``, with a fresh cache."""
    return dataclasses.replace(res, meter_day=res.meter_day if md is None else md, con=con, cache={})


def _ref_gaps(res: PipelineResult) -> set[tuple[str, int]]:
    mids, d0, comp = completeness_matrix(res)
    return {(mids[i], int(d0 + j)) for i, j in np.argwhere(comp < CMIN)}


def _ref_dups(res: PipelineResult) -> set[tuple[str, int, int]]:
    md = res.meter_day
    kind = res.meters.set_index("meter_id")["kind"].reindex(md["meter_id"]).to_numpy()
    slots = (md["last_epoch"] - md["first_epoch"]) // (md["interval_minutes"] * 60) + 1
    hit = (md["n"] > slots).to_numpy() & (kind == "interval")
    return {(m, int(d), int(x)) for m, d, x in zip(md["meter_id"][hit], md["day"][hit], (md["n"] - slots)[hit], strict=True)}


def _ref_submeter(res: PipelineResult) -> set[tuple[str, int]]:
    """Sub-meters against parents, by a plain loop over parents and days (all meters in one unit of measure)."""
    md = res.meter_day.set_index(["meter_id", "day"])
    reg = res.meters
    kids_of = reg[reg["parent_meter_id"].fillna("") != ""]
    unit = reg.set_index("meter_id")["unit"]
    assert (kids_of["unit"].to_numpy() == unit.reindex(kids_of["parent_meter_id"]).to_numpy()).all()  # no conversion here
    out = set()
    for parent, kids in reg[reg["parent_meter_id"].fillna("") != ""].groupby("parent_meter_id"):
        for day in res.meter_day.loc[res.meter_day["meter_id"] == parent, "day"]:
            p = md.loc[(parent, day)]
            rows = [md.loc[(k, day)] for k in kids["meter_id"] if (k, day) in md.index]
            if len(rows) != len(kids) or p["completeness"] < CMIN or p["energy"] <= 0:
                continue
            if any(r["completeness"] < CMIN for r in rows):
                continue
            ratio = sum(r["energy"] for r in rows) / p["energy"]
            if ratio > 1 + TOL or (len(kids) >= 2 and ratio < 1 - TOL):
                out.add((parent, int(day)))
    return out


def _injected(res: PipelineResult) -> tuple[pd.DataFrame, dict]:
    """Duplicates on an interval meter's day, a sub-meter doubled on a day, a meter-day removed."""
    md = res.meter_day.copy()
    reg = res.meters
    iv = reg.loc[(reg["kind"] == "interval") & (reg["parent_meter_id"].fillna("") == ""), "meter_id"].iloc[0]
    kid = reg.loc[reg["parent_meter_id"].fillna("") != ""].iloc[0]
    d_dup, d_kid, d_gap = day_number(START) + 5, day_number(START) + 7, day_number(START) + 9
    i = md.index[(md["meter_id"] == iv) & (md["day"] == d_dup)][0]
    md.loc[i, "n"] += 7
    k = md.index[(md["meter_id"] == kid["meter_id"]) & (md["day"] == d_kid)][0]
    md.loc[k, "energy"] = md.loc[k, "energy"] * 3 + 1000.0
    g = md.index[(md["meter_id"] == iv) & (md["day"] == d_gap)][0]
    md = md.drop(index=g).reset_index(drop=True)
    return md, {"dup": (iv, d_dup), "sub": (kid["parent_meter_id"], d_kid), "gap": (iv, d_gap)}


def test_rows_equal_an_independent_computation(engine, con_factory, synth, coef, reg_of):
    base = _base(con_factory, synth, coef, reg_of)
    md, inj = _injected(base)
    for r in (_on(base, con_factory(engine)), _on(base, con_factory(engine), md)):
        d0 = day_number(r.date_from)
        gaps = gap_rows(r, d0, ended_days(r), CMIN)
        assert set(zip(gaps["meter_id"], gaps["day"], strict=True)) == _ref_gaps(r)
        dups = duplicate_rows(r)
        assert set(zip(dups["meter_id"], dups["day"], dups["extra"], strict=True)) == _ref_dups(r)
        sub = submeter_rows(r, CMIN, TOL)
        assert set(zip(sub["meter_id"], sub["day"], strict=True)) == _ref_submeter(r)
    # the injected faults are among the flagged rows
    assert inj["gap"] in set(zip(gaps["meter_id"], gaps["day"], strict=True))
    assert (inj["dup"][0], inj["dup"][1], 7) in set(zip(dups["meter_id"], dups["day"], dups["extra"], strict=True))
    assert inj["sub"] in set(zip(sub["meter_id"], sub["day"], strict=True))


@pytest.mark.spark
def test_spark_and_duckdb_flag_the_same_rows(con_factory, synth, coef, reg_of):
    base = _base(con_factory, synth, coef, reg_of)
    md, _ = _injected(base)
    out = {}
    for eng in ("duckdb", "spark"):
        r = _on(base, con_factory(eng), md)
        d0 = day_number(r.date_from)
        out[eng] = (gap_rows(r, d0, ended_days(r), CMIN), duplicate_rows(r), submeter_rows(r, CMIN, TOL))
    for a, b in zip(out["duckdb"], out["spark"], strict=True):
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-12)


def test_a_result_without_engine_uses_a_private_duckdb(con_factory, synth, coef, reg_of):
    base = _base(con_factory, synth, coef, reg_of)
    r = _on(base, None)
    assert len(duplicate_rows(r)) == len(_ref_dups(r))
    assert r.con is not None
    assert r.con is not base.con
    assert r.con.name == "duckdb"


def test_duckdb_limits_are_applied_and_checked():
    con = connect("duckdb", memory_limit="300MB", threads=1)
    mem, thr = con.con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    assert thr == 1
    assert mem.endswith("MiB")
    assert 280 < float(mem.split()[0]) < 290  # DuckDB reports 300 MB as 286.1 MiB
    with pytest.raises(CarbonpeakError, match="memory_limit"):
        connect("duckdb", memory_limit="lots")


def test_settings_name_the_limits(monkeypatch):
    from carbonpeak.config import Settings

    monkeypatch.setenv("CARBONPEAK_MONITOR_DUCKDB_MEMORY_LIMIT", "768MB")
    monkeypatch.setenv("CARBONPEAK_MONITOR_DUCKDB_THREADS", "2")
    s = Settings()
    assert (s.monitor_duckdb_memory_limit, s.monitor_duckdb_threads) == ("768MB", 2)
