"""Issue 11 §2: coverage screening and the widening of plan action 36 (synthetic enterprises)."""

from __future__ import annotations

import pandas as pd
import pytest

from carbonpeak.catalog.markets import load_ruleset
from carbonpeak.errors import ValidationError
from carbonpeak.markets.coverage import (
    PLAN_WIDENING,
    EnterpriseYear,
    covered_emissions,
    decide,
    screen_frame,
    widening,
)

GD = load_ruleset("guangdong-2024")

# synthetic test enterprises (not real firms)
FRAME = pd.DataFrame([
    # id, sector, city, emissions, energy, racks, applied
    {"enterprise_id": "paper-big", "sector": "paper", "city": "GD-DG", "year": 2024, "emissions_tco2": 15_000,
     "energy_tce": 4_000},
    {"enterprise_id": "paper-energy", "sector": "paper", "city": "GD-DG", "year": 2024, "emissions_tco2": 8_000,
     "energy_tce": 5_000},                                   # reaches 5,000 tce only
    {"enterprise_id": "paper-small", "sector": "paper", "city": "GD-DG", "year": 2024, "emissions_tco2": 9_999,
     "energy_tce": 4_999},
    {"enterprise_id": "dc-racks", "sector": "data_centre", "city": "GD-GZ", "year": 2024, "emissions_tco2": 8_000,
     "racks": 1_200},                                        # racks rule
    {"enterprise_id": "dc-small", "sector": "data_centre", "city": "GD-GZ", "year": 2024, "emissions_tco2": 8_000,
     "energy_tce": 6_000, "racks": 900},                     # tce does not count for data centres
    {"enterprise_id": "textile-applied", "sector": "textiles", "city": "GD-FS", "year": 2024,
     "emissions_tco2": 20_000, "applied": True},
    {"enterprise_id": "textile-not-applied", "sector": "textiles", "city": "GD-FS", "year": 2024,
     "emissions_tco2": 30_000, "applied": False},
    {"enterprise_id": "cement", "sector": "cement", "city": "GD-YF", "year": 2024, "emissions_tco2": 900_000},
    {"enterprise_id": "sz-paper", "sector": "paper", "city": "GD-SZ", "year": 2024, "emissions_tco2": 50_000},
    {"enterprise_id": "hospital", "sector": "public_buildings", "city": "GD-GZ", "year": 2024,
     "emissions_tco2": 12_000, "applied": "false"},
    {"enterprise_id": "bus-co", "sector": "transport", "city": "GD-GZ", "year": 2024, "emissions_tco2": 40_000},
    {"enterprise_id": "unverified", "sector": "ceramics", "city": "GD-FS", "year": 2024, "emissions_tco2": 40_000,
     "verified": "no"},
])


def test_screening_decisions():
    out = screen_frame(FRAME, GD).set_index("enterprise_id")
    assert out.loc["paper-big", "status"] == "mandatory"
    assert "emissions 15,000 >= 10,000 tCO2" in out.loc["paper-big", "basis"]
    assert out.loc["paper-energy", "status"] == "mandatory"
    assert "tce" in out.loc["paper-energy", "basis"]
    assert out.loc["paper-small", "status"] == "below_threshold"
    assert out.loc["dc-racks", "status"] == "mandatory"
    assert "racks" in out.loc["dc-racks", "basis"]
    assert out.loc["dc-small", "status"] == "below_threshold"
    assert out.loc["textile-applied", "status"] == "voluntary"
    assert out.loc["textile-not-applied", "status"] == "not_applied"
    assert out.loc["cement", "status"] == "sector_excluded"
    assert out.loc["sz-paper", "status"] == "region_excluded"
    assert out.loc["hospital", "status"] == "not_applied"
    assert out.loc["bus-co", "status"] == "sector_not_covered"
    assert out.loc["unverified", "status"] == "unverified"
    assert set(out.index[out["covered"]]) == {"paper-big", "paper-energy", "dc-racks", "textile-applied"}


def test_covered_emissions_by_sector():
    from carbonpeak.markets.coverage import records_from_frame, screen

    by = covered_emissions(screen(records_from_frame(FRAME), GD)).set_index("sector")
    assert by.loc["paper", "entities"] == 2
    assert by.loc["paper", "emissions_tco2"] == 23_000
    assert by.loc["data_centre", "emissions_tco2"] == 8_000


def test_widening_lists_newly_covered_entities_and_emissions():
    """Plan action 36 widening: ceramics, textiles, data centres, public buildings, transport become
    mandatory at the rule set's thresholds (default row 10,000 tCO2 / 5,000 tce; data centres racks)."""
    w = widening(FRAME, GD, PLAN_WIDENING)
    new = set(w.entities["enterprise_id"])
    # textile-not-applied and hospital now mandatory; bus-co via the default thresholds; already covered
    # entities and unverified/out-of-region ones are not counted
    assert new == {"textile-not-applied", "hospital", "bus-co"}
    assert w.emissions_tco2 == 30_000 + 12_000 + 40_000
    by = w.by_sector.set_index("sector")
    assert by.loc["transport", "emissions_tco2"] == 40_000
    assert by.loc["ceramics", "entities"] == 0
    assert w.thresholds["transport"] == {"tco2": 10_000, "tce": 5_000, "racks": None}
    # a proposed lower rack threshold for data centres brings in dc-small (900 racks)
    w2 = widening(FRAME, GD, ("data_centre",), thresholds={"data_centre": {"racks": 800}})
    assert set(w2.entities["enterprise_id"]) == {"dc-small"}


def test_bad_frames_name_row_and_field():
    bad = pd.DataFrame([{"enterprise_id": "x", "sector": "paper", "year": "twenty", "emissions_tco2": "lots"}])
    with pytest.raises(ValidationError) as exc:
        screen_frame(bad, GD)
    assert "row 2" in str(exc.value)
    assert "'year'" in str(exc.value)
    with pytest.raises(ValidationError, match="missing column"):
        screen_frame(pd.DataFrame([{"sector": "paper", "year": 2024, "emissions_tco2": 1}]), GD)
    neg = pd.DataFrame([{"enterprise_id": "x", "sector": "paper", "year": 2024, "emissions_tco2": -5}])
    with pytest.raises(ValidationError, match="negative"):
        screen_frame(neg, GD)


def test_single_decision_api():
    d = decide(EnterpriseYear("e", "ports", 2024, energy_tce=5_000), GD)
    assert d.covered
    assert d.status == "mandatory"
