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

from carbonpeak.i18n import Msg, declare
from carbonpeak.monitoring.alerts import Alert, day_runs, freq_word
from carbonpeak.monitoring.pipeline import day_date, day_number
from carbonpeak.monitoring.quality import _loc, completeness_matrix, ended_days
from carbonpeak.monitoring.rulebase import RuleContext, register
from carbonpeak.monitoring.setchecks import gap_rows

CST = dt.timezone(dt.timedelta(hours=8))

declare({
    "alert_obs.platform_readings": {"energy_type": str, "share": float, "month": str, "meters": int},
    "alert_obs.platform_uploads": {"indicator": str, "n": int, "days": int, "month": str, "share": float},
    "alert_obs.platform_daily_vs_monthly": {"indicator": str, "month": str, "days": int, "total": float,
                                            "monthly": float, "dev": float},
    "alert_obs.platform_timestamp": {"n": int, "freq": Msg, "indicator": str, "minutes": float, "tol": str,
                                     "example": str},
    "alert_obs.platform_interval_registry": {"minutes": str, "standard": str, "max": str},
    "alert_obs.platform_interval_days": {"minutes": float, "n": int},
    "alert_obs.platform_missing_indicator": {"freq": Msg, "indicator": str, "month": str},
    "alert_obs.meter_calibration_expired": {"due": object, "last": object, "days": int},
    "alert_obs.meter_calibration_unknown": {"n": int},
    "alert_obs.fault_unrepaired": {"workdays": int, "days": int, "first": object, "last": object, "ongoing": Msg,
                                   "limit": str},
    "alert_obs.fault_ongoing": {},
    "alert_obs.upload_late": {"n": int, "freq": Msg, "indicator": str, "hours": float},
})


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


def _local(col: pd.Series) -> pd.Series:
    """A time-zone-aware column as naive China Standard Time (datetime64, vectorised)."""
    return pd.to_datetime(col, utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)


def _uploads(ctx: RuleContext) -> pd.DataFrame:
    """The uploads inside the window, with naive CST columns ``ps`` (the time label), ``period`` (the
    statistic period it belongs to: nearest midnight, or nearest 1st for monthly figures), ``month``
    and ``uploaded`` (computed once per evaluation)."""
    cached = ctx.tables.get("__uploads")
    if cached is not None:
        return cached
    up = ctx.input("uploads")
    if up.empty:
        return up
    ps = _local(up["period_start"])
    day = (ps + pd.Timedelta(hours=12)).dt.floor("D")
    month_first = (ps + pd.Timedelta(days=15)).dt.to_period("M").dt.start_time
    period = day.where(up["frequency"] != "month", month_first)
    up = up.assign(ps=ps, period=period, month=period.dt.to_period("M").dt.start_time,
                   uploaded=_local(up["uploaded_at"]) if "uploaded_at" in up.columns else pd.NaT)  # fmt: skip
    lo, hi = pd.Timestamp(ctx.res.date_from), pd.Timestamp(ctx.res.date_to)
    up = up[(up["period"] >= lo) & (up["period"] <= hi)]
    ctx.tables["__uploads"] = up
    return up


def _energy_types(ctx: RuleContext) -> dict[str, list[str]]:
    m = ctx.res.meters
    top = m[m["parent_meter_id"].fillna("") == ""]
    out: dict[str, set[str]] = {}
    for u, e in zip(top["unit_id"].to_numpy(dtype=object), top["energy_type"].to_numpy(dtype=object), strict=True):
        out.setdefault(str(u), set()).add(e)
    return {u: sorted(v) for u, v in out.items()}


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


@register("platform_completeness", kinds=("platform_completeness",),
          source="platform data-quality requirements: received / expected >= 90 % per unit, indicator and period")  # fmt: skip
