"""Property tests (hypothesis) of the allocation and offset-eligibility invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.catalog.markets import load_ruleset
from carbonpeak.catalog.units import Q_
from carbonpeak.markets.allocation import (
    AllocationRequest,
    PowerUnit,
    allocate,
    benchmark_allocation,
    cap_split,
    idle_withdrawal,
    intensity_allocation,
)
from carbonpeak.markets.compliance import OffsetLot, check_surrender

GD = load_ruleset("guangdong-2024")
NAT = load_ruleset("national-power-2019-2020")
amount = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
factor = st.floats(min_value=0.5, max_value=1.2)


@settings(max_examples=60, deadline=None)
@given(a=amount, b=amount, bench=st.floats(min_value=0.01, max_value=5), f=factor)
def test_benchmark_allocation_is_monotone_in_output(a, b, bench, f):
    lo, hi = sorted((a, b))
    B = {"p": Q_(bench, "tCO2/t")}
    assert benchmark_allocation({"p": lo}, B, f) <= benchmark_allocation({"p": hi}, B, f) + 1e-6


@settings(max_examples=60, deadline=None)
@given(a=amount, b=amount, e=st.floats(min_value=1, max_value=1e6), q=st.floats(min_value=1, max_value=1e6), f=factor)
def test_intensity_allocation_is_monotone_in_output(a, b, e, q, f):
    lo, hi = sorted((a, b))
    assert intensity_allocation({1: e}, {1: q}, lo, f) <= intensity_allocation({1: e}, {1: q}, hi, f) + 1e-6


@settings(max_examples=40, deadline=None)
@given(s1=amount, s2=amount, heat=st.floats(min_value=0, max_value=1e6), ratio=st.floats(min_value=0.01, max_value=1))
def test_power_allocation_is_monotone_in_supply(s1, s2, heat, ratio):
    lo, hi = sorted((s1, s2))

    def a(s: float) -> float:
        u = PowerUnit("U", "gas", "gas", supply_mwh=s, heat_gj=heat, heat_ratio=ratio)
        return allocate(AllocationRequest("G", "power", 2019, power_units=(u,)), NAT).allocation_t

    assert a(lo) <= a(hi) + 1e-6


@settings(max_examples=60, deadline=None)
@given(allocs=st.lists(amount, min_size=0, max_size=12), extra=amount, share=st.floats(min_value=0, max_value=1))
def test_free_paid_reserve_add_up_to_the_cap(allocs, extra, share):
    cap = sum(allocs) + extra
    s = cap_split(cap, {str(i): v for i, v in enumerate(allocs)}, free_share=share)
    assert s.free_t + s.paid_t + s.reserve_t == pytest.approx(cap, rel=1e-9, abs=1e-6)
    assert s.reserve_t >= -1e-6
    assert s.free_t <= s.allocated_t + 1e-6


@settings(max_examples=60, deadline=None)
@given(base=st.lists(st.floats(min_value=0, max_value=1e6), min_size=3, max_size=3), k=st.floats(min_value=0, max_value=10))
def test_history_allocation_scales_linearly_and_free_share_holds(base, k):
    req = AllocationRequest("E", "textiles", 2024, base_emissions=dict(zip((2021, 2022, 2023), base, strict=True)))
    req_k = AllocationRequest("E", "textiles", 2024,
                              base_emissions=dict(zip((2021, 2022, 2023), [k * x for x in base], strict=True)))
    a = allocate(req, GD, {"allocation.history.base_years": 3})
    ak = allocate(req_k, GD, {"allocation.history.base_years": 3})
    assert ak.allocation_t == pytest.approx(k * a.allocation_t, rel=1e-9, abs=1e-6)
    assert a.free_t + a.paid_t == pytest.approx(a.allocation_t)
    assert a.free_t == pytest.approx(0.95 * a.allocation_t)


@settings(max_examples=60, deadline=None)
@given(util=st.lists(st.floats(min_value=0, max_value=1), min_size=12, max_size=12), free=amount)
def test_idle_withdrawal_never_exceeds_the_free_allocation(util, free):
    w = idle_withdrawal(free, util, utilisation_min=0.5, months_min=6)
    assert 0 <= w.withdrawn_t <= free + 1e-6


lots_st = st.lists(
    st.builds(
        lambda i, amt, t, local, ptype, pilot: OffsetLot(f"L{i}", t, amt, 2022,
                                                        origin_province="guangdong" if local else "hunan",
                                                        project_type=ptype, origin_pilot=pilot),
        st.integers(), st.floats(min_value=0, max_value=5e4), st.sampled_from(["CCER", "PHCER", "CER"]),
        st.booleans(), st.sampled_from(["wind", "forestry", "hydro", "solar"]), st.booleans()),
    max_size=10, unique_by=lambda x: x.lot_id)


@settings(max_examples=150, deadline=None)
@given(lots=lots_st, last=st.floats(min_value=0, max_value=1e6), ob=st.floats(min_value=0, max_value=1e6),
       pool=st.floats(min_value=0, max_value=1e5))
def test_eligibility_never_accepts_more_than_the_limits(lots, last, ob, pool):
    r = check_surrender(lots, GD, year=2024, obligation_t=ob, last_year_emissions_t=last, pool_remaining_t=pool)
    tol = 1e-6
    assert r.accepted_t <= 0.10 * last + tol
    assert r.accepted_t <= ob + tol
    assert r.accepted_t <= pool + tol
    ccer = r.local_t + r.nonlocal_t
    assert r.local_t + r.nonlocal_t + r.other_t == pytest.approx(r.accepted_t, abs=1e-6)
    if ccer > tol:
        assert r.local_t >= 0.70 * ccer - tol
    local_ccer = sum(r.accepted.get(x.lot_id, 0.0) for x in lots
                     if x.unit_type == "CCER" and x.origin_province == "guangdong")
    assert local_ccer == pytest.approx(r.local_t, abs=1e-6)
    offered = {x.lot_id: x.amount_t for x in lots}
    refused: dict[str, float] = {}
    for x in r.refusals:
        assert x.refused_t >= 0
        refused[x.lot_id] = refused.get(x.lot_id, 0.0) + x.refused_t
    for lid, amt in offered.items():
        got = r.accepted.get(lid, 0.0)
        assert 0 <= got <= amt + tol
        assert got + refused.get(lid, 0.0) == pytest.approx(amt, abs=1e-6)   # every tonne is accounted for
    for x in lots:
        if x.unit_type == "CER" or (x.unit_type == "CCER" and (x.project_type == "hydro" or x.origin_pilot)):
            assert r.accepted.get(x.lot_id, 0.0) == 0
