"""Stage 1 in one pass: the counters' readings arrive from the engine in any order and are
paired per meter in time order; the result does not depend on the order of the input rows, and a
missing value adds nothing (as SQL's sum and min/max ignore NULL)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.monitoring.pipeline import compute_meter_day

from .test_pipeline import D0, D1, METERS, _readings


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_row_order_does_not_matter(con_factory, seed):
    con = con_factory("duckdb")
    r = _readings()
    base = compute_meter_day(con, ibis.memtable(r), METERS, D0, D1)
    shuffled = r.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    other = compute_meter_day(con, ibis.memtable(shuffled), METERS, D0, D1)
    pd.testing.assert_frame_equal(base, other, check_exact=False, rtol=1e-12)


def test_missing_counter_value_adds_nothing(con_factory):
    con = con_factory("duckdb")
    r = _readings()
    cu = r.index[r["meter_id"] == "CU"]
    r.loc[cu[40], "value"] = np.nan  # a NULL in the lake
    md = compute_meter_day(con, ibis.memtable(r), METERS, D0, D1).set_index(["meter_id", "day"]).loc["CU"]
    assert np.isfinite(md["energy"]).all()
    assert np.isfinite(md["vmin"]).all()
    assert np.isfinite(md["vmax"]).all()
    assert md["n"].sum() == 192  # the interval still counts as a reading slot


@settings(max_examples=5, deadline=None)
@given(chunk=st.integers(1, 5000))
def test_counters_paired_in_blocks_of_meters_give_the_same_rows(con_factory, synth, reg_of, chunk):
    """pair_counters works on blocks of whole meters (bounded memory): any block size gives the same rows."""
    import pyarrow.compute as pc

    from carbonpeak.monitoring.engine import read_lake, to_arrow
    from carbonpeak.monitoring.pipeline import _meter_table, meter_day_expr, pair_counters

    con = con_factory("duckdb")
    meters = reg_of(synth)["meters"]
    tbl = to_arrow(con, meter_day_expr(read_lake(con, synth / "readings"), ibis.memtable(_meter_table(meters))))
    cum = pc.fill_null(tbl["cum"], False).to_numpy(zero_copy_only=False)
    whole = pair_counters(tbl, cum, meters, chunk_readings=10**12)
    blocks = pair_counters(tbl, cum, meters, chunk_readings=chunk)
    assert whole["n_resets"].sum() >= 1  # the synthetic counter reset is among them
    pd.testing.assert_frame_equal(whole, blocks)
