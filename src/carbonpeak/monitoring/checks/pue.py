"""Data-centre PUE: the 1742号 targets for the sites and periods they bind, GB 40879-2021 grades for all."""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonpeak.i18n import Msg, declare
from carbonpeak.monitoring.alerts import Alert, day_runs, grain_word
from carbonpeak.monitoring.catalog import MonitoringCatalog
from carbonpeak.monitoring.pipeline import day_date
from carbonpeak.monitoring.quality import _loc
from carbonpeak.monitoring.rulebase import RuleContext, register, register_table

PUE_COLUMNS = ["unit_id", "grain", "period", "period_start", "period_end", "days", "total_kwh", "it_kwh", "pue",
               "limit_value", "over_limit", "grade", "target", "d0"]  # fmt: skip

declare({
    "alert_obs.pue_daily": {"limit": float, "n": int, "first": object, "last": object, "high": float},
    "alert_obs.pue_over_limit": {"grain": Msg, "period": str, "pue": float, "days": int, "total_kwh": float,
                                 "it_kwh": float, "limit": float, "month_note": Msg},
    "alert_obs.pue_month_note": {},
    "alert_obs.pue_below_gb40879": {"grain": Msg, "period": str, "pue": float, "target": str},
})


def _attr(units: pd.DataFrame, col: str) -> pd.Series:
    if col in units.columns:
        return units.set_index("unit_id")[col].fillna("").astype(str).str.strip().str.lower()
    return pd.Series("", index=units["unit_id"], dtype=object)


def site_target(cat: MonitoringCatalog, build: str, size: str, hub: bool, year: int) -> tuple[dict | None, str]:
    """The 1742号 target binding a site in ``year`` (or None) and why."""
    if not build or not size:
        return None, "not bound: dc_build/dc_size not registered (GB 40879 grades only)"
    for r in cat.pue_limits:
        if bool(r["hub_node"]) != bool(hub):
            continue
        if build in r["build"] and size in r["size"]:
            if year < int(r["from_year"]):
                return None, f"not bound before {r['from_year']} ({r['id']})"
            return r, f"bound: {r['id']}"
    return None, f"not bound: {build} {size} site (the target is for new large and hyperscale sites)"


def grade_of(cat: MonitoringCatalog, pue: np.ndarray) -> np.ndarray:
    edges = [float(g["max_pue"]) for g in cat.pue_grades]
    labels = np.array([str(g["grade"]) for g in cat.pue_grades] + ["below grade 3"], dtype=object)
    return labels[np.searchsorted(edges, pue, side="left")]


@register_table("pue")
def pue_table(ctx: RuleContext) -> pd.DataFrame:
    """PUE of every data centre by day, month and year (total electricity / IT electricity)."""
    res, cat = ctx.res, ctx.cat
    dcs = res.units[res.units["kind"] == "data_centre"]
    if dcs.empty or res.meter_day.empty:
        return pd.DataFrame(columns=PUE_COLUMNS)
    md = res.meter_day[(res.meter_day["energy_type"] == "electricity") & res.meter_day["unit_id"].isin(dcs["unit_id"])]
    top = md[md["parent_meter_id"].fillna("") == ""].groupby(["unit_id", "day"])["kwh"].sum().rename("total_kwh")
    it = md[md["point"] == "it"].groupby(["unit_id", "day"])["kwh"].sum().rename("it_kwh")
    d = pd.concat([top, it], axis=1, join="inner").reset_index()
    d = d[d["it_kwh"] > 0]
    if d.empty:
        return pd.DataFrame(columns=PUE_COLUMNS)
    days64 = d["day"].to_numpy().astype("datetime64[D]")
    d["day_p"] = days64.astype(str)
    d["month_p"] = days64.astype("datetime64[M]").astype(str)
    d["year_p"] = days64.astype("datetime64[Y]").astype(str)
    frames = []
    for grain in ("day", "month", "year"):
        g = d.groupby(["unit_id", f"{grain}_p"], as_index=False).agg(
            d0=("day", "min"), d1=("day", "max"), days=("day", "nunique"),
            total_kwh=("total_kwh", "sum"), it_kwh=("it_kwh", "sum"),
        )  # fmt: skip
        g = g.rename(columns={f"{grain}_p": "period"})
        g["grain"] = grain
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    out["period_start"] = out["d0"].to_numpy().astype("datetime64[D]").astype(object)
    out["period_end"] = out["d1"].to_numpy().astype("datetime64[D]").astype(object)
    out["pue"] = out["total_kwh"] / out["it_kwh"]
    build, size = _attr(dcs, "dc_build"), _attr(dcs, "dc_size")
    hub = dcs.set_index("unit_id")["hub_node"].fillna(False).astype(bool)
    years = out["period"].str.slice(0, 4).astype(int)
    limits, targets = [], []
    seen: dict[tuple[str, int], tuple[float, str]] = {}
    for uid, y in zip(out["unit_id"].to_numpy(dtype=object), years.to_numpy(), strict=True):  # (plain values: no Arrow iteration)
        key = (uid, int(y))
        if key not in seen:
            t, why = site_target(cat, build.get(uid, ""), size.get(uid, ""), bool(hub.get(uid, False)), int(y))
            seen[key] = (float(t["limit"]) if t else np.nan, why)
        limits.append(seen[key][0])
        targets.append(seen[key][1])
    out["limit_value"] = np.array(limits, dtype=float)
    out["target"] = targets
    out["over_limit"] = (out["pue"] > out["limit_value"]).fillna(False).astype(bool)
    out["grade"] = grade_of(cat, out["pue"].to_numpy())
    excluded = set(cat.extra.get("gb40879_excluded_sizes", ["edge"]))
    out.loc[out["unit_id"].map(size).isin(excluded).to_numpy(), "grade"] = "out of scope (edge)"
    return out[PUE_COLUMNS].reset_index(drop=True)


