"""Data-quality checks on the meter-day table: gaps, flat lines, impossible values, counter
resets and rollovers, duplicates, robust spikes and sub-meters that do not add up.

Gaps, duplicates, sub-meters, flat lines and spikes are found by the engine
(:mod:`carbonpeak.monitoring.setchecks`); the counters of bad values are columns of the meter-day
table.  Only the flagged meter-days are worded here.

Each finding is grouped into runs of consecutive days per meter, so that a frozen meter gives
one alert ("flat for 3 days, 2025-03-01 to 2025-03-03"), not one per day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from carbonpeak.i18n import Msg, declare
from carbonpeak.monitoring.alerts import Alert, day_runs
from carbonpeak.monitoring.catalog import MonitoringCatalog
from carbonpeak.monitoring.pipeline import CST_OFFSET_S, DAY_S, PipelineResult, day_date, day_number
from carbonpeak.monitoring.setchecks import gap_rows, row_checks, submeter_rows

SRC_QUALITY = (
    "national online-monitoring data-quality requirements (completeness >= 90 %, consistency <= 5 %), "
    "summary at m.sanyawang.net/helpdoc/2019/1127/633.html; range, sudden-change and correlation checks "
    "after DBJ/T13-158-2012"
)


class _LocMap(dict):
    """unit → (name, city), cached in ``units.attrs``.  pandas deep-copies ``attrs`` into every frame
    or series derived from ``units`` (each ``.loc``, column access, filter); a map of a few thousand
    units copied thousands of times cost seconds, so the copy returns the same (read-only) map."""

    def __deepcopy__(self, memo: dict) -> _LocMap:
        return self


def _loc(units: pd.DataFrame, unit_id: str, meter_id: str | None = None) -> tuple[str, str | None]:
    m = units.attrs.get("_locmap")
    if m is None:
        m = _LocMap(
            {str(u): (str(n), str(c)) for u, n, c in zip(units["unit_id"], units["name"], units["city"], strict=True)}
        )
        units.attrs["_locmap"] = m
    if unit_id in m:
        name, city = m[unit_id]
        s = f"unit {unit_id} ({name}, {city})"
    else:
        s, city = f"unit {unit_id}", None
    if meter_id:
        s += f", meter {meter_id}"
    return s, city


declare({
    "alert_obs.span_day": {"day": object},
    "alert_obs.span_days": {"first": object, "last": object, "days": int},
    "alert_obs.gap_none": {"span": Msg},
    "alert_obs.gap_partial": {"mean": float, "low": float, "span": Msg},
    "alert_obs.flat_line": {"n": int, "value": float, "unit": str, "span": Msg},
    "alert_obs.negative_value": {"n": int, "span": Msg},
    "alert_obs.impossible_value": {"n": int, "span": Msg},
    "alert_obs.counter_reset": {"n": int, "span": Msg},
    "alert_obs.counter_rollover": {"n": int, "span": Msg},
    "alert_obs.duplicate_readings": {"n": int, "span": Msg},
    "alert_obs.spike": {"energy": float, "unit": str, "vmax": float, "z": float, "span": Msg},
    "alert_obs.submeter_mismatch": {"low": float, "high": float, "span": Msg},
})


def _span(a: int, b: int) -> Msg:
    da, db = day_date(a), day_date(b)
    if a == b:
        return Msg("alert_obs.span_day", day=da.isoformat())
    return Msg("alert_obs.span_days", first=da.isoformat(), last=db.isoformat(), days=b - a + 1)


def _runs_alerts(
    rows: pd.DataFrame,
    kind: str,
    severity: str,
    units: pd.DataFrame,
    describe: Callable[..., Msg],
    value_col: str,
    threshold: float | None,
    value_unit: str,
    source: str,
    worst: str = "max",
) -> list[Alert]:
    out: list[Alert] = []
    if rows.empty:
        return out
    rows = rows.sort_values(["meter_id", "day"])
    for mid, g in rows.groupby("meter_id", sort=True):
        g = g.reset_index(drop=True)
        uid = str(g["unit_id"].iloc[0])
        loc, city = _loc(units, uid, str(mid))
        for a, b, pos in day_runs(g["day"]):
            sub = g.iloc[pos]
            v = float(sub[value_col].max() if worst == "max" else sub[value_col].min())
            out.append(
                Alert(kind, severity, uid, str(mid), day_date(a), day_date(b), v, threshold, value_unit,
                      describe(sub, a, b, v), loc, source, city)
            )
    return out


def data_as_of(res: PipelineResult) -> int | None:
    """The data's as-of time (epoch seconds) when the latest day with data is still in progress: the end
    of the latest interval on that day if it ends before the day's midnight, else ``None`` (every day
    of the data had ended)."""
    md = res.meter_day
    if md.empty:
        return None
    day = md["day"].to_numpy()
    dmax = int(day.max())
    on = day == dmax
    t = int((md["last_epoch"].to_numpy()[on] + md["interval_minutes"].to_numpy()[on] * 60).max())
    start = dmax * DAY_S - CST_OFFSET_S
    return t if start <= t < start + DAY_S else None


def ended_days(res: PipelineResult, as_of: dt.datetime | None = None) -> int:
    """How many days of the window had ended (CST midnight) at ``as_of`` (default: the data's as-of time,
    :func:`data_as_of`; when every day of the data had ended, the whole window counts).

    A day that has not ended at the as-of time is unfinished, not incomplete: the checks that count
    a day's readings against the expected number (gaps, completeness, repair times) stop before it.
    """
    d0, d1 = day_number(res.date_from), day_number(res.date_to)
    t = int(as_of.timestamp()) if as_of is not None else data_as_of(res)
    if t is None:
        return d1 - d0 + 1
    last_ended = (t + CST_OFFSET_S) // DAY_S - 1  # day k ends at (k + 1) days − 8 h, epoch seconds
    return int(min(max(last_ended - d0 + 1, 0), d1 - d0 + 1))


def completeness_matrix(res: PipelineResult, as_of: dt.datetime | None = None) -> tuple[list[str], int, np.ndarray]:
    """Registered meters, the first day number and completeness[meter, day] over the days of the window
    that had ended at ``as_of`` (:func:`ended_days`; 0 = no data)."""
    md, meters = res.meter_day, res.meters
    d0 = day_number(res.date_from)
    ndays = ended_days(res, as_of)
    mids = meters["meter_id"].astype(str).tolist()
    comp = np.zeros((len(mids), ndays))
    if len(md):
        # position of each meter-day's meter in the registry (a hash lookup, not a Python map per row)
        midx = pd.Index(mids)
        if midx.is_unique:
            mi = midx.get_indexer(md["meter_id"])
        else:
            pos = {m: i for i, m in enumerate(mids)}
            mi = md["meter_id"].map(pos).fillna(-1).to_numpy().astype(np.int64)
        di = md["day"].to_numpy() - d0
        ok = (mi >= 0) & (di >= 0) & (di < ndays)
        comp[mi[ok], di[ok]] = md["completeness"].to_numpy()[ok]
    return mids, d0, comp


def quality_alerts(res: PipelineResult, cat: MonitoringCatalog, as_of: dt.datetime | None = None) -> list[Alert]:
    md = res.meter_day
    units = res.units.set_index("unit_id", drop=False)
    alerts: list[Alert] = []
    cmin = float(cat.t("completeness_min"))
    flat_min = int(cat.t("flat_min_readings"))

    # gaps: every registered meter × every day of the window that had ended at the as-of time,
    # a cross join anti-joined with the meter-days on the engine (setchecks.gap_rows) --------
    d0 = day_number(res.date_from)
    gaps = gap_rows(res, d0, ended_days(res, as_of), cmin)
    src_gap = f"completeness = received / expected readings >= {cmin:g}: {cat.source('completeness_min')}"
    for mid, g in gaps.groupby("meter_id", sort=True):
        uid = str(g["unit_id"].iloc[0])
        loc, city = _loc(units, uid, str(mid))
        cvals = g["completeness"].to_numpy()
        for a, b, pos in day_runs(g["day"]):
            c = cvals[pos]
            observed = (
                Msg("alert_obs.gap_none", span=_span(a, b))
                if float(c.max()) == 0
                else Msg("alert_obs.gap_partial", mean=float(c.mean()), low=float(c.min()), span=_span(a, b))
            )
            alerts.append(
                Alert("gap", "warning", uid, str(mid), day_date(a), day_date(b), float(c.mean()), cmin, "1",
                      observed, loc, src_gap, city)
            )

    if md.empty:
        return alerts
    base = md[["meter_id", "unit_id", "day", "n", "energy", "vmin", "vmax", "unit", "completeness"]]  # copy on write
    key = pd.MultiIndex.from_frame(md[["meter_id", "day"]])

    def rows_of(found: pd.DataFrame) -> pd.DataFrame:
        """The meter-day rows (``base``) of rows the engine flagged, in the engine's order."""
        pos = key.get_indexer(pd.MultiIndex.from_frame(found[["meter_id", "day"]])) if len(found) else np.zeros(0, np.int64)
        return base.iloc[pos]

    zthr = float(cat.t("spike_robust_z"))
    # duplicates, flat lines (the meter's median daily energy as a window) and spikes (medians and MADs
    # as windows per meter): one query on the engine (setchecks.row_checks) ------------------------
    checked = row_checks(res, flat_min, cmin, zthr)
    flat = rows_of(checked[checked["flat"]])
    alerts += _runs_alerts(
        flat, "flat_line", "error", units,
        lambda s, a, b, v: Msg("alert_obs.flat_line", n=int(s['n'].sum()), value=v, unit=str(s['unit'].iloc[0]), span=_span(a, b)),
        "vmax", None, str(md["unit"].iloc[0]) if len(md) else "",
        f"flat line = at least {flat_min} readings in a day with one value: {cat.source('flat_min_readings')}",
    )  # fmt: skip

    simple = (
        ("n_negative", "negative_value", "error"),
        ("n_impossible", "impossible_value", "error"),
        ("n_resets", "counter_reset", "warning"),
        ("n_rollovers", "counter_rollover", "info"),
    )
    for col, k, sev in simple:
        cnt = md[col].to_numpy()
        hit = cnt > 0
        rows = base[hit].assign(cnt=cnt[hit])
        alerts += _runs_alerts(
            rows, k, sev, units,
            lambda s, a, b, v, k=k: Msg(f"alert_obs.{k}", n=int(s['cnt'].sum()), span=_span(a, b)),
            "cnt", 0.0, "readings", SRC_QUALITY,
        )  # fmt: skip

    # duplicates: more readings than slots between the first and last timestamp (row_checks above)
    drows = checked[checked["extra"] > 0]
    dup = rows_of(drows).assign(extra=drows["extra"].to_numpy())
    alerts += _runs_alerts(
        dup, "duplicate_readings", "warning", units,
        lambda s, a, b, v: Msg("alert_obs.duplicate_readings", n=int(s['extra'].sum()), span=_span(a, b)),
        "extra", 0.0, "readings", SRC_QUALITY,
    )  # fmt: skip

    # spikes: robust z of daily energy and of the daily largest interval, per meter (row_checks above)
    srows = checked[checked["z"] > zthr]
    sp = rows_of(srows).assign(z=srows["z"].to_numpy(dtype=np.float64))
    alerts += _runs_alerts(
        sp, "spike", "warning", units,
        lambda s, a, b, v: Msg("alert_obs.spike", energy=float(s['energy'].max()), unit=str(s['unit'].iloc[0]),
                               vmax=float(s['vmax'].max()), z=v, span=_span(a, b)),
        "z", zthr, "robust z",
        f"robust z = 0.6745·(x − median)/MAD over the meter's days (Iglewicz & Hoaglin 1993); limit {zthr:g}: {cat.source('spike_robust_z')}",
    )  # fmt: skip

    alerts += _submeter_alerts(res, cat, units)
    return alerts


