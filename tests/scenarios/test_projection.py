"""Issue 15: observed years are data, the join, derived values and floors, levers' signs, P's error."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.io import read_table
from carbonpeak.scenarios.dispatch import _level
from carbonpeak.scenarios.history import load_history
from carbonpeak.scenarios.model import FACTORS, nominal_factors, prepare, simulate
from carbonpeak.scenarios.montecarlo import run_montecarlo, sample_factors, summarise
from carbonpeak.scenarios.runs import proportion_interval, run_scenario
from carbonpeak.scenarios.scenario import load_scenario

SCENARIOS = ("baseline", "plan", "enhanced")
KAYA = Path(__file__).resolve().parents[2] / "src/carbonpeak/demo/data/decomposition/guangdong_kaya.csv"


@functools.cache
def _inputs(name: str):
    return prepare(load_scenario(name))


@functools.cache
def _run(name: str):
    return run_scenario(load_scenario(name))


def _overlay(tmp_path: Path, body: str, parent: str = "plan") -> Path:
    f = tmp_path / "mine.yaml"
    f.write_text(f"name: mine\ninherits: {parent}\nparameters:\n{body}", encoding="utf-8")
    return f


# --------------------------------------------------------------------------- observed years are data


def test_last_observed_year_comes_from_the_observations():
    h = load_history()
    assert h.last_year is not None
    assert h.last_year >= 2023
    inp = _inputs("plan")
    assert inp.last_observed == h.last_year
    # the observed electricity supply is what the model supplies in every observed year
    r = _run("plan")
    for y in range(2020, h.last_year + 1):
        assert r["electricity_demand_mwh"][y] / 1e6 == pytest.approx(h.get("demand_twh", y), rel=1e-9)


def test_observed_years_identical_across_scenarios_and_draws(tmp_path):
    lo = _inputs("plan").last_observed
    obs = [y for y in _run("plan")["years"] if y <= lo]
    ref = {y: _run("baseline")["trajectory"][y] for y in obs}
    for name in SCENARIOS:
        assert {y: _run(name)["trajectory"][y] for y in obs} == pytest.approx(ref, rel=1e-12)
    # an overlay that edits elasticities, capacities, levers and gives anchors in observed years
    f = _overlay(tmp_path, (
        "  industry.steel.elasticity: {unit: '1', value: 0.9, note: x}\n"
        "  power.solar.capacity: {unit: GW, values: {2020: 7.97, 2022: 30, 2030: 90}, note: x}\n"
        "  industry.other.intensity_cut: {unit: '1', values: {2020: 0, 2023: 0.2, 2030: 0.3}, note: x}\n"))
    mine = run_scenario(load_scenario(f))
    assert {y: mine["trajectory"][y] for y in obs} == pytest.approx(ref, rel=1e-12)
    assert any("observed year" in w for w in mine["warnings"])
    assert mine["trajectory"][2030] != pytest.approx(_run("plan")["trajectory"][2030], rel=1e-3)
    # Monte Carlo: every factor drawn, observed years do not move
    for name in SCENARIOS:
        sc = load_scenario(name)
        _, res, _ = run_montecarlo(sc, draws=300, seed=5)
        j = len(obs)
        tot = res.total_co2_t
        assert np.allclose(tot[:, :j], tot[0, :j], rtol=1e-12)
        assert np.allclose(tot[0, :j], [ref[y] for y in obs], rtol=1e-12)
        assert tot[:, j:].std(axis=0).min() > 0  # the projection years do vary


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=len(FACTORS), max_size=len(FACTORS)))
def test_no_factor_setting_moves_an_observed_year(u):
    """Property: any setting of the 21 factors within their ranges leaves the observed years as they are."""
    sc = load_scenario("plan")
    inp = _inputs("plan")
    fac = nominal_factors(sc)
    for q, name in zip(u, sorted(FACTORS), strict=True):
        if name in sc.uncertainty:
            lo, hi = sc.uncertainty[name].bounds()
            fac[name] = lo + q * (hi - lo)
    tot = simulate(inp, fac).total_co2_t[0]
    ref = simulate(inp, nominal_factors(sc)).total_co2_t[0]
    j = inp.lo_idx + 1
    assert np.allclose(tot[:j], ref[:j], rtol=1e-12)


def test_peak_searched_over_projection_and_already_peaked_is_said():
    inp = _inputs("plan")
    lo = inp.last_observed
    years = inp.years
    # a draw with every lever over-delivered and slow growth may fall from the last observed year on
    fac = nominal_factors(load_scenario("plan"))
    fac.update({"gdp_growth_shift": -0.03, "heavy_industry_delivery": 1.2, "industry_efficiency_delivery": 1.2,
                "buildings_delivery": 1.2, "ev_delivery": 1.5, "wind_solar_delivery": 1.2})
    from carbonpeak.scenarios.runs import peak_stats, peak_text

    res = simulate(inp, fac)
    pk = peak_stats(res.total_co2_t, years, last_observed=lo)
    assert pk["already_peaked"][0]
    assert pk["peak_year"][0] <= lo
    assert peak_text(int(pk["peak_year"][0]), True, True, 2035).startswith("already peaked in")
    # the nominal baseline has not peaked, and says so
    b = _run("baseline")
    assert not b["already_peaked"]
    assert b["peak_text"].startswith(("peak", "not peaked"))


# --------------------------------------------------------------------------- the join


def test_history_joins_the_projection_within_the_observed_change():
    """2019 (CEADs via the demo Kaya table) → 2020 (the model's base year): CO2 changes by the observed
    change of energy use 2019→2020 (+1.1 %, energy_consumption observations) within 2 points; and the
    first projection year changes by no more than the largest observed year-on-year change."""
    kaya = read_table(KAYA)
    row = kaya[kaya["year"].astype(int) == 2019].iloc[0]
    co2_2019 = float(np.prod([float(row[c]) for c in ("population", "gdp_per_capita", "energy_intensity",
                                                      "fossil_share", "co2_per_fossil_energy")]) * 1e4 / 1e3)
    assert co2_2019 / 1e6 == pytest.approx(569.12, rel=0.002)
    h = load_history()
    e19, e20 = h.get("energy_mtce", 2019), h.get("energy_mtce", 2020)
    observed = e20 / e19 - 1.0
    lo = h.last_year
    for name in SCENARIOS:
        r = _run(name)
        assert r["trajectory"][2020] / co2_2019 - 1.0 == pytest.approx(observed, abs=0.02)
        pe20 = sum(v[2020] for v in r["primary_energy_tce"].values()) / 1e6
        assert pe20 == pytest.approx(e20, rel=0.01)
        traj = r["trajectory"]
        changes = [traj[y] / traj[y - 1] - 1.0 for y in range(2021, lo + 1)]
        first = traj[lo + 1] / traj[lo] - 1.0
        assert min(changes) - 1e-9 <= first <= max(changes) + 1e-9, name


# --------------------------------------------------------------------------- derived values, floors


def test_solar_floor_and_derived_warning(tmp_path):
    """Plan solar = 74 GW − onshore − offshore; raising offshore 2030 to 30 GW would cut solar to 35 GW,
    below the 41.16 GW observed in 2024: the run warns and holds solar at its last observed value."""
    f = _overlay(tmp_path, "  power.wind_offshore.capacity: {unit: GW, values: {2020: 1.0, 2025: 13.0, 2030: 30.0, "
                           "2035: 35.0}, note: more offshore wind}\n")
    sc = load_scenario(f)
    assert sc.params["power.solar.capacity"].values[2030] == pytest.approx(74 - 9 - 30)
    assert sc.params["power.solar.capacity"].status == "derived"
    assert any("power.solar.capacity 2030" in w and "power.wind_offshore.capacity" in w for w in sc.warnings)
    r = run_scenario(sc)
    assert any("below the last observed" in w for w in r["warnings"])
    inp = prepare(sc)
    solar = inp.series["power.solar.capacity"]
    floor = solar[inp.lo_idx]
    assert floor == pytest.approx(41.1554, rel=1e-4)
    assert (solar[inp.proj] >= floor - 1e-9).all()
    _, res, _ = run_montecarlo(sc, draws=200, seed=1, inputs=inp)
    assert (res.capacity_gw["solar"][:, inp.proj] >= floor - 1e-9).all()
    # the packaged plan itself is silent
    assert not load_scenario("plan").warnings


# --------------------------------------------------------------------------- levers have an effect and a sign


def _two(inp, name: str, lo: float, hi: float):
    fac = {k: np.full(2, v) for k, v in nominal_factors(load_scenario("plan")).items()}
    fac[name] = np.array([lo, hi])
    return simulate(inp, fac, marginal=True)


#: factor → (metric, sign of d metric / d factor) for the plan in 2030
SIGNS = {
    "gdp_growth_shift": ("co2", +1), "population_growth_shift": ("co2", +1),
    "industry_elasticity_scale": ("co2", +1), "petrochem_output_scale": ("co2", +1),
    "electricity_demand_scale": ("co2", +1), "wind_solar_delivery": ("co2", -1), "wind_cf_scale": ("co2", -1),
    "solar_cf_scale": ("co2", -1), "hydro_cf_scale": ("co2", -1), "nuclear_delivery": ("co2", -1),
    "imports_delivery": ("co2", -1), "imports_hours_scale": ("co2", -1), "gas_power_delivery": ("co2", -1),
    "storage_delivery": ("peak_thermal", -1), "coal_heat_rate_scale": ("co2", +1),
    "ev_delivery": ("oil", -1), "freight_delivery": ("co2", -1), "buildings_delivery": ("co2", -1),
    "heavy_industry_delivery": ("co2", -1), "industry_efficiency_delivery": ("co2", -1),
    "forest_sink_delivery": ("sink", -1),
}


def _metric(res, metric: str, j: int) -> np.ndarray:
    return {"co2": res.total_co2_t[:, j], "peak_thermal": res.peak_thermal_gw[:, j],
            "oil": res.final_energy_tce["oil"][:, j], "sink": res.land_sink_t[:, j]}[metric]


def test_every_factor_has_an_effect_with_its_sign():
    assert set(SIGNS) == set(FACTORS)
    inp = _inputs("plan")
    j = int(np.searchsorted(inp.years, 2030))
    sc = load_scenario("plan")
    for name, (metric, sign) in SIGNS.items():
        u = sc.uncertainty[name]
        lo, hi = u.bounds()
        m = _metric(_two(inp, name, lo, hi), metric, j)
        assert np.sign(m[1] - m[0]) == sign, (name, m)


def test_electrification_sign_follows_the_grid():
    """EVs: CO2 falls in a year when the grid's marginal CO2 is below the break-even, rises otherwise."""
    inp = _inputs("plan")
    res = _two(inp, "ev_delivery", 0.6, 1.5)
    rows = {r["sector"]: r for r in _run("plan")["electrification"]}
    ev = rows["transport.road_passenger"]
    for y, lowers in ev["lowers_co2"].items():
        j = int(np.searchsorted(inp.years, y))
        d = res.total_co2_t[1, j] - res.total_co2_t[0, j]
        if abs(res.marginal_co2_t_per_mwh[0, j] - ev["break_even_t_per_mwh"]) > 0.02:
            assert (d < 0) == lowers, (y, d)
    # industry on a coal margin: electrification does not lower CO2, and the run says so
    assert rows["industry.other"]["note"].startswith("raises")


def test_parameter_levers_population_storage_dr_coal_minimum(tmp_path):
    base = run_scenario(load_scenario("plan"))

    def with_(body: str, parent: str = "plan"):
        (tmp_path / "p.yaml").write_text(f"name: p\ninherits: {parent}\nparameters:\n{body}", encoding="utf-8")
        return run_scenario(load_scenario(tmp_path / "p.yaml"))

    pop = with_("  macro.population_growth: {unit: 1/a, values: {2024: 0.0058, 2025: 0.01}, note: x}\n")
    assert pop["trajectory"][2030] > base["trajectory"][2030]
    st = with_("  power.storage.capacity: {unit: GW, values: {2020: 8, 2025: 20, 2030: 40}, note: x}\n")
    assert st["peak_thermal_gw"][2030] < base["peak_thermal_gw"][2030]
    dr = with_("  power.demand_response.peak_share: {unit: '1', values: {2020: 0, 2030: 0.10}, note: x}\n")
    assert dr["peak_thermal_gw"][2030] < base["peak_thermal_gw"][2030]
    # with much solar the midday surplus is curtailed: a higher coal minimum curtails more and emits
    # more; more storage curtails less and lowers the evening thermal peak
    sun = "  power.solar.capacity: {unit: GW, values: {2020: 7.97, 2024: 41.16, 2030: 250}, note: x}\n"
    hi_sun = with_(sun)
    assert hi_sun["curtailment_mwh"][2030] > 0
    more_min = with_(sun + "  power.coal.min_hours: {unit: h, value: 3000, note: x}\n")
    assert more_min["curtailment_mwh"][2030] > hi_sun["curtailment_mwh"][2030]
    assert more_min["trajectory"][2030] > hi_sun["trajectory"][2030]
    more_st = with_(sun + "  power.storage.capacity: {unit: GW, values: {2020: 8, 2030: 40}, note: x}\n")
    assert more_st["curtailment_mwh"][2030] < hi_sun["curtailment_mwh"][2030]
    assert more_st["peak_thermal_gw"][2030] < hi_sun["peak_thermal_gw"][2030]
    # (storage's CO2 sign is not fixed: it saves curtailed energy but cycles night coal through its
    # losses on the other days; docs/methods/scenarios.md says so)


def test_water_filling_is_the_linear_programme_optimum():
    """The peak-shaving step equals scipy.optimize.linprog's min-peak solution on one day."""
    from scipy.optimize import linprog

    rng = np.random.default_rng(0)
    x = 50 + 20 * np.sin(np.linspace(0, 2 * np.pi, 24)) + rng.normal(0, 3, 24)
    cap, energy = 6.0, 40.0
    a = _level(x[None, :], np.full((1, 24), cap), np.array([[energy]]), top=True)[0]
    assert a.sum() == pytest.approx(energy, rel=1e-6)
    # LP: variables a_0..a_23, peak z; minimise z s.t. x_h − a_h ≤ z, Σa = E, 0 ≤ a ≤ cap
    c = np.r_[np.zeros(24), 1.0]
    A_ub = np.c_[-np.eye(24), -np.ones(24)]
    res = linprog(c, A_ub=A_ub, b_ub=-x, A_eq=np.r_[np.ones(24), 0.0][None, :], b_eq=[energy],
                  bounds=[(0, cap)] * 24 + [(None, None)], method="highs")
    assert res.status == 0
    assert (x - a).max() == pytest.approx(res.fun, abs=1e-6)


# --------------------------------------------------------------------------- P and its sampling error


def test_p_sampling_error_matches_the_spread_over_seeds():
    """P(peak ≤ 2030) from 400 draws, 30 seeds: the spread of P over seeds is what the binomial
    standard error says (ratio within 0.6-1.6, the chi-square 99 % band for 29 degrees of freedom),
    and the Wilson interval of most seeds covers the 12,000-draw pooled estimate."""
    sc = load_scenario("plan")
    inp = _inputs("plan")
    ps, ses, covered = [], [], 0
    pooled_k = 0
    summaries = []
    for seed in range(30):
        fac = sample_factors(sc, 400, seed)
        res = simulate(inp, fac)
        s = summarise(sc, inp, res, draws=400, seed=seed)
        summaries.append(s)
        ps.append(s["p_peak_before_2030"])
        ses.append(s["p_peak_before_2030_se"])
        pooled_k += round(s["p_peak_before_2030"] * 400)
    pooled = pooled_k / 12000
    for s in summaries:
        lo, hi = s["p_peak_before_2030_interval"]
        covered += lo <= pooled <= hi
    ratio = float(np.std(ps, ddof=1) / np.mean(ses))
    assert 0.6 <= ratio <= 1.6, ratio
    assert covered >= 25
    assert summaries[0]["headline"].startswith("plan: median peak year")


def test_proportion_interval_wilson():
    """Wilson (1927) interval, worked example: 81 of 263 → 0.2553-0.3662 (Wikipedia, 'Binomial
    proportion confidence interval', Wilson score interval example with z = 1.96)."""
    r = proportion_interval(81, 263)
    assert r["p"] == pytest.approx(0.30798, abs=1e-5)
    assert r["low"] == pytest.approx(0.2553, abs=5e-4)
    assert r["high"] == pytest.approx(0.3662, abs=5e-4)
    assert proportion_interval(0, 50)["low"] == 0.0


def test_observed_years_follow_the_observations_given():
    """With the 2024 observations removed, 2024 becomes a projection year; with a different observed
    2024 electricity use, the model supplies exactly that (the store's observations work the same way)."""
    from carbonpeak.demo import demo_files
    from carbonpeak.model.observation import load_observations

    obs = load_observations(demo_files("observations"))
    h23 = load_history(obs[obs["year"] != 2024])
    assert h23.last_year == 2023
    r = run_scenario(load_scenario("plan"), history=h23)
    assert r["last_observed_year"] == 2023
    assert 2024 not in r["observed_years"]
    changed = obs.copy()
    sel = (changed["indicator"] == "electricity_consumption") & (changed["year"] == 2024)
    changed.loc[sel, "value"] = changed.loc[sel, "value"] * 1.05
    h = load_history(changed)
    runs = [run_scenario(load_scenario(n), history=h) for n in SCENARIOS]
    assert runs[0]["electricity_demand_mwh"][2024] / 1e6 == pytest.approx(h.get("demand_twh", 2024))
    assert runs[0]["trajectory"][2024] > _run("baseline")["trajectory"][2024]
    for r in runs[1:]:
        assert r["trajectory"][2024] == pytest.approx(runs[0]["trajectory"][2024], rel=1e-12)
