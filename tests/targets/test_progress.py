"""Status rules at their edges (docs/methods/targets.md §3)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carbonpeak.catalog.targets import load_targets
from carbonpeak.targets.progress import Rules, assess_target, path_value

CAT = load_targets()
RULES = Rules.from_defaults(CAT.defaults)


def _t(tid):
    return CAT.get(tid)


# wind+solar: 1361 万kW in 2020 -> >= 7400 in 2030, linear path; in 2023 the path is 1361 + 0.3 * 6039
WS = _t("wind_solar_capacity_2030")
WS_PATH_2023 = 1361 + 0.3 * (7400 - 1361)


def test_path_linear_and_constant_rate():
    assert path_value(WS, 1361, 2020, 2023) == pytest.approx(WS_PATH_2023)
    assert path_value(WS, 1361, 2020, 2030) == pytest.approx(7400)
    t = _t("co2_intensity_13fyp_gd")  # -20.5 % over 2015-2020 at a constant annual rate
    assert path_value(t, 0.0, 2015, 2020) == pytest.approx(-20.5)
    assert path_value(t, 0.0, 2015, 2016) == pytest.approx((0.795 ** 0.2 - 1) * 100)


def test_exactly_on_path_is_on_track():
    p = assess_target(WS, {2020: 1361, 2023: WS_PATH_2023}, 2023, rules=RULES)
    assert p.status == "on_track"
    assert p.gap_to_path == pytest.approx(0.0, abs=1e-9)
    assert p.gap == pytest.approx(7400 - WS_PATH_2023)


def test_just_above_and_just_below_path():
    assert assess_target(WS, {2023: WS_PATH_2023 + 0.01}, 2023, rules=RULES).status == "on_track"
    below = assess_target(WS, {2023: WS_PATH_2023 - 0.01}, 2023, rules=RULES)
    assert below.status == "at_risk"
    # beyond 25 % of the planned change behind -> off track
    band = 0.25 * (7400 - 1361)
    assert assess_target(WS, {2023: WS_PATH_2023 - band + 0.01}, 2023, rules=RULES).status == "at_risk"
    assert assess_target(WS, {2023: WS_PATH_2023 - band - 0.01}, 2023, rules=RULES).status == "off_track"


def test_no_data_never_on_track():
    assert assess_target(WS, {}, 2023, rules=RULES).status == "no_data"
    # stale: older than max_data_age
    p = assess_target(WS, {2019: 9000}, 2023, rules=RULES)
    assert p.status == "no_data"
    assert p.reason_code == "no_value"


def test_achieved_and_missed():
    assert assess_target(WS, {2027: 7400}, 2027, rules=RULES).status == "achieved"
    assert assess_target(WS, {2030: 7399.9}, 2030, rules=RULES).status == "off_track"
    assert assess_target(WS, {2030: 7400}, 2030, rules=RULES).status == "achieved"


def test_at_most_change_target_uses_level_series():
    t = _t("co2_intensity_13fyp_gd")
    path19 = (0.795 ** 0.8 - 1) * 100
    on = assess_target(t, {2015: 1.0, 2019: 1 + path19 / 100}, 2019, rules=RULES)
    assert on.status == "on_track"
    assert on.value == pytest.approx(path19)
    assert assess_target(t, {2015: 1.0, 2019: 1 + path19 / 100 + 1e-4}, 2019, rules=RULES).status == "at_risk"
    assert assess_target(t, {2015: 1.0, 2020: 0.795}, 2020, rules=RULES).status == "achieved"
    assert assess_target(t, {2015: 1.0, 2020: 0.7951}, 2020, rules=RULES).status == "off_track"
    # a change target met early is on track, not achieved (it can be lost again)
    assert assess_target(t, {2015: 1.0, 2018: 0.7}, 2018, rules=RULES).status == "on_track"
    # no baseline value
    assert assess_target(t, {2019: 0.8}, 2019, rules=RULES).status == "no_data"


def test_required_vs_achieved_rate():
    t = _t("co2_intensity_13fyp_gd")
    p = assess_target(t, {2015: 1.0, 2018: 0.9}, 2018, rules=RULES)
    assert p.achieved_rate == pytest.approx((0.9 ** (1 / 3) - 1) * 100)
    assert p.required_rate == pytest.approx(((0.795 / 0.9) ** 0.5 - 1) * 100)
    assert p.rate_unit == "%/yr"
    p = assess_target(WS, {2020: 1361, 2023: 4179}, 2023, rules=RULES)
    assert p.achieved_rate == pytest.approx((4179 - 1361) / 3)
    assert p.required_rate == pytest.approx((7400 - 4179) / 7)


def test_about_tolerance_edges():
    t = _t("nonfossil_share_2030")  # 35 % about, ±1 pp
    tol = CAT.tolerance(t)
    assert assess_target(t, {2030: 34.0}, 2030, tolerance=tol, rules=RULES).status == "achieved"
    assert assess_target(t, {2030: 36.0}, 2030, tolerance=tol, rules=RULES).status == "achieved"
    assert assess_target(t, {2030: 33.99}, 2030, tolerance=tol, rules=RULES).status == "off_track"
    assert assess_target(t, {2030: 36.01}, 2030, tolerance=tol, rules=RULES).status == "off_track"
    # before the target year, 'about' allows the tolerance below the path
    path28 = 32 + 0.6 * 3
    assert assess_target(t, {2028: path28 - 0.99}, 2028, tolerance=tol, rules=RULES).status == "on_track"
    assert assess_target(t, {2028: path28 - 1.01}, 2028, tolerance=tol, rules=RULES).status == "at_risk"


def test_share_units_in_percent():
    t = _t("nonfossil_share_2025")  # baseline from the observed 2020 value
    p = assess_target(t, {2020: 27.0, 2023: 27.0 + 0.6 * 5}, 2023, rules=RULES)
    assert p.status == "on_track"
    assert p.unit == "%"
    assert p.baseline == pytest.approx(27.0)
    # no 2020 value: no path
    assert assess_target(t, {2023: 31.0}, 2023, rules=RULES).status == "no_data"
    assert assess_target(t, {2023: 32.5}, 2023, rules=RULES).status == "achieved"


def test_cumulative_between_and_yes_no():
    m = _t("mangrove_2025")
    assert assess_target(m, {2023: 12 * 3 / 5}, 2023, rules=RULES).status == "on_track"
    assert assess_target(m, {2025: 12.0}, 2025, rules=RULES).status == "achieved"
    c = _t("peak_pilot_cities_14fyp")
    assert assess_target(c, {2025: 11}, 2025, rules=RULES).status == "off_track"
    assert assess_target(c, {2025: 7}, 2025, rules=RULES).status == "achieved"
    y = _t("heavy_industry_intl_advanced_2030")
    assert assess_target(y, {2026: 0}, 2026, rules=RULES).status == "at_risk"
    assert assess_target(y, {2030: 0}, 2030, rules=RULES).status == "off_track"
    assert assess_target(y, {2029: 1}, 2029, rules=RULES).status == "achieved"


def test_pue_at_most_without_path():
    t = _t("data_centre_pue_new_large")
    assert assess_target(t, {2024: 1.3}, 2024, rules=RULES).status == "achieved"
    assert assess_target(t, {2024: 1.31}, 2024, rules=RULES).status == "at_risk"


def test_rate_target():
    t = _t("port_rail_water_growth_2025")
    p = assess_target(t, {2020: 100.0, 2022: 100 * 1.15 ** 2}, 2022, rules=RULES)
    assert p.value == pytest.approx(15.0)
    assert p.status == "on_track"
    assert assess_target(t, {2020: 100.0, 2022: 100 * 1.14 ** 2}, 2022, rules=RULES).status == "at_risk"


def test_peak_from_projection():
    t = _t("peak_before_2030")
    assert assess_target(t, {}, 2023, rules=RULES).status == "no_data"
    out = {"scenario": "plan", "peak_year": 2028, "p_peak_before_2030": 0.7}
    assert assess_target(t, {}, 2023, rules=RULES, outlook=out).status == "on_track"
    assert assess_target(t, {}, 2023, rules=RULES, outlook={**out, "p_peak_before_2030": 0.4}).status == "at_risk"
    assert assess_target(t, {}, 2023, rules=RULES, outlook={**out, "p_peak_before_2030": 0.1}).status == "off_track"
    assert assess_target(t, {2026: 2026}, 2027, rules=RULES).status == "achieved"


def test_before_baseline_period():
    t = replace(_t("co2_intensity_14fyp_gd"))
    p = assess_target(t, {2019: 0.5, 2020: 0.5}, 2020, rules=RULES)
    assert p.status == "no_data"
    assert p.reason_code == "period_not_started"
