"""How many of the plan's 60 targets the bundled Guangdong data can assess (issue 13 §2).

The counts are pinned: adding a sourced observation that gives a target a status must raise them
here (and in docs/demo-data.md, "Targets with a status"); losing one fails the test.  Before the
2026-12 data work the demo assessed 5 of 60 targets in 2023 (55 ``no_data``) and 3 in 2024; after
the first pass 7 and 6; after the second (mangroves at end-2023) 8 and 7; after the third (the
provincial first batch of carbon-peak pilots, Nov 2023: 7 cities and 37 units) 10 and 9; after the
fourth (data-13b: Guangdong's 2022 energy consumption, 3.65亿tce, gives the 14th-FYP energy
intensity, provincial and national, and the 2025 non-fossil share a value) 13 and 12.
"""

from __future__ import annotations

import pytest

from carbonpeak.cli.targets import load_chain
from carbonpeak.demo import demo_files
from carbonpeak.targets.assess import assess, latest_assessable_year, status_coverage

#: year → (targets with a status, the target ids)
PINNED: dict[int, tuple[int, set[str]]] = {
    2023: (
        13,
        {
            "peak_before_2030",
            "nonfossil_share_2025",
            "energy_intensity_14fyp_gd",
            "energy_intensity_14fyp_national",
            "co2_intensity_13fyp_gd",
            "energy_intensity_13fyp_gd",
            "wind_solar_capacity_2030",
            "pumped_storage_2030",
            "forest_coverage_2030",
            "forest_stock_2030",
            "mangrove_2025",
            "peak_pilot_cities_14fyp",
            "low_carbon_pilot_units_14fyp",
        },
    ),
    2024: (
        12,
        {
            "peak_before_2030",
            "nonfossil_share_2025",
            "energy_intensity_14fyp_gd",
            "energy_intensity_14fyp_national",
            "co2_intensity_13fyp_gd",
            "energy_intensity_13fyp_gd",
            "wind_solar_capacity_2030",
            "new_type_storage_2025",
            "pumped_storage_2030",
            "mangrove_2025",
            "peak_pilot_cities_14fyp",
            "low_carbon_pilot_units_14fyp",
        },
    ),
}


@pytest.fixture(scope="module")
def chain():
    return load_chain(
        activity=demo_files("activity") + demo_files("activity_cities"),
        observations=demo_files("observations"),
        db=None,
        base_year=2020,
        outlook=True,
        scenario="plan",
        draws=50,
        seed=0,
    )


def test_latest_assessable_year_is_the_last_published_gdp(chain):
    assert latest_assessable_year(chain.indicators) == 2024
    assert latest_assessable_year(chain.indicators, region="XX") is None


@pytest.mark.parametrize("year", sorted(PINNED))
def test_targets_with_a_status_are_pinned(chain, year: int):
    a = assess(
        year, chain.indicators, inventory_results=chain.inventory.select(explain=False), outlook=chain.outlook
    )
    cov = status_coverage(a)
    n, ids = PINNED[year]
    assert cov["targets"] == 60
    assessed = {d["id"] for d in a["targets"] if d["status"] != "no_data"}
    assert assessed == ids
    assert cov["with_status"] == n
    assert cov["no_data"] == 60 - n
    # every target without a status is listed as a data gap with its reason
    assert len(a["data_gaps"]) == 60 - n


def test_status_coverage_counts_everything_but_no_data():
    a = {"year": 2023, "summary": {"achieved": 1, "on_track": 2, "at_risk": 0, "off_track": 3, "no_data": 4}}
    assert status_coverage(a) == {"year": 2023, "targets": 10, "with_status": 6, "no_data": 4}


def test_the_2022_energy_verdicts_carry_the_status_of_their_weakest_input(chain):
    """The 14th-FYP verdicts rest on the 2022 energy total (unverified, a press report of the official
    figure) measured against a 2020 level that is an estimate: they must say 'estimate'."""
    a = assess(2023, chain.indicators, inventory_results=chain.inventory.select(explain=False), outlook=chain.outlook)
    by = {d["id"]: d for d in a["targets"]}
    for tid in ("energy_intensity_14fyp_gd", "energy_intensity_14fyp_national", "nonfossil_share_2025"):
        d = by[tid]
        assert (d["value_year"], d["baseline_year"]) == (2022, 2020), tid
        assert d["data_status"] == "estimate", tid
    # 2020 → 2022: energy +5.7 % (34,518 → 36,500万tce) against real GDP +10.0 % (8.0 %, 1.9 %)
    assert by["energy_intensity_14fyp_gd"]["value"] == pytest.approx((36500 / 34518) / (1.08 * 1.019) * 100 - 100,
                                                                      abs=0.01)
