"""Rules that mean what their standards mean (issue 14): alert identity, the compliance basis of
electricity, aluminium's 2021 tiered price, the scope of the PUE target, per-period consistency,
Benford's validity, surcharge bands and precision, and the corrections the standards prescribe."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from carbonpeak.monitoring.catalog import catalog_coefficients, load_catalog
from carbonpeak.monitoring.checks.products import round_std, surcharge
from carbonpeak.monitoring.pipeline import day_number, finish
from carbonpeak.monitoring.rules import digit_tests, evaluate


def _meter(mid, uid, et, point, unit, parent="", product=""):
    return {"meter_id": mid, "unit_id": uid, "energy_type": et, "point": point, "kind": "interval", "unit": unit,
            "interval_minutes": 15, "parent_meter_id": parent, "product": product, "rollover": None,
            "max_interval_value": None}  # fmt: skip


def _md(rows):
    return pd.DataFrame([{"meter_id": m, "day": day_number(d), "n": 96, "energy": e, "vmin": e / 96, "vmax": e / 96,
                          "n_negative": 0, "n_impossible": 0, "n_resets": 0, "n_rollovers": 0, "first_epoch": 0,
                          "last_epoch": 95 * 900} for m, d, e in rows])  # fmt: skip


def _units(*rows, **attrs):
    return pd.DataFrame([{"unit_id": u, "name": u, "city": "GD-GZ", "kind": k, "industry_code": "3011", "hub_node": False,
                          "registered_level": "national", **attrs} for u, k in rows])  # fmt: skip


def _days(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def _dc(coef, pue: float, days: list[dt.date], **attrs):
    meters = pd.DataFrame([_meter("D-S", "D", "electricity", "site", "kWh"), _meter("D-IT", "D", "electricity", "it", "kWh", "D-S")])
    md = _md([(m, d, e) for d in days for m, e in (("D-S", 1000.0 * pue), ("D-IT", 1000.0))])
    return finish(md, meters, _units(("D", "data_centre"), **attrs), coef, date_from=days[0], date_to=days[-1], engine="duckdb")


# -- alert identity -----------------------------------------------------------------------------------
def test_monthly_warning_and_yearly_error_both_kept(coef, cat):
    """Issue 14: a data centre at PUE 1.378 against 1.3 for the month and the year keeps its monthly
    warning and its yearly error (the same days, so only the grain tells them apart)."""
    res = _dc(coef, 1.378, _days(dt.date(2025, 3, 1), 31), dc_build="new", dc_size="large")
    al = evaluate(res, cat).alerts
    pue = al[al["kind"] == "pue_over_limit"].set_index("grain")
    assert pue.loc["month", "severity"] == "warning"
    assert pue.loc["year", "severity"] == "error"
    assert pue.loc["day", "severity"] == "info"
    assert pue["alert_id"].is_unique
    assert (pue["period_start"] == dt.date(2025, 3, 1)).all()
    assert (pue["period_end"] == dt.date(2025, 3, 31)).all()


def test_alert_id_of_alerts_without_grain_is_unchanged():
    from carbonpeak.monitoring.alerts import Alert

    a = Alert("gap", "warning", "U", "M", dt.date(2025, 1, 1), dt.date(2025, 1, 2), 0.5, 0.9, "1", "o", "l", "s")
    import hashlib

    old = hashlib.sha1(b"gap|U|M||2025-01-01|2025-01-02").hexdigest()[:16]
    assert a.alert_id == old  # reviews stored before the upgrade are kept
    b = Alert("gap", "warning", "U", "M", dt.date(2025, 1, 1), dt.date(2025, 1, 2), 0.5, 0.9, "1", "o", "l", "s", grain="month")
    assert b.alert_id != a.alert_id


# -- the electricity method must not change compliance -----------------------------------------------
def _clinker(coef, sec_total: float = 110.0, days=None):
    days = days or _days(dt.date(2025, 3, 1), 31)
    meters = pd.DataFrame([_meter("C-S", "C", "electricity", "site", "kWh"), _meter("C-F", "C", "raw_coal", "site", "t")])
    coal_t = (sec_total - 50 * 0.1229) * 1000 / 714.3  # 1000 t clinker a day, 50 kWh/t
    md = _md([(m, d, e) for d in days for m, e in (("C-S", 50_000.0), ("C-F", coal_t))])
    output = pd.DataFrame([{"unit_id": "C", "product": "clinker", "period_start": days[0], "period_end": days[-1],
                            "quantity": 1000.0 * len(days), "unit": "t"}])  # fmt: skip
    return md, meters, output, days


def test_electricity_method_does_not_change_compliance(factors, cat):
    """Coal substitution for the statistics (0.300 kgce/kWh in the fixture) must not move a compliant
    clinker line (110 kgce/t, 当量值 per GB/T 2589-2020 table A.2) over its limit, charge it a surcharge,
    exhaust its budget or make its honest report look under-reported."""
    grid = lambda year, grid="national": factors.get("electricity", "grid_ef_test")  # noqa: E731
    out = {}
    for method in ("calorific", "coal_substitution"):
        coef = catalog_coefficients(factors, electricity_method=method, grid_fn=grid)
        md, meters, output, days = _clinker(coef)
        res = finish(md, meters, _units(("C", "cement")), coef, date_from=days[0], date_to=days[-1], engine="duckdb")
        reported = pd.DataFrame([{"unit_id": "C", "period_start": days[0], "period_end": days[-1], "energy_tce": 110.0 * 31}])
        budgets = pd.DataFrame([{"unit_id": "C", "year": 2025, "budget_tce": 110.0 * 365 * 1.1}])
        out[method] = (res, evaluate(res, cat, output=output, reported=reported, budgets=budgets))
    (res_c, rr_c), (res_s, rr_s) = out["calorific"], out["coal_substitution"]
    assert res_s.unit_day["tce"].sum() > res_c.unit_day["tce"].sum() * 1.05  # the statistics do change
    for rr in (rr_c, rr_s):
        p = rr.products.iloc[0]
        assert p["sec"] == pytest.approx(110.0)
        assert p["grade"] == "3"
        assert p["surcharge_yuan_per_kwh"] == 0.0
        assert rr.budgets["to_date_tce"].iloc[0] == pytest.approx(110.0 * 31, rel=1e-9)
        assert not {"product_over_limit", "reported_vs_metered", "budget_warning", "budget_forecast_over"} & set(rr.alerts["kind"])


def test_refining_counts_electricity_at_the_previous_years_substitution_value(factors, cat):
    """GB 30251-2024 §6.1.5: refining and ethylene count electricity at 等价值 ('按上年电厂发电标准煤耗')."""
    grid = lambda year, grid="national": factors.get("electricity", "grid_ef_test")  # noqa: E731
    coef = catalog_coefficients(factors, electricity_method="calorific", grid_fn=grid)
    days = _days(dt.date(2025, 3, 1), 10)
    meters = pd.DataFrame([_meter("R-S", "R", "electricity", "site", "kWh")])
    md = _md([("R-S", d, 100_000.0) for d in days])
    output = pd.DataFrame([{"unit_id": "R", "product": "refining", "period_start": days[0], "period_end": days[-1],
                            "quantity": 10_000.0, "unit": "t"}])  # fmt: skip
    res = finish(md, meters, _units(("R", "refining")), coef, date_from=days[0], date_to=days[-1], engine="duckdb")
    p = evaluate(res, cat, output=output).products.iloc[0]
    # 1e6 kWh × 0.300 kgce/kWh (fixture substitution value of 2024) / 10,000 t / 1.4286 kgce/kgoe
    assert p["sec_raw"] == pytest.approx(1e6 * 0.300 / 10_000 / 1.4286, rel=1e-4)
    assert p["electricity_basis"] == "substitution_prev"


# -- aluminium -------------------------------------------------------------------------------------
def _al(coef, cat, *, line_kwh_t, site_kwh_t, year=2022, share=None, weights=None):
    days = _days(dt.date(year, 3, 1), 31)
    meters = pd.DataFrame([_meter("A-S", "A", "electricity", "site", "kWh"),
                           _meter("A-L", "A", "electricity", "product_line", "kWh", "A-S", "aluminium_liquid")])  # fmt: skip
    md = _md([(m, d, e) for d in days for m, e in (("A-S", site_kwh_t * 100), ("A-L", line_kwh_t * 100))])
    out = {"unit_id": "A", "product": "aluminium_liquid", "period_start": days[0], "period_end": days[-1], "quantity": 3100.0,
           "unit": "t", "nonhydro_renewable_share": share}  # fmt: skip
    c = load_catalog({"nonhydro_weight_incentive": weights}) if weights is not None else cat
    res = finish(md, meters, _units(("A", "aluminium")), coef, date_from=days[0], date_to=days[-1], engine="duckdb")
    return evaluate(res, c, output=pd.DataFrame([out])).products.set_index("indicator")


def test_aluminium_ladder_uses_comprehensive_ac_not_the_gb21346_ac_limit(coef, cat):
    """The cells (product-line meters) at 13,300 kWh/t meet GB 21346's 交流电耗 limit (13,350); the
    site's 综合交流电耗 13,700 is what 1239号 tiers: 50 kWh/t over 13,650 = 3 started steps of 20."""
    p = _al(coef, cat, line_kwh_t=13300, site_kwh_t=13700)
    assert p.loc["ac", "grade"] != "over limit"
    assert p.loc["ac", "surcharge_yuan_per_kwh"] == 0.0
    assert p.loc["comprehensive_ac", "sec"] == pytest.approx(13700)
    assert p.loc["comprehensive_ac", "surcharge_yuan_per_kwh"] == pytest.approx(0.03)


