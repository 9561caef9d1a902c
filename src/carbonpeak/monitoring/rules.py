"""The monitoring rules: PUE, product energy intensity and surcharges, energy budgets and
inclusion, reported vs metered totals, energy-per-output jumps and digit tests.

All work on the pipeline result (meter-day and unit-day tables) and the registry; every
threshold, limit and surcharge comes from :class:`~carbonpeak.monitoring.catalog.MonitoringCatalog`.
:func:`evaluate` runs them all plus the data-quality checks and returns the tables and alerts.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonpeak.monitoring.alerts import Alert, alerts_frame, day_runs
from carbonpeak.monitoring.catalog import MonitoringCatalog, limit_unit_factor
from carbonpeak.monitoring.chisq import chisquare
from carbonpeak.monitoring.pipeline import PipelineResult, day_date
from carbonpeak.monitoring.quality import _loc, quality_alerts


@dataclass
class RuleResult:
    alerts: pd.DataFrame
    pue: pd.DataFrame
    products: pd.DataFrame
    budgets: pd.DataFrame
    reported: pd.DataFrame
    digits: pd.DataFrame


# -- PUE ------------------------------------------------------------------------------------
def _pue_limit(cat: MonitoringCatalog, hub: bool) -> dict:
    for r in cat.pue_limits:
        if bool(r["hub_node"]) == bool(hub):
            return r
    raise ValueError("no PUE limit")


def _grade(cat: MonitoringCatalog, pue: float) -> str:
    for g in cat.pue_grades:
        if pue <= float(g["max_pue"]):
            return str(g["grade"])
    return "below grade 3"


def pue_table(res: PipelineResult, cat: MonitoringCatalog) -> pd.DataFrame:
    """PUE of every data centre by day, month and year (total electricity / IT electricity)."""
    cols = ["unit_id", "grain", "period", "period_start", "period_end", "days", "total_kwh", "it_kwh", "pue",
            "limit_value", "over_limit", "grade", "d0"]  # fmt: skip
    dcs = res.units[res.units["kind"] == "data_centre"]
    if dcs.empty or res.meter_day.empty:
        return pd.DataFrame(columns=cols)
    md = res.meter_day[(res.meter_day["energy_type"] == "electricity") & res.meter_day["unit_id"].isin(dcs["unit_id"])]
    top = md[md["parent_meter_id"].fillna("") == ""].groupby(["unit_id", "day"])["kwh"].sum().rename("total_kwh")
    it = md[md["point"] == "it"].groupby(["unit_id", "day"])["kwh"].sum().rename("it_kwh")
    d = pd.concat([top, it], axis=1, join="inner").reset_index()
    d = d[d["it_kwh"] > 0]
    if d.empty:
        return pd.DataFrame(columns=cols)
    days64 = d["day"].to_numpy().astype("datetime64[D]")
    d["day_p"] = days64.astype(str)
    d["month_p"] = days64.astype("datetime64[M]").astype(str)
    d["year_p"] = days64.astype("datetime64[Y]").astype(str)
    hub = dcs.set_index("unit_id")["hub_node"].astype(bool)
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
    limits = {True: float(_pue_limit(cat, True)["limit"]), False: float(_pue_limit(cat, False)["limit"])}
    out["limit_value"] = out["unit_id"].map(hub).fillna(False).astype(bool).map(limits)
    out["over_limit"] = out["pue"] > out["limit_value"]
    edges = [float(g["max_pue"]) for g in cat.pue_grades]
    labels = np.array([str(g["grade"]) for g in cat.pue_grades] + ["below grade 3"], dtype=object)
    out["grade"] = labels[np.searchsorted(edges, out["pue"].to_numpy(), side="left")]
    return out[cols].reset_index(drop=True)


def pue_alerts(pue: pd.DataFrame, res: PipelineResult, cat: MonitoringCatalog) -> list[Alert]:
    units = res.units.set_index("unit_id", drop=False)
    alerts: list[Alert] = []
    if pue.empty:
        return alerts
    g3 = cat.pue_grades[-1]
    g3src = f"GB 40879-2021 grade 3 (limit value) PUE <= {g3['max_pue']}: {g3['source']} [{g3['status']}]"
    flagged = pue[pue["over_limit"] | (pue["grade"] == "below grade 3")]
    # plain object columns: itertuples over Arrow-backed strings costs milliseconds per group
    flagged = flagged.astype({c: object for c in flagged.columns if isinstance(flagged[c].dtype, pd.StringDtype)})
    for (uid, grain), g in flagged.groupby(["unit_id", "grain"]):
        hub = bool(units.loc[uid, "hub_node"]) if uid in units.index else False
        lim = _pue_limit(cat, hub)
        src = f"PUE limit {lim['limit']} ({lim['applies_to']}): {lim['source']} [{lim['status']}]"
        loc, city = _loc(units, str(uid))
        over = g[g["over_limit"]]
        if grain == "day":
            if over.empty:
                continue
            over = over.sort_values("d0").reset_index(drop=True)
            for a, b, pos in day_runs(over["d0"]):
                pmax = float(over["pue"].to_numpy()[pos].max())
                alerts.append(
                    Alert("pue_over_limit", "info", str(uid), None, day_date(a), day_date(b), pmax, float(lim["limit"]),
                          "PUE", f"daily PUE above {lim['limit']} on {len(pos)} day(s) from {day_date(a)} to {day_date(b)} "
                          f"(highest {pmax:.3f})", loc, src, city)
                )
            continue
        for r in over.itertuples(index=False):
            alerts.append(
                Alert("pue_over_limit", "warning" if grain == "month" else "error", str(uid), None, r.period_start,
                      r.period_end, float(r.pue), float(lim["limit"]), "PUE",
                      f"{grain} {r.period} PUE {r.pue:.3f} over {r.days} day(s) "
                      f"({r.total_kwh:,.0f} kWh total / {r.it_kwh:,.0f} kWh IT) exceeds {lim['limit']}", loc, src, city)
            )
        for r in g[g["grade"] == "below grade 3"].itertuples(index=False):
            alerts.append(
                Alert("pue_below_gb40879", "error", str(uid), None, r.period_start, r.period_end, float(r.pue),
                      float(g3["max_pue"]), "PUE", f"{grain} {r.period} PUE {r.pue:.3f} is worse than grade 3", loc,
                      g3src, city)
            )
    return alerts


# -- products ---------------------------------------------------------------------------------
class _RangeSum:
    """Sums of daily values over [d0, d1] per key, by cumulative sums and binary search."""

    def __init__(self, df: pd.DataFrame, keys: list[str], values: list[str]) -> None:
        self.values = values
        self.idx: dict[tuple, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        if df.empty:
            return
        # one sort by key and day, then numpy slices per key (iterating a pandas groupby costs a
        # frame per key: seconds for a few thousand units)
        d = df.sort_values([*keys, "day"], kind="stable")
        kcols = [d[k].to_numpy(dtype=object) for k in keys]
        days_all = d["day"].to_numpy()
        vals = {v: d[v].to_numpy(dtype=float) for v in values}
        n = len(d)
        new = np.zeros(n, dtype=bool)
        new[0] = True
        for c in kcols:
            new[1:] |= c[1:] != c[:-1]
        starts = np.flatnonzero(new)
        ends = np.append(starts[1:], n)
        for i0, i1 in zip(starts.tolist(), ends.tolist(), strict=True):
            cums = {v: np.concatenate([[0.0], np.cumsum(a[i0:i1])]) for v, a in vals.items()}
            self.idx[tuple(c[i0] for c in kcols)] = (days_all[i0:i1], cums)

    def get(self, key: tuple, d0: int, d1: int) -> tuple[dict[str, float], int]:
        if key not in self.idx:
            return dict.fromkeys(self.values, 0.0), 0
        days, cums = self.idx[key]
        i0, i1 = np.searchsorted(days, d0, "left"), np.searchsorted(days, d1, "right")
        return {v: float(c[i1] - c[i0]) for v, c in cums.items()}, int(i1 - i0)


def _dn(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _limits_index(cat: MonitoringCatalog) -> dict[str, dict[str, dict]]:
    """product → level → row (plain dicts: the loops below must not pay pandas overhead per row)."""
    out: dict[str, dict[str, dict]] = {}
    for r in cat.product_limits.to_dict("records"):
        out.setdefault(r["product"], {})[r["level"]] = r
    return out


def _num(v: object) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else float(v)  # type: ignore[arg-type]


def _surcharge(rules: list[dict], product: str, year: int, sec: float, limit: float | None) -> tuple[float, str]:
    valid = [
        r for r in rules
        if r["product"] in (product, "*")
        and (_num(r["year_from"]) is None or _num(r["year_from"]) <= year)  # type: ignore[operator]
        and (_num(r["year_to"]) is None or _num(r["year_to"]) >= year)  # type: ignore[operator]
    ]  # fmt: skip
    for prod in (product, "*"):
        rows = [r for r in valid if r["product"] == prod]
        for r in rows:
            if r["band_metric"] == "ratio_to_limit":
                if limit is None or limit <= 0:
                    continue
                x = sec / limit
            else:
                x = sec
            lo = _num(r["band_low"])
            hi = _num(r["band_high"])
            lo = -math.inf if lo is None else lo
            hi = math.inf if hi is None else hi
            if lo < x <= hi:
                rate = float(r["surcharge_yuan_per_kwh"])
                step = _num(r["step_size"])
                if step:
                    rate += math.floor((x - lo) / step) * float(r["step_yuan"])
                return rate, f"{r['rule_id']}: {r['doc']}; {r['source']} [{r['status']}]"
        if rows and prod == product:
            # product-specific rules exist for this year but none applies: no generic surcharge either
            return 0.0, ""
    return 0.0, ""


def product_table(res: PipelineResult, output: pd.DataFrame, cat: MonitoringCatalog) -> pd.DataFrame:
    """Energy intensity of every output row against the product's limits, with class and surcharge."""
    cols = ["unit_id", "product", "period_start", "period_end", "quantity", "output_unit", "energy_kgce",
            "electricity_kwh", "sec", "sec_unit", "basis", "coverage", "grade1", "grade2", "grade3", "benchmark",
            "base", "grade", "ndrc_class", "surcharge_yuan_per_kwh", "surcharge_yuan", "surcharge_rule", "standard"]  # fmt: skip
    rows: list[dict] = []
    lim = _limits_index(cat)
    sur = cat.surcharges.to_dict("records")
    md = res.meter_day
    top = md[md["parent_meter_id"].fillna("") == ""]
    unit_days = _RangeSum(
        top.assign(ekwh=top["kwh"]).groupby(["unit_id", "day"], as_index=False)[["tce", "kwh", "ekwh"]].sum(),
        ["unit_id"], ["tce", "kwh", "ekwh"],
    )  # fmt: skip
    pl_md = md[md["point"] == "product_line"]
    line_days = _RangeSum(
        pl_md.groupby(["unit_id", "product", "day"], as_index=False)[["tce", "kwh"]].sum(), ["unit_id", "product"], ["tce", "kwh"]
    )
    for r in output.itertuples(index=False):
        start, end = r.period_start, r.period_end
        if start < res.date_from or end > res.date_to:
            continue
        pl = lim.get(r.product)
        if not pl:
            continue
        levels = {k: float(v["value"]) for k, v in pl.items()}
        first = next(iter(pl.values()))
        lunit, basis_kind = str(first["unit"]), str(first["basis"])
        d0, d1 = _dn(start), _dn(end)
        tot, ndays = unit_days.get((r.unit_id,), d0, d1)
        line, nline = line_days.get((r.unit_id, r.product), d0, d1)
        if nline:
            kgce, kwh, basis = line["tce"] * 1000.0, line["kwh"], f"product-line meters of {r.product}"
        else:
            kgce, kwh, basis = tot["tce"] * 1000.0, tot["kwh"], "whole unit (top-level meters)"
        elec = tot["ekwh"]
        period_days = (end - start).days + 1
        energy = kwh if basis_kind == "electricity" else kgce
        if r.quantity <= 0:
            continue
        sec = energy / r.quantity * limit_unit_factor(cat, lunit, r.unit)
        g = next((k for k in ("grade1", "grade2", "grade3") if k in levels and sec <= levels[k]), None)
        grade = g.replace("grade", "") if g else ("over limit" if "grade3" in levels else "")
        ndrc = ""
        if "benchmark" in levels and "base" in levels:
            ndrc = "benchmark" if sec <= levels["benchmark"] else ("between" if sec <= levels["base"] else "below base")
        rate, rule = _surcharge(sur, r.product, start.year, sec, levels.get("grade3"))
        rows.append(
            {
                "unit_id": r.unit_id, "product": r.product, "period_start": start, "period_end": end,
                "quantity": r.quantity, "output_unit": r.unit, "energy_kgce": kgce, "electricity_kwh": float(elec),
                "sec": sec, "sec_unit": lunit, "basis": basis, "coverage": ndays / period_days,
                **{k: levels.get(k) for k in ("grade1", "grade2", "grade3", "benchmark", "base")},
                "grade": grade, "ndrc_class": ndrc, "surcharge_yuan_per_kwh": rate,
                "surcharge_yuan": rate * float(elec), "surcharge_rule": rule,
                "standard": "; ".join(sorted({v["standard"] for v in pl.values()})),
            }
        )  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def product_alerts(prod: pd.DataFrame, res: PipelineResult, cat: MonitoringCatalog) -> list[Alert]:
    units = res.units.set_index("unit_id", drop=False)
    lim = _limits_index(cat)
    out: list[Alert] = []
    jump = float(cat.t("intensity_jump_ratio"))
    for r in prod.itertuples(index=False):
        loc, city = _loc(units, r.unit_id)
        pl = lim[r.product]
        if r.grade == "over limit":
            g3 = pl["grade3"]
            src = f"{g3['standard']} {g3['clause']}: {g3['source']} [{g3['status']}]"
            extra = (
                f"; surcharge {r.surcharge_yuan_per_kwh:.3f} yuan/kWh × {r.electricity_kwh:,.0f} kWh = {r.surcharge_yuan:,.0f} yuan ({r.surcharge_rule})"
                if r.surcharge_yuan_per_kwh
                else ""
            )
            out.append(
                Alert("product_over_limit", "error", r.unit_id, None, r.period_start, r.period_end, float(r.sec),
                      float(r.grade3), r.sec_unit, f"{r.product}: {r.sec:.4g} {r.sec_unit} over the limit value {r.grade3:g}{extra}",
                      loc, src, city, r.product)
            )
        if r.ndrc_class == "below base":
            bs = pl["base"]
            src = f"{bs['standard']} ({bs['clause']}): {bs['source']} [{bs['status']}]"
            out.append(
                Alert("product_below_base", "warning", r.unit_id, None, r.period_start, r.period_end, float(r.sec),
                      float(r.base), r.sec_unit, f"{r.product}: {r.sec:.4g} {r.sec_unit} is worse than the base level {r.base:g} "
                      f"(benchmark {r.benchmark:g})", loc, src, city, r.product)
            )
    # energy-per-output jumps against the unit's median period
    if not prod.empty:
        g = prod.groupby(["unit_id", "product"])["sec"]
        med = g.transform("median")
        ratio = prod["sec"] / med
        flagged = prod[(g.transform("size") >= 3) & (med > 0) & ((ratio > jump) | (ratio < 1 / jump))]
        src = f"energy per output vs the unit's median period, limit ×{jump:g} or ÷{jump:g}: {cat.source('intensity_jump_ratio')}"
        for r, rt, m in zip(flagged.itertuples(index=False), ratio[flagged.index], med[flagged.index], strict=True):
            loc, city = _loc(units, str(r.unit_id))
            out.append(
                Alert("intensity_jump", "warning", str(r.unit_id), None, r.period_start, r.period_end, float(rt), jump,
                      "× median", f"{r.product}: {r.sec:.4g} {r.sec_unit} is {rt:.2f}× the unit's median period ({m:.4g})",
                      loc, src, city, str(r.product))
            )
    return out


