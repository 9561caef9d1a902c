"""Rules on hand-made meter-day tables: PUE and grades, product limits and surcharges, budgets,
reported vs metered, digit tests; and the CLI end to end."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from tests.stores import db_location

from carbonpeak.monitoring.pipeline import day_number, finish
from carbonpeak.monitoring.rules import digit_tests, evaluate

D0 = dt.date(2016, 3, 1)


def _meter(mid, uid, et, point, unit, parent=""):
    return {"meter_id": mid, "unit_id": uid, "energy_type": et, "point": point, "kind": "interval", "unit": unit,
            "interval_minutes": 15, "parent_meter_id": parent, "product": "", "rollover": None, "max_interval_value": None}  # fmt: skip


def _md(rows):
    out = []
    for mid, day, energy in rows:
        out.append({"meter_id": mid, "day": day_number(day), "n": 96, "energy": energy, "vmin": energy / 96 * 0.9,
                    "vmax": energy / 96 * 1.1, "n_negative": 0, "n_impossible": 0, "n_resets": 0, "n_rollovers": 0,
                    "first_epoch": 0, "last_epoch": 95 * 900})  # fmt: skip
    return pd.DataFrame(out)


def _units(*rows, dc_build="", dc_size=""):
    return pd.DataFrame([{"unit_id": u, "name": u, "city": "GD-GZ", "kind": k, "industry_code": "6450", "hub_node": h,
                          "registered_level": lvl, "dc_build": dc_build, "dc_size": dc_size}
                         for u, k, h, lvl in rows])  # fmt: skip


def test_pue_limit_hub_node_and_grade(coef, cat):
    """New large sites in 2025: 1.3, or 1.25 in a national hub node (发改高技〔2021〕1742号)."""
    meters = pd.DataFrame([_meter("A-S", "A", "electricity", "site", "kWh"), _meter("A-IT", "A", "electricity", "it", "kWh", "A-S"),
                           _meter("B-S", "B", "electricity", "site", "kWh"), _meter("B-IT", "B", "electricity", "it", "kWh", "B-S")])  # fmt: skip
    days = [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(31)]
    md = _md([(m, d, e) for d in days for m, e in (("A-S", 1280.0), ("A-IT", 1000.0), ("B-S", 1280.0), ("B-IT", 1000.0))])
    res = finish(md, meters, _units(("A", "data_centre", False, "none"), ("B", "data_centre", True, "none"),
                                    dc_build="new", dc_size="large"), coef,
                 date_from=days[0], date_to=days[-1], engine="duckdb")  # fmt: skip
    rr = evaluate(res, cat)
    month = rr.pue[rr.pue["grain"] == "month"].set_index("unit_id")
    assert month.loc["A", "pue"] == pytest.approx(1.28)
    assert month.loc["A", "grade"] == "2"  # GB 40879-2021: grade 2 <= 1.30
    assert not month.loc["A", "over_limit"]  # limit 1.3 for an ordinary data centre
    assert month.loc["B", "over_limit"]  # limit 1.25 for a national hub node
    over = rr.alerts[rr.alerts["kind"] == "pue_over_limit"]
    assert set(over["unit_id"]) == {"B"}
    assert over["rule_source"].str.contains("1742").all()


def _al_case(coef, cat, sec_kwh_per_t, year):
    d0 = dt.date(year, 3, 1)
    days = [d0 + dt.timedelta(days=i) for i in range(31)]
    meters = pd.DataFrame([_meter("AL-S", "AL", "electricity", "site", "kWh")])
    md = _md([("AL-S", d, sec_kwh_per_t * 100.0) for d in days])  # 100 t of aluminium a day
    output = pd.DataFrame([{"unit_id": "AL", "product": "aluminium_liquid", "period_start": days[0], "period_end": days[-1],
                            "quantity": 3100.0, "unit": "t"}])  # fmt: skip
    res = finish(md, meters, _units(("AL", "aluminium", False, "national")), coef, date_from=days[0], date_to=days[-1],
                 engine="duckdb")  # fmt: skip
    p = evaluate(res, cat, output=output).products
    # 2530号 (2014-2021) is measured on 铝液交流电耗, 1239号 (2022-) on 铝液综合交流电耗
    return p[p["indicator"] == ("ac" if year <= 2021 else "comprehensive_ac")].iloc[0]


def test_aluminium_tiered_surcharge_2014_rule(coef, cat):
    """发改价格〔2013〕2530号 tiers (from 2014): 13,700-13,800 kWh/t +0.02 yuan/kWh."""
    p = _al_case(coef, cat, 13750.0, 2016)
    assert p["sec"] == pytest.approx(13750.0)
    assert p["grade"] == "over limit"  # GB 21346-2022 limit 13,350 kWh/t
    assert p["surcharge_yuan_per_kwh"] == pytest.approx(0.02)
    assert p["surcharge_yuan"] == pytest.approx(0.02 * 13750.0 * 3100)


def test_aluminium_surcharge_2021_formula(coef, cat):
    """发改价格〔2021〕1239号 一(一): above 13,650 kWh/t (2022), +0.01 yuan/kWh per 20 kWh/t, a started
    step counting as a full one ("不足20千瓦时的，按20千瓦时计算"); 13,450 from 2023 (一(二))."""
    assert _al_case(coef, cat, 13725.0, 2022)["surcharge_yuan_per_kwh"] == pytest.approx(0.04)  # 75 kWh/t: 4 steps
    assert _al_case(coef, cat, 13670.0, 2022)["surcharge_yuan_per_kwh"] == pytest.approx(0.01)  # exactly 1 step
    assert _al_case(coef, cat, 13650.0, 2022)["surcharge_yuan_per_kwh"] == 0.0  # not above the threshold
    assert _al_case(coef, cat, 13475.0, 2023)["surcharge_yuan_per_kwh"] == pytest.approx(0.02)  # 25 over 13,450


def test_clinker_classes_and_generic_punitive_surcharge(coef, cat):
    d0 = dt.date(2025, 3, 1)
    days = [d0 + dt.timedelta(days=i) for i in range(31)]
    meters = pd.DataFrame([_meter("C-S", "C", "electricity", "site", "kWh"), _meter("C-F", "C", "raw_coal", "site", "t")])
    # 1000 t clinker a day: 50 kWh/t electricity + coal making up 128 kgce/t in total
    coal_t = (128.0 - 50 * 0.1229) * 1000 / 714.3
    md = _md([(m, d, e) for d in days for m, e in (("C-S", 50_000.0), ("C-F", coal_t))])
    output = pd.DataFrame([{"unit_id": "C", "product": "clinker", "period_start": days[0], "period_end": days[-1],
                            "quantity": 31_000.0, "unit": "t"}])  # fmt: skip
    res = finish(md, meters, _units(("C", "cement", False, "national")), coef, date_from=days[0], date_to=days[-1], engine="duckdb")
    rr = evaluate(res, cat, output=output)
    p = rr.products.iloc[0]
    assert p["sec"] == pytest.approx(128.0, rel=1e-6)
    assert (p["grade"], p["ndrc_class"]) == ("over limit", "below base")
    assert p["surcharge_yuan_per_kwh"] == pytest.approx(0.10)  # ratio 128/117 in (1, 2]
    kinds = set(rr.alerts["kind"])
    assert {"product_over_limit", "product_below_base"} <= kinds


def test_budget_warnings_and_inclusion(coef, cat):
    d0 = dt.date(2025, 1, 1)
    days = [d0 + dt.timedelta(days=i) for i in range(60)]
    meters = pd.DataFrame([_meter("X-S", "X", "electricity", "site", "kWh")])
    md = _md([("X-S", d, 300_000.0) for d in days])  # 36.87 tce a day -> 13,458 tce a year
    res = finish(md, meters, _units(("X", "other", False, "provincial")), coef, date_from=days[0], date_to=days[-1], engine="duckdb")
    budgets = pd.DataFrame([{"unit_id": "X", "year": 2025, "budget_tce": 2500.0}])
    rr = evaluate(res, cat, budgets=budgets)
    b = rr.budgets.iloc[0]
    assert b["to_date_tce"] == pytest.approx(60 * 300_000 * 0.1229e-3)
    assert b["forecast_tce"] == pytest.approx(b["to_date_tce"] / 60 * 365)
    w = rr.alerts[rr.alerts["kind"] == "budget_warning"]
    assert w["threshold"].tolist() == [0.8]  # 2212 tce = 88 % of 2500
    assert set(rr.alerts["kind"]) >= {"budget_forecast_over", "inclusion_national"}


def test_reported_vs_metered(coef, cat):
    d0 = dt.date(2025, 1, 1)
    days = [d0 + dt.timedelta(days=i) for i in range(31)]
    meters = pd.DataFrame([_meter("Y-S", "Y", "electricity", "site", "kWh")])
    md = _md([("Y-S", d, 10_000.0) for d in days])
    res = finish(md, meters, _units(("Y", "other", False, "none")), coef, date_from=days[0], date_to=days[-1], engine="duckdb")
    metered = 31 * 10_000 * 0.1229e-3
    for reported, flagged in ((metered * 0.97, False), (metered * 0.9, True)):
        rep = pd.DataFrame([{"unit_id": "Y", "period_start": days[0], "period_end": days[-1], "energy_tce": reported}])
        rr = evaluate(res, cat, reported=rep)
        assert ("reported_vs_metered" in set(rr.alerts["kind"])) == flagged


def test_digit_tests(cat):
    rng = np.random.default_rng(0)
    benford = 10 ** rng.uniform(1, 5, 400)  # log-uniform figures follow Benford's law
    rounded = np.round(rng.uniform(100, 9000, 400), -1)  # every figure ends in 0
    rep = pd.DataFrame({"unit_id": ["good"] * 400 + ["bad"] * 400, "energy_tce": np.concatenate([benford, rounded]),
                        "period_start": dt.date(2025, 1, 1), "period_end": dt.date(2025, 1, 31)})  # fmt: skip
    t = digit_tests(rep, cat).set_index(["unit_id", "test"])
    assert t.loc[("good", "benford_first_digit"), "p_value"] > 0.01
    assert t.loc[("good", "uniform_last_digit"), "p_value"] > 0.01
    assert t.loc[("bad", "uniform_last_digit"), "p_value"] < 1e-6


def test_cli_end_to_end(tmp_path, capsys, monkeypatch):
    """generate → ingest → run → alerts → review → pue, with the packaged catalog."""
    from carbonpeak.cli import main

    db = str(db_location(tmp_path / "m.duckdb"))
    out = tmp_path / "syn"
    assert main(["monitor", "generate", "--out", str(out), "--units", "24", "--days", "32", "--seed", "3", "--format", "json"]) == 0
    capsys.readouterr()
    files = [str(out / "registry" / f"{k}.csv") for k in ("units", "meters", "output", "budgets", "reported", "uploads")]
    assert main(["monitor", "ingest", *files, str(out / "readings"), "--db", db, "--format", "json"]) == 0
    ing = json.loads(capsys.readouterr().out)["ingested"]
    assert [r["kind"] for r in ing] == ["units", "meters", "output", "budgets", "reported", "uploads", "readings"]
    assert main(["monitor", "ingest", str(out / "readings"), "--db", db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ingested"][0]["created"] is False
    assert main(["monitor", "run", "--from", "2025-01-01", "--to", "2025-02-01", "--db", db, "--format", "json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["intervals"] > 0
    assert run["tce"] > 0
    assert main(["monitor", "alerts", "--kind", "pue_over_limit", "--db", db, "--format", "json"]) == 0
    alerts = json.loads(capsys.readouterr().out)
    assert alerts
    assert all(a["why"] and a["rule_source"] for a in alerts)
    aid = alerts[0]["alert_id"]
    assert main(["monitor", "review", aid, "--comment", "cooling retrofit scheduled", "--db", db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "reviewed"
    # a re-run keeps the review
    assert main(["monitor", "run", "--from", "2025-01-01", "--to", "2025-02-01", "--db", db, "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["monitor", "alerts", "--status", "reviewed", "--db", db, "--format", "csv"]) == 0
    assert aid in capsys.readouterr().out
    assert main(["monitor", "pue", "--grain", "month", "--db", db, "--format", "csv"]) == 0
    assert "pue" in capsys.readouterr().out.splitlines()[0]
    assert main(["monitor", "totals", "--by", "city", "--db", db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)
    assert main(["monitor", "run", "--from", "2025-02-01", "--to", "2025-01-01", "--db", db]) == 2


def test_rollups_and_coal_substitution(factors, cat):
    from carbonpeak.monitoring.catalog import catalog_coefficients

    d0 = dt.date(2025, 1, 30)
    days = [d0 + dt.timedelta(days=i) for i in range(4)]
    meters = pd.DataFrame([_meter("Z-S", "Z", "electricity", "site", "kWh"), _meter("W-S", "W", "electricity", "site", "MWh")])
    md = _md([(m, d, e) for d in days for m, e in (("Z-S", 1000.0), ("W-S", 2.0))])
    units = _units(("Z", "other", False, "none"), ("W", "other", False, "none"))
    units.loc[1, "city"] = "GD-SZ"
    sub = catalog_coefficients(factors, electricity_method="coal_substitution",
                               grid_fn=lambda year, grid="national": factors.get("electricity", "grid_ef_test"))  # fmt: skip
    res = finish(md, meters, units, sub, date_from=days[0], date_to=days[-1], engine="duckdb")
    # fixture coal-substitution coefficient 0.300 kgce/kWh; W's meter is in MWh
    assert res.unit_day["tce"].sum() == pytest.approx(4 * (1000 + 2000) * 0.300e-3)
    city = res.rollup("city").set_index("city")["tce"]
    assert city["GD-SZ"] == pytest.approx(4 * 2000 * 0.300e-3)
    month = res.rollup("month").set_index("month")["tce"]
    assert list(month.index) == ["2025-01", "2025-02"]
    assert month.sum() == pytest.approx(res.unit_day["tce"].sum())


def test_threshold_override(cat):
    from carbonpeak.errors import CatalogError
    from carbonpeak.monitoring.catalog import load_catalog

    c = load_catalog({"completeness_min": 0.95})
    assert c.t("completeness_min") == 0.95
    assert "user override" in c.source("completeness_min")
    with pytest.raises(CatalogError):
        load_catalog({"nope": 1})
