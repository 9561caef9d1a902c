"""Unit registry: conversions that the statistics use, and round-trips (property tests)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonpeak.catalog.units import UnitError, convert


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (1, "10^4 t", "t", 1e4),
        (1, "万吨", "t", 1e4),
        (1, "亿kWh", "MWh", 1e5),
        (1, "亿千瓦时", "kWh", 1e8),
        (1, "10^4 kW", "MW", 10),
        (1, "万千瓦", "GW", 0.01),
        (15, "mu", "hectare", 1.0),
        (1, "tce", "GJ", 29.3076),  # GB/T 2589-2020: 1 kgce = 29 307.6 kJ
        (1, "万吨标准煤", "tce", 1e4),
        (1, "10^4 Nm3", "m3", 1e4),
        (1, "tCO2e", "ktCO2e", 1e-3),
        (1, "亿元", "万元", 1e4),
        (1000, "kg CH4", "t", 1),
        (1, "Gg", "t", 1000),
        (1, "万头", "head", 1e4),  # livestock numbers in the yearbooks
    ],
)
def test_known_conversions(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


def test_kwh_calorific_equivalent_matches_gbt2589():
    # GB/T 2589-2020 Table A.1: electricity (calorific equivalent) 0.1229 kgce/kWh
    assert convert(1, "kWh", "kgce") == pytest.approx(0.1229, abs=1e-4)


@pytest.mark.parametrize(("src", "dst"), [("t", "GJ"), ("t CH4", "tCO2e"), ("m3", "t"), ("yuan", "t")])
def test_dimension_mismatch_is_refused(src, dst):
    with pytest.raises(UnitError):
        convert(1, src, dst)


def test_unknown_unit_is_named():
    with pytest.raises(UnitError, match="bogus_unit"):
        convert(1, "bogus_unit", "t")


UNITS = [
    ("t", "万吨"),
    ("GJ", "tce"),
    ("kWh", "亿kWh"),
    ("hectare", "mu"),
    ("m3", "10^4 Nm3"),
    ("tCO2e", "万吨CO2e"),
]


@given(
    pair=st.sampled_from(UNITS),
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
)
def test_round_trip(pair, value):
    a, b = pair
    back = convert(convert(value, a, b), b, a)
    assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-9)