# -- budgets and inclusion -------------------------------------------------------------------------
def budget_table(res: PipelineResult, budgets: pd.DataFrame) -> pd.DataFrame:
    """Per unit and year: metered tce in the window, the straight-line forecast for the year, the budget."""
    cols = ["unit_id", "year", "window_start", "window_end", "days", "to_date_tce", "forecast_tce", "budget_tce",
            "share_to_date", "share_forecast"]  # fmt: skip
    ud = res.unit_day
    if ud.empty:
        return pd.DataFrame(columns=cols)
    ud = ud.assign(year=ud["day"].to_numpy().astype("datetime64[D]").astype("datetime64[Y]").astype("int64") + 1970)
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
    return t[cols]


def budget_alerts(bt: pd.DataFrame, res: PipelineResult, cat: MonitoringCatalog, warn_levels: list[float] | None = None) -> list[Alert]:
    units = res.units.set_index("unit_id", drop=False)
    levels = sorted(warn_levels or [float(x) for x in cat.t("budget_warn_levels")])
    nat, prov = float(cat.t("key_unit_national_tce")), float(cat.t("key_unit_provincial_tce"))
    reg_level = dict(zip(res.units["unit_id"], res.units["registered_level"].fillna("none"), strict=True))
    out: list[Alert] = []
    for r in bt.itertuples(index=False):
        loc, city = _loc(units, r.unit_id)
        ps, pe = r.window_start, r.window_end
        if not pd.isna(r.budget_tce) and r.budget_tce > 0:
            reached = [lv for lv in levels if r.share_to_date >= lv]
            if reached:
                lv = max(reached)
                out.append(
                    Alert("budget_warning", "error" if lv >= 1 else "warning", r.unit_id, None, ps, pe, float(r.share_to_date), lv,
                          "share of budget", f"{r.to_date_tce:,.0f} tce used {ps}–{pe} = {r.share_to_date:.0%} of the {r.year} budget "
                          f"{r.budget_tce:,.0f} tce (warning level {lv:.0%})", loc,
                          f"energy budget (用能预算) warning levels {', '.join(f'{x:.0%}' for x in levels)}: {cat.source('budget_warn_levels')}",
                          city)
                )
            if r.share_forecast > 1 and r.days >= 28:
                out.append(
                    Alert("budget_forecast_over", "warning", r.unit_id, None, ps, pe, float(r.forecast_tce), float(r.budget_tce),
                          "tce", f"straight-line forecast {r.forecast_tce:,.0f} tce for {r.year} ({r.share_forecast:.0%} of the budget "
                          f"{r.budget_tce:,.0f} tce) from {r.days} days", loc,
                          "forecast = tce in the window / days × days in the year (carbonpeak method, see docs/methods/monitoring.md)",
                          city)
                )
        if r.days < 28 or r.unit_id not in reg_level:
            continue
        level = str(reg_level[r.unit_id] or "none")
        if r.forecast_tce >= nat and level != "national":
            out.append(
                Alert("inclusion_national", "warning", r.unit_id, None, ps, pe, float(r.forecast_tce), nat, "tce/a",
                      f"annual consumption forecast {r.forecast_tce:,.0f} tce >= {nat:,.0f} tce but the unit is registered as '{level}'",
                      loc, cat.source("key_unit_national_tce"), city)
            )
        elif prov <= r.forecast_tce < nat and level == "none":
            out.append(
                Alert("inclusion_provincial", "info", r.unit_id, None, ps, pe, float(r.forecast_tce), prov, "tce/a",
                      f"annual consumption forecast {r.forecast_tce:,.0f} tce >= {prov:,.0f} tce; the unit is not registered",
                      loc, cat.source("key_unit_provincial_tce"), city)
            )
    return out


