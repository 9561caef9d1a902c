"""Guangdong livestock (3.A) in the demo data: published year-end stocks, not back-calculated.

The rows of ``activity/gd_agriculture_livestock.csv`` come from ``scripts/data/gd_livestock.csv``:
NBS China Statistical Yearbook 2016–2018 (livestock at year end by region, Guangdong; via the public
research compilation meatatlas/datamap2019) and, for 2019 swine, the Guangdong Statistics Bureau's
Q1 2020 agriculture release.  Years without a published figure are held and labelled ``estimate``.

Reference computation: IPCC 2006 Vol 4 Ch 10 Eq 10.19 (Tier 1 enteric CH4 = N × EF) with the Tier 1
factors of Table 10.10 (swine 1, goats 5 kg CH4/head/yr; developing countries) and Table 10.11
(other cattle, Asia, 47 kg CH4/head/yr), worked by hand from the yearbook stocks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.demo import demo_files
from carbonpeak.model.activity import load_activity

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "scripts" / "data" / "gd_livestock.csv"
DEMO = REPO / "src" / "carbonpeak" / "demo" / "data" / "activity" / "gd_agriculture_livestock.csv"

#: NBS China Statistical Yearbook, Guangdong year-end stock, 10^4 head (copied from the yearbook
#: extract by hand, independently of the builder).
YEARBOOK_10K_HEAD = {
    (2015, "swine"): 2135.854936,
    (2016, "swine"): 2076.050998,
    (2017, "swine"): 2132.82286,
    (2015, "non_dairy_cattle"): 242.340379,
    (2016, "non_dairy_cattle"): 234.1,
    (2017, "non_dairy_cattle"): 120.6806457,
    (2015, "goats"): 41.497344,
    (2016, "goats"): 42.65,
    (2017, "goats"): 93.30075412,
}
#: IPCC 2006 Vol 4 Ch 10 Tables 10.10/10.11, kg CH4 per head and year (Tier 1 enteric).
IPCC_ENTERIC_KG = {"swine": 1.0, "non_dairy_cattle": 47.0, "goats": 5.0}


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return pd.read_csv(DEMO)


def test_file_is_part_of_the_demo_activity():
    assert DEMO.resolve() in {Path(p).resolve() for p in demo_files("activity")}


def test_published_years_are_the_yearbook_stock(demo: pd.DataFrame):
    for (year, item), stock in YEARBOOK_10K_HEAD.items():
        rows = demo[(demo["year"] == year) & (demo["item"] == item)]
        assert sorted(rows["category"]) == ["3.A.1", "3.A.2"]
        assert rows["amount"].tolist() == [round(stock * 1e4)] * 2
        assert rows["note"].str.startswith("derived — ").all()
        assert rows["source"].str.contains("China Statistical Yearbook").all()


def test_2019_swine_is_derived_from_the_q1_2020_release(demo: pd.DataFrame):
    row = demo[(demo["year"] == 2019) & (demo["item"] == "swine")].iloc[0]
    assert row["amount"] == pytest.approx(1389.27 / 1.042 * 1e4, rel=1e-5)
    assert row["note"].startswith("derived — ")


def test_gaps_are_labelled_estimates(demo: pd.DataFrame):
    src = pd.read_csv(SOURCE, comment="#")
    published = {(int(r.year), {"cattle": "non_dairy_cattle"}.get(r.item, r.item)) for r in src.itertuples()}
    for r in demo.itertuples():
        if (r.year, r.item) in published:
            assert r.note.startswith("derived — ")
        else:
            assert r.note.startswith("estimate — ")
            assert "held at" in r.note
    # the gaps: 2018 for all three, 2019 for cattle and goats
    est = demo[demo["note"].str.startswith("estimate")]
    assert sorted({(int(y), i) for y, i in zip(est["year"], est["item"], strict=True)}) == [
        (2018, "goats"),
        (2018, "non_dairy_cattle"),
        (2018, "swine"),
        (2019, "goats"),
        (2019, "non_dairy_cattle"),
    ]


@pytest.mark.parametrize("year", [2015, 2016, 2017])
def test_enteric_ch4_equals_the_ipcc_tier1_hand_computation(year: int):
    act = load_activity([DEMO])
    res = compile_inventory(act[act["year"] == year]).select(explain=False)
    ch4 = res[(res["category"] == "3.A.1") & (res["gas"] == "CH4")]
    by_item = ch4.groupby("item")["mass_t"].sum()
    for item, ef in IPCC_ENTERIC_KG.items():
        expected_t = round(YEARBOOK_10K_HEAD[(year, item)] * 1e4) * ef / 1000.0  # whole head
        assert by_item[item] == pytest.approx(expected_t, rel=1e-6), item
    # swine dominate head count, cattle dominate enteric CH4 (47 vs 1 kg/head)
    assert by_item["non_dairy_cattle"] > by_item["swine"]