def test_aluminium_nonhydro_renewable_reduction(coef, cat):
    """1239号 一(三): share above 15 % and not below the province's previous-year incentive weight lowers
    the surcharge by 1 % per percentage point (25 % → 10 % lower)."""
    base = _al(coef, cat, line_kwh_t=13300, site_kwh_t=13725, share=0.25)
    assert base.loc["comprehensive_ac", "surcharge_yuan_per_kwh"] == pytest.approx(0.04)  # weight unknown: no reduction
    assert "incentive weight is not known" in base.loc["comprehensive_ac", "corrections"]
    red = _al(coef, cat, line_kwh_t=13300, site_kwh_t=13725, share=0.25, weights={2021: 0.2})
    assert red.loc["comprehensive_ac", "surcharge_yuan_per_kwh"] == pytest.approx(0.04 * 0.90)
    below = _al(coef, cat, line_kwh_t=13300, site_kwh_t=13725, share=0.25, weights={2021: 0.3})
    assert below.loc["comprehensive_ac", "surcharge_yuan_per_kwh"] == pytest.approx(0.04)
    low = _al(coef, cat, line_kwh_t=13300, site_kwh_t=13725, share=0.15, weights={2021: 0.1})
    assert low.loc["comprehensive_ac", "surcharge_yuan_per_kwh"] == pytest.approx(0.04)


