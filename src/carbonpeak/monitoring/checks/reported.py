"""Reported against metered energy, compared per reported period (each month, each day), never
netted over the window: a +10 % month and a −10 % month are two findings, not zero."""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonpeak.i18n import Msg, declare
from carbonpeak.monitoring.alerts import Alert, grain_word
from carbonpeak.monitoring.quality import _loc
from carbonpeak.monitoring.rulebase import (
    RangeSum,
    RuleContext,
    basis_tce,
    dn,
    grain_of,
    register,
    register_table,
)

REPORTED_COLUMNS = ["unit_id", "period_start", "period_end", "grain", "reported_tce", "metered_tce", "deviation", "coverage"]

declare({
    "alert_obs.reported_vs_metered": {"grain": Msg, "first": object, "last": object, "reported": float,
                                      "metered": float, "dev": float, "basis": str, "under": Msg},
    "alert_obs.under_reporting": {},
})


@register_table("reported")
def reported_table(ctx: RuleContext) -> pd.DataFrame:
    res, reported = ctx.res, ctx.input("reported")
    if reported.empty or res.unit_day.empty:
        return pd.DataFrame(columns=REPORTED_COLUMNS)
    ud = res.unit_day
    tce, _note = basis_tce(res, ud, str(ctx.cat.t("reported_electricity_basis")), kwh_col="electricity_kwh")
    daily = ud.assign(tce=tce).groupby(["unit_id", "day"], as_index=False)["tce"].sum()
    rs = RangeSum(daily, ["unit_id"], ["tce"])
    rows = []
    for r in reported.itertuples(index=False):
        if r.period_start < res.date_from or r.period_end > res.date_to:
            continue
        v, nd = rs.get((r.unit_id,), dn(r.period_start), dn(r.period_end))
        met = v["tce"]
        rows.append({"unit_id": r.unit_id, "period_start": r.period_start, "period_end": r.period_end,
                     "grain": grain_of(r.period_start, r.period_end), "reported_tce": r.energy_tce, "metered_tce": met,
                     "deviation": (r.energy_tce - met) / met if met > 0 else np.nan,
                     "coverage": nd / ((r.period_end - r.period_start).days + 1)})  # fmt: skip
    return pd.DataFrame(rows, columns=REPORTED_COLUMNS)


@register(
    "reported_vs_metered",
    kinds=("reported_vs_metered",),
    source="consistency limit 5 % of the online-monitoring data-quality requirements, per reported period",
)
def reported_alerts(ctx: RuleContext) -> list[Alert]:
    """Each reported period whose figure differs from the metered energy by more than the limit."""
    rt, cat, units = ctx.table("reported"), ctx.cat, ctx.units
    tol = float(cat.t("consistency_max"))
    cmin = float(cat.t("completeness_min"))
    basis = cat.t("reported_electricity_basis")
    out: list[Alert] = []
    if rt.empty:
        return out
    # a period whose meters missed days is not comparable: the gap alerts cover it
    bad = rt[(rt["deviation"].abs() > tol) & (rt["coverage"] >= cmin)]
    for r in bad.itertuples(index=False):
        loc, city = _loc(units, str(r.unit_id))
        dev = float(r.deviation)
        out.append(
            Alert("reported_vs_metered", "error" if dev < 0 else "warning", str(r.unit_id), None, r.period_start,
                  r.period_end, dev, tol, "relative deviation",
                  Msg("alert_obs.reported_vs_metered", grain=grain_word(str(r.grain)), first=str(r.period_start),
                      last=str(r.period_end), reported=float(r.reported_tce), metered=float(r.metered_tce), dev=dev,
                      basis=str(basis), under=Msg("alert_obs.under_reporting") if dev < 0 else ""), loc,
                  f"consistency limit {tol:.0%} per reported period: {cat.source('consistency_max')}; "
                  f"basis: {cat.source('reported_electricity_basis')}; cross-source reconciliation after MEE 2022 fraud cases",
                  city, grain=str(r.grain), indicator="tce")
        )
    return out
