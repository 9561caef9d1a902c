"""Issue 11 §2: allocation methods, hand-computed cases (each number worked out in the docstring)."""

from __future__ import annotations

import pytest

from carbonpeak.catalog.markets import MissingParameterError, load_ruleset
from carbonpeak.catalog.units import Q_
from carbonpeak.markets.allocation import (
    AllocationError,
    AllocationRequest,
    PowerUnit,
    allocate,
    cap_split,
    history_allocation,
    idle_withdrawal,
    pre_allocate,
    select_base_years,
    true_up,
    withdraw_idle,
)


@pytest.fixture(scope="module")
def gd():
    return load_ruleset("guangdong-2024")


@pytest.fixture(scope="module")
def nat():
    return load_ruleset("national-power-2019-2020")


def test_benchmark_method_with_run_parameters(gd):
    """Ordinary paper 50,000 t × 0.6 tCO2/t (run parameter: the annex value is not published) × 1.0
    = 30,000 t; 95 % free = 28,500; paid 1,500."""
    req = AllocationRequest("P1", "paper", 2024, activity="ordinary_paper", output={"ordinary_paper": "50000 t"})
    with pytest.raises(MissingParameterError, match=r"allocation\.benchmark\.value\[paper:ordinary_paper\]"):
        allocate(req, gd, {"allocation.benchmark.annual_factor": 1.0})
    a = allocate(req, gd, {"allocation.benchmark.value[paper:ordinary_paper]": "0.6 tCO2/t",
                           "allocation.benchmark.annual_factor": 1.0})
    assert a.method == "benchmark"
    assert a.allocation_t == pytest.approx(30_000)
    assert (a.free_t, a.paid_t) == pytest.approx((28_500, 1_500))
    assert {p.source for p in a.parameters if p.name.startswith("allocation.benchmark")} == {"run parameter"}
    # the output in another unit converts: 50 kilotonnes is the same
    b = allocate(AllocationRequest("P1", "paper", 2024, activity="ordinary_paper",
                                   output={"ordinary_paper": Q_(50, "kilotonne")}), gd,
                 {"allocation.benchmark.value[paper:ordinary_paper]": "0.6 tCO2/t",
                  "allocation.benchmark.annual_factor": 1.0})
    assert b.allocation_t == pytest.approx(30_000)


def test_intensity_method(gd):
    """Ceramics: base 2021–23 E = 40,000 + 45,000 + 50,000 = 135,000 t; Q = 100,000 + 110,000 +
    120,000 = 330,000 t → intensity 9/22 tCO2/t; 2024 output 125,000 t × 9/22 × 0.98 = 50,113.636 t;
    free 95 % = 47,607.95 t."""
    req = AllocationRequest("C1", "ceramics", 2024, output={"tile": 125_000},
                            base_emissions={2021: 40_000, 2022: 45_000, 2023: 50_000},
                            base_output={2021: 100_000, 2022: 110_000, 2023: 120_000})
    with pytest.raises(MissingParameterError, match=r"allocation\.intensity"):
        allocate(req, gd)
    a = allocate(req, gd, {"allocation.intensity.base_years": 3, "allocation.intensity.annual_factor": 0.98})
    assert a.method == "intensity"
    assert a.components["base_intensity"] == pytest.approx(9 / 22)
    assert a.allocation_t == pytest.approx(50_113.636, abs=1e-3)
    assert a.free_t == pytest.approx(47_607.95, abs=1e-2)


def test_history_method_with_process_allowance():
    """mean(102,000, 98,000, 100,000) × 0.98 + 2,000 process allowance = 100,000 t."""
    assert history_allocation({2021: 102_000, 2022: 98_000, 2023: 100_000}, 0.98, 2_000) == pytest.approx(100_000)


def test_history_missing_base_year_is_named(gd):
    req = AllocationRequest("T1", "textiles", 2024, base_emissions={2022: 1.0, 2023: 1.0})
    with pytest.raises(AllocationError, match=r"T1 .*missing base year\(s\) \[2021\]"):
        allocate(req, gd, {"allocation.history.base_years": 3})
    assert select_base_years({2020: 1, 2021: 2, 2022: 3, 2023: 4}, 2024, 2) == {2022: 3, 2023: 4}


def test_power_coal_without_heat_air_cooled(nat):
    """Coal > 300 MW, air-cooled, no heat: 0.877 × 3,000,000 MWh × 1.05 × 1 × 1.0 = 2,762,550 t.
    The load-factor correction of the final plan was not retrieved: required, here 1.0 per unit."""
    u = PowerUnit("U1", "coal_conventional_gt300", "coal", supply_mwh=3_000_000, cooling="air")
    with pytest.raises(MissingParameterError, match=r"power\.correction\.load\[power:coal\]"):
        allocate(AllocationRequest("G1", "power", 2019, power_units=(u,)), nat)
    u1 = PowerUnit("U1", "coal_conventional_gt300", "coal", supply_mwh="3 TWh", cooling="air", load_correction=1.0)
    a = allocate(AllocationRequest("G1", "power", 2019, power_units=(u1,)), nat)
    assert a.allocation_t == pytest.approx(2_762_550)
    assert a.free_t == a.allocation_t
    assert a.paid_t == 0
    u2 = PowerUnit("U1", "coal_conventional_gt300", "coal", supply_mwh=3_000_000, cooling="air", load_correction=1.012)
    assert allocate(AllocationRequest("G1", "power", 2019, power_units=(u2,)), nat).allocation_t == pytest.approx(
        2_762_550 * 1.012)


