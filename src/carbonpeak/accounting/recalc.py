"""Time-series consistency: what changed between two result sets (recalculations), year-on-year
jumps and implied-emission-factor outliers (IPCC 2006 Vol 1 Ch 5 §5.2-5.3 and Ch 6 §6.6-6.7).

:func:`recalculation_report` compares a *previous* and a *current* result set (for example the
inventory before and after a factor revision or new statistics) by year × category × gas and
says why each figure moved, from the rows behind it:

========================  ==========================================================================
reason                    rule (per result row, key year × region × category × item × gas)
========================  ==========================================================================
``new``                   the row exists only in the current set
``removed``               the row exists only in the previous set
``activity changed``      the activity amounts/units named in ``explain`` differ
``factor changed``        the ``factor_key`` or a factor value/unit named in ``explain`` differs
``gwp changed``           the gas mass is equal but CO2e differs
``method changed``        the figure differs and none of the above is detected
``unchanged``             equal within the tolerance
========================  ==========================================================================

The reasons of the rows of a year × category × gas are joined in order of their absolute
contribution to the difference.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.errors import Problem, ValidationError

ROW_KEY = ("year", "region", "category", "item", "gas")
REPORT_COLUMNS = (
    "year",
    "category",
    "gas",
    "previous_co2e_t",
    "current_co2e_t",
    "difference_co2e_t",
    "change_pct",
    "reason",
    "rows_changed",
    "yoy_change_pct",
    "yoy_jump",
)
#: Relative difference below which two figures count as equal.
REL_TOL = 1e-9


def _walk(obj: Any) -> Iterable[dict[str, Any]]:
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def _signatures(explain: Any) -> tuple[str, str]:
    """(activity signature, factor signature) of an explain JSON text."""
    if not isinstance(explain, str) or not explain.strip():
        return "", ""
    try:
        doc = json.loads(explain)
    except ValueError:
        return "", ""
    acts: list[tuple[Any, ...]] = []
    facs: list[tuple[Any, ...]] = []
    act = [doc.get("activity"), doc.get("activity_more")] if isinstance(doc, dict) else None
    for d in _walk(act):
        if "amount" in d:
            acts.append((str(d.get("item", "")), _num(d.get("amount")), str(d.get("unit", ""))))
    for d in _walk(doc.get("factors") if isinstance(doc, dict) else None):
        if "parameter" in d and "value" in d:
            facs.append(
                (
                    str(d.get("item")),
                    str(d.get("parameter")),
                    str(d.get("gas")),
                    _num(d.get("value")),
                    str(d.get("unit")),
                )
            )
    return repr(sorted(acts)), repr(sorted(facs))


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return round(x, 12) if math.isfinite(x) else None


def _territorial(df: pd.DataFrame, name: str) -> pd.DataFrame:
    need = ("year", "category", "gas", "co2e_t")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValidationError([Problem(name, None, c, "required column is missing") for c in missing])
    out = df[df["scope"] == "territorial"] if "scope" in df.columns else df
    out = out.copy()
    for c in ("region", "item"):
        if c not in out.columns:
            out[c] = ""
    if "mass_t" not in out.columns:
        out["mass_t"] = np.nan
    if "factor_key" not in out.columns:
        out["factor_key"] = None
    if "explain" not in out.columns:
        out["explain"] = ""
    out["year"] = pd.to_numeric(out["year"], errors="coerce").astype("int64")
    out["co2e_t"] = pd.to_numeric(out["co2e_t"], errors="coerce").astype(float)
    out["mass_t"] = pd.to_numeric(out["mass_t"], errors="coerce").astype(float)
    # one row per key (methods return unique keys; sum defensively)
    agg = out.groupby(list(ROW_KEY), sort=False, dropna=False).agg(
        co2e_t=("co2e_t", "sum"),
        mass_t=("mass_t", "sum"),
        factor_key=(
            "factor_key",
            lambda s: "|".join(sorted({str(x) for x in s if x is not None and x == x})),
        ),
        explain=("explain", lambda s: "\n".join(str(x) for x in s)),
    )
    return agg


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b), 1e-12)


def row_reasons(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Row-level comparison (key year × region × category × item × gas) with a reason each."""
    p = _territorial(previous, "previous")
    c = _territorial(current, "current")
    j = p.merge(c, how="outer", left_index=True, right_index=True, suffixes=("_prev", "_cur"))
    reasons: list[str] = []
    for r in j.itertuples(index=False):
        pv, cv = r.co2e_t_prev, r.co2e_t_cur
        if pd.isna(pv):
            reasons.append("new")
            continue
        if pd.isna(cv):
            reasons.append("removed")
            continue
        if _close(pv, cv):
            reasons.append("unchanged")
            continue
        parts: list[str] = []
        explains = [e.split("\n") for e in (r.explain_prev, r.explain_cur)]
        sig_p = [_signatures(e) for e in explains[0]]
        sig_c = [_signatures(e) for e in explains[1]]
        if sorted(s[0] for s in sig_p) != sorted(s[0] for s in sig_c):
            parts.append("activity changed")
        if r.factor_key_prev != r.factor_key_cur or sorted(s[1] for s in sig_p) != sorted(
            s[1] for s in sig_c
        ):
            parts.append("factor changed")
        if not parts:
            if not math.isnan(r.mass_t_prev) and _close(r.mass_t_prev, r.mass_t_cur):
                parts.append("gwp changed")
            else:
                parts.append("method changed")
        reasons.append(" + ".join(parts))
    out = j.reset_index()
    out = out.rename(columns={"co2e_t_prev": "previous_co2e_t", "co2e_t_cur": "current_co2e_t"})
    out["reason"] = reasons
    out["difference_co2e_t"] = out["current_co2e_t"].fillna(0.0) - out["previous_co2e_t"].fillna(0.0)
    return out[[*ROW_KEY, "previous_co2e_t", "current_co2e_t", "difference_co2e_t", "reason"]]