def _submeter_alerts(res: PipelineResult, cat: MonitoringCatalog, units: pd.DataFrame) -> list[Alert]:
    md = res.meter_day
    tol = float(cat.t("submeter_tolerance"))
    cmin = float(cat.t("completeness_min"))
    if md.empty or (res.meters["parent_meter_id"].fillna("") == "").all():
        return []
    # the join of the children's meter-days with their parent's, on the engine (setchecks.submeter_rows)
    bad = submeter_rows(res, cmin, tol)
    if bad.empty:
        return []
    key = pd.MultiIndex.from_frame(md[["meter_id", "day"]])
    pos = key.get_indexer(pd.MultiIndex.from_frame(bad[["meter_id", "day"]]))
    rows = md.iloc[pos][["meter_id", "unit_id", "day", "energy", "unit", "completeness"]].assign(
        ratio=bad["ratio"].to_numpy()
    )
    return _runs_alerts(
        rows, "submeter_mismatch", "warning", units,
        lambda s, a, b, v: Msg("alert_obs.submeter_mismatch", low=float(s['ratio'].min()), high=float(s['ratio'].max()),
                               span=_span(a, b)),
        "ratio", 1 + tol, "sum of sub-meters / parent",
        f"sub-meters must not exceed their parent by more than {tol:.0%}; a breakdown of 2 or more sub-meters must "
        f"not fall short by more than {tol:.0%}: {cat.source('submeter_tolerance')}",
    )  # fmt: skip