# -- PUE scope -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("attrs", "start", "bound"),
    [
        ({"dc_build": "new", "dc_size": "large"}, dt.date(2025, 3, 1), True),
        ({"dc_build": "new", "dc_size": "hyperscale"}, dt.date(2026, 3, 1), True),
        ({"dc_build": "new", "dc_size": "large"}, dt.date(2024, 3, 1), False),  # by 2025
        ({"dc_build": "existing", "dc_size": "large"}, dt.date(2025, 3, 1), False),
        ({"dc_build": "new", "dc_size": "medium"}, dt.date(2025, 3, 1), False),
        ({"dc_build": "", "dc_size": ""}, dt.date(2025, 3, 1), False),  # not registered: GB 40879 only
    ],
)
def test_pue_target_binds_new_large_sites_from_2025(coef, cat, attrs, start, bound):
    rr = evaluate(_dc(coef, 1.378, _days(start, 31), **attrs), cat)
    assert ("pue_over_limit" in set(rr.alerts["kind"])) == bound
    year = rr.pue[rr.pue["grain"] == "year"].iloc[0]
    assert year["grade"] == "3"  # GB 40879-2021 grades every site
    assert ("bound" in year["target"])
    assert (year["target"].startswith("bound") == bound)


def test_gb40879_grade3_for_unbound_sites_and_edge_exclusion(coef, cat):
    rr = evaluate(_dc(coef, 1.6, _days(dt.date(2025, 3, 1), 31), dc_build="existing", dc_size="medium"), cat)
    g = rr.alerts[rr.alerts["kind"] == "pue_below_gb40879"].set_index("grain")["severity"].to_dict()
    assert g == {"month": "warning", "year": "error"}
    edge = evaluate(_dc(coef, 1.6, _days(dt.date(2025, 3, 1), 31), dc_build="existing", dc_size="edge"), cat)
    assert "pue_below_gb40879" not in set(edge.alerts["kind"])