def test_power_coal_chp_with_heat(nat):
    """Coal CHP ≤ 300 MW, water-cooled: supply 2,000,000 MWh, heat 1,000,000 GJ, heat ratio 0.3,
    heat slope 0.22 (run parameter; final value not retrieved), load 1.0:
    Fh = 1 − 0.22 × 0.3 = 0.934; 0.979 × 2,000,000 × 0.934 = 1,828,772; heat 0.126 × 1,000,000 = 126,000;
    total 1,954,772 t."""
    u = PowerUnit("U2", "coal_conventional_le300", "coal", supply_mwh=2_000_000, heat_gj=1_000_000,
                  heat_ratio=0.3, load_correction=1.0)
    with pytest.raises(MissingParameterError, match=r"power\.correction\.heat_slope\[power:coal\]"):
        allocate(AllocationRequest("G2", "power", 2020, power_units=(u,)), nat)
    a = allocate(AllocationRequest("G2", "power", 2020, power_units=(u,)), nat,
                 {"power.correction.heat_slope[power:coal]": 0.22})
    assert a.components["U2.f_heat"] == pytest.approx(0.934)
    assert a.components["U2.electricity"] == pytest.approx(1_828_772)
    assert a.components["U2.heat"] == pytest.approx(126_000)
    assert a.allocation_t == pytest.approx(1_954_772)


def test_power_gas_with_and_without_heat(nat):
    """Gas CHP: 0.392 × 1,000,000 MWh × (1 − 0.6 × 0.2) = 344,960; heat 0.059 × 500,000 GJ = 29,500;
    total 374,460 t.  Without heat: 0.392 × 1,000,000 = 392,000 t."""
    chp = PowerUnit("U3", "gas", "gas", supply_mwh=1_000_000, heat_gj="500000 GJ", heat_ratio=0.2)
    assert allocate(AllocationRequest("G3", "power", 2019, power_units=(chp,)), nat).allocation_t == pytest.approx(374_460)
    pure = PowerUnit("U4", "gas", "gas", supply_mwh=1_000_000)
    assert allocate(AllocationRequest("G3", "power", 2019, power_units=(pure,)), nat).allocation_t == pytest.approx(392_000)
    both = allocate(AllocationRequest("G3", "power", 2019, power_units=(chp, pure)), nat)
    assert both.allocation_t == pytest.approx(766_460)
    with pytest.raises(AllocationError, match="heat_ratio"):
        allocate(AllocationRequest("G3", "power", 2019,
                                   power_units=(PowerUnit("U5", "gas", "gas", supply_mwh=1, heat_gj=1),)), nat)


def test_power_2023_uses_generation_and_required_benchmarks():
    rs = load_ruleset("national-power-2023-2024")
    u = PowerUnit("U6", "gas", "gas", supply_mwh=950_000, generation_mwh=1_000_000)
    with pytest.raises(MissingParameterError, match=r"power\.benchmark\.electricity"):
        allocate(AllocationRequest("G6", "power", 2023, power_units=(u,)), rs)
    a = allocate(AllocationRequest("G6", "power", 2023, power_units=(u,)), rs,
                 {"power.benchmark.electricity": "0.38 tCO2/MWh"})
    assert a.allocation_t == pytest.approx(380_000)   # 发电量 1,000,000 MWh, not 供电量
    with pytest.raises(AllocationError, match="generation_mwh"):
        allocate(AllocationRequest("G6", "power", 2023, power_units=(PowerUnit("U7", "gas", "gas", supply_mwh=1),)),
                 rs, {"power.benchmark.electricity": "0.38 tCO2/MWh"})


def test_pre_allocation_and_true_up(nat):
    """Pre-allocation 70 % × 2018 supply 900,000 MWh × 0.392 = 246,960 t; actual 2019 supply
    1,000,000 MWh → 392,000 t; true-up issues 145,040 t.  A lower actual output withdraws."""
    base = AllocationRequest("G4", "power", 2019, power_units=(PowerUnit("U", "gas", "gas", supply_mwh=900_000),))
    pre = pre_allocate(base, nat)
    assert pre.allocation_t == pytest.approx(246_960)
    final = allocate(AllocationRequest("G4", "power", 2019,
                                       power_units=(PowerUnit("U", "gas", "gas", supply_mwh=1_000_000),)), nat)
    t = true_up(pre.allocation_t, final.allocation_t)
    assert t.delta_t == pytest.approx(145_040)
    assert t.action == "issue"
    low = true_up(pre.allocation_t, 200_000)
    assert low.delta_t == pytest.approx(-46_960)
    assert low.action == "withdraw"