# -- reported vs metered, digit tests -------------------------------------------------------------
def reported_table(res: PipelineResult, reported: pd.DataFrame) -> pd.DataFrame:
    cols = ["unit_id", "period_start", "period_end", "reported_tce", "metered_tce", "deviation", "coverage"]
    if reported.empty or res.unit_day.empty:
        return pd.DataFrame(columns=cols)
    ud = res.unit_day
    daily = ud.groupby(["unit_id", "day"], as_index=False)["tce"].sum()
    rs = _RangeSum(daily, ["unit_id"], ["tce"])
    rows = []
    for r in reported.itertuples(index=False):
        if r.period_start < res.date_from or r.period_end > res.date_to:
            continue
        v, nd = rs.get((r.unit_id,), _dn(r.period_start), _dn(r.period_end))
        met = v["tce"]
        cov = nd / ((r.period_end - r.period_start).days + 1)
        rows.append({"unit_id": r.unit_id, "period_start": r.period_start, "period_end": r.period_end,
                     "reported_tce": r.energy_tce, "metered_tce": met,
                     "deviation": (r.energy_tce - met) / met if met > 0 else np.nan, "coverage": cov})  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def reported_alerts(rt: pd.DataFrame, res: PipelineResult, cat: MonitoringCatalog) -> list[Alert]:
    units = res.units.set_index("unit_id", drop=False)
    tol = float(cat.t("consistency_max"))
    out: list[Alert] = []
    if rt.empty:
        return out
    for uid, g in rt.groupby("unit_id"):
        rep, met = float(g["reported_tce"].sum()), float(g["metered_tce"].sum())
        if met <= 0:
            continue
        dev = (rep - met) / met
        if abs(dev) <= tol:
            continue
        nbad = int((g["deviation"].abs() > tol).sum())
        loc, city = _loc(units, str(uid))
        out.append(
            Alert("reported_vs_metered", "error" if dev < 0 else "warning", str(uid), None, g["period_start"].min(),
                  g["period_end"].max(), float(dev), tol, "relative deviation",
                  f"reported {rep:,.1f} tce vs metered {met:,.1f} tce ({dev:+.1%}); {nbad} of {len(g)} reported periods off by more than {tol:.0%}"
                  + (" — under-reporting" if dev < 0 else ""), loc,
                  f"consistency limit {tol:.0%}: {cat.source('consistency_max')}; cross-source reconciliation after MEE 2022 fraud cases",
                  city)
        )
    return out


