"""Python users (issue 12): run_scenario and montecarlo return pandas/pyam objects on request, and
results and inventories read well in a notebook (repr and _repr_html_)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from carbonpeak.errors import CarbonpeakError
from carbonpeak.scenarios.montecarlo import montecarlo
from carbonpeak.scenarios.results import MonteCarloResult, ScenarioRun, convert
from carbonpeak.scenarios.runs import run_scenario
from carbonpeak.scenarios.scenario import load_scenario

DEMO = Path(__file__).resolve().parents[2] / "src" / "carbonpeak" / "demo" / "data" / "activity"


@pytest.fixture(scope="module")
def plan():
    return load_scenario("plan")


def test_run_is_still_the_json_dict(plan) -> None:
    r = run_scenario(plan)
    assert isinstance(r, ScenarioRun)
    assert isinstance(r, dict)
    assert json.loads(json.dumps(r))["peak_year"] == r["peak_year"]
    text = repr(r)
    assert text.startswith("ScenarioRun('plan', ")
    assert f"peak {r['peak_year']}" in text
    assert len(text) < 200  # one line, not the whole dict
    h = r._repr_html_()
    assert "<table" in h
    assert "CO2 (Mt)" in h


def test_run_as_pandas_and_pyam(plan) -> None:
    pyam = pytest.importorskip("pyam")
    df = run_scenario(plan, output="pandas")
    assert list(df.columns) == ["model", "scenario", "region", "variable", "unit", "year", "value"]
    co2 = df[(df["variable"] == "Emissions|CO2")].set_index("year")["value"]
    r = run_scenario(plan)
    assert co2[r["peak_year"]] == pytest.approx(r["peak_co2_t"] / 1e6)
    idf = run_scenario(plan, output="pyam")
    assert isinstance(idf, pyam.IamDataFrame)
    assert "Emissions|CO2" in idf.variable
    assert idf.check_aggregate("Emissions|CO2|Energy") is None  # the IAMC hierarchy adds up


def test_montecarlo_as_pandas_and_pyam(plan) -> None:
    pyam = pytest.importorskip("pyam")
    m = montecarlo(plan, draws=200, seed=1)
    assert isinstance(m, MonteCarloResult)
    assert repr(m) == f"MonteCarloResult({m['headline']})"
    html = m._repr_html_()
    assert "%" in html  # probabilities print as percentages
    fan = m.to_pandas()
    assert list(fan.columns) == ["p05_t", "p50_t", "p95_t"]
    assert fan.index.name == "year"
    assert (fan["p05_t"] <= fan["p50_t"]).all()
    assert (fan["p50_t"] <= fan["p95_t"]).all()
    assert fan.attrs["p_peak_before_2030"] == m["p_peak_before_2030"]
    same = montecarlo(plan, draws=200, seed=1, output="pandas")
    pd.testing.assert_frame_equal(same, fan)
    idf = montecarlo(plan, draws=200, seed=1, output="pyam")
    assert isinstance(idf, pyam.IamDataFrame)
    assert idf.extra_cols == ["quantile"]
    assert idf.meta.loc[("carbonpeak", "plan"), "p_peak_before_2030"] == m["p_peak_before_2030"]
    med = idf.filter(quantile=0.5, year=2030).timeseries().iloc[0, 0]
    assert med == pytest.approx(fan.loc[2030, "p50_t"] / 1e6)


def test_unknown_output_is_refused(plan) -> None:
    with pytest.raises(CarbonpeakError, match="output must be one of"):
        convert(ScenarioRun({}), "excel")


def test_inventory_repr_and_html() -> None:
    from carbonpeak.accounting.engine import compile_inventory
    from carbonpeak.catalog.factors import FactorSet
    from carbonpeak.model.activity import load_activity

    inv = compile_inventory(load_activity(sorted(DEMO.glob("*.csv"))), FactorSet.default())
    text = repr(inv)
    assert text.startswith("Inventory(rows=")
    assert "gwp='AR5'" in text
    assert "years=" in text
    h = inv._repr_html_()
    assert "<table" in h
    assert "Mt CO2e" in h
    t = inv.totals(by=("sector", "year"))
    assert f"<th>{int(t['year'].max())}</th>" in h
    assert f"<th>{sorted(set(t['sector']))[0]}</th>" in h
