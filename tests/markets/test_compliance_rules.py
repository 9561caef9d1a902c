"""Issue 11 §4: MRV calendar, obligations, status, Guangdong penalty, national flexibility, offsets."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from carbonpeak.catalog.markets import MissingParameterError, OffsetExclusion, Source, load_ruleset
from carbonpeak.markets.compliance import (
    ComplianceError,
    OffsetLot,
    apply_deduction,
    banking,
    borrowing_limit,
    check_surrender,
    compliance_status,
    guangdong_penalty,
    mrv_calendar,
    obligation,
)


@pytest.fixture(scope="module")
def gd():
    return load_ruleset("guangdong-2024")


def test_mrv_calendar_guangdong_2024(gd):
    """Report 20 Mar, verification 30 Apr, offsets 10 Jun (2021-year timetable, onefj.com, unverified),
    surrender 20 Jul 2025 (ICAP 2024 news, verified)."""
    cal = mrv_calendar(gd, 2024)
    assert [(e.event, e.date.isoformat()) for e in cal] == [
        ("report", "2025-03-20"), ("verification", "2025-04-30"), ("offset_application", "2025-06-10"),
        ("surrender", "2025-07-20")]
    assert cal[-1].status == "verified"
    assert all(e.status == "unverified" for e in cal[:-1])


def test_mrv_calendar_national_first_cycle():
    """ICAP, "China releases timeline for first compliance cycle and MRV documents" (March 2021): 2020
    emissions reported by 30 Apr 2021, verified by 30 Jun 2021, compliance for 2019 and 2020 by
    31 Dec 2021.  The 2019 reporting date is not in the source, so the calendar has none."""
    d19 = {e.event: e.date for e in mrv_calendar(load_ruleset("national-power-2019-2020"), 2019)}
    assert d19 == {"surrender": dt.date(2021, 12, 31)}
    d20 = {e.event: e.date for e in mrv_calendar(load_ruleset("national-power-2019-2020"), 2020)}
    assert d20 == {"report": dt.date(2021, 4, 30), "verification": dt.date(2021, 6, 30),
                   "surrender": dt.date(2021, 12, 31)}
    cal22 = {e.event: e.date for e in mrv_calendar(load_ruleset("national-power-2021-2022"), 2022)}
    assert cal22["surrender_95pct"] == dt.date(2023, 11, 15)
    assert cal22["surrender"] == dt.date(2023, 12, 31)


def test_obligation_and_status(gd):
    ob = obligation("E1", 2024, 100_000, gd)
    assert ob.obligation_t == 100_000
    open_ = compliance_status(ob, 90_000, 5_000, gd, dt.date(2025, 7, 1))
    assert open_.status == "open"
    assert open_.shortfall_t == pytest.approx(5_000)
    late = compliance_status(ob, 90_000, 5_000, gd, dt.date(2025, 7, 21))
    assert late.status == "non_compliant"
    ok = compliance_status(ob, 90_000, 10_000, gd, dt.date(2025, 7, 21))
    assert ok.status == "compliant"
    assert ok.shortfall_t == 0


def test_national_20pct_cap_and_gas_exemption():
    """2019–20: coal obligation = min(E, 1.2 × A); gas = min(E, A) (thecoalhub; ICAP node/731)."""
    rs = load_ruleset("national-power-2019-2020")
    coal = obligation("C", 2019, 130_000, rs, allocation_t=100_000, fuel="coal")
    assert coal.obligation_t == pytest.approx(120_000)
    assert coal.relief_t == pytest.approx(10_000)
    assert obligation("C", 2019, 110_000, rs, allocation_t=100_000, fuel="coal").obligation_t == 110_000
    assert obligation("G", 2019, 130_000, rs, allocation_t=100_000, fuel="gas").obligation_t == 100_000
    with pytest.raises(ComplianceError, match="give fuel"):
        obligation("C", 2019, 130_000, rs, allocation_t=100_000)
    with pytest.raises(MissingParameterError, match=r"flex\.gap_cap_share"):
        obligation("C", 2023, 130_000, load_ruleset("national-power-2023-2024"), allocation_t=100_000, fuel="coal")


def test_guangdong_penalty(gd):
    """Refusing the order: 2 × 1,500 t = 3,000 t deducted from next year's allocation, CNY 50,000
    (Decree 197 via cnrmc.com)."""
    p = guangdong_penalty(1_500, gd)
    assert p.deduction_next_year_t == pytest.approx(3_000)
    assert p.fine_cny == pytest.approx(50_000)
    assert apply_deduction(100_000, p) == pytest.approx(97_000)
    assert apply_deduction(2_000, p) == 0
    assert guangdong_penalty(1_500, gd, refused_order=False).deduction_next_year_t == 0
    assert guangdong_penalty(0, gd).fine_cny == 0


def test_borrowing_2021_22():
    """Gap 20,000 on 100,000 (20 % > 10 %) → borrow up to 10,000; gap 8 % → none; 2023–24 → none."""
    rs = load_ruleset("national-power-2021-2022")
    b = borrowing_limit(100_000, 120_000, rs, 2021)
    assert b.eligible
    assert b.max_borrow_t == pytest.approx(10_000)
    small = borrowing_limit(100_000, 108_000, rs, 2021)
    assert not small.eligible
    assert small.max_borrow_t == 0
    assert borrowing_limit(100_000, 150_000, load_ruleset("national-power-2023-2024"), 2023).max_borrow_t == 0
    assert borrowing_limit(100_000, 150_000, load_ruleset("national-power-2019-2020"), 2019).max_borrow_t == 0


def test_banking_rules():
    rs = load_ruleset("national-power-2023-2024")
    assert banking(5_000, rs, net_sales_t=0).carried_t == 5_000            # under the 10,000 t base
    assert banking(50_000, rs, net_sales_t=0).carried_t == 10_000
    with pytest.raises(MissingParameterError, match="net_sales_t"):
        banking(50_000, rs)
    free = banking(50_000, load_ruleset("national-power-2021-2022"))
    assert free.carried_t == 50_000
    assert free.limit_t is None


# ---- offsets ------------------------------------------------------------------------------------
def lot(i: str, amount: float, **kw: object) -> OffsetLot:
    base = {"unit_type": "CCER", "vintage": 2022, "project_type": "wind", "origin_province": "guangdong"}
    base.update(kw)
    return OffsetLot(i, amount_t=amount, **base)  # type: ignore[arg-type]


def test_offsets_10pct_limit(gd):
    """Last year 100,000 t → limit 10,000 t; 12,000 local offered → 10,000 accepted, 2,000 refused."""
    r = check_surrender([lot("A", 12_000)], gd, year=2024, obligation_t=100_000,
                        last_year_emissions_t=100_000, pool_remaining_t=1e6)
    assert r.accepted == {"A": 10_000}
    assert [(x.rule, x.refused_t) for x in r.refusals] == [("limit_share", 2_000)]
    with pytest.raises(MissingParameterError, match="last_year_emissions_t"):
        check_surrender([lot("A", 1)], gd, year=2024, obligation_t=1, pool_remaining_t=1)


def test_offsets_70pct_local(gd):
    """Local CCER 6,000 t accepted; non-local CCER at most 3/7 × 6,000 = 2,571.43 t (so local = 70 % of
    the CCER; ets-china.org 9 Jan 2017).  Offered 5,000 non-local: 1,000 over the 10 % limit first,
    then 1,428.57 over the local share."""
    r = check_surrender([lot("L", 6_000), lot("N", 5_000, origin_province="hubei")], gd,
                        year=2024, obligation_t=100_000, last_year_emissions_t=100_000, pool_remaining_t=1e6)
    assert r.accepted["L"] == 6_000
    assert r.accepted["N"] == pytest.approx(6_000 * 3 / 7)
    assert r.local_t / (r.local_t + r.nonlocal_t) == pytest.approx(0.70)
    rules = {x.rule: x.refused_t for x in r.refusals}
    assert rules["limit_share"] == pytest.approx(1_000)
    assert rules["local_share"] == pytest.approx(4_000 - 6_000 * 3 / 7)
    # non-local alone: nothing can be accepted
    only = check_surrender([lot("N", 5_000, origin_province="hubei")], gd, year=2024, obligation_t=100_000,
                           last_year_emissions_t=100_000, pool_remaining_t=1e6)
    assert only.accepted_t == 0
    assert only.refusals[0].rule == "local_share"


def test_phcer_is_outside_the_ccer_local_share(gd):
    """The 70 % rule is on the CCER surrendered: PHCER neither helps nor counts against it."""
    r = check_surrender([lot("P", 6_000, unit_type="PHCER"), lot("N", 1_000, origin_province="hubei")], gd,
                        year=2024, obligation_t=100_000, last_year_emissions_t=100_000, pool_remaining_t=1e6)
    assert r.accepted == {"P": 6_000, "N": 0.0}
    assert r.other_t == 6_000
    mixed = check_surrender([lot("P", 2_000, unit_type="PHCER"), lot("L", 2_100),
                             lot("N", 2_000, origin_province="hubei")], gd,
                            year=2024, obligation_t=100_000, last_year_emissions_t=100_000, pool_remaining_t=1e6)
    assert mixed.accepted["N"] == pytest.approx(900)      # 3/7 × 2,100


def test_offsets_pool_and_required_pool(gd):
    r = check_surrender([lot("A", 8_000)], gd, year=2024, obligation_t=100_000, last_year_emissions_t=100_000,
                        pool_remaining_t=3_000)
    assert r.accepted == {"A": 3_000}
    assert [(x.rule, x.refused_t) for x in r.refusals] == [("pool", 5_000)]
    # the 2024 pool was not published: without the ledger's remaining pool the run says so
    with pytest.raises(MissingParameterError, match=r"offsets\.pool"):
        check_surrender([lot("A", 1)], gd, year=2024, obligation_t=1, last_year_emissions_t=100)
    # 2021-year pool from the catalog when no remaining amount is given (1 Mt)
    r21 = check_surrender([lot("A", 1)], dataclasses.replace(gd, compliance_years=(2021,)), year=2021,
                          obligation_t=10, last_year_emissions_t=100)
    assert r21.accepted_t == 1


def test_offsets_type_origin_and_vintage_exclusions(gd):
    lots = [lot("H", 100, project_type="hydro"), lot("F", 100, project_type="fossil_fuel"),
            lot("P", 100, pre_cdm=True), lot("O", 100, origin_pilot=True), lot("B", 100, inside_boundary=True,
                                                                              unit_type="PHCER"),
            lot("X", 100, unit_type="CER"), lot("OK", 100)]
    r = check_surrender(lots, gd, year=2024, obligation_t=100_000, last_year_emissions_t=100_000,
                        pool_remaining_t=1e6)
    assert r.accepted == {"OK": 100}
    got = {x.lot_id: x.rule for x in r.refusals}
    assert got == {"H": "exclusion.project_type", "F": "exclusion.project_type", "P": "exclusion.pre_cdm",
                   "O": "exclusion.origin_pilot", "B": "exclusion.inside_boundary", "X": "unit_type"}
    assert all(x.refused_t == 100 for x in r.refusals)
    vint = dataclasses.replace(gd, exclusions=(*gd.exclusions, OffsetExclusion(
        gd.id, "vintage_before", "2013", ("CCER",), Source("test rule", status="estimate"))))
    rv = check_surrender([lot("OLD", 50, vintage=2012), lot("NEW", 50, vintage=2013)], vint, year=2024,
                         obligation_t=1e5, last_year_emissions_t=1e5, pool_remaining_t=1e6)
    assert rv.accepted == {"NEW": 50}
    assert rv.refusals[0].rule == "exclusion.vintage_before"


def test_national_ccer_5pct_of_obligation():
    rs = load_ruleset("national-power-2021-2022")
    r = check_surrender([lot("C", 8_000), lot("P", 100, unit_type="PHCER")], rs, year=2021, obligation_t=100_000)
    assert r.accepted == {"C": 5_000}
    assert {(x.lot_id, x.rule) for x in r.refusals} == {("C", "limit_share_of_obligation"), ("P", "unit_type")}


def test_offsets_never_beyond_obligation(gd):
    r = check_surrender([lot("A", 5_000)], gd, year=2024, obligation_t=2_000, last_year_emissions_t=100_000,
                        pool_remaining_t=1e6)
    assert r.accepted == {"A": 2_000}
    assert r.refusals[0].rule == "obligation"
    with pytest.raises(ComplianceError, match="distinct"):
        check_surrender([lot("A", 1), lot("A", 2)], gd, year=2024, obligation_t=1, last_year_emissions_t=1,
                        pool_remaining_t=1)
