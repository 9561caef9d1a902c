"""Issue 11 §1: market rules as data -- loader, required parameters, sources, consistency check."""

from __future__ import annotations

import dataclasses

import pytest

from carbonpeak.catalog.loader import STATUSES
from carbonpeak.catalog.markets import (
    MissingParameterError,
    check_rulesets,
    list_rulesets,
    load_ruleset,
    qualified_name,
    ruleset_for,
)
from carbonpeak.errors import CatalogError, UnitError


def test_shipped_rulesets_load_and_are_consistent():
    ids = list_rulesets()
    assert {"guangdong-2024", "national-power-2019-2020"} <= set(ids)
    assert check_rulesets() == []
    assert check_rulesets(strict=True) == []


def test_every_row_has_source_and_status():
    for rid in list_rulesets():
        rs = load_ruleset(rid)
        for p in rs.parameters:
            assert p.source.document, p.name
            assert p.source.status in STATUSES, p.name
            if p.value is not None:
                assert p.source.url.startswith("http"), p.name
        for s in rs.sectors:
            assert s.source.status in STATUSES
            assert s.source.url
        for d in rs.calendar:
            assert d.source.status in STATUSES
            assert d.source.url


def test_published_figures_match_the_sources():
    """Figures against ICAP (GD 2024: 94 Mt cap, 98 %, 95 % free, 20 Jul 2025; national 2019–20
    benchmarks of the Nov 2020 draft, icapcarbonaction.com/node/731)."""
    gd = load_ruleset("guangdong-2024")
    assert gd.param("cap.total", year=2024) == 94e6
    assert gd.param("cap.total", year=2023) == 297e6
    assert gd.param("allocation.history.annual_factor", year=2024) == 0.98
    assert gd.param("allocation.free_share", "textiles", year=2024) == 0.95
    assert gd.deadline("surrender", 2024).date(2024).isoformat() == "2025-07-20"
    assert gd.param("offsets.limit_share") == 0.10
    assert gd.param("offsets.local_share_min") == 0.70
    assert gd.param("offsets.pool", year=2017) == 1.5e6
    assert gd.param("offsets.pool", year=2021) == 1e6
    n = load_ruleset("national-power-2019-2020")
    expect = {"coal_conventional_gt300": (0.877, 0.126), "coal_conventional_le300": (0.979, 0.126),
              "coal_unconventional": (1.146, 0.126), "gas": (0.392, 0.059)}
    for cls, (e, h) in expect.items():
        assert n.param("power.benchmark.electricity", "power", cls) == e
        assert n.param("power.benchmark.heat", "power", cls) == h
        assert str(n.quantity("power.benchmark.heat", "power", cls).units) == "tCO2 / GJ"


def test_unpublished_values_are_required_parameters_not_numbers():
    gd = load_ruleset("guangdong-2024")
    req = {p.name for p in gd.required_parameters()}
    assert {"allocation.benchmark.value[paper:ordinary_paper]", "allocation.benchmark.value[aviation:full_service]",
            "allocation.benchmark.value[data_centre]", "allocation.history.base_years"} <= req
    with pytest.raises(MissingParameterError) as exc:
        gd.param("allocation.benchmark.value", "data_centre", "rack")
    assert exc.value.parameter == "allocation.benchmark.value[data_centre]"
    assert "not retrieved" in str(exc.value)


def test_overrides_by_qualified_name_with_units():
    gd = load_ruleset("guangdong-2024")
    name = qualified_name("allocation.benchmark.value", "paper", "ordinary_paper")
    q = gd.quantity("allocation.benchmark.value", "paper", "ordinary_paper", overrides={name: "0.55 tCO2/t"})
    assert q.magnitude == pytest.approx(0.55)
    # a bare number for a row without a unit is refused: the unit must be said
    with pytest.raises(UnitError, match="no unit"):
        gd.quantity("allocation.benchmark.value", "paper", "ordinary_paper", overrides={name: 0.55})
    # the generic key also works, and a more specific one wins
    assert gd.param("allocation.history.base_years", "textiles", overrides={"allocation.history.base_years": 3}) == 3
    assert gd.param("allocation.history.base_years", "textiles", overrides={
        "allocation.history.base_years": 3, "allocation.history.base_years[textiles]": 2}) == 2
    # converting a number in its catalog unit
    assert gd.param("cap.total", year=2024, unit="MtCO2") == pytest.approx(94)


def test_lookup_errors_name_the_rule():
    gd = load_ruleset("guangdong-2024")
    with pytest.raises(CatalogError, match=r"no rule 'nonexistent\.key'"):
        gd.find("nonexistent.key")
    with pytest.raises(CatalogError, match="unknown market rule set"):
        load_ruleset("guangdong-1999")
    with pytest.raises(CatalogError, match="no allocation method"):
        gd.method("cement")
    assert gd.method("paper", "ordinary_paper").method == "benchmark"
    assert gd.method("paper", "special_paper").method == "intensity"
    assert gd.method("petrochemical", "coal_to_hydrogen").method == "intensity"
    assert gd.method("petrochemical", "refining").method == "history"
    assert ruleset_for("national_ets", 2020).id == "national-power-2019-2020"


def test_consistency_check_finds_broken_rules_and_strict_raises():
    gd = load_ruleset("guangdong-2024")
    bad_share = dataclasses.replace(gd.find("allocation.free_share", year=2024), value=1.5)
    bad_status = dataclasses.replace(gd.find("offsets.limit_share"),
                                     source=dataclasses.replace(gd.find("offsets.limit_share").source, status="guess"))
    no_note = dataclasses.replace(gd.find("offsets.pool", year=2024), note="")
    dup = gd.find("penalty.fine")
    broken = dataclasses.replace(gd, id="broken", parameters=(*gd.parameters, bad_share, bad_status, no_note, dup))
    probs = check_rulesets(rulesets=[broken])
    text = "\n".join(probs)
    assert "must lie in [0, 1]" in text
    assert "status 'guess' unknown" in text
    assert "no note saying why" in text
    assert "duplicate parameter penalty.fine" in text
    with pytest.raises(CatalogError, match="inconsistent"):
        check_rulesets(strict=True, rulesets=[broken])
    # deadlines out of order
    cal = tuple(dataclasses.replace(d, month=12) if d.event == "report" else d for d in gd.calendar)
    assert any("out of order" in p for p in check_rulesets(rulesets=[dataclasses.replace(gd, calendar=cal)]))