def test_cap_split_and_reserve(gd):
    """W1's enterprise (98,000 t; free 93,100) plus 10,000 t under a 120,000 t cap at 95 % free:
    reserve = 120,000 − 108,000 = 12,000; free 93,100 + 9,500 = 102,600; paid 5,400."""
    w1 = allocate(AllocationRequest("W1", "textiles", 2024, base_emissions={2021: 102_000, 2022: 98_000,
                                                                             2023: 100_000}),
                  gd, {"allocation.history.base_years": 3})
    other = allocate(AllocationRequest("X", "textiles", 2024, base_emissions={2023: 10_000 / 0.98}),
                     gd, {"allocation.history.base_years": 1})
    s = cap_split(120_000, [w1, other])
    assert s.reserve_t == pytest.approx(12_000)
    assert s.free_t == pytest.approx(102_600)
    assert s.paid_t == pytest.approx(5_400)
    assert s.free_t + s.paid_t + s.reserve_t == pytest.approx(s.cap_t)
    with pytest.raises(AllocationError, match="exceed the cap"):
        cap_split(100_000, [w1, other])
    m = cap_split(1_000, {"a": 600, "b": 300}, free_share=0.95)
    assert (m.free_t, m.paid_t, m.reserve_t) == pytest.approx((855, 45, 100))


def test_idle_month_withdrawal(gd):
    """Free 120,000 t (10,000 a month), rule set thresholds 50 % and 6 months (实施细则 §14–15).
    7 months below 50 % → > 6 idle months → 70,000 t withdrawn; 6 idle months → nothing; closure
    with 2 idle months → 20,000 t."""
    a = allocate(AllocationRequest("I", "textiles", 2024, base_emissions={2023: 120_000 / 0.98 / 0.95}), gd,
                 {"allocation.history.base_years": 1})
    assert a.free_t == pytest.approx(120_000)
    seven = [0.3] * 7 + [0.9] * 5
    w = withdraw_idle(a, seven, gd)
    assert w.triggered
    assert w.idle_months == (1, 2, 3, 4, 5, 6, 7)
    assert w.withdrawn_t == pytest.approx(70_000)
    six = [0.49] * 6 + [0.5] * 6   # 0.5 is not below 50 %
    assert withdraw_idle(a, six, gd).withdrawn_t == 0
    closed = withdraw_idle(a, [0.9] * 10 + [0.0, 0.0], gd, closed=True)
    assert closed.reason == "closure"
    assert closed.withdrawn_t == pytest.approx(20_000)
    with pytest.raises(AllocationError, match="12 values"):
        idle_withdrawal(1, [0.5] * 11, utilisation_min=0.5, months_min=6)


def test_bad_inputs_are_named(gd):
    with pytest.raises(AllocationError, match="outside rule set"):
        allocate(AllocationRequest("Y", "textiles", 2019, base_emissions={2018: 1}), gd)
    with pytest.raises(AllocationError, match=r"Z \(paper/ordinary_paper.*current-year output"):
        allocate(AllocationRequest("Z", "paper", 2024, activity="ordinary_paper"), gd,
                 {"allocation.benchmark.annual_factor": 1.0})
    with pytest.raises(AllocationError, match="annual_factor"):
        history_allocation({2023: 1.0}, -0.5)


def test_requests_from_store_frames(gd):
    """The workflow's path: frames read from the store -> requests -> allocations -> frame.
    Same numbers as W1 (history) and the intensity case above."""
    import pandas as pd

    from carbonpeak.errors import ValidationError
    from carbonpeak.markets.allocation import allocate_many, allocations_frame, requests_from_frames

    ent = pd.DataFrame([{"enterprise_id": "W1", "sector": "textiles"}, {"enterprise_id": "C1", "sector": "ceramics"}])
    em = pd.DataFrame({"enterprise_id": ["W1"] * 3 + ["C1"] * 3, "year": [2021, 2022, 2023] * 2,
                       "emissions_t": [102_000, 98_000, 100_000, 40_000, 45_000, 50_000]})
    out = pd.DataFrame({"enterprise_id": ["C1"] * 5, "year": [2021, 2022, 2023, 2024, 2024],
                        "product": ["tile"] * 4 + ["tile"], "output": [100_000, 110_000, 120_000, 100_000, 25_000]})
    reqs = requests_from_frames(ent, em, out, year=2024)
    allocs = allocate_many(reqs, gd, {"allocation.history.base_years": 3, "allocation.intensity.base_years": 3,
                                      "allocation.intensity.annual_factor": 0.98})
    f = allocations_frame(allocs).set_index("enterprise_id")
    assert f.loc["W1", "allocation_t"] == pytest.approx(98_000)
    assert f.loc["C1", "allocation_t"] == pytest.approx(50_113.636, abs=1e-3)   # 125,000 t of tiles in 2024
    assert f.loc["C1", "method"] == "intensity"
    with pytest.raises(ValidationError, match="emissions, row 2"):
        requests_from_frames(ent, pd.DataFrame({"enterprise_id": ["W1"], "year": [2023], "emissions_t": ["n/a"]}),
                             year=2024)
