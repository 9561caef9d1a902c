"""Energy budgets (用能预算) and the key-unit inclusion thresholds, on the budget's own basis."""

from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd

from carbonpeak.i18n import Msg, declare
from carbonpeak.monitoring.alerts import Alert
from carbonpeak.monitoring.quality import _loc
from carbonpeak.monitoring.rulebase import RuleContext, basis_tce, register, register_table

declare({
    "alert_obs.budget_warning": {"used": float, "first": object, "last": object, "share": float, "year": int,
                                 "budget": float, "level": float},
    "alert_obs.budget_forecast_over": {"forecast": float, "year": int, "share": float, "budget": float, "days": int},
    "alert_obs.inclusion_national": {"forecast": float, "limit": float, "level": str},
    "alert_obs.inclusion_provincial": {"forecast": float, "limit": float},
})

BUDGET_COLUMNS = ["unit_id", "year", "window_start", "window_end", "days", "to_date_tce", "forecast_tce", "budget_tce",
                  "share_to_date", "share_forecast", "basis"]  # fmt: skip


@register_table("budgets")
def budget_table(ctx: RuleContext) -> pd.DataFrame:
    """Per unit and year: tce in the window on the budget's basis, the straight-line forecast, the budget."""
    res, budgets = ctx.res, ctx.input("budgets")
    ud = res.unit_day
    if ud.empty:
        return pd.DataFrame(columns=BUDGET_COLUMNS)
    basis = str(ctx.cat.t("budget_electricity_basis"))
    tce, note = basis_tce(res, ud, basis, kwh_col="electricity_kwh")
    ud = ud.assign(tce=tce, year=ud["day"].to_numpy().astype("datetime64[D]").astype("datetime64[Y]").astype("int64") + 1970)
    g = ud.groupby(["unit_id", "year"], as_index=False)["tce"].sum().rename(columns={"tce": "to_date_tce"})
    rows = []
    for r in g.itertuples(index=False):
        y = int(r.year)
        ws, we = max(res.date_from, dt.date(y, 1, 1)), min(res.date_to, dt.date(y, 12, 31))
        days = (we - ws).days + 1
        ydays = 366 if calendar.isleap(y) else 365
        rows.append({"unit_id": r.unit_id, "year": y, "window_start": ws, "window_end": we, "days": days,
                     "to_date_tce": r.to_date_tce, "forecast_tce": r.to_date_tce / days * ydays})  # fmt: skip
    t = pd.DataFrame(rows)
    b = budgets[["unit_id", "year", "budget_tce"]] if not budgets.empty else pd.DataFrame(columns=["unit_id", "year", "budget_tce"])
    t = t.merge(b.astype({"year": "int64"}), on=["unit_id", "year"], how="left")
    t["share_to_date"] = t["to_date_tce"] / t["budget_tce"]
    t["share_forecast"] = t["forecast_tce"] / t["budget_tce"]
    t["basis"] = basis + (f" ({note})" if note else "")
    return t[BUDGET_COLUMNS]


@register(
    "budget",
    kinds=("budget_warning", "budget_forecast_over"),
    source="energy budget warning levels (thresholds.yaml budget_warn_levels); basis budget_electricity_basis",
)
def budget_alerts(ctx: RuleContext) -> list[Alert]:
    """Consumption to date at a warning level of the annual budget; a straight-line forecast over it."""
    bt, cat, units = ctx.table("budgets"), ctx.cat, ctx.units
    levels = sorted(ctx.options.get("warn_levels") or [float(x) for x in cat.t("budget_warn_levels")])
    out: list[Alert] = []
    basis = f"electricity on the {cat.t('budget_electricity_basis')} basis ({cat.source('budget_electricity_basis')})"
    for r in bt.itertuples(index=False):
        if pd.isna(r.budget_tce) or r.budget_tce <= 0:
            continue
        loc, city = _loc(units, r.unit_id)
        ps, pe = r.window_start, r.window_end
        reached = [lv for lv in levels if r.share_to_date >= lv]
        if reached:
            lv = max(reached)
            out.append(
                Alert("budget_warning", "error" if lv >= 1 else "warning", r.unit_id, None, ps, pe, float(r.share_to_date), lv,
                      "share of budget", Msg("alert_obs.budget_warning", used=float(r.to_date_tce), first=str(ps), last=str(pe),
                                              share=float(r.share_to_date), year=int(r.year),
                                              budget=float(r.budget_tce), level=float(lv)), loc,
                      f"energy budget (用能预算) warning levels {', '.join(f'{x:.0%}' for x in levels)}: "
                      f"{cat.source('budget_warn_levels')}; {basis}", city, grain="window", indicator="tce")
            )
        if r.share_forecast > 1 and r.days >= 28:
            out.append(
                Alert("budget_forecast_over", "warning", r.unit_id, None, ps, pe, float(r.forecast_tce), float(r.budget_tce),
                      "tce", Msg("alert_obs.budget_forecast_over", forecast=float(r.forecast_tce), year=int(r.year),
                                 share=float(r.share_forecast), budget=float(r.budget_tce), days=int(r.days)), loc,
                      f"forecast = tce in the window / days × days in the year (carbonpeak method, see docs/methods/monitoring.md); {basis}",
                      city, grain="year", indicator="tce")
            )
    return out


@register(
    "inclusion",
    kinds=("inclusion_national", "inclusion_provincial"),
    source="Energy Conservation Law Art. 52; 重点用能单位节能管理办法 (2018) Art. 2",
)
def inclusion_alerts(ctx: RuleContext) -> list[Alert]:
    """A unit whose forecast annual consumption reaches a key-unit threshold but is registered lower."""
    bt, cat, units, res = ctx.table("budgets"), ctx.cat, ctx.units, ctx.res
    nat, prov = float(cat.t("key_unit_national_tce")), float(cat.t("key_unit_provincial_tce"))
    reg_level = dict(zip(res.units["unit_id"], res.units["registered_level"].fillna("none"), strict=True))
    out: list[Alert] = []
    for r in bt.itertuples(index=False):
        if r.days < 28 or r.unit_id not in reg_level:
            continue
        loc, city = _loc(units, r.unit_id)
        level = str(reg_level[r.unit_id] or "none")
        if r.forecast_tce >= nat and level != "national":
            out.append(
                Alert("inclusion_national", "warning", r.unit_id, None, r.window_start, r.window_end, float(r.forecast_tce),
                      nat, "tce/a", Msg("alert_obs.inclusion_national", forecast=float(r.forecast_tce), limit=nat, level=level), loc, cat.source("key_unit_national_tce"), city)
            )
        elif prov <= r.forecast_tce < nat and level == "none":
            out.append(
                Alert("inclusion_provincial", "info", r.unit_id, None, r.window_start, r.window_end, float(r.forecast_tce),
                      prov, "tce/a", Msg("alert_obs.inclusion_provincial", forecast=float(r.forecast_tce), limit=prov), loc, cat.source("key_unit_provincial_tce"), city)
            )
    return out