BENFORD = np.log10(1 + 1 / np.arange(1, 10))


def digit_tests(reported: pd.DataFrame, cat: MonitoringCatalog) -> pd.DataFrame:
    """First-digit (Benford) and last-digit (uniform) chi-square tests of reported figures, per unit
    (when it has enough figures) and over all units together."""
    n_min = int(cat.t("digit_test_min_n"))
    cols = ["unit_id", "test", "n", "chi2", "p_value"]
    rows = []
    if reported.empty:
        return pd.DataFrame(columns=cols)
    groups: list[tuple[str | None, pd.Series]] = [(None, reported["energy_tce"])]
    groups += [(str(u), g["energy_tce"]) for u, g in reported.groupby("unit_id")]
    for uid, vals in groups:
        v = vals.to_numpy(dtype=float)
        v = v[v > 0]
        first = np.array([int(f"{x:e}"[0]) for x in v])
        ints = np.floor(v[v >= 10]).astype(np.int64)
        if len(first) >= n_min:
            obs = np.bincount(first, minlength=10)[1:]
            chi2, p = chisquare(obs, BENFORD * obs.sum())
            rows.append({"unit_id": uid, "test": "benford_first_digit", "n": len(first), "chi2": chi2, "p_value": p})
        if len(ints) >= n_min:
            obs = np.bincount(ints % 10, minlength=10)
            chi2, p = chisquare(obs)
            rows.append({"unit_id": uid, "test": "uniform_last_digit", "n": len(ints), "chi2": chi2, "p_value": p})
    return pd.DataFrame(rows, columns=cols)


