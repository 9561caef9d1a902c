"""Stage 1 of the pipeline on both engines: interval energy, counters, day cut, quality counts."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.monitoring.pipeline import compute_meter_day, finish

D0, D1 = dt.date(2025, 1, 1), dt.date(2025, 1, 2)

METERS = pd.DataFrame(
    [
        {"meter_id": "IV", "unit_id": "U1", "energy_type": "electricity", "point": "site", "kind": "interval",
         "unit": "kWh", "interval_minutes": 15, "parent_meter_id": "", "product": "", "rollover": None,
         "max_interval_value": 50.0},
        {"meter_id": "CU", "unit_id": "U1", "energy_type": "natural_gas", "point": "site", "kind": "cumulative",
         "unit": "m**3", "interval_minutes": 15, "parent_meter_id": "", "product": "", "rollover": 1000.0,
         "max_interval_value": None},
    ]
)  # fmt: skip
UNITS = pd.DataFrame([{"unit_id": "U1", "name": "test", "city": "GD-GZ", "kind": "other", "industry_code": "3011",
                       "hub_node": False, "registered_level": "none"}])  # fmt: skip


def _readings() -> pd.DataFrame:
    ts = pd.date_range("2025-01-01T00:00+08:00", periods=192, freq="15min")
    iv = np.ones(192)
    iv[10] = -2.0  # negative: excluded and counted
    iv[20] = 80.0  # above max_interval_value 50: excluded and counted
    # cumulative counter: +5 per interval from 900; wraps at 1000 (rollover); reset to 0 at interval 150
    cu = np.empty(193)
    c = 900.0
    for i in range(193):
        cu[i] = c
        c += 5.0
        if c >= 1000 and i < 100:
            c -= 1000.0
    cu[150:] = np.arange(193 - 150) * 5.0  # counter exchanged: restarts at 0 at interval 150
    ts_cu = pd.date_range("2025-01-01T00:00+08:00", periods=193, freq="15min")
    return pd.concat(
        [
            pd.DataFrame({"meter_id": "IV", "ts": ts, "value": iv}),
            pd.DataFrame({"meter_id": "CU", "ts": ts_cu, "value": cu}),
        ],
        ignore_index=True,
    )


def _run(con, readings: pd.DataFrame, meters: pd.DataFrame = METERS) -> pd.DataFrame:
    return compute_meter_day(con, ibis.memtable(readings), meters, D0, D1)


def test_interval_and_cumulative(engine, con_factory):
    md = _run(con_factory(engine), _readings()).set_index(["meter_id", "day"])
    iv = md.loc["IV"]
    assert list(iv["n"]) == [96, 96]  # day cut at CST midnight: 96 slots each
    assert iv["energy"].tolist() == [96 - 2.0, 96.0]  # day 1 loses the negative and the impossible reading
    assert iv["n_negative"].tolist() == [1, 0]
    assert iv["n_impossible"].tolist() == [1, 0]
    cu = md.loc["CU"]
    # every interval advanced by 5 m3, across the rollover; the reset interval counts the new value (0)
    assert cu["n"].tolist() == [96, 96]
    assert cu["n_rollovers"].sum() == 1
    assert cu["n_resets"].sum() == 1
    assert cu["energy"].sum() == pytest.approx(5.0 * 191)


def test_engines_agree(engine, con_factory):
    base = _run(con_factory("duckdb"), _readings())
    other = _run(con_factory(engine), _readings())
    pd.testing.assert_frame_equal(base, other, check_exact=False, rtol=1e-12)


def test_finish_converts_with_catalog_coefficients(coef, con_factory):
    md = _run(con_factory("duckdb"), _readings())
    res = finish(md, METERS, UNITS, coef, date_from=D0, date_to=D1, engine="duckdb")
    iv = res.meter_day[res.meter_day["meter_id"] == "IV"]
    # GB/T 2589-2020 calorific equivalent 0.1229 kgce/kWh; fixture grid factor 0.5703 tCO2/MWh
    assert iv["tce"].sum() == pytest.approx(190 * 0.1229e-3)
    assert iv["co2_t"].sum() == pytest.approx(190 * 0.5703e-3)
    assert res.unit_day["tce"].sum() == pytest.approx(res.meter_day["tce"].sum())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=2, max_size=60))
def test_cumulative_energy_equals_sum_of_increments(increments):
    """Property: a counter built from non-negative increments yields exactly their sum (DuckDB)."""
    from carbonpeak.monitoring.engine import connect

    values = np.concatenate([[0.0], np.cumsum(increments)])
    ts = pd.date_range("2025-01-01T00:00+08:00", periods=len(values), freq="15min")
    r = pd.DataFrame({"meter_id": "CU", "ts": ts, "value": values})
    md = compute_meter_day(connect("duckdb"), ibis.memtable(r), METERS[METERS.meter_id == "CU"], D0, D1)
    assert md["energy"].sum() == pytest.approx(float(np.sum(increments)), rel=1e-9, abs=1e-9)
