"""``Inventory.summary_by_year`` (one grouped pass) gives each year's ``summary`` exactly.

The command line and the service print several years as one summary per year; they now take
them from one pass over the rows instead of one pass a year.  Every figure, warning and notation
key must be the one ``summary(year=y, region=r)`` gives on its own, to the last bit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.jsonutil import to_json
from carbonpeak.model.activity import load_activity

DEMO = Path(__file__).resolve().parents[2] / "src" / "carbonpeak" / "demo" / "data"


def _text(summary: dict) -> str:
    """The summary as the JSON the CLI prints, plus each warning's message key and parameters."""
    return to_json(summary) + repr([repr(w) for w in summary["warnings"]])


@pytest.fixture(scope="module")
def inv():
    files = [
        *sorted((DEMO / "activity").glob("*.csv")),
        *sorted((DEMO / "activity_cities").glob("*.csv")),
        *sorted((DEMO / "activity_history").glob("*.csv")),
    ]
    # province and cities, 2010–2019: inferred NE keys, grid warnings, the province+cities warning
    return compile_inventory(load_activity(files), FactorSet.default(), gwp="AR6")


@pytest.mark.parametrize("region", [None, "GD", "GD-GZ", "GD-NOPE"])
def test_by_year_equals_each_year_alone(inv, region):
    by_year = inv.summary_by_year(region=region)
    years = inv.summary(region=region)["years"]
    assert list(by_year) == years
    if region != "GD-NOPE":
        assert len(years) > 1
    for y in years:
        assert _text(by_year[y]) == _text(inv.summary(year=y, region=region)), (y, region)


def test_the_summary_keeps_its_figures(inv):
    """Totals equal the sum of the result rows, and the warnings name the incomplete years."""
    s = inv.summary(region="GD")
    terr = inv.select(region="GD", explain=False)
    terr = terr[terr["scope"] == "territorial"]
    assert s["total_co2e_t"] == pytest.approx(float(terr["co2e_t"].sum()), rel=1e-12)
    by_year = inv.summary_by_year(region="GD")
    assert sum(b["rows"] for b in by_year.values()) == s["rows"]
    assert sum(b["total_co2e_t"] for b in by_year.values()) == pytest.approx(s["total_co2e_t"], rel=1e-9)
    incomplete = {int(k["year"]) for k in s["notation_keys"] if k["key"] in ("NE", "C")}
    assert incomplete, "the demo's 2010-2014 history leaves categories not estimated"
    for y in incomplete:
        assert by_year[y]["complete"] is False
        assert any("incomplete" in str(w) for w in by_year[y]["warnings"])