def _series_jumps(df: pd.DataFrame, keys: list[str], threshold_pct: float) -> pd.DataFrame:
    s = df.groupby([*keys, "year"], sort=True)["co2e_t"].sum().reset_index()
    s = s.sort_values([*keys, "year"], kind="stable")
    prev = s.groupby(keys, sort=False)["co2e_t"].shift(1)
    prev_year = s.groupby(keys, sort=False)["year"].shift(1)
    consecutive = (s["year"] - prev_year) == 1
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(consecutive & (prev != 0), 100.0 * (s["co2e_t"] - prev) / prev.abs(), np.nan)
    s["yoy_change_pct"] = pct
    s["yoy_jump"] = np.abs(np.nan_to_num(pct, nan=0.0)) > threshold_pct
    return s


def year_on_year_jumps(
    results: pd.DataFrame, threshold_pct: float = 10.0, by: tuple[str, ...] = ("region", "category", "gas")
) -> pd.DataFrame:
    """Year-on-year changes of each series (``by`` × year) and a flag where |Δ| > ``threshold_pct``.

    Only consecutive years are compared (IPCC 2006 Vol 1 Ch 6 §6.7.1 time-series checks).
    """
    df = _territorial(results, "results").reset_index()
    return _series_jumps(df, [k for k in by if k in df.columns], threshold_pct)


