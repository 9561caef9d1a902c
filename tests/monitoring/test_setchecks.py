"""The quality checks run by the engine (monitoring/setchecks.py): the rows they flag equal an
independent NumPy/pandas computation of the same definitions, on DuckDB and on Spark, and injected
duplicates, gaps, sub-meter mismatches, flat lines and spikes are flagged (the synthetic lake's own
frozen meter and spike too); the DuckDB limits are settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from carbonpeak.errors import CarbonpeakError
from carbonpeak.monitoring.engine import connect, read_lake
from carbonpeak.monitoring.pipeline import PipelineResult, day_number, run_pipeline
from carbonpeak.monitoring.quality import completeness_matrix, ended_days
from carbonpeak.monitoring.setchecks import duplicate_rows, flat_rows, gap_rows, spike_rows, submeter_rows

START = dt.date(2025, 1, 1)
END = START + dt.timedelta(days=39)
CMIN, TOL = 0.9, 0.10
FLAT_MIN, ZTHR = 24, 6.0
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
    md, _ = _with_flat_and_spike(base, _injected(base)[0])
    out = {}
    for eng in ("duckdb", "spark"):
        r = _on(base, con_factory(eng), md)
        d0 = day_number(r.date_from)
        out[eng] = (gap_rows(r, d0, ended_days(r), CMIN), duplicate_rows(r), submeter_rows(r, CMIN, TOL),
                    flat_rows(r, FLAT_MIN), spike_rows(r, CMIN, ZTHR))
    for a, b in zip(out["duckdb"], out["spark"], strict=True):
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-12)


def _ref_flat(res: PipelineResult) -> set[tuple[str, int]]:
    """Flat lines by a loop over meters with NumPy (np.nanmedian: an unknown energy is skipped)."""
    out = set()
    kind = res.meters.set_index("meter_id")["kind"]
    for mid, g in res.meter_day.groupby("meter_id"):
        n, e = g["n"].to_numpy(), g["energy"].to_numpy(dtype=float)
        lo, hi = g["vmin"].to_numpy(dtype=float), g["vmax"].to_numpy(dtype=float)
        if kind[mid] == "interval":
            hit = (n >= FLAT_MIN) & (lo == hi) & (hi > 0)
        else:
            hit = (n >= FLAT_MIN) & (e == 0) & (np.nanmedian(e) > 0)
        out |= {(mid, int(d)) for d in g["day"].to_numpy()[hit]}
    return out


def _ref_spikes(res: PipelineResult) -> dict[tuple[str, int], float]:
    """Spikes by a loop over meters with NumPy: robust z of energy and largest interval over complete days."""

    def z(x: np.ndarray) -> np.ndarray:
        med = np.nanmedian(x)
        mad = np.nanmedian(np.abs(x - med))
        if not mad > 0:
            return np.zeros(len(x))
        return np.nan_to_num(0.6745 * (x - med) / mad, nan=0.0)

    out = {}
    md = res.meter_day[res.meter_day["completeness"] >= CMIN]
    for mid, g in md.groupby("meter_id"):
        zz = np.maximum(z(g["energy"].to_numpy(dtype=float)), z(g["vmax"].to_numpy(dtype=float)))
        out |= {(mid, int(d)): float(v) for d, v in zip(g["day"].to_numpy(), zz, strict=True) if v > ZTHR}
    return out


def _with_flat_and_spike(res: PipelineResult, md: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A frozen day on an interval meter (every reading equal) and a spike (energy and largest interval × 40)."""
    md = md.copy()
    reg = res.meters
    ivs = reg.loc[(reg["kind"] == "interval") & (reg["parent_meter_id"].fillna("") == ""), "meter_id"]
    a, b = ivs.iloc[1], ivs.iloc[2]
    d_flat, d_spike = day_number(START) + 12, day_number(START) + 20
    i = md.index[(md["meter_id"] == a) & (md["day"] == d_flat)][0]
    md.loc[i, ["vmin", "vmax"]] = md.loc[i, "vmax"]
    j = md.index[(md["meter_id"] == b) & (md["day"] == d_spike)][0]
    md.loc[j, ["energy", "vmax"]] = md.loc[j, ["energy", "vmax"]].to_numpy() * 40
    return md, {"flat": (a, d_flat), "spike": (b, d_spike)}


