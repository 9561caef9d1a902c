"""Issue 11 §2, the link to the peak plan read from the store: the cap path (set by the authority,
or the allocation issued) against the provincial peak projection, the share under the cap,
surplus/deficit by sector and city, the balance value 平衡值 per class; scoped to the principal.

Hand case (synthetic): ENT-T textiles GD-GZ (history, W1 figures → allocation 98,000 t; verified
2024 emissions 97,000 t → surplus 1,000 t); ENT-C cement clinker GD-YF (benchmark under the 2017
draft would be out of its years, so the Guangdong 2024 rule set with a run benchmark of 0.85 tCO2/t:
allocation = 1,000,000 t × 0.85 × annual factor; verified 2024 emissions 880,000 t → deficit).
Balance value of cement/clinker = 880,000 / 1,000,000 = 0.88 tCO2/t.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from carbonpeak.errors import PermissionDenied
from carbonpeak.store import markets as sm
from carbonpeak.store.users import Principal
from carbonpeak.workflows import markets as wm

ADMIN = Principal("admin", "admin")
ANALYST = Principal("analyst", "province_analyst")
GZ = Principal("gz", "city_officer", city="GD-GZ")
ENT = Principal("ent", "enterprise", enterprise_id="ENT-T")


def stock(store) -> dict:
    store.con.execute("INSERT INTO batches (batch_id, kind, source, submitter, rows, created_at) VALUES "
                      "('t:1', 'mon_units', 'test', 'test', 2, ?)", [dt.datetime.now(dt.UTC)])
    for unit, ent, city in (("U1", "ENT-C", "GD-YF"), ("U3", "ENT-T", "GD-GZ")):
        store.con.execute(
            "INSERT INTO mon_units (unit_id, name, uscc, industry_code, city, kind, hub_node, registered_level, "
            "synthetic, batch_id) VALUES (?, ?, ?, 'C30', ?, 'industrial', FALSE, 'provincial', TRUE, 't:1')",
            [unit, unit, ent, city])
    store.con.execute(
        "INSERT INTO mon_output (unit_id, product, period_start, period_end, quantity, unit, batch_id, source_file, "
        "source_row) VALUES ('U1', 'clinker', ?, ?, 1000000, 't', 't:1', 'output.csv', 2)",
        [dt.date(2024, 1, 1), dt.date(2024, 12, 31)])
    for y, e in ((2021, 102_000.0), (2022, 98_000.0), (2023, 100_000.0), (2024, 97_000.0)):
        wm.sign_off_emissions(store, ADMIN, enterprise_id="ENT-T", year=y, verified_t=e)
    wm.sign_off_emissions(store, ADMIN, enterprise_id="ENT-C", year=2024, verified_t=880_000.0)
    ents = pd.DataFrame({"enterprise_id": ["ENT-T", "ENT-C"], "sector": ["textiles", "cement"],
                         "activity": ["*", "clinker"], "city": ["GD-GZ", "GD-YF"], "method": [None, "benchmark"]})
    return wm.allocate_from_store(store, ADMIN, entities=ents, ruleset_id="guangdong-2024", year=2024, params={
        "allocation.history.base_years": 3, "allocation.benchmark.value[cement:clinker]": "0.85 tCO2/t",
        "allocation.benchmark.annual_factor": 1.0}, issue=True)


def test_surplus_deficit_and_balance_value_from_the_store(store):
    res = stock(store)
    alloc = res["allocation"].set_index("enterprise_id")
    a_c = float(alloc.loc["ENT-C", "allocation_t"])
    v = wm.peak_link_view(store, ANALYST, year=2024)
    ents = v["entities"].set_index("enterprise_id")
    assert ents.loc["ENT-T", "balance_t"] == pytest.approx(1_000.0)
    assert ents.loc["ENT-C", "balance_t"] == pytest.approx(a_c - 880_000.0)
    sec = v["by_sector"].set_index("sector")
    assert sec.loc["cement", "balance_t"] == pytest.approx(a_c - 880_000.0)
    city = v["by_city"].set_index("city")
    assert city.loc["GD-GZ", "balance_t"] == pytest.approx(1_000.0)
    bv = v["balance_values"].set_index("class")
    assert bv.loc["cement/clinker", "balance_value"] == pytest.approx(0.88)
    assert list(bv.index) == ["cement/clinker"]   # the textiles history enterprise has no product output
    assert v["covered"]["verified_t"] == pytest.approx(977_000.0)
    assert v["covered"]["province_t"] > 0


def test_the_cap_path_against_the_projection(store):
    stock(store)
    v = wm.peak_link_view(store, ANALYST, year=2024)
    # only the 2024 allocation: no path up to 2030, no verdict
    assert v["cap_basis"] == "allocation_issued"
    assert v["consistent"] is None
    assert "ends in 2024, before 2030" in v["reasons"][0]
    with pytest.raises(PermissionDenied):
        wm.set_cap(store, ANALYST, year=2024, value=3, unit="亿t", source="x")
    for y in range(2024, 2031):
        wm.set_cap(store, ADMIN, year=y, value=3.0 - 0.05 * (y - 2024), unit="亿t", source="synthetic test path")
    v = wm.peak_link_view(store, ANALYST, year=2024)
    assert v["cap_basis"] == "cap"
    path = v["path"].set_index("year")
    assert path.loc[2024, "cap_t"] == pytest.approx(3.0e8)
    assert path.loc[2024, "share"] == pytest.approx(3.0e8 / path.loc[2024, "projection_t"])
    assert v["covered"]["cap_share"] == pytest.approx(path.loc[2024, "share"])
    assert v["cap_peak_year"] == 2024
    # the projection of the packaged plan scenario peaks by 2030 (or the verdict says why not)
    assert v["consistent"] is (v["projection_peak_year"] <= 2030 and not v["reasons"])
    # a cap that rises after 2030 is not consistent, and says so
    wm.set_cap(store, ADMIN, year=2031, value=4.0, unit="亿t", source="synthetic test path")
    v = wm.peak_link_view(store, ANALYST, year=2024)
    assert v["consistent"] is False
    assert any("after 2030" in r for r in v["reasons"])


def test_scope_from_the_principal(store):
    stock(store)
    v = wm.peak_link_view(store, GZ, year=2024)
    assert list(v["entities"]["enterprise_id"]) == ["ENT-T"]
    assert list(v["by_city"]["city"]) == ["GD-GZ"]
    assert "path" not in v
    assert "covered" not in v
    with pytest.raises(PermissionDenied):
        wm.peak_link_view(store, ENT, year=2024)


def test_an_allocation_is_issued_once_per_year(store):
    stock(store)
    ents = pd.DataFrame({"enterprise_id": ["ENT-T"], "sector": ["textiles"], "city": ["GD-GZ"]})
    with pytest.raises(Exception, match="already has its 2024 GDEA allocation"):
        wm.allocate_from_store(store, ADMIN, entities=ents, ruleset_id="guangdong-2024", year=2024,
                               params={"allocation.history.base_years": 3}, issue=True)
    assert wm.balance(store, ADMIN, "ENT-T:holding")["balance"].tolist() == [93_100]


def test_peak_link_and_cap_from_the_command_line(tmp_path):
    import json

    from tests.markets.market_fixtures import seed_peak_link
    from tests.stores import db_location
    from typer.testing import CliRunner

    from carbonpeak.cli import app
    from carbonpeak.store import Store

    db = str(db_location(tmp_path / "cli.duckdb"))
    s = Store(db)
    wm.setup(s)
    seed_peak_link(s)
    s.close()
    r = CliRunner()

    def run(*args: str) -> object:
        res = r.invoke(app, [*args, "--db", db, "-f", "json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    v = run("markets", "peak-link", "--year", "2024")
    assert v["cap_basis"] == "cap"
    assert [x["year"] for x in v["path"]] == list(range(2024, 2031))
    assert {x["sector"] for x in v["by_sector"]} == {"cement", "textiles"}
    caps = run("markets", "cap", "--year", "2031", "--set", "2.7", "--unit", "亿t", "--source", "synthetic")
    assert caps[-1] == {**caps[-1], "year": 2031, "cap_t": pytest.approx(2.7e8), "given": "2.7 亿t"}
    res = r.invoke(app, ["markets", "peak-link", "--db", db])
    assert res.exit_code != 0


def test_coverage_from_the_store(store):
    """Guangdong 2024 thresholds (>= 10,000 tCO2 or >= 5,000 tce; sectors.csv): ENT-T's 2024
    sign-off of 97,000 t reaches the threshold, but textiles is voluntary and it did not apply: the
    plan's widening brings it in; a ceramics enterprise (mandatory) with 6,000 tce of monitored
    energy and no sign-off is covered on its energy use."""
    stock(store)
    store.con.execute("INSERT INTO batches (batch_id, kind, source, submitter, rows, created_at) VALUES "
                      "('t:9', 'mon_units', 'test', 'test', 1, ?)", [dt.datetime.now(dt.UTC)])
    store.con.execute(
        "INSERT INTO mon_units (unit_id, name, uscc, industry_code, city, kind, hub_node, registered_level, "
        "synthetic, batch_id) VALUES ('U9', 'kiln', 'ENT-K', 'C30', 'GD-FS', 'industrial', FALSE, 'provincial', TRUE, "
        "'t:9')")
    store.con.execute("INSERT INTO mon_runs (run_id, started_at, date_from, date_to, engine, source) VALUES "
                      "('r1', ?, ?, ?, 'duckdb', 'test')", [dt.datetime.now(dt.UTC), dt.date(2024, 1, 1),
                                                           dt.date(2024, 12, 31)])
    store.con.execute("INSERT INTO mon_unit_day (unit_id, date, energy_type, tce, run_id) VALUES "
                      "('U9', ?, 'coal', 6000.0, 'r1')", [dt.date(2024, 3, 1)])
    ents = pd.DataFrame({"enterprise_id": ["ENT-T", "ENT-C", "ENT-K"], "sector": ["textiles", "cement", "ceramics"],
                         "city": ["GD-GZ", "GD-YF", "GD-FS"], "applied": [False, False, False]})
    with pytest.raises(PermissionDenied):
        wm.coverage_from_store(store, GZ, enterprises=ents, year=2024)
    res = wm.coverage_from_store(store, ANALYST, enterprises=ents, year=2024, widen=True)
    d = res["decisions"].set_index("enterprise_id")
    assert d.loc["ENT-T", "emissions_tco2"] == 97_000.0
    assert d.loc["ENT-T", "data_source"] == "sign-off 2024"
    assert d.loc["ENT-K", "energy_tce"] == 6000.0
    assert d.loc["ENT-K", "data_source"] == "monitoring 2024"
    assert d.loc["ENT-T", "status"] == "not_applied"
    assert (bool(d.loc["ENT-K", "covered"]), d.loc["ENT-K", "status"]) == (True, "mandatory")
    assert d.loc["ENT-K", "basis"].startswith("energy 6,000 >= 5,000 tce")
    assert list(res["widening"]["entities"]["enterprise_id"]) == ["ENT-T"]
    with pytest.raises(Exception, match="comes from the store"):
        wm.coverage_from_store(store, ANALYST, enterprises=ents.assign(energy_tce=1.0), year=2024)


def test_true_up_with_the_actual_figures(store):
    """多退少补: ENT-C's actual 2024 output grows by a second monitoring row of 100,000 t clinker
    (1,100,000 t × 0.85 = 935,000 t; free = 935,000 × the cement free share), issued the difference;
    ENT-T's base emissions restated to 90,000 t a year by an override: 88,200 t, free 83,790 t
    against 93,100 t issued -> 9,310 t withdrawn from its holding."""
    res = stock(store)
    before = res["allocation"].set_index("enterprise_id")["quantity"]
    store.con.execute(
        "INSERT INTO mon_output (unit_id, product, period_start, period_end, quantity, unit, batch_id, source_file, "
        "source_row) VALUES ('U1', 'clinker', ?, ?, 100000, 't', 't:1', 'output-q4.csv', 2)",
        [dt.date(2024, 10, 1), dt.date(2024, 12, 31)])
    ents = pd.DataFrame({"enterprise_id": ["ENT-T", "ENT-C"], "sector": ["textiles", "cement"],
                         "activity": ["*", "clinker"], "city": ["GD-GZ", "GD-YF"], "method": [None, "benchmark"]})
    ov = pd.DataFrame({"enterprise_id": ["ENT-T"], "base_emissions": ["2021:90000;2022:90000;2023:90000"],
                       "reason": ["restated"]})
    params = {"allocation.history.base_years": 3, "allocation.benchmark.value[cement:clinker]": "0.85 tCO2/t",
              "allocation.benchmark.annual_factor": 1.0}
    with pytest.raises(PermissionDenied):
        wm.true_up_from_store(store, ANALYST, entities=ents, ruleset_id="guangdong-2024", year=2024, params=params)
    tu = wm.true_up_from_store(store, ADMIN, entities=ents, ruleset_id="guangdong-2024", year=2024, params=params,
                               override=ov, override_source="restated.csv")
    d = tu["true_up"].set_index("enterprise_id")
    assert d.loc["ENT-T", "delta"] == 83_790 - 93_100
    assert d.loc["ENT-T", "action"] == "withdraw"
    share = before["ENT-C"] / 850_000
    assert d.loc["ENT-C", "delta"] == int(935_000 * share) - int(before["ENT-C"])
    assert wm.balance(store, ADMIN, "ENT-T:holding")["balance"].tolist() == [83_790]
    assert int(wm.balance(store, ADMIN, "ENT-C:holding")["balance"].sum()) == int(d.loc["ENT-C", "final"])
    rows = sm.allocations(store, 2024).set_index("enterprise_id")
    assert rows.loc["ENT-T", "issued"] == 83_790
    assert rows.loc["ENT-T", "reference"].endswith("true-up")
    assert sm.check_integrity(store) == []