# -- reported vs metered per period -----------------------------------------------------------------
def test_reported_vs_metered_compared_per_month_not_netted(coef, cat):
    days = _days(dt.date(2025, 1, 1), 59)
    meters = pd.DataFrame([_meter("Y-S", "Y", "electricity", "site", "kWh")])
    res = finish(_md([("Y-S", d, 10_000.0) for d in days]), meters, _units(("Y", "other")), coef, date_from=days[0],
                 date_to=days[-1], engine="duckdb")  # fmt: skip
    m = 10_000 * 0.1229e-3
    rep = pd.DataFrame([{"unit_id": "Y", "period_start": dt.date(2025, 1, 1), "period_end": dt.date(2025, 1, 31), "energy_tce": 31 * m * 1.10},
                        {"unit_id": "Y", "period_start": dt.date(2025, 2, 1), "period_end": dt.date(2025, 2, 28), "energy_tce": 28 * m * 0.90}])  # fmt: skip
    al = evaluate(res, cat, reported=rep).alerts
    r = al[al["kind"] == "reported_vs_metered"].set_index("period_start")
    assert len(r) == 2
    assert r.loc[dt.date(2025, 1, 1), "severity"] == "warning"
    assert r.loc[dt.date(2025, 1, 1), "value"] == pytest.approx(0.10)
    assert r.loc[dt.date(2025, 2, 1), "severity"] == "error"
    assert r.loc[dt.date(2025, 2, 1), "value"] == pytest.approx(-0.10)
    assert set(r["grain"]) == {"month"}