def test_flat_lines_and_spikes_equal_numpy(engine, con_factory, synth, coef, reg_of):
    """Window functions on the engine against NumPy loops, on the lake and with faults injected; every
    injected fault (the generator's frozen meter and spike, and the ones added here) is found."""
    base = _base(con_factory, synth, coef, reg_of)
    md, inj = _with_flat_and_spike(base, _injected(base)[0])
    for r in (_on(base, con_factory(engine)), _on(base, con_factory(engine), md)):
        flat = flat_rows(r, FLAT_MIN)
        assert set(zip(flat["meter_id"], flat["day"], strict=True)) == _ref_flat(r)
        sp = spike_rows(r, CMIN, ZTHR)
        ref = _ref_spikes(r)
        got = dict(zip(zip(sp["meter_id"], sp["day"], strict=True), sp["z"], strict=True))
        assert set(got) == set(ref)
        assert got == pytest.approx(ref, rel=1e-9)
    assert inj["flat"] in set(zip(flat["meter_id"], flat["day"], strict=True))
    assert inj["spike"] in got
    faults = json.loads((synth / "faults.json").read_text())["faults"]
    r0 = _on(base, con_factory(engine))
    f0 = set(zip(*(flat_rows(r0, FLAT_MIN)[c] for c in ("meter_id", "day")), strict=True))
    s0 = set(zip(*(spike_rows(r0, CMIN, ZTHR)[c] for c in ("meter_id", "day")), strict=True))
    fz, sk = faults["frozen"], faults["spike"]
    assert (fz["meter_id"], day_number(dt.date.fromisoformat(fz["date"]))) in f0
    assert (sk["meter_id"], day_number(dt.date.fromisoformat(sk["date"]))) in s0


def test_a_nan_is_skipped_like_pandas(con_factory, synth, coef, reg_of):
    """An energy that could not be computed (NaN) is left out of the medians on the engine, as NumPy's nanmedian does."""
    base = _base(con_factory, synth, coef, reg_of)
    md, _ = _with_flat_and_spike(base, base.meter_day)
    md.loc[md.index[:200], "energy"] = np.nan
    r = _on(base, con_factory("duckdb"), md)
    sp = spike_rows(r, CMIN, ZTHR)
    assert set(zip(sp["meter_id"], sp["day"], strict=True)) == set(_ref_spikes(r))
    flat = flat_rows(r, FLAT_MIN)
    assert set(zip(flat["meter_id"], flat["day"], strict=True)) == _ref_flat(r)


def test_a_result_without_engine_uses_a_private_duckdb(con_factory, synth, coef, reg_of):
    base = _base(con_factory, synth, coef, reg_of)
    r = _on(base, None)
    assert len(duplicate_rows(r)) == len(_ref_dups(r))
    assert r.con is not None
    assert r.con is not base.con
    assert r.con.name == "duckdb"


def test_duckdb_limits_are_applied_and_checked(tmp_path):
    con = connect("duckdb", memory_limit="300MB", threads=1, temp_directory=tmp_path / "spill")
    mem, thr, tmp, pio = con.con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory'), "
        "current_setting('preserve_insertion_order')"
    ).fetchone()
    assert thr == 1
    assert tmp == str(tmp_path / "spill")
    assert pio is False
    assert mem.endswith("MiB")
    assert 280 < float(mem.split()[0]) < 290  # DuckDB reports 300 MB as 286.1 MiB
    with pytest.raises(CarbonpeakError, match="memory_limit"):
        connect("duckdb", memory_limit="lots")


def test_settings_name_the_limits(monkeypatch):
    from carbonpeak.config import Settings

    monkeypatch.setenv("CARBONPEAK_MONITOR_DUCKDB_MEMORY_LIMIT", "768MB")
    monkeypatch.setenv("CARBONPEAK_MONITOR_DUCKDB_THREADS", "2")
    monkeypatch.setenv("CARBONPEAK_MONITOR_DUCKDB_TEMP_DIRECTORY", "/var/tmp/cp-spill")
    s = Settings()
    assert (s.monitor_duckdb_memory_limit, s.monitor_duckdb_threads) == ("768MB", 2)
    assert str(s.monitor_duckdb_temp_directory) == "/var/tmp/cp-spill"
