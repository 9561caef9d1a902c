"""The national platform's checks (platform.yaml; 发改环资〔2017〕1711号 and the platform's data-quality
requirements), the rule registry, and the uploads registry file."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from carbonpeak.errors import CarbonpeakError, ValidationError
from carbonpeak.monitoring.alerts import KINDS, Alert
from carbonpeak.monitoring.checks.platform import is_workday
from carbonpeak.monitoring.pipeline import day_number, finish
from carbonpeak.monitoring.registry import validate_kind
from carbonpeak.monitoring.rulebase import register, registered_rules, unregister
from carbonpeak.monitoring.rules import evaluate

CST = dt.timezone(dt.timedelta(hours=8))
JAN = [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(31)]  # March 2025: no public holiday


def _meter(mid, uid, et="electricity", point="site", parent="", interval=15, cal=None):
    return {"meter_id": mid, "unit_id": uid, "energy_type": et, "point": point, "kind": "interval",
            "unit": "kWh" if et == "electricity" else "m**3",
            "interval_minutes": interval, "parent_meter_id": parent, "product": "", "rollover": None,
            "max_interval_value": None, "calibration_valid_until": cal}  # fmt: skip


def _md(rows, n=96):
    return pd.DataFrame([{"meter_id": m, "day": day_number(d), "n": n, "energy": e, "vmin": 0.9, "vmax": 1.1,
                          "n_negative": 0, "n_impossible": 0, "n_resets": 0, "n_rollovers": 0, "first_epoch": 0,
                          "last_epoch": (n - 1) * 86400 // n} for m, d, e in rows])  # fmt: skip


def _units(*uids):
    return pd.DataFrame([{"unit_id": u, "name": u, "city": "GD-GZ", "kind": "other", "industry_code": "3360",
                          "hub_node": False, "registered_level": "national"} for u in uids])  # fmt: skip


def _res(coef, meters, md, days=JAN, units=("U",)):
    return finish(md, pd.DataFrame(meters), _units(*units), coef, date_from=days[0], date_to=days[-1], engine="duckdb")


def _up(rows):
    df = pd.DataFrame(rows, columns=["unit_id", "indicator", "frequency", "period_start", "value", "unit", "uploaded_at"])
    return validate_kind(df, "uploads")


def _label(d: dt.date, minutes: float = 0) -> str:
    return (dt.datetime.combine(d, dt.time(), tzinfo=CST) + dt.timedelta(minutes=minutes)).isoformat()


def _kinds(rr, kind):
    return rr.alerts[rr.alerts["kind"] == kind]


def _full_set(uid="U", days=JAN, *, skip=(), daily_value=100.0, monthly=None, shift=0.0, late_days=0):
    rows = []
    up = lambda d, extra=1: (dt.datetime.combine(d, dt.time(), tzinfo=CST) + dt.timedelta(days=extra + late_days)).isoformat()  # noqa: E731
    for d in days:
        if d not in skip:
            rows.append((uid, "energy:electricity", "day", _label(d, shift), daily_value, "kWh", up(d)))
    m0 = days[0]
    rows += [(uid, "energy:electricity", "month", _label(m0), monthly if monthly is not None else daily_value * len(days), "kWh", up(days[-1], 2)),
             (uid, "total_energy", "month", _label(m0), 1.0, "tce", up(days[-1], 2)),
             (uid, "gross_output", "month", _label(m0), 1.0, "10**4 CNY", up(days[-1], 2)),
             (uid, "value_added", "month", _label(m0), 1.0, "10**4 CNY", up(days[-1], 2))]  # fmt: skip
    return rows


def test_full_platform_set_raises_nothing(coef, cat):
    res = _res(coef, [_meter("U-S", "U", cal="2026-01-01T00:00+08:00")], _md([("U-S", d, 100.0) for d in JAN]))
    rr = evaluate(res, cat, uploads=_up(_full_set()))
    assert rr.alerts.empty, rr.alerts[["kind", "observed"]]


def test_daily_reports_vs_monthly_report_per_month(coef, cat):
    res = _res(coef, [_meter("U-S", "U")], _md([("U-S", d, 100.0) for d in JAN]))
    ok = evaluate(res, cat, uploads=_up(_full_set(monthly=3100 * 1.05)))  # 5 % is within ("在5%以内")
    assert _kinds(ok, "platform_daily_vs_monthly").empty
    bad = evaluate(res, cat, uploads=_up(_full_set(monthly=3100 * 1.06)))
    a = _kinds(bad, "platform_daily_vs_monthly")
    assert len(a) == 1
    assert a["value"].iloc[0] == pytest.approx(1 / 1.06 - 1)
    assert a["grain"].iloc[0] == "month"
    assert a["indicator"].iloc[0] == "energy:electricity"


def test_upload_completeness_per_indicator_and_month(coef, cat):
    res = _res(coef, [_meter("U-S", "U")], _md([("U-S", d, 100.0) for d in JAN]))
    three = evaluate(res, cat, uploads=_up(_full_set(skip=JAN[:3])))  # 28/31 = 90.3 %
    assert _kinds(three, "platform_completeness").empty
    four = evaluate(res, cat, uploads=_up(_full_set(skip=JAN[:4])))  # 27/31 = 87 %
    a = _kinds(four, "platform_completeness")
    assert a["indicator"].tolist() == ["energy:electricity/day"]
    assert a["value"].iloc[0] == pytest.approx(27 / 31)


def test_reading_completeness_per_unit_energy_type_and_month(coef, cat):
    md = _md([("U-S", d, 100.0) for d in JAN[:27]])  # 4 days missing: 87 % of the month's readings
    rr = evaluate(_res(coef, [_meter("U-S", "U")], md), cat)
    a = _kinds(rr, "platform_completeness")
    assert a["indicator"].tolist() == ["readings:electricity"]
    assert a["value"].iloc[0] == pytest.approx(27 / 31)


def test_timestamp_alignment(coef, cat):
    res = _res(coef, [_meter("U-S", "U")], _md([("U-S", d, 100.0) for d in JAN]))
    assert _kinds(evaluate(res, cat, uploads=_up(_full_set(shift=1.0))), "platform_timestamp").empty  # 00:01 is within 1 min
    a = _kinds(evaluate(res, cat, uploads=_up(_full_set(shift=1.5))), "platform_timestamp")
    assert len(a) == 1
    assert a["value"].iloc[0] == pytest.approx(90.0)
    rows = _full_set()
    rows[-1] = ("U", "value_added", "month", _label(JAN[0], 36 * 60), 1.0, "10**4 CNY", "")  # the 2nd at 12:00
    a = _kinds(evaluate(res, cat, uploads=_up(rows)), "platform_timestamp")
    assert a["indicator"].tolist() == ["value_added/month"]


def test_minimum_indicator_set(coef, cat):
    res = _res(coef, [_meter("U-S", "U"), _meter("U-G", "U", et="natural_gas")],
               _md([(m, d, 100.0) for d in JAN for m in ("U-S", "U-G")]))  # fmt: skip
    rows = [r for r in _full_set() if r[1] != "value_added"]
    a = _kinds(evaluate(res, cat, uploads=_up(rows)), "platform_missing_indicator")
    assert set(a["indicator"]) == {"value_added/month", "energy:natural_gas/day", "energy:natural_gas/month"}


def test_reading_intervals(coef, cat):
    res = _res(coef, [_meter("U-S", "U", interval=120)], _md([("U-S", d, 100.0) for d in JAN], n=12))
    a = _kinds(evaluate(res, cat), "platform_interval")
    assert a["severity"].tolist() == ["error"]
    assert a["value"].iloc[0] == 120
    res = _res(coef, [_meter("U-S", "U")], _md([("U-S", d, 100.0) for d in JAN], n=96).assign(n=20, last_epoch=19 * 4320))
    a = _kinds(evaluate(res, cat, only=["platform_interval"]), "platform_interval")
    assert len(a) == 1
    assert a["value"].iloc[0] == pytest.approx(72.0)


def test_meter_calibration(coef, cat):
    meters = [_meter("U-S", "U", cal=dt.date(2025, 3, 20)), _meter("U-T", "U", cal=None)]
    rr = evaluate(_res(coef, meters, _md([(m, d, 100.0) for d in JAN for m in ("U-S", "U-T")])), cat)
    exp = _kinds(rr, "meter_calibration_expired")
    assert exp["meter_id"].tolist() == ["U-S"]
    assert exp["period_start"].iloc[0] == dt.date(2025, 3, 21)
    assert _kinds(rr, "meter_calibration_unknown")["value"].tolist() == [1.0]


@pytest.mark.parametrize(
    ("first", "n", "escalate"),
    [
        (dt.date(2025, 3, 7), 4, False),  # Fri-Mon: 2 working days
        (dt.date(2025, 3, 7), 5, False),  # Fri-Tue: 3 working days, still in time
        (dt.date(2025, 3, 7), 6, True),  # Fri-Wed: 4 working days
        (dt.date(2025, 1, 27), 8, False),  # 2025 Spring Festival (1-28 to 2-4 off): 1 working day
    ],
)
def test_fault_not_repaired_within_3_working_days(coef, cat, first, n, escalate):
    days = [first - dt.timedelta(days=3) + dt.timedelta(days=i) for i in range(n + 6)]
    out = {first + dt.timedelta(days=i) for i in range(n)}
    res = _res(coef, [_meter("U-S", "U")], _md([("U-S", d, 100.0) for d in days if d not in out]), days=days)
    a = _kinds(evaluate(res, cat), "fault_unrepaired")
    assert (not a.empty) == escalate
    if escalate:
        assert a["severity"].iloc[0] == "error"
        assert a["value"].iloc[0] == 4


def test_working_days_follow_the_official_schedule():
    assert not is_workday(dt.date(2025, 10, 1))  # National Day
    assert is_workday(dt.date(2025, 9, 28))  # Sunday made a working day (调休)
    assert is_workday(dt.date(2031, 3, 3))
    assert not is_workday(dt.date(2031, 3, 1))


def test_late_uploads(coef, cat):
    res = _res(coef, [_meter("U-S", "U")], _md([("U-S", d, 100.0) for d in JAN]))
    assert _kinds(evaluate(res, cat, uploads=_up(_full_set())), "upload_late").empty
    a = _kinds(evaluate(res, cat, uploads=_up(_full_set(late_days=2))), "upload_late")
    assert set(a["indicator"]) == {"energy:electricity/day"}  # monthly figures are due 10 days after the month


def test_uploads_file_validation():
    good = [("U", "energy:electricity", "day", "2025-03-01T00:00+08:00", 1.0, "kWh", "")]
    assert len(_up(good)) == 1
    with pytest.raises(ValidationError, match="UTC offset"):
        _up([("U", "energy:electricity", "day", "2025-03-01T00:00", 1.0, "kWh", "")])
    with pytest.raises(ValidationError, match="platform indicator"):
        _up([("U", "coal please", "day", "2025-03-01T00:00+08:00", 1.0, "kWh", "")])
    with pytest.raises(ValidationError, match="frequency"):
        _up([("U", "total_energy", "week", "2025-03-01T00:00+08:00", 1.0, "tce", "")])


# -- the registry ------------------------------------------------------------------------------------
def test_every_alert_kind_belongs_to_a_registered_rule():
    declared = {k for r in registered_rules().values() for k in r.kinds}
    assert declared == set(KINDS)
    assert all(r.source and r.description for r in registered_rules().values())


def test_a_new_rule_is_one_registered_function(coef, cat):
    res = _res(coef, [_meter("U-S", "U")], _md([("U-S", d, 100.0) for d in JAN]))

    @register("test_every_unit", kinds=("gap",), source="test")
    def every_unit(ctx) -> list[Alert]:
        return [Alert("gap", "info", u, None, ctx.res.date_from, ctx.res.date_to, None, None, "", "seen", "here", "test")
                for u in ctx.res.units["unit_id"]]  # fmt: skip

    try:
        rr = evaluate(res, cat)
        assert "test_every_unit" in rr.rules
        assert (rr.alerts["observed"] == "seen").sum() == 1
        assert evaluate(res, cat, only=["test_every_unit"]).alerts["kind"].tolist() == ["gap"]
    finally:
        unregister("test_every_unit")

    @register("test_stray", kinds=("gap",), source="test")
    def stray(ctx) -> list[Alert]:
        return [Alert("spike", "info", "U", None, None, None, None, None, "", "x", "y", "z")]

    try:
        with pytest.raises(CarbonpeakError, match="undeclared"):
            evaluate(res, cat, only=["test_stray"])
    finally:
        unregister("test_stray")
    with pytest.raises(CarbonpeakError, match="unknown monitoring rule"):
        evaluate(res, cat, only=["nope"])