# -- Benford only where valid ----------------------------------------------------------------------
def test_benford_skipped_for_a_steady_plant_kept_for_a_wide_cross_section(cat):
    rng = np.random.default_rng(1)
    start = [dt.date(2020 + i // 12, i % 12 + 1, 1) for i in range(48)]
    steady = pd.DataFrame({"unit_id": "S", "period_start": start, "period_end": start,
                           "energy_tce": np.round(5000 * (1 + 0.1 * rng.standard_normal(48)), 1)})  # fmt: skip
    t = digit_tests(steady, cat)
    assert "benford_first_digit" not in set(t["test"])  # spans far less than 2 orders of magnitude
    assert "uniform_last_digit" in set(t["test"])  # the last-digit test is kept
    # many units of very different size: log-uniform over 4 orders of magnitude follows Benford
    wide = pd.DataFrame({"unit_id": [f"U{i}" for i in range(400)], "period_start": dt.date(2025, 1, 1),
                         "period_end": dt.date(2025, 1, 31), "energy_tce": np.round(10 ** rng.uniform(1, 5, 400), 1)})  # fmt: skip
    t = digit_tests(wide, cat).set_index(["unit_id", "test"])
    assert t.loc[(None, "benford_first_digit"), "p_value"] > 0.01
    assert t.loc[(None, "benford_first_digit"), "orders"] > 3


# -- surcharges ------------------------------------------------------------------------------------
def test_steel_punitive_rate_050_since_2017(cat):
    """发改价格〔2016〕2803号: steel's eliminated-class surcharge 0.5 yuan/kWh from 2017-01-01; over the
    limit by one time or more (一倍以上, the figure itself included) pays the eliminated-class rate."""
    assert surcharge(cat, "eaf_steel", "sec", 2017, 144.0, 72.0)[0] == pytest.approx(0.50)  # exactly 2×
    assert surcharge(cat, "eaf_steel", "sec", 2016, 144.0, 72.0)[0] == pytest.approx(0.30)  # before 2017
    assert surcharge(cat, "eaf_steel", "sec", 2025, 100.0, 72.0)[0] == pytest.approx(0.10)  # within 2×
    assert surcharge(cat, "clinker", "sec", 2025, 234.0, 117.0)[0] == pytest.approx(0.30)  # exactly 2×, not steel
    assert surcharge(cat, "clinker", "sec", 2025, 117.0, 117.0)[0] == 0.0  # at the limit


def test_negative_limit_converter_steel_is_checkable(cat):
    """Converter steel's limit is −12 kgce/t: −5 is over it (by 7/12), 0 is over it by one time."""
    assert surcharge(cat, "converter_steel", "sec", 2025, -5.0, -12.0)[0] == pytest.approx(0.10)
    assert surcharge(cat, "converter_steel", "sec", 2025, 0.0, -12.0)[0] == pytest.approx(0.50)
    assert surcharge(cat, "converter_steel", "sec", 2025, -13.0, -12.0)[0] == 0.0


def test_compare_at_the_standards_precision(coef, cat):
    """GB/T 8170-2008 rounding to the limit's printed precision: float noise is not 'over 117'."""
    assert round_std(117.00000000000001, 0) == 117.0
    assert round_std(117.5, 0) == 118.0
    assert round_std(116.5, 0) == 116.0
    assert round_std(-12.5, 0) == -12.0
    for sec, over in ((117.4, False), (117.00000000000001, False), (117.6, True)):
        md, meters, output, days = _clinker(coef, sec_total=sec)
        res = finish(md, meters, _units(("C", "cement")), coef, date_from=days[0], date_to=days[-1], engine="duckdb")
        p = evaluate(res, cat, output=output).products.iloc[0]
        assert (p["grade"] == "over limit") == over, sec


# -- corrections and the product line -----------------------------------------------------------------
def _cement_case(coef, cat, *, sec=100.0, product="cement", extra=None, unit_attrs=None, line=False):
    days = _days(dt.date(2025, 3, 1), 31)
    rows = [_meter("K-S", "K", "electricity", "site", "kWh"), _meter("K-F", "K", "raw_coal", "site", "t")]
    coal_t = (sec - 40 * 0.1229) * 1000 / 714.3
    energy = [("K-S", 40_000.0), ("K-F", coal_t)]
    if line:
        rows.append(_meter("K-L", "K", "raw_coal", "product_line", "t", "K-F", product))
        energy.append(("K-L", coal_t * 0.9))
    md = _md([(m, d, e) for d in days for m, e in energy])
    out = {"unit_id": "K", "product": product, "period_start": days[0], "period_end": days[-1], "quantity": 31_000.0,
           "unit": "t" if not product.startswith("ceramic") else "m**2", **(extra or {})}  # fmt: skip
    res = finish(md, pd.DataFrame(rows), _units(("K", "cement"), **(unit_attrs or {})), coef, date_from=days[0],
                 date_to=days[-1], engine="duckdb")  # fmt: skip
    return evaluate(res, cat, output=pd.DataFrame([out]))


def test_clinker_ratio_correction_gb16780(coef, cat):
    """Cement limits are on a 75 % clinker basis: at 85 % grade 3 is 94 + 10 × 1.20 = 106 (§5.4)."""
    plain = _cement_case(coef, cat, sec=100.0)
    assert plain.products.iloc[0]["grade"] == "over limit"
    assert "clinker-ratio correction not applied" in plain.products.iloc[0]["corrections"]
    corr = _cement_case(coef, cat, sec=100.0, extra={"clinker_ratio": 85.0})
    p = corr.products.iloc[0]
    assert p["grade3"] == pytest.approx(106.0)
    assert p["grade1"] == pytest.approx(91.0)
    assert p["grade"] == "3"  # within the corrected limit value (grade 2 is 87 + 10 × 1.15 = 98.5)


def test_altitude_correction_gb16780(coef, cat):
    """Above 1500 m grade 3 × (1.179 − 0.211 P / 101325) (§5.3 formula (1)); without the pressure, a note."""
    p = _cement_case(coef, cat, sec=118.0, product="clinker", unit_attrs={"altitude_m": 2000.0, "pressure_pa": 80_000.0})
    f = 1.179 - 0.211 * 80_000 / 101_325
    row = p.products.iloc[0]
    assert row["grade3"] == pytest.approx(round(117 * f, 2))
    assert row["grade"] == "3"
    nop = _cement_case(coef, cat, sec=118.0, product="clinker", unit_attrs={"altitude_m": 2000.0, "pressure_pa": None})
    assert "altitude correction not applied" in nop.products.iloc[0]["corrections"]


def test_feed_grade_ore_mix_and_thickness_corrections(cat):
    from carbonpeak.monitoring.checks.products import corrected_levels

    lv = {"grade1": 361.0, "grade2": 370.0, "grade3": 415.0}
    out, _ = corrected_levels(cat, "hot_metal", lv, {"feed_grade": 58.0}, {})
    assert out["grade3"] == pytest.approx(415 + 4 * 3.61)
    out, _ = corrected_levels(cat, "hot_metal", lv, {"feed_grade": 50.0}, {})
    assert out["grade3"] == pytest.approx(415 + 5 * 3.61)  # at most 5 points
    out, _ = corrected_levels(cat, "hot_metal", lv, {"feed_grade": 64.0}, {})
    assert out["grade3"] == pytest.approx(415)  # never lowered above 62 %
    out, _ = corrected_levels(cat, "sinter", {"grade3": 52.0}, {"vti_magnetite_pct": 10.0, "laterite_nickel_pct": 5.0}, {})
    assert out["grade3"] == pytest.approx(52 + 10 * 0.2 + 5 * 1.2)
    out, _ = corrected_levels(cat, "ceramic_tile_gt10", {"grade3": 4.5}, {"thickness_factor": 1.2}, {})
    assert out["grade3"] == pytest.approx(5.4)


def test_product_line_meters_used_and_whole_site_said(coef, cat):
    site = _cement_case(coef, cat, sec=130.0, product="clinker")
    a = site.alerts[site.alerts["kind"] == "product_over_limit"].iloc[0]
    assert "whole site: no product-line meters" in a["observed"]
    line = _cement_case(coef, cat, sec=130.0, product="clinker", line=True)
    p = line.products.iloc[0]
    assert p["basis"] == "product-line meters of clinker"
    assert p["sec"] < 130.0 * 0.95  # only the line's coal (90 % of it), no site electricity


def test_limit_tables_cited_per_the_standards():
    lim = load_catalog().product_limits
    table = lim.drop_duplicates(["product", "standard"]).set_index(["product", "standard"])["clause"]
    assert table[("clinker", "GB 16780-2021")] == "table 2"  # cement is table 1, clinker table 2
    assert table[("cement", "GB 16780-2021")] == "table 1"
    assert table[("paraxylene", "GB 30251-2024")] == "table 5"
    assert table[("printing_paper", "GB 31825-2024")] == "table 2"  # table 1 is pulp
    assert table[("hot_metal", "GB 21256-2025")].startswith("table 3")


# -- invariants ---------------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=4))
def test_rounding_is_idempotent_and_within_half_a_unit(x, decimals):
    r = round_std(x, decimals)
    assert round_std(r, decimals) == r
    assert abs(r - x) <= 0.5 * 10.0**-decimals + 1e-9 * max(1.0, abs(x))


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-60, max_value=400, allow_nan=False), st.floats(min_value=0.0, max_value=300, allow_nan=False),
       st.sampled_from([("eaf_steel", 72.0), ("converter_steel", -12.0), ("clinker", 117.0)]), st.integers(2012, 2030))  # fmt: skip
def test_punitive_surcharge_never_falls_as_intensity_rises(sec, more, product_limit, year):
    cat = load_catalog()
    product, limit = product_limit
    a = surcharge(cat, product, "sec", year, sec, limit)[0]
    b = surcharge(cat, product, "sec", year, sec + more, limit)[0]
    assert b >= a >= 0.0
    assert (a > 0) == (sec > limit)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=13000, max_value=15000, allow_nan=False), st.integers(2022, 2030))
def test_aluminium_ladder_counts_every_started_step(sec, year):
    cat = load_catalog()
    rate = surcharge(cat, "aluminium_liquid", "comprehensive_ac", year, sec, 13700.0)[0]
    threshold = 13650 if year == 2022 else (13450 if year < 2025 else 13300)
    steps = max(0, int(np.ceil((sec - threshold) / 20 - 1e-9))) if sec > threshold else 0
    assert rate == pytest.approx(0.01 * steps)