def completeness_alerts(ctx: RuleContext) -> list[Alert]:
    """Per unit, indicator and month: readings of each energy type, and daily uploads, below 90 %."""
    res, units = ctx.res, ctx.units
    cmin = float(_p(ctx)["completeness"]["value"])
    src = _src(ctx, "completeness")
    out: list[Alert] = []
    mids, _d0, comp = completeness_matrix(res, ctx.options.get("as_of"))
    # only the days that had ended at the as-of time count (an unfinished day is not incomplete)
    last = res.date_from + dt.timedelta(days=comp.shape[1] - 1)
    months = [(ms, min(me, last)) for ms, me in months_in(res.date_from, res.date_to, complete=False) if ms <= last]
    if mids and months:
        meters = res.meters.set_index("meter_id").reindex(mids)
        top = (meters["parent_meter_id"].fillna("") == "").to_numpy()
        clipped = np.minimum(comp[top], 1.0)
        # every top-level meter of a unit and energy type expects the same number of values a day
        share = np.column_stack([clipped[:, (ms - res.date_from).days:(me - res.date_from).days + 1].mean(axis=1)
                                 for ms, me in months])  # fmt: skip
        frame = pd.DataFrame(share, columns=range(len(months)))
        frame["unit_id"] = meters["unit_id"].astype(str).to_numpy()[top]
        frame["energy_type"] = meters["energy_type"].astype(str).to_numpy()[top]
        g = frame.groupby(["unit_id", "energy_type"])
        mean, count = g.mean(), g.size()
        for k, (ms, me) in enumerate(months):
            for (uid, et), v in mean[k][mean[k] < cmin].items():
                loc, city = _loc(units, str(uid))
                out.append(Alert("platform_completeness", "warning", str(uid), None, ms, me, float(v), cmin, "1",
                                 Msg("alert_obs.platform_readings", energy_type=str(et), share=float(v),
                                     month=f"{ms:%Y-%m}", meters=int(count[(uid, et)])), loc, src, city, grain="month",
                                 indicator=f"readings:{et}"))  # fmt: skip
    up = _uploads(ctx)
    if up.empty:
        return out
    daily = up[up["frequency"] == "day"]
    pairs = daily[["unit_id", "indicator"]].drop_duplicates()
    got = daily.groupby(["unit_id", "indicator", "month"])["period"].nunique()
    p_uid = pairs["unit_id"].to_numpy(dtype=object)
    p_ind = pairs["indicator"].to_numpy(dtype=object)
    for ms, me in months:
        n_days = (me - ms).days + 1
        m = pd.Timestamp(ms.replace(day=1))
        # the days uploaded of every (unit, indicator) pair in this month at once (0: none)
        idx = pd.MultiIndex.from_arrays([pairs["unit_id"], pairs["indicator"], pd.DatetimeIndex([m] * len(pairs))])
        counts = got.reindex(idx, fill_value=0).to_numpy(dtype=np.int64)
        for k in np.flatnonzero(counts / n_days < cmin):
            uid, ind, n = p_uid[k], p_ind[k], int(counts[k])
            loc, city = _loc(units, str(uid))
            out.append(Alert("platform_completeness", "warning", str(uid), None, ms, me, n / n_days, cmin, "1",
                             Msg("alert_obs.platform_uploads", indicator=str(ind), n=n, days=n_days,
                                 month=f"{ms:%Y-%m}", share=n / n_days),
                             loc, src, city, grain="month", indicator=f"{ind}/day"))  # fmt: skip
    return out


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
    monthly = up[up["frequency"] == "month"].groupby(["unit_id", "indicator", "month"])["value"].sum()
    daily = up[up["frequency"] == "day"]
    dsum = daily.groupby(["unit_id", "indicator", "month"]).agg(total=("value", "sum"), days=("period", "nunique"))
    j = dsum.join(monthly.rename("monthly"), how="inner").reset_index()
    j = j[j["monthly"] != 0]
    j["dev"] = (j["total"] - j["monthly"]) / j["monthly"].abs()
    for r in j[j["dev"].abs() > tol].itertuples(index=False):
        ms = r.month.date()
        me = (r.month + pd.offsets.MonthEnd(0)).date()
        loc, city = _loc(units, str(r.unit_id))
        out.append(Alert("platform_daily_vs_monthly", "warning", str(r.unit_id), None, ms, me, float(r.dev), tol,
                         "relative deviation",
                         Msg("alert_obs.platform_daily_vs_monthly", indicator=str(r.indicator), month=f"{ms:%Y-%m}",
                             days=int(r.days), total=float(r.total), monthly=float(r.monthly), dev=float(r.dev)), loc, src, city, grain="month",
                         indicator=str(r.indicator)))  # fmt: skip
    return out


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
    off = (up["ps"] - up["period"]).dt.total_seconds()
    lim = np.where(up["frequency"] == "month", float(cfg["month_days"]) * 86400, float(cfg["day_seconds"]))
    bad = up[(off.abs().to_numpy() > lim) & (up["frequency"] != "year").to_numpy()].assign(off=off)
    for (uid, ind, freq, month), g in bad.groupby(["unit_id", "indicator", "frequency", "month"]):
        worst = float(g["off"].abs().max())
        loc, city = _loc(units, str(uid))
        tol = f"{cfg['day_seconds']} s" if freq == "day" else f"{cfg['month_days']} d"
        out.append(Alert("platform_timestamp", "warning", str(uid), None, month.date(), (month + pd.offsets.MonthEnd(0)).date(),
                         worst, float(cfg["day_seconds"] if freq == "day" else cfg["month_days"] * 86400), "s",
                         Msg("alert_obs.platform_timestamp", n=len(g), freq=freq_word(str(freq)), indicator=str(ind),
                             minutes=worst / 60, tol=tol, example=g["ps"].iloc[0].isoformat()), loc, src, city, grain="month",
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
                         float(r.interval_minutes), mx, "min",
                         Msg("alert_obs.platform_interval_registry", minutes=str(r.interval_minutes),
                             standard=str(cfg["standard_minutes"]), max=str(cfg["max_minutes"])), loc, src, city,
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
                             Msg("alert_obs.platform_interval_days", minutes=v, n=len(pos)), loc, src, city, grain="day",
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
    keys = up[["unit_id", "indicator", "frequency", "month"]].drop_duplicates()
    # plain Python values (iterating Arrow-backed columns row by row costs seconds at provincial scale)
    have_month = set(zip(keys["unit_id"].astype(str).to_numpy(dtype=object), keys["indicator"].astype(str).to_numpy(dtype=object),
                         keys["frequency"].astype(str).to_numpy(dtype=object), keys["month"].dt.date.to_numpy(dtype=object), strict=True))  # fmt: skip
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
            missing = [(i, f) for i, f in needed if (uid, i, f, ms) not in have_month]
            for i, f in missing:
                out.append(Alert("platform_missing_indicator", "warning", uid, None, ms, me, None, None, "",
                                 Msg("alert_obs.platform_missing_indicator", freq=freq_word(f), indicator=i,
                                     month=f"{ms:%Y-%m}"), loc, src, city, grain="month",
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
                             float((last_day - due).days), 0.0, "days",
                             Msg("alert_obs.meter_calibration_expired", due=due.isoformat(), last=last_day.isoformat(),
                                 days=(last_day - due).days), loc, src, city, grain="window",
                             indicator="calibration"))  # fmt: skip
    for uid, n in sorted(unknown.items()):
        loc, city = _loc(units, uid)
        out.append(Alert("meter_calibration_unknown", "info", uid, None, res.date_from, res.date_to, float(n), None,
                         "meters", Msg("alert_obs.meter_calibration_unknown", n=int(n)), loc, src, city,
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
    # the meter-days below the completeness limit: the same set-operation rows as the gap check,
    # computed once on the engine (setchecks.gap_rows)
    d0 = day_number(res.date_from)
    ndays = ended_days(res, ctx.options.get("as_of"))
    gaps = gap_rows(res, d0, ndays, cmin)
    for mid, g in gaps.groupby("meter_id", sort=True):
        for a, b, _pos in day_runs(g["day"]):
            days = [day_date(x) for x in range(a, b + 1)]
            wd = sum(is_workday(d) for d in days)
            if wd <= limit:
                continue
            uid = str(g["unit_id"].iloc[0])
            loc, city = _loc(units, uid, str(mid))
            ongoing = Msg("alert_obs.fault_ongoing") if b == d0 + ndays - 1 else ""
            out.append(Alert("fault_unrepaired", "error", uid, str(mid), days[0], days[-1], float(wd), float(limit), "working days",
                             Msg("alert_obs.fault_unrepaired", workdays=int(wd), days=len(days), first=days[0].isoformat(),
                                 last=days[-1].isoformat(), ongoing=ongoing, limit=str(limit)), loc, f"{cfg['source']} ({cfg['note']})", city,
                             grain="day", indicator="repair"))  # fmt: skip
    return out


@register("upload_timeliness", kinds=("upload_late",),
          source="upload deadlines (platform.yaml upload_deadline; carbonpeak parameter, the source paragraph is missing)")  # fmt: skip
def timeliness_alerts(ctx: RuleContext) -> list[Alert]:
    """Daily and monthly figures uploaded after their deadline."""
    up, units = _uploads(ctx), ctx.units
    out: list[Alert] = []
    if up.empty:
        return out
    cfg = _p(ctx)["upload_deadline"]
    src = f"{cfg['source']} [{cfg['status']}]"
    up = up[up["uploaded"].notna() & (up["frequency"] != "year")]
    if up.empty:
        return out
    day_deadline = up["period"] + pd.Timedelta(days=1) + pd.Timedelta(hours=float(cfg["day_hours"]))
    month_deadline = up["month"] + pd.offsets.MonthBegin(1) + pd.Timedelta(days=float(cfg["month_days"]))
    deadline = day_deadline.where(up["frequency"] == "day", month_deadline)
    late_h = (up["uploaded"] - deadline).dt.total_seconds() / 3600.0
    late = up[late_h > 0].assign(late_h=late_h[late_h > 0])
    for (uid, ind, freq, month), g in late.groupby(["unit_id", "indicator", "frequency", "month"]):
        loc, city = _loc(units, str(uid))
        worst = float(g["late_h"].max())
        out.append(Alert("upload_late", "warning", str(uid), None, month.date(), (month + pd.offsets.MonthEnd(0)).date(),
                         worst, 0.0, "hours late",
                         Msg("alert_obs.upload_late", n=len(g), freq=freq_word(str(freq)), indicator=str(ind),
                             hours=worst),
                         loc, src, city, grain="month", indicator=f"{ind}/{freq}"))  # fmt: skip
    return out
