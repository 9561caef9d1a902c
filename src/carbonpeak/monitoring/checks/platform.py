"""The checks the national online-monitoring platform requires of key energy-consuming units.

Sources (catalog ``platform.yaml``, docs/methods/monitoring.md): 发改环资〔2017〕1711号 (the
system), the platform's upload data-quality requirements (indicator set, completeness >= 90 %,
daily vs monthly <= 5 %, statistic-time offsets 1 min / 1 day), the end-device technical
specification (15-minute readings, at most 1 hour), and the provincial access-end rules (repair
within 3 working days, meters verified or calibrated and within validity).

The platform's own figures (daily and monthly reports, output, value added …) come from the
``uploads`` registry file: one row per unit, indicator, frequency and statistic period, with the
time label as uploaded and the upload time.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.monitoring.alerts import Alert, day_runs
from carbonpeak.monitoring.pipeline import day_date
from carbonpeak.monitoring.quality import _loc, completeness_matrix
from carbonpeak.monitoring.rulebase import RuleContext, register

CST = dt.timezone(dt.timedelta(hours=8))


def _p(ctx: RuleContext) -> dict[str, Any]:
    return ctx.cat.extra["platform"]


def _src(ctx: RuleContext, key: str) -> str:
    p = _p(ctx)[key]
    return f"{p['source']} [{p.get('status', _p(ctx).get('status', 'verified'))}]"


def months_in(date_from: dt.date, date_to: dt.date, *, complete: bool) -> list[tuple[dt.date, dt.date]]:
    """Calendar months overlapping the window (clipped), or only those entirely inside it."""
    out = []
    m = dt.date(date_from.year, date_from.month, 1)
    while m <= date_to:
        nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        end = nxt - dt.timedelta(days=1)
        if not complete or (m >= date_from and end <= date_to):
            out.append((max(m, date_from), min(end, date_to)))
        m = nxt
    return out


def _uploads(ctx: RuleContext) -> pd.DataFrame:
    """The uploads inside the window with their statistic period (computed once per evaluation)."""
    cached = ctx.tables.get("__uploads")
    if cached is not None:
        return cached
    up = ctx.input("uploads")
    if up.empty:
        return up
    ps = pd.to_datetime(up["period_start"], utc=True).dt.tz_convert("Asia/Shanghai")
    # the statistic period a figure belongs to: nearest midnight (day) or nearest 1st (month)
    day = (ps + pd.Timedelta(hours=12)).dt.floor("D").dt.date
    month_first = (ps + pd.Timedelta(days=15)).dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date
    up = up.assign(ps=ps, period=np.where(up["frequency"] == "month", month_first, day))
    up = up[(up["period"] >= ctx.res.date_from) & (up["period"] <= ctx.res.date_to)]
    ctx.tables["__uploads"] = up
    return up


def _energy_types(ctx: RuleContext) -> dict[str, list[str]]:
    m = ctx.res.meters
    top = m[m["parent_meter_id"].fillna("") == ""]
    return {str(u): sorted(set(g["energy_type"])) for u, g in top.groupby("unit_id")}


def _products(ctx: RuleContext) -> dict[str, list[str]]:
    from carbonpeak.monitoring.checks.products import limits_index

    lim = limits_index(ctx.cat)
    out: dict[str, set[str]] = {}
    o = ctx.input("output")
    for u, p in zip(o.get("unit_id", []), o.get("product", []), strict=True):
        if p in lim:
            out.setdefault(str(u), set()).add(str(p))
    m = ctx.res.meters
    for u, p in zip(m["unit_id"], m["product"].fillna(""), strict=True):
        if p in lim:
            out.setdefault(str(u), set()).add(str(p))
    return {u: sorted(v) for u, v in out.items()}


# -- completeness ------------------------------------------------------------------------------------
@register("platform_completeness", kinds=("platform_completeness",),
          source="platform data-quality requirements: received / expected >= 90 % per unit, indicator and period")  # fmt: skip
def completeness_alerts(ctx: RuleContext) -> list[Alert]:
    """Per unit, indicator and month: readings of each energy type, and daily uploads, below 90 %."""
    res, units = ctx.res, ctx.units
    cmin = float(_p(ctx)["completeness"]["value"])
    src = _src(ctx, "completeness")
    out: list[Alert] = []
    mids, _d0, comp = completeness_matrix(res)
    if mids:
        meters = res.meters.set_index("meter_id").reindex(mids)
        top = (meters["parent_meter_id"].fillna("") == "").to_numpy()
        keys = list(zip(meters["unit_id"].astype(str), meters["energy_type"].astype(str), strict=True))
        clipped = np.minimum(comp, 1.0)
        for ms, me in months_in(res.date_from, res.date_to, complete=False):
            a, b = (ms - res.date_from).days, (me - res.date_from).days + 1
            share = clipped[:, a:b].mean(axis=1)
            per: dict[tuple[str, str], list[float]] = {}
            for i in np.flatnonzero(top):
                per.setdefault(keys[i], []).append(float(share[i]))
            for (uid, et), vals in per.items():
                v = float(np.mean(vals))  # every top-level meter of the type expects the same share
                if v < cmin:
                    loc, city = _loc(units, uid)
                    out.append(Alert("platform_completeness", "warning", uid, None, ms, me, v, cmin, "1",
                                     f"{et} readings {v:.1%} of the expected 15-minute values in {ms:%Y-%m} "
                                     f"({len(vals)} top-level meter(s))", loc, src, city, grain="month",
                                     indicator=f"readings:{et}"))  # fmt: skip
    up = _uploads(ctx)
    if up.empty:
        return out
    daily = up[up["frequency"] == "day"]
    for ms, me in months_in(res.date_from, res.date_to, complete=False):
        n_days = (me - ms).days + 1
        sub = daily[(daily["period"] >= ms) & (daily["period"] <= me)]
        got = sub.groupby(["unit_id", "indicator"])["period"].nunique()
        expected = {(u, ind) for u, ind in zip(daily["unit_id"], daily["indicator"], strict=True)}
        for uid, ind in sorted(expected):
            v = float(got.get((uid, ind), 0)) / n_days
            if v < cmin:
                loc, city = _loc(units, str(uid))
                out.append(Alert("platform_completeness", "warning", str(uid), None, ms, me, v, cmin, "1",
                                 f"daily uploads of {ind}: {int(got.get((uid, ind), 0))} of {n_days} days in {ms:%Y-%m} ({v:.0%})",
                                 loc, src, city, grain="month", indicator=f"{ind}/day"))  # fmt: skip
    return out


# -- daily reports against the monthly report -------------------------------------------------------
@register("platform_daily_vs_monthly", kinds=("platform_daily_vs_monthly",),
          source="platform data-quality requirements: daily and monthly reports within 5 % of each other, per month")  # fmt: skip
def daily_vs_monthly_alerts(ctx: RuleContext) -> list[Alert]:
    """Σ daily uploads of an indicator against its monthly upload, month by month (> 5 % is an alert)."""
    up, units = _uploads(ctx), ctx.units
    out: list[Alert] = []
    if up.empty:
        return out
    tol = float(_p(ctx)["consistency"]["value"])
    src = _src(ctx, "consistency")
    up = up.assign(month=pd.to_datetime(pd.Series(up["period"].to_numpy())).dt.to_period("M").to_numpy())
    monthly = up[up["frequency"] == "month"].groupby(["unit_id", "indicator", "month"])["value"].sum()
    daily = up[up["frequency"] == "day"]
    dsum = daily.groupby(["unit_id", "indicator", "month"]).agg(total=("value", "sum"), days=("period", "nunique"))
    j = dsum.join(monthly.rename("monthly"), how="inner").reset_index()
    j = j[j["monthly"] != 0]
    j["dev"] = (j["total"] - j["monthly"]) / j["monthly"].abs()
    for r in j[j["dev"].abs() > tol].itertuples(index=False):
        ms = r.month.start_time.date()
        me = r.month.end_time.date()
        loc, city = _loc(units, str(r.unit_id))
        out.append(Alert("platform_daily_vs_monthly", "warning", str(r.unit_id), None, ms, me, float(r.dev), tol,
                         "relative deviation", f"{r.indicator} {ms:%Y-%m}: Σ {r.days} daily reports {r.total:,.4g} vs monthly "
                         f"report {r.monthly:,.4g} ({r.dev:+.1%})", loc, src, city, grain="month",
                         indicator=str(r.indicator)))  # fmt: skip
    return out


# -- time labels and reading intervals ---------------------------------------------------------------
@register("platform_timestamp", kinds=("platform_timestamp",),
          source="platform data-quality requirements: daily data start 00:00 ± 1 min, monthly data the 1st 00:00 ± 1 day")  # fmt: skip
def timestamp_alerts(ctx: RuleContext) -> list[Alert]:
    """Uploaded time labels off the start of their statistic period by more than the tolerance."""
    up, units = _uploads(ctx), ctx.units
    out: list[Alert] = []
    if up.empty:
        return out
    cfg = _p(ctx)["timestamp_offset"]
    src = _src(ctx, "timestamp_offset")
    start = pd.to_datetime(pd.Series(up["period"].to_numpy(), index=up.index)).dt.tz_localize("Asia/Shanghai")
    off = (up["ps"] - start).dt.total_seconds()
    lim = np.where(up["frequency"] == "month", float(cfg["month_days"]) * 86400, float(cfg["day_seconds"]))
    bad = up[(off.abs() > lim) & (up["frequency"] != "year")].assign(off=off)
    if bad.empty:
        return out
    bad = bad.assign(month=pd.to_datetime(pd.Series(bad["period"].to_numpy(), index=bad.index)).dt.to_period("M"))
    for (uid, ind, freq, month), g in bad.groupby(["unit_id", "indicator", "frequency", "month"]):
        worst = float(g["off"].abs().max())
        loc, city = _loc(units, str(uid))
        tol = f"{cfg['day_seconds']} s" if freq == "day" else f"{cfg['month_days']} day"
        out.append(Alert("platform_timestamp", "warning", str(uid), None, month.start_time.date(), month.end_time.date(),
                         worst, float(cfg["day_seconds"] if freq == "day" else cfg["month_days"] * 86400), "s",
                         f"{len(g)} {freq} figure(s) of {ind} labelled off the period start by up to {worst / 60:,.1f} min "
                         f"(tolerance {tol}; e.g. {g['ps'].iloc[0].isoformat()})", loc, src, city, grain="month",
                         indicator=f"{ind}/{freq}"))  # fmt: skip
    return out


@register("platform_interval", kinds=("platform_interval",),
          source="end-device technical specification: real-time values every 15 min, at most 1 h")  # fmt: skip
def interval_alerts(ctx: RuleContext) -> list[Alert]:
    """Meters registered, or observed, at intervals longer than the platform allows."""
    res, units = ctx.res, ctx.units
    cfg = _p(ctx)["reading_interval"]
    mx = float(cfg["max_minutes"])
    src = _src(ctx, "reading_interval")
    out: list[Alert] = []
    m = res.meters
    for r in m[m["interval_minutes"].astype(float) > mx].itertuples(index=False):
        loc, city = _loc(units, str(r.unit_id), str(r.meter_id))
        out.append(Alert("platform_interval", "error", str(r.unit_id), str(r.meter_id), res.date_from, res.date_to,
                         float(r.interval_minutes), mx, "min", f"registered reading interval {r.interval_minutes} min "
                         f"(standard {cfg['standard_minutes']}, at most {cfg['max_minutes']})", loc, src, city,
                         grain="registry", indicator="interval"))  # fmt: skip
    md = res.meter_day
    if md.empty:
        return out
    n = md["n"].to_numpy()
    span = (md["last_epoch"] - md["first_epoch"]).to_numpy(dtype=float)
    mean_min = np.where(n > 1, span / np.maximum(n - 1, 1) / 60.0, 0.0)
    hit = md[(mean_min > mx) & (md["interval_minutes"].to_numpy() <= mx)].assign(mean_min=mean_min[(mean_min > mx) & (md["interval_minutes"].to_numpy() <= mx)])
    for mid, g in hit.sort_values(["meter_id", "day"]).groupby("meter_id"):
        g = g.reset_index(drop=True)
        uid = str(g["unit_id"].iloc[0])
        loc, city = _loc(units, uid, str(mid))
        for a, b, pos in day_runs(g["day"]):
            v = float(g["mean_min"].to_numpy()[pos].max())
            out.append(Alert("platform_interval", "warning", uid, str(mid), day_date(a), day_date(b), v, mx, "min",
                             f"readings on average every {v:.0f} min ({len(pos)} day(s))", loc, src, city, grain="day",
                             indicator="interval"))  # fmt: skip
    return out


# -- the minimum indicator set ---------------------------------------------------------------------
@register("platform_indicator_set", kinds=("platform_missing_indicator",),
          source="platform data-quality requirements: the minimum indicator set (综合能源消费总量; 日/月 energy; "
                 "product output and intensity; 工业总产值, 工业增加值)")  # fmt: skip
def indicator_set_alerts(ctx: RuleContext) -> list[Alert]:
    """Per unit and complete month: every required indicator uploaded (checked once uploads are loaded)."""
    up, res, units = _uploads(ctx), ctx.res, ctx.units
    out: list[Alert] = []
    if ctx.input("uploads").empty:
        return out
    src = f"{_p(ctx)['indicator_source']}: {_src(ctx, 'completeness')}"
    req = _p(ctx)["required_indicators"]
    ets, prods = _energy_types(ctx), _products(ctx)
    have = {(str(u), str(i), str(f), p) for u, i, f, p in zip(up["unit_id"], up["indicator"], up["frequency"], up["period"], strict=True)}
    have_month: dict[tuple[str, str, str, dt.date], bool] = {}
    for u, i, f, p in have:
        have_month[(u, i, f, dt.date(p.year, p.month, 1))] = True
    for uid in res.units["unit_id"].astype(str):
        needed: list[tuple[str, str]] = []
        for r in req:
            ind, freq = str(r["indicator"]), str(r["frequency"])
            if ind == "energy:*":
                needed += [(f"energy:{e}", freq) for e in ets.get(uid, [])]
            elif ind in ("output:*", "sec:*"):
                needed += [(f"{ind[:-1]}{p}", freq) for p in prods.get(uid, [])]
            else:
                needed.append((ind, freq))
        loc, city = _loc(units, uid)
        for ms, me in months_in(res.date_from, res.date_to, complete=True):
            missing = [(i, f) for i, f in needed if not have_month.get((uid, i, f, ms))]
            for i, f in missing:
                out.append(Alert("platform_missing_indicator", "warning", uid, None, ms, me, None, None, "",
                                 f"no {f} figure of {i} uploaded for {ms:%Y-%m}", loc, src, city, grain="month",
                                 indicator=f"{i}/{f}"))  # fmt: skip
    return out


# -- meters: calibration, faults ---------------------------------------------------------------------
@register("meter_calibration", kinds=("meter_calibration_expired", "meter_calibration_unknown"),
          source="provincial access-end rules: meters verified or calibrated and within validity; GB 17167-2006")  # fmt: skip
def calibration_alerts(ctx: RuleContext) -> list[Alert]:
    """Readings used from a meter after its verification/calibration expired; meters without a date."""
    res, units = ctx.res, ctx.units
    out: list[Alert] = []
    m = res.meters
    if "calibration_valid_until" not in m.columns or res.meter_day.empty:
        return out
    src = _src(ctx, "calibration")
    last = res.meter_day.groupby("meter_id")["day"].max()
    unknown: dict[str, int] = {}
    for r in m.itertuples(index=False):
        due = r.calibration_valid_until
        if due is None or (isinstance(due, float) and np.isnan(due)) or due is pd.NaT or pd.isna(due):
            unknown[str(r.unit_id)] = unknown.get(str(r.unit_id), 0) + 1
            continue
        due = pd.Timestamp(due).date()
        if str(r.meter_id) not in last.index:
            continue
        last_day = day_date(int(last[str(r.meter_id)]))
        if last_day > due:
            first = max(due + dt.timedelta(days=1), res.date_from)
            loc, city = _loc(units, str(r.unit_id), str(r.meter_id))
            out.append(Alert("meter_calibration_expired", "warning", str(r.unit_id), str(r.meter_id), first, last_day,
                             float((last_day - due).days), 0.0, "days", f"calibration valid until {due}; readings used up "
                             f"to {last_day} ({(last_day - due).days} days past)", loc, src, city, grain="window",
                             indicator="calibration"))  # fmt: skip
    for uid, n in sorted(unknown.items()):
        loc, city = _loc(units, uid)
        out.append(Alert("meter_calibration_unknown", "info", uid, None, res.date_from, res.date_to, float(n), None,
                         "meters", f"{n} meter(s) registered without calibration_valid_until", loc, src, city,
                         grain="registry", indicator="calibration"))  # fmt: skip
    return out


@lru_cache(maxsize=8192)
def is_workday(d: dt.date) -> bool:
    """A working day by the State Council holiday schedule (chinese-calendar), else Monday to Friday."""
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(d))
    except (ImportError, NotImplementedError):
        return d.weekday() < 5


@register("fault_unrepaired", kinds=("fault_unrepaired",),
          source="provincial access-end rules: collection or transmission faults repaired within 3 working days")  # fmt: skip
def fault_alerts(ctx: RuleContext) -> list[Alert]:
    """A meter without complete data for more than 3 working days in a row: the fault was not repaired in time."""
    res, units, cat = ctx.res, ctx.units, ctx.cat
    cfg = _p(ctx)["repair_working_days"]
    limit = int(cfg["value"])
    cmin = float(cat.t("completeness_min"))
    out: list[Alert] = []
    mids, d0, comp = completeness_matrix(res)
    if not mids:
        return out
    mu = res.meters.set_index("meter_id")["unit_id"].astype(str).to_dict()
    bad = comp < cmin
    for i in np.flatnonzero(bad.any(axis=1)):
        for a, b, _pos in day_runs(pd.Series(np.flatnonzero(bad[i]) + d0)):
            days = [day_date(x) for x in range(a, b + 1)]
            wd = sum(is_workday(d) for d in days)
            if wd <= limit:
                continue
            mid = mids[i]
            uid = mu[mid]
            loc, city = _loc(units, uid, mid)
            ongoing = " (still open at the end of the window)" if b == d0 + comp.shape[1] - 1 else ""
            out.append(Alert("fault_unrepaired", "error", uid, mid, days[0], days[-1], float(wd), float(limit), "working days",
                             f"no complete data for {wd} working days ({len(days)} days) from {days[0]} to {days[-1]}{ongoing}: "
                             f"not repaired within {limit} working days; the outage must be registered with the provincial "
                             "platform and the data filled in", loc, f"{cfg['source']} ({cfg['note']})", city,
                             grain="day", indicator="repair"))  # fmt: skip
    return out


# -- upload timeliness ------------------------------------------------------------------------------
@register("upload_timeliness", kinds=("upload_late",),
          source="upload deadlines (platform.yaml upload_deadline; carbonpeak parameter, the source paragraph is missing)")  # fmt: skip
def timeliness_alerts(ctx: RuleContext) -> list[Alert]:
    """Daily and monthly figures uploaded after their deadline."""
    up, units = _uploads(ctx), ctx.units
    out: list[Alert] = []
    if up.empty or "uploaded_at" not in up.columns:
        return out
    cfg = _p(ctx)["upload_deadline"]
    src = f"{cfg['source']} [{cfg['status']}]"
    up = up[up["uploaded_at"].notna() & (up["frequency"] != "year")]
    if up.empty:
        return out
    start = pd.to_datetime(pd.Series(up["period"].to_numpy(), index=up.index)).dt.tz_localize("Asia/Shanghai")
    month_end = start + pd.offsets.MonthBegin(1)
    deadline = np.where(up["frequency"] == "day", start + pd.Timedelta(days=1) + pd.Timedelta(hours=float(cfg["day_hours"])),
                        month_end + pd.Timedelta(days=float(cfg["month_days"])))
    deadline = pd.to_datetime(pd.Series(deadline, index=up.index), utc=True).dt.tz_convert("Asia/Shanghai")
    uploaded = pd.to_datetime(up["uploaded_at"], utc=True).dt.tz_convert("Asia/Shanghai")
    late_h = (uploaded - deadline).dt.total_seconds() / 3600.0
    late = up[late_h > 0].assign(late_h=late_h[late_h > 0])
    if late.empty:
        return out
    late = late.assign(month=pd.to_datetime(pd.Series(late["period"].to_numpy(), index=late.index)).dt.to_period("M"))
    for (uid, ind, freq, month), g in late.groupby(["unit_id", "indicator", "frequency", "month"]):
        loc, city = _loc(units, str(uid))
        worst = float(g["late_h"].max())
        out.append(Alert("upload_late", "warning", str(uid), None, month.start_time.date(), month.end_time.date(), worst, 0.0,
                         "hours late", f"{len(g)} {freq} figure(s) of {ind} uploaded after the deadline (up to {worst:,.1f} h late)",
                         loc, src, city, grain="month", indicator=f"{ind}/{freq}"))  # fmt: skip
    return out
