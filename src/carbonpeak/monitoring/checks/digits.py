"""Digit tests of reported figures.

Benford's law describes first digits only of figures spanning several orders of magnitude (many
units' figures together, invoice-like series); a steady plant's monthly totals (all within
±20 %) fail it whatever their honesty.  So the first-digit test runs only on a set whose span
``log10(P95 / P5)`` reaches ``benford_min_orders``; the last-digit test (uniform last digit of
the integer part) holds for any figures with several integer digits and always runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonpeak.i18n import Msg, declare
from carbonpeak.monitoring.alerts import Alert
from carbonpeak.monitoring.catalog import MonitoringCatalog
from carbonpeak.monitoring.chisq import chisquare
from carbonpeak.monitoring.quality import _loc
from carbonpeak.monitoring.rulebase import RuleContext, register, register_table

BENFORD = np.log10(1 + 1 / np.arange(1, 10))
DIGIT_COLUMNS = ["unit_id", "test", "n", "orders", "chi2", "p_value"]

declare({
    "alert_obs.digit_benford": {"orders": float, "chi2": float, "n": int, "p": float},
    "alert_obs.digit_last": {"chi2": float, "n": int, "p": float},
})


def orders_of_magnitude(v: np.ndarray) -> float:
    """The span of positive figures in orders of magnitude, robust to outliers: log10(P95 / P5)."""
    v = v[v > 0]
    if len(v) < 2:
        return 0.0
    lo, hi = np.percentile(v, [5, 95])
    return float(np.log10(hi / lo)) if lo > 0 else float("inf")


def digit_tests(reported: pd.DataFrame, cat: MonitoringCatalog) -> pd.DataFrame:
    """First-digit (Benford, where the span allows) and last-digit (uniform) chi-square tests of
    reported figures, per unit (when it has enough figures) and over all units together."""
    n_min = int(cat.t("digit_test_min_n"))
    min_orders = float(cat.t("benford_min_orders"))
    rows = []
    if reported.empty:
        return pd.DataFrame(columns=DIGIT_COLUMNS)
    groups: list[tuple[str | None, pd.Series]] = [(None, reported["energy_tce"])]
    groups += [(str(u), g["energy_tce"]) for u, g in reported.groupby("unit_id")]
    for uid, vals in groups:
        v = vals.to_numpy(dtype=float)
        v = v[v > 0]
        span = orders_of_magnitude(v)
        first = np.array([int(f"{x:e}"[0]) for x in v])
        ints = np.floor(v[v >= 10]).astype(np.int64)
        if len(first) >= n_min and span >= min_orders:
            obs = np.bincount(first, minlength=10)[1:]
            chi2, p = chisquare(obs, BENFORD * obs.sum())
            rows.append({"unit_id": uid, "test": "benford_first_digit", "n": len(first), "orders": span, "chi2": chi2, "p_value": p})
        if len(ints) >= n_min:
            obs = np.bincount(ints % 10, minlength=10)
            chi2, p = chisquare(obs)
            rows.append({"unit_id": uid, "test": "uniform_last_digit", "n": len(ints), "orders": span, "chi2": chi2, "p_value": p})
    return pd.DataFrame(rows, columns=DIGIT_COLUMNS)


def _in_window(ctx: RuleContext) -> pd.DataFrame:
    rep = ctx.input("reported")
    if rep.empty:
        return rep
    return rep[(rep["period_start"] >= ctx.res.date_from) & (rep["period_end"] <= ctx.res.date_to)]


@register_table("digits")
def digits_table(ctx: RuleContext) -> pd.DataFrame:
    return digit_tests(_in_window(ctx), ctx.cat)


@register("digit_test", kinds=("digit_test",), source="chi-square tests (thresholds.yaml digit_test_p, benford_min_orders)")
def digit_alerts(ctx: RuleContext) -> list[Alert]:
    """Reported figures whose digits deviate from the expected distribution."""
    dt_, cat, units = ctx.table("digits"), ctx.cat, ctx.units
    reported = _in_window(ctx)
    p_lim = float(cat.t("digit_test_p"))
    out = []
    for r in dt_[dt_["p_value"] < p_lim].itertuples(index=False):
        sub = reported if r.unit_id is None else reported[reported["unit_id"] == r.unit_id]
        loc, city = _loc(units, r.unit_id) if r.unit_id else ("all reported figures", None)
        if r.test == "benford_first_digit":
            what = Msg("alert_obs.digit_benford", orders=float(r.orders), chi2=float(r.chi2), n=int(r.n),
                       p=float(r.p_value))
            src = f"Benford first-digit chi-square test at p < {p_lim:g}, only on figures spanning >= " \
                  f"{cat.t('benford_min_orders')} orders: {cat.source('benford_min_orders')}"
        else:
            what = Msg("alert_obs.digit_last", chi2=float(r.chi2), n=int(r.n), p=float(r.p_value))
            src = f"last-digit chi-square test at p < {p_lim:g}: {cat.source('digit_test_p')}"
        out.append(
            Alert("digit_test", "warning", r.unit_id, None, sub["period_start"].min(), sub["period_end"].max(),
                  float(r.p_value), p_lim, "p-value", what,
                  loc, src, city, grain="window", indicator=str(r.test))
        )
    return out
