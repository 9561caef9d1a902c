"""Scenario loading (LEAP-style inheritance, validation, targets) and model invariants."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.errors import CatalogError, ValidationError
from carbonpeak.scenarios.model import (
    END_USE,
    FACTORS,
    PARAMETERS,
    interp_anchors,
    nominal_factors,
    prepare,
    simulate,
)
from carbonpeak.scenarios.montecarlo import sample_factors
from carbonpeak.scenarios.runs import check_met, peak_stats, run_scenario
from carbonpeak.scenarios.scenario import Param, apply_targets, available_scenarios, load_scenario


@pytest.fixture(scope="module")
def plan():
    return load_scenario("plan")


@pytest.fixture(scope="module")
def plan_inputs(plan):
    return prepare(plan)


def test_packaged_scenarios_complete():
    assert {"baseline", "plan", "enhanced"} <= set(available_scenarios())
    for name in ("baseline", "plan", "enhanced"):
        s = load_scenario(name)
        assert set(PARAMETERS) <= set(s.params)
        for p in s.params.values():
            assert p.unit
            assert p.source or p.note, p.name


def test_inheritance_chain_and_sparse_override(plan):
    base = load_scenario("baseline")
    enh = load_scenario("enhanced")
    assert plan.chain == ["plan", "baseline"]
    assert enh.chain == ["enhanced", "plan", "baseline"]
    # not overridden in plan: the baseline's entry, defined in baseline.yaml
    assert plan.params["macro.gdp"] == base.params["macro.gdp"]
    assert plan.params["macro.gdp"].defined_in.endswith("baseline.yaml")
    # overridden in plan, inherited unchanged by enhanced
    assert plan.params["power.nuclear.capacity"].defined_in.endswith("plan.yaml")
    assert enh.params["power.nuclear.capacity"] == plan.params["power.nuclear.capacity"]
    assert enh.params["power.solar.capacity"].defined_in.endswith("enhanced.yaml")


def test_user_file_overrides_whole_entry(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("inherits: plan\nhorizon: {end: 2040}\nparameters:\n"
                 "  power.imports.capacity: {unit: 10^4 kW, values: {2020: 4000, 2030: 6000}, note: test}\n"
                 "uncertainty:\n  gdp_growth_shift: {dist: fixed, value: 0.0}\n", encoding="utf-8")
    s = load_scenario(f)
    assert s.name == "mine"
    assert s.end == 2040
    assert s.params["power.imports.capacity"].values == {2020: 4000.0, 2030: 6000.0}
    inp = prepare(s)
    assert inp.series["power.imports.capacity"][inp.years.tolist().index(2030)] == pytest.approx(60.0)
    assert inp.years[-1] == 2040
    assert s.uncertainty["gdp_growth_shift"].dist == "fixed"


def test_validation_lists_every_problem(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("inherits: plan\nparameters:\n"
                 "  a.b: {values: {2030: 1}, note: x}\n"
                 "  c.d: {unit: zorkmids per blip, value: 1, note: x}\n"
                 "  e.f: {unit: GW, value: 1}\n"
                 "  g.h: {unit: GW, value: 1, note: x, status: guessed}\n"
                 "uncertainty:\n  wind_cf_scale: {dist: triangular, low: 2, mode: 1, high: 3}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_scenario(f)
    fields = {p.field for p in exc.value.problems}
    assert {"a.b", "c.d", "e.f", "g.h", "uncertainty.wind_cf_scale"} <= fields
    assert all(p.file == str(f) for p in exc.value.problems)


def test_inheritance_cycle(tmp_path):
    (tmp_path / "x.yaml").write_text("inherits: y\n", encoding="utf-8")
    (tmp_path / "y.yaml").write_text("inherits: x\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="cycle"):
        load_scenario(tmp_path / "x.yaml")


def test_unknown_parent():
    with pytest.raises(CatalogError):
        load_scenario("no_such_scenario")


def test_target_catalog_value_wins_with_scale_and_minus():
    params = {
        "onw": Param("onw", "GW", values={2020: 4.0, 2030: 9.0}),
        "offw": Param("offw", "GW", values={2020: 1.0, 2030: 20.0}),
    }
    solar = Param("solar", "GW", values={2020: 8.0, 2030: 40.0}, target="{id: ws, minus: [onw, offw]}")
    cut = Param("cut", "1", values={2020: 0.0, 2030: 0.05}, target="{id: steel, scale: -1}")
    cat = {"ws": {"target_year": 2030, "target_value": 7400, "unit": "万kW", "status": "verified"},
           "steel": {"target_year": 2030, "target_value": -8, "unit": "%"}}
    assert apply_targets(solar, cat, params).values[2030] == pytest.approx(74 - 9 - 20)
    assert apply_targets(cut, cat, params).values[2030] == pytest.approx(0.08)
    assert apply_targets(cut, {}, params) is cut


def test_plan_uses_catalog_levers(plan):
    from carbonpeak.scenarios.scenario import load_target_catalog

    cat = load_target_catalog()
    if "west_east_transmission_2030" not in cat:
        pytest.skip("target catalog without the West-to-East target")
    p = plan.params["power.imports.capacity"]
    assert p.values[2030] == pytest.approx(55.0)
    assert p.source.startswith("target catalog")


def test_interp_anchors_flat_outside():
    y = np.arange(2018, 2033)
    v = interp_anchors({2020: 1.0, 2030: 2.0}, y)
    assert v[0] == 1.0
    assert v[-1] == 2.0
    assert v[list(y).index(2025)] == pytest.approx(1.5)


def test_sector_sum_and_power_balance(plan_inputs):
    res = simulate(plan_inputs)
    total = sum(res.co2_t[s] for s in (*END_USE, "power", "heat_chp"))
    assert np.allclose(total, res.total_co2_t)
    gen = sum(res.generation_mwh.values())
    assert (gen > 0).all()
    assert ((res.nonfossil_share > 0) & (res.nonfossil_share < 1)).all()


def test_base_year_matches_ceads(plan_inputs):
    """2020 CO2 = CEADs 2019 Guangdong total 569.12 Mt × 1.011 within the calibration tolerance."""
    res = simulate(plan_inputs)
    assert res.total_co2_t[0, 0] / 1e6 == pytest.approx(569.12 * 1.011, rel=0.02)


def test_vectorised_equals_single_draws(plan, plan_inputs):
    fac = sample_factors(plan, 5, seed=11)
    many = simulate(plan_inputs, fac).total_co2_t
    for i in range(5):
        one = simulate(plan_inputs, {k: v[i] for k, v in fac.items()}).total_co2_t
        assert np.allclose(one[0], many[i])


def test_unknown_factor_rejected(plan_inputs):
    with pytest.raises(CatalogError):
        simulate(plan_inputs, {"no_such_lever": 1.0})


@functools.lru_cache(maxsize=2)
def _inputs(name: str):
    return prepare(load_scenario(name))


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 0.5))
def test_more_wind_solar_never_raises_emissions(d, extra):
    inp = _inputs("plan")
    lo = simulate(inp, {"wind_solar_delivery": d}).total_co2_t
    hi = simulate(inp, {"wind_solar_delivery": d + extra}).total_co2_t
    assert (hi <= lo + 1e-6).all()


@settings(max_examples=25, deadline=None)
@given(st.floats(-0.02, 0.02))
def test_faster_growth_raises_emissions(shift):
    inp = _inputs("plan")
    a = simulate(inp, {"gdp_growth_shift": shift}).total_co2_t
    b = simulate(inp, {"gdp_growth_shift": shift + 0.005}).total_co2_t
    assert (b[:, -1] >= a[:, -1]).all()


def test_peak_stats_censoring():
    years = np.arange(2020, 2025)
    total = np.array([[1, 2, 3, 2, 1], [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], dtype=float)
    pk = peak_stats(total, years, deadline=2022)
    assert pk["peak_year"].tolist() == [2022, 2024, 2020]
    assert pk["peaked"].tolist() == [True, False, True]
    assert pk["before_deadline"].tolist() == [True, False, True]


def test_check_comparators():
    v = np.array([0.33, 0.345, 0.36])
    assert check_met(v, {"value": 0.35, "op": ">="}).tolist() == [False, False, True]
    assert check_met(v, {"value": 0.35, "op": "about", "tolerance": 0.01}).tolist() == [False, True, True]
    assert check_met(v, {"value": 0.34, "op": "<="}).tolist() == [True, False, False]


def test_run_dict_contract(plan):
    r = run_scenario(plan)
    assert r["trajectory"][r["peak_year"]] == pytest.approx(r["peak_co2_t"])
    assert max(r["trajectory"].values()) == pytest.approx(r["peak_co2_t"])
    assert set(r["ghg_by_gas_t"]) == {"CO2", "CH4", "N2O"}
    assert all(v <= 0 for v in r["land_sink_t"].values())


def test_montecarlo_seed_and_distribution(plan):
    from carbonpeak.scenarios.montecarlo import montecarlo

    a = montecarlo(plan, draws=300, seed=1)
    b = montecarlo(plan, draws=300, seed=1)
    c = montecarlo(plan, draws=300, seed=2)
    assert a == b
    assert a["fan"] != c["fan"]
    assert sum(a["peak_year_distribution"].values()) == pytest.approx(1.0)
    last = a["years"][-1]
    assert a["p_not_peaked"] == pytest.approx(a["peak_year_distribution"].get(last, 0.0))


def test_sampled_factors_respect_bounds(plan):
    fac = sample_factors(plan, 2000, seed=0)
    assert set(fac) == set(FACTORS)
    for name, u in plan.uncertainty.items():
        if u.dist in ("uniform", "triangular"):
            assert fac[name].min() >= u.low
            assert fac[name].max() <= u.high
    assert nominal_factors(plan)["gdp_growth_shift"] == 0.0


def test_sobol_ranks_drivers(plan):
    from carbonpeak.scenarios.sensitivity import sobol

    r = sobol(plan, n=128, seed=0)
    assert len(r["levers"]) == len(plan.uncertainty)
    totals = [lv["sobol_total"] for lv in r["levers"]]
    assert totals == sorted(totals, reverse=True)
    # forests do not change gross CO2: its total index is ~0
    forest = next(lv for lv in r["levers"] if lv["lever"] == "forest_sink_delivery")
    assert abs(forest["sobol_total"]) < 1e-6


def test_history_thermal_generation_close_to_reported():
    """Baseline thermal generation 2021-2024 vs NBS above-designated-size thermal output
    4,628.8 / 4,440.7 / 4,943.1 / 4,917.4亿kWh (shared/reference/guangdong.md §2b, energyandcleanair/
    china_co2 power_generation_by_province_and_source.csv): within 6 %."""
    r = run_scenario(load_scenario("baseline"))
    g = r["generation_mwh"]
    for y, reported in {2021: 4628.8, 2022: 4440.7, 2023: 4943.1, 2024: 4917.4}.items():
        model = (g["coal"][y] + g["gas"][y] + g["biomass"][y]) / 1e5  # MWh → 亿kWh
        assert model == pytest.approx(reported, rel=0.06)


def test_history_electricity_demand_matches_reported():
    """Supply = reported 全社会用电量 6,926 / 7,867 / 7,870 / 8,502 / 9,121亿kWh 2020-2024 (guangdong.md §2b)."""
    r = run_scenario(load_scenario("baseline"))
    for y, reported in {2020: 6926, 2021: 7867, 2022: 7870, 2023: 8502, 2024: 9121}.items():
        supply = sum(v[y] for v in r["generation_mwh"].values()) / 1e5
        assert supply == pytest.approx(reported, rel=0.01)


def test_plateau_tolerance_moves_peak_earlier():
    years = np.arange(2020, 2026)
    total = np.array([[100.0, 110.0, 110.5, 110.8, 109.0, 108.0]])
    assert peak_stats(total, years)["peak_year"][0] == 2023
    assert peak_stats(total, years, plateau=0.01)["peak_year"][0] == 2021
    with pytest.raises(ValueError):
        peak_stats(total, years, plateau=-0.1)


def test_latin_hypercube_sampling(plan):
    lhs = sample_factors(plan, 1000, seed=4, sampling="lhs")
    again = sample_factors(plan, 1000, seed=4, sampling="lhs")
    assert all(np.array_equal(lhs[k], again[k]) for k in lhs)
    u = plan.uncertainty["wind_solar_delivery"]
    x = lhs["wind_solar_delivery"]
    assert x.min() >= u.low
    assert x.max() <= u.high
    # stratified: every tenth of the probability mass holds exactly a tenth of the draws
    from scipy import stats

    q = stats.triang.cdf(x, (u.mode - u.low) / (u.high - u.low), loc=u.low, scale=u.high - u.low)
    counts = np.histogram(q, bins=10, range=(0, 1))[0]
    assert (counts == 100).all()
    g = lhs["gdp_growth_shift"]
    assert g.mean() == pytest.approx(0.0, abs=0.001)
    assert g.std() == pytest.approx(plan.uncertainty["gdp_growth_shift"].sd, rel=0.05)


def test_scalar_parameter_given_as_path_is_an_error(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("inherits: plan\nparameters:\n"
                 "  industry.steel.elasticity: {unit: '1', values: {2020: 0.4, 2030: 0.2}, note: x}\n",
                 encoding="utf-8")
    with pytest.raises(CatalogError, match="one 'value'"):
        prepare(load_scenario(f))
