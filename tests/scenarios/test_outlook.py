"""The peak-outlook contract used by the assessment report."""

from __future__ import annotations

import pytest

from carbonpeak.scenarios.outlook import peak_outlook


@pytest.fixture(scope="module")
def outlook():
    return peak_outlook("plan", draws=400, seed=3)


def test_keys_and_types(outlook):
    for k in ("scenario", "peak_year", "peak_co2_t", "p_peak_before_2030", "peak_year_distribution", "fan",
              "top_levers"):
        assert k in outlook
    assert outlook["scenario"] == "plan"
    assert 2020 <= outlook["peak_year"] <= 2035
    assert outlook["peak_co2_t"] > 1e8
    assert 0.0 <= outlook["p_peak_before_2030"] <= 1.0
    assert sum(outlook["peak_year_distribution"].values()) == pytest.approx(1.0)
    for row in outlook["fan"]:
        assert row["p05"] <= row["p50"] <= row["p95"]
    assert [lv["rank"] for lv in outlook["top_levers"]] == list(range(1, len(outlook["top_levers"]) + 1))
    assert all(lv["lever"].endswith("_delivery") for lv in outlook["top_levers"])


def test_reproducible_with_seed(outlook):
    again = peak_outlook("plan", draws=400, seed=3)
    assert again["p_peak_before_2030"] == outlook["p_peak_before_2030"]
    assert again["fan"] == outlook["fan"]