@register(
    "pue",
    kinds=("pue_over_limit", "pue_below_gb40879"),
    source="发改高技〔2021〕1742号 (new large/hyperscale sites, annual average from 2025); GB 40879-2021 table 1",
)
def pue_alerts(ctx: RuleContext) -> list[Alert]:
    """PUE over the 1742号 target where it binds (day info, month warning, year error); below GB 40879 grade 3."""
    pue, cat, units = ctx.table("pue"), ctx.cat, ctx.units
    alerts: list[Alert] = []
    if pue.empty:
        return alerts
    g3 = cat.pue_grades[-1]
    g3src = f"GB 40879-2021 grade 3 (limit value) PUE <= {g3['max_pue']}: {g3['source']} [{g3['status']}]"
    flagged = pue[pue["over_limit"] | (pue["grade"] == "below grade 3")]
    # plain object columns: itertuples over Arrow-backed strings costs milliseconds per group
    flagged = flagged.astype({c: object for c in flagged.columns if isinstance(flagged[c].dtype, pd.StringDtype)})
    for (uid, grain), g in flagged.groupby(["unit_id", "grain"]):
        loc, city = _loc(units, str(uid))
        over = g[g["over_limit"]]
        src_of = {}
        for t in cat.pue_limits:
            src_of[float(t["limit"])] = f"PUE target {t['limit']} ({t['applies_to']}): {t['source']} [{t['status']}]"
        if grain == "day":
            if not over.empty:
                over = over.sort_values("d0").reset_index(drop=True)
                lim = float(over["limit_value"].iloc[0])
                for a, b, pos in day_runs(over["d0"]):
                    pmax = float(over["pue"].to_numpy()[pos].max())
                    alerts.append(
                        Alert("pue_over_limit", "info", str(uid), None, day_date(a), day_date(b), pmax, lim, "PUE",
                              Msg("alert_obs.pue_daily", limit=lim, n=len(pos), first=day_date(a).isoformat(),
                                  last=day_date(b).isoformat(), high=pmax),
                              loc, src_of.get(lim, ""), city, grain="day", indicator="pue")
                    )
            continue
        for r in over.itertuples(index=False):
            alerts.append(
                Alert("pue_over_limit", "warning" if grain == "month" else "error", str(uid), None, r.period_start,
                      r.period_end, float(r.pue), float(r.limit_value), "PUE",
                      Msg("alert_obs.pue_over_limit", grain=grain_word(str(grain)), period=str(r.period), pue=float(r.pue),
                          days=int(r.days), total_kwh=float(r.total_kwh), it_kwh=float(r.it_kwh),
                          limit=float(r.limit_value),
                          month_note=Msg("alert_obs.pue_month_note") if grain == "month" else ""),
                      loc, src_of.get(float(r.limit_value), ""), city, grain=grain, indicator="pue")
            )
        for r in g[g["grade"] == "below grade 3"].itertuples(index=False):
            alerts.append(
                Alert("pue_below_gb40879", "error" if grain == "year" else "warning", str(uid), None, r.period_start,
                      r.period_end, float(r.pue), float(g3["max_pue"]), "PUE",
                      Msg("alert_obs.pue_below_gb40879", grain=grain_word(str(grain)), period=str(r.period),
                          pue=float(r.pue), target=str(r.target)), loc, g3src, city,
                      grain=grain, indicator="pue")
            )
    return alerts