def digit_alerts(dt_: pd.DataFrame, reported: pd.DataFrame, res: PipelineResult, cat: MonitoringCatalog) -> list[Alert]:
    units = res.units.set_index("unit_id", drop=False)
    p_lim = float(cat.t("digit_test_p"))
    out = []
    for r in dt_[dt_["p_value"] < p_lim].itertuples(index=False):
        sub = reported if r.unit_id is None else reported[reported["unit_id"] == r.unit_id]
        loc, city = _loc(units, r.unit_id) if r.unit_id else ("all reported figures", None)
        what = "first digits deviate from Benford's law" if r.test == "benford_first_digit" else "last digits are not uniform"
        out.append(
            Alert("digit_test", "warning", r.unit_id, None, sub["period_start"].min(), sub["period_end"].max(),
                  float(r.p_value), p_lim, "p-value", f"{what}: chi-square {r.chi2:.1f} on {r.n} figures, p = {r.p_value:.2g}",
                  loc, f"chi-square test at p < {p_lim:g}: {cat.source('digit_test_p')}", city)
        )
    return out


def evaluate(
    res: PipelineResult,
    cat: MonitoringCatalog,
    *,
    output: pd.DataFrame | None = None,
    budgets: pd.DataFrame | None = None,
    reported: pd.DataFrame | None = None,
    warn_levels: list[float] | None = None,
) -> RuleResult:
    """Run every rule and check; return the tables and all alerts."""
    output = output if output is not None else pd.DataFrame(columns=["unit_id", "product", "period_start", "period_end", "quantity", "unit"])
    budgets = budgets if budgets is not None else pd.DataFrame(columns=["unit_id", "year", "budget_tce"])
    reported = reported if reported is not None else pd.DataFrame(columns=["unit_id", "period_start", "period_end", "energy_tce"])
    alerts: list[Alert] = []
    pue = pue_table(res, cat)
    alerts += pue_alerts(pue, res, cat)
    prod = product_table(res, output, cat)
    alerts += product_alerts(prod, res, cat)
    bt = budget_table(res, budgets)
    alerts += budget_alerts(bt, res, cat, warn_levels)
    rt = reported_table(res, reported)
    alerts += reported_alerts(rt, res, cat)
    in_window = reported[(reported["period_start"] >= res.date_from) & (reported["period_end"] <= res.date_to)] if len(reported) else reported
    dtab = digit_tests(in_window, cat)
    alerts += digit_alerts(dtab, in_window, res, cat)
    alerts += quality_alerts(res, cat)
    return RuleResult(alerts_frame(alerts), pue, prod, bt, rt, dtab)
