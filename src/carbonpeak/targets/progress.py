"""Progress of one target in one year: value, path, status, gap and annual rates.

Status rules (docs/methods/targets.md §3):

* ``no_data``  — no usable value (none, or older than ``max_data_age`` years before the
  assessment year), or no baseline to build the path from.  Missing data is never on track.
* ``achieved`` — the target condition holds for the latest value.  For ``change``, ``rate`` and
  ``about`` targets (which can be lost again) only from the target year on.
* target year reached and the condition does not hold → ``off_track``.
* before the target year: compare with the path P(y) between baseline and target (linear for levels,
  shares, counts and cumulative amounts; constant annual rate for ``change`` targets on
  intensities).  Shortfall s = d·(P(y) − value) with d = +1 for at_least/between, −1 for at_most and
  the direction of travel for about.  s ≤ tolerance → ``on_track``; s ≤ tolerance + at_risk_band·|T − B| →
  ``at_risk``; otherwise ``off_track``.  Targets without a path (trajectory none) that are not yet
  met are ``at_risk`` before the target year.
* ``peak`` targets read a projection: P(peak before the target year) ≥ 0.66 → on_track, ≥ 0.33 →
  at_risk, else off_track; no projection → no_data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from carbonpeak.catalog.targets import Target

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "no_data")
_EPS = 1e-9


@dataclass(frozen=True)
class Rules:
    at_risk_band: float = 0.25
    max_data_age: int = 2
    peak_on_track: float = 0.66
    peak_at_risk: float = 0.33

    @classmethod
    def from_defaults(cls, defaults: Mapping[str, Any]) -> Rules:
        pp = defaults.get("peak_probability", {}) or {}
        return cls(
            at_risk_band=float(defaults.get("at_risk_band", 0.25)),
            max_data_age=int(defaults.get("max_data_age", 2)),
            peak_on_track=float(pp.get("on_track", 0.66)),
            peak_at_risk=float(pp.get("at_risk", 0.33)),
        )


@dataclass(frozen=True)
class Progress:
    id: str
    year: int
    status: str
    value: float | None
    value_year: int | None
    target: float
    target_year: int
    unit: str
    comparator: str
    baseline: float | None
    baseline_year: int | None
    path: float | None  # the path value in value_year
    gap: float | None  # target − value (target unit); between: distance to the range
    gap_to_path: float | None  # path − value
    achieved_rate: float | None
    required_rate: float | None
    rate_unit: str
    reason: str
    reason_code: str = ""
    reason_args: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def path_value(t: Target, baseline: float, baseline_year: int, year: int) -> float | None:
    """The planned value in ``year`` (None without a path)."""
    if t.trajectory == "none" or t.kind in ("rate", "yes_no", "peak"):
        return None
    y0, yT = baseline_year, t.target_year
    target = t.target_value
    if yT <= y0:
        return target
    frac = min(max((year - y0) / (yT - y0), 0.0), 1.0)
    if t.trajectory == "constant_rate" and t.kind == "change":
        return ((1 + target / 100) ** frac - 1) * 100
    if t.trajectory == "constant_rate" and baseline > 0 and target > 0:
        return baseline * (target / baseline) ** frac
    return baseline + (target - baseline) * frac


def _met(t: Target, v: float, tol: float) -> bool:
    if t.comparator == "at_least":
        return v >= t.target_value - _EPS
    if t.comparator == "at_most":
        return v <= t.target_value + _EPS
    if t.comparator == "between":
        return (t.target_low or 0) - _EPS <= v <= (t.target_high or math.inf) + _EPS
    return abs(v - t.target_value) <= tol + _EPS  # about


def _latest(series: Mapping[int, float], year: int, max_age: int) -> tuple[int, float] | None:
    ys = [y for y, v in series.items() if y <= year and v is not None and not math.isnan(v)]
    if not ys:
        return None
    y = max(ys)
    if y < year - max_age:
        return None
    return y, float(series[y])


#: English text of each reason code (the report translates the codes through its message catalog).
REASONS = {
    "no_value": "no value of {indicator} for {first}-{last}",
    "period_not_started": "the period starts in {baseline_year}; latest value is for {value_year}",
    "no_baseline": "no baseline value of {indicator} in {baseline_year}",
    "no_baseline_path": "no baseline value of {indicator} in {baseline_year} to build the path",
    "before_baseline": "latest value ({value_year}) is before the baseline year {baseline_year}",
    "met": "target condition holds",
    "missed": "target year {target_year} reached without meeting the target",
    "rate": "average annual rate so far against the required rate",
    "no_path_unmet": "no interim path; the requirement is not met yet",
    "no_path_met": "requirement met",
    "on_path": "at or ahead of the path",
    "behind_at_risk": "behind the path by {shortfall:.4g} {unit} (within {band:.0%} of the planned change)",
    "behind_off_track": "behind the path by {shortfall:.4g} {unit}",
    "peak_observed": "observed peak year {peak_year:.0f}",
    "peak_projection": "projection '{scenario}': P(peak before {target_year}) = {p:.0%}",
    "peak_none": "no observed peak and no projection of the peak (run the scenarios)",
}


def _why(code: str, **args: Any) -> dict[str, Any]:
    return {"reason": REASONS[code].format(**args), "reason_code": code, "reason_args": args}


def _none(t: Target, year: int, why: dict[str, Any], unit: str, value: float | None = None,
          value_year: int | None = None, baseline: float | None = None, baseline_year: int | None = None) -> Progress:
    return Progress(t.id, year, "no_data", value, value_year, t.target_value, t.target_year, unit, t.comparator,
                    baseline, baseline_year, None, None if value is None else t.target_value - value, None, None, None,
                    "", **why)


def assess_target(
    t: Target,
    series: Mapping[int, float],
    year: int,
    *,
    tolerance: float = 0.0,
    rules: Rules | None = None,
    outlook: Mapping[str, Any] | None = None,
) -> Progress:
    """Assess target ``t`` in ``year`` from the indicator ``series`` (year → value, indicator unit).

    For ``change`` and ``rate`` targets the series holds the underlying level (e.g. the intensity)
    and the change or average growth against the baseline year is computed here.
    """
    rules = rules or Rules()
    unit = t.unit
    if t.kind == "peak":
        return _assess_peak(t, series, year, rules, outlook)
    latest = _latest(series, year, rules.max_data_age)
    if latest is None:
        return _none(t, year, _why("no_value", indicator=t.indicator, first=year - rules.max_data_age, last=year), unit)
    yv, raw = latest
    # --- value in the target's unit, baseline ----------------------------------------------------
    b_year: int | None
    B: float | None
    if t.kind in ("change", "rate"):
        assert t.baseline is not None
        b_year = t.baseline.year
        if yv <= b_year:
            return _none(t, year, _why("period_not_started", baseline_year=b_year, value_year=yv), unit)
        level0 = t.baseline.value if t.baseline.value is not None else series.get(b_year)
        if level0 is None or level0 == 0 or math.isnan(level0):
            return _none(t, year, _why("no_baseline", indicator=t.indicator, baseline_year=b_year), unit)
        ratio = raw / level0
        if t.kind == "change":
            v = (ratio - 1) * 100
            B = 0.0
        else:
            v = (ratio ** (1 / (yv - b_year)) - 1) * 100
            B = None
    elif t.kind in ("cumulative", "count") and t.start_year is not None:
        v, B, b_year = raw, 0.0, int(t.start_year) - 1
    else:
        v = raw
        if t.baseline is not None:
            b_year = t.baseline.year
            B = t.baseline.value if t.baseline.value is not None else series.get(b_year)
        else:
            b_year, B = None, None
    met = _met(t, v, tolerance)
    reached = yv >= t.target_year
    gap = _gap(t, v)
    # --- rates ----------------------------------------------------------------------------------
    achieved_rate, required_rate, rate_unit = _rates(t, v, yv, B, b_year, raw, series)
    common = dict(value=v, value_year=yv, target=t.target_value, target_year=t.target_year, unit=unit,
                  comparator=t.comparator, baseline=B, baseline_year=b_year, gap=gap,
                  achieved_rate=achieved_rate, required_rate=required_rate, rate_unit=rate_unit)
    early_ok = t.kind not in ("change", "rate") and t.comparator != "about"
    if met and (reached or early_ok):
        return Progress(t.id, year, "achieved", path=None, gap_to_path=None,
                        **_why("met"), **common)  # type: ignore[arg-type]
    if reached:
        return Progress(t.id, year, "off_track", path=None, gap_to_path=None,
                        **_why("missed", target_year=t.target_year), **common)  # type: ignore[arg-type]
    if t.kind == "rate":
        st = "on_track" if met else ("at_risk" if v >= t.target_value * (1 - rules.at_risk_band) else "off_track")
        return Progress(t.id, year, st, path=t.target_value, gap_to_path=t.target_value - v,
                        **_why("rate"), **common)  # type: ignore[arg-type]
    if B is None or b_year is None or t.trajectory == "none":
        if B is None and t.trajectory != "none":
            return _none(t, year, _why("no_baseline_path", indicator=t.indicator, baseline_year=b_year),
                         unit, v, yv)
        return Progress(t.id, year, "on_track" if met else "at_risk", path=None, gap_to_path=None,
                        **_why("no_path_met" if met else "no_path_unmet"),
                        **common)  # type: ignore[arg-type]
    if yv < b_year:
        return _none(t, year, _why("before_baseline", value_year=yv, baseline_year=b_year), unit, v, yv, B, b_year)
    P = path_value(t, B, b_year, yv)
    assert P is not None
    if t.comparator == "at_most":
        d = -1.0
    elif t.comparator == "about":
        d = 1.0 if t.target_value >= B else -1.0
    else:
        d = 1.0
    shortfall = d * (P - v)
    span = abs((t.target_low if t.comparator == "between" and t.target_low is not None else t.target_value) - B)
    if shortfall <= tolerance + _EPS:
        st, why = "on_track", _why("on_path")
    elif shortfall <= tolerance + rules.at_risk_band * span + _EPS:
        st, why = "at_risk", _why("behind_at_risk", shortfall=shortfall, unit=unit, band=rules.at_risk_band)
    else:
        st, why = "off_track", _why("behind_off_track", shortfall=shortfall, unit=unit)
    return Progress(t.id, year, st, path=P, gap_to_path=P - v, **why, **common)  # type: ignore[arg-type]


def _gap(t: Target, v: float) -> float:
    if t.comparator == "between":
        lo, hi = t.target_low or 0.0, t.target_high or math.inf
        return lo - v if v < lo else (hi - v if v > hi else 0.0)
    return t.target_value - v


def _rates(t: Target, v: float, yv: int, B: float | None, b_year: int | None, raw: float,
           series: Mapping[int, float]) -> tuple[float | None, float | None, str]:
    yT = t.target_year
    if b_year is None or yv <= b_year:
        return None, None, ""
    if t.kind == "change":
        ach = ((1 + v / 100) ** (1 / (yv - b_year)) - 1) * 100
        req = (((1 + t.target_value / 100) / (1 + v / 100)) ** (1 / (yT - yv)) - 1) * 100 if yT > yv else None
        return ach, req, "%/yr"
    if t.kind == "rate":
        level0 = t.baseline.value if t.baseline and t.baseline.value is not None else series.get(b_year)
        if not level0 or yT <= yv:
            return v, None, "%/yr"
        need = level0 * (1 + t.target_value / 100) ** (yT - b_year)
        return v, ((need / raw) ** (1 / (yT - yv)) - 1) * 100, "%/yr"
    if B is None or t.kind in ("yes_no",):
        return None, None, ""
    target = t.target_low if t.comparator == "between" and t.target_low is not None else t.target_value
    ach = (v - B) / (yv - b_year)
    req = (target - v) / (yT - yv) if yT > yv else None
    return ach, req, f"{t.unit}/yr"


def _assess_peak(t: Target, series: Mapping[int, float], year: int, rules: Rules,
                 outlook: Mapping[str, Any] | None) -> Progress:
    base = dict(value_year=None, target=t.target_value, target_year=t.target_year, unit=t.unit,
                comparator=t.comparator, baseline=None, baseline_year=None, path=None, gap_to_path=None,
                achieved_rate=None, required_rate=None, rate_unit="")
    observed = _latest(series, year, 10**6)
    if observed is not None:
        y_peak = observed[1]
        st = "achieved" if y_peak <= t.target_value else "off_track"
        return Progress(t.id, year, st, value=y_peak, gap=t.target_value - y_peak,
                        **_why("peak_observed", peak_year=y_peak), **base)  # type: ignore[arg-type]
    if outlook and outlook.get("p_peak_before_2030") is not None and t.id == "peak_before_2030":
        p = float(outlook["p_peak_before_2030"])
        py = outlook.get("peak_year")
        st = "on_track" if p >= rules.peak_on_track else ("at_risk" if p >= rules.peak_at_risk else "off_track")
        return Progress(t.id, year, st, value=None if py is None else float(py),
                        gap=None if py is None else t.target_value - float(py),
                        **_why("peak_projection", scenario=str(outlook.get("scenario", "?")), target_year=t.target_year, p=p),
                        **base)  # type: ignore[arg-type]
    return _none(t, year, _why("peak_none"), t.unit)