def implied_ef_outliers(results: pd.DataFrame, tolerance_pct: float = 50.0) -> pd.DataFrame:
    """Implied emission factors (gas mass per activity amount, from ``explain``) and outliers.

    For each (category, item, gas, activity unit) the median implied EF over all regions and
    years is the reference; a row is an outlier when its implied EF differs from it by more than
    ``tolerance_pct`` (IPCC 2006 Vol 1 Ch 6 §6.7.1: compare implied EFs across years and with
    other inventories).  Rows without a single activity amount in ``explain`` are skipped.
    """
    df = results[results["scope"] == "territorial"] if "scope" in results.columns else results
    recs: list[dict[str, Any]] = []
    for r in df.itertuples(index=False):
        explain = getattr(r, "explain", "")
        try:
            doc = json.loads(explain) if isinstance(explain, str) and explain else {}
        except ValueError:
            continue
        act = [doc.get("activity"), doc.get("activity_more")] if isinstance(doc, dict) else None
        amounts = [d for d in _walk(act) if "amount" in d]
        if len(amounts) != 1:
            continue
        a = amounts[0]
        amount = _num(a.get("amount_t", a.get("amount")))
        unit = "t" if "amount_t" in a else str(a.get("unit", ""))
        if not amount:
            continue
        recs.append(
            {
                "year": int(r.year),
                "region": getattr(r, "region", ""),
                "category": r.category,
                "item": r.item,
                "gas": r.gas,
                "activity_unit": unit,
                "mass_t": float(r.mass_t),
                "implied_ef": float(r.mass_t) / amount,
            }
        )
    cols = ["year", "region", "category", "item", "gas", "activity_unit", "mass_t", "implied_ef"]
    out = pd.DataFrame(recs, columns=cols)
    if out.empty:
        return out.assign(
            median_ief=pd.Series(dtype=float), deviation_pct=pd.Series(dtype=float), outlier=False
        )
    grp = ["category", "item", "gas", "activity_unit"]
    out["median_ief"] = out.groupby(grp, sort=False)["implied_ef"].transform("median")
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = 100.0 * (out["implied_ef"] - out["median_ief"]) / out["median_ief"].abs()
    out["deviation_pct"] = dev
    out["outlier"] = dev.abs() > tolerance_pct
    return out


def recalculation_report(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    *,
    jump_threshold_pct: float = 10.0,
    region: str | None = None,
) -> pd.DataFrame:
    """Previous vs current by year × category × gas, with the reasons of the differences.

    ``yoy_change_pct``/``yoy_jump`` are the year-on-year change of the *current* series of the
    category × gas and whether it exceeds ``jump_threshold_pct``.  Pass ``region`` to restrict
    to one region (results of nested regions would otherwise be summed).
    """
    if region is not None:
        previous = (
            previous[previous["region"].astype(str) == region] if "region" in previous.columns else previous
        )
        current = current[current["region"].astype(str) == region] if "region" in current.columns else current
    rows = row_reasons(previous, current)
    rows["_absdiff"] = rows["difference_co2e_t"].abs()
    keys = ["year", "category", "gas"]

    def reason_of(g: pd.DataFrame) -> str:
        g = g[g["reason"] != "unchanged"].sort_values("_absdiff", ascending=False, kind="stable")
        seen: list[str] = []
        for r in g["reason"]:
            for part in r.split(" + "):
                if part not in seen:
                    seen.append(part)
        return "; ".join(seen) if seen else "unchanged"

    grouped = rows.groupby(keys, sort=True)
    out = grouped.agg(
        previous_co2e_t=("previous_co2e_t", lambda s: s.sum(min_count=1)),
        current_co2e_t=("current_co2e_t", lambda s: s.sum(min_count=1)),
        rows_changed=("reason", lambda s: int((s != "unchanged").sum())),
    )
    out["reason"] = pd.Series({k: reason_of(g) for k, g in grouped})
    out = out.reset_index()
    out["difference_co2e_t"] = out["current_co2e_t"].fillna(0.0) - out["previous_co2e_t"].fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = np.where(
            out["previous_co2e_t"].fillna(0.0) != 0,
            100.0 * out["difference_co2e_t"] / out["previous_co2e_t"].abs(),
            np.nan,
        )
    cur = _territorial(current, "current").reset_index()
    jumps = _series_jumps(cur, ["category", "gas"], jump_threshold_pct)[[*keys, "yoy_change_pct", "yoy_jump"]]
    out = out.merge(jumps, on=keys, how="left")
    out["yoy_jump"] = out["yoy_jump"].fillna(False).astype(bool)
    return out[list(REPORT_COLUMNS)]
