"""Key category analysis (IPCC 2006 Vol 1 Ch 4; 2019 Refinement Vol 1 Ch 4).

Input: the territorial rows of ``Inventory.results`` (``year, category, gas, co2e_t`` and, for
Approach 2, ``ad_uncertainty_pct``/``ef_uncertainty_pct``).  Categories are assessed by
category × gas, the IPCC's recommended level of disaggregation (Vol 1 Ch 4 Table 4.1).

* **Level, Approach 1** (Eq 4.1): ``L_x,t = |E_x,t| / Σ_y |E_y,t|``; absolute values, so
  sinks count by their size.  Sorted by ``L`` descending; key are the categories that together
  make up ``threshold`` (95 %) of the sum, the one crossing the threshold included.
* **Trend, Approach 1** (Eq 4.2, in the form of the 2019 Refinement that stays defined when
  the base-year estimate is zero):
  ``T_x,t = | (E_x,t − E_x,0) / Σ_y|E_y,0| − (|E_x,0| / Σ_y|E_y,0|) · (Σ_y E_y,t − Σ_y E_y,0) / |Σ_y E_y,0| |``.
  For ``E_x,0 ≠ 0`` this equals the 2006 form
  ``|E_x,0|/Σ|E_y,0| · |(E_x,t − E_x,0)/|E_x,0| − (ΣE_t − ΣE_0)/|ΣE_0||``.  Key are the
  categories whose trend contributions ``T_x / Σ T_y`` add up to the threshold.
* **Approach 2** (Eq 4.4 and 4.5): ``LU_x = L_x · U_x`` and ``TU_x = T_x · U_x`` with
  ``U_x`` the category's Approach 1 uncertainty (Eq 3.1/3.2), normalised to sum 1; key up to
  ``threshold_approach2`` (90 %, IPCC Vol 1 Ch 4 §4.3.2).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from carbonpeak.accounting.notation import declared_zero_pairs, missing_is_not_zero
from carbonpeak.accounting.uncertainty import fill_uncertainty_defaults
from carbonpeak.catalog.uncertainty_defaults import UncertaintyDefaults
from carbonpeak.errors import Problem, ValidationError

#: IPCC 2006 Vol 1 Ch 4 §4.3.2: Approach 2 key categories make up 90 % of the uncertainty-weighted sum.
APPROACH2_THRESHOLD = 0.90

OUTPUT_COLUMNS = (
    "category",
    "gas",
    "co2e_t",
    "base_co2e_t",
    "level",
    "level_cumulative",
    "key_level",
    "trend",
    "trend_contribution",
    "trend_cumulative",
    "key_trend",
    "uncertainty_pct",
    "level_a2",
    "key_level_a2",
    "trend_a2",
    "key_trend_a2",
    "key",
    "criteria",
    "notation",
)


def _lulucf_codes(codes: pd.Series) -> pd.Series:
    try:
        from carbonpeak.catalog.categories import get_categories

        cats = get_categories()
    except Exception:  # pragma: no cover - catalog missing
        cats = {}
    return codes.map(lambda c: (cats[c].sector == "lulucf") if c in cats else False).astype(bool)


def _aggregate_code(code: str, level: str) -> str:
    if level == "category":
        return code
    if level == "sector":
        return code.split(".")[0]
    n = int(level)
    return ".".join(code.split(".")[:n])


def _cumulative_key(share: pd.Series, threshold: float) -> tuple[pd.Series, pd.Series]:
    """Cumulative share in descending order and the key flag (the one crossing included)."""
    order = share.sort_values(ascending=False, kind="stable").index
    cum = share.loc[order].cumsum()
    before = cum - share.loc[order]
    key = before < threshold - 1e-12
    return cum.reindex(share.index), key.reindex(share.index)


def _category_uncertainty(df: pd.DataFrame, defaults: UncertaintyDefaults | None) -> pd.Series:
    """Approach 1 uncertainty (%) by (category, gas): Eq 3.1 per row, Eq 3.2 over the rows."""
    filled = fill_uncertainty_defaults(df, defaults)
    u_row = np.sqrt(filled["ad_uncertainty_pct"] ** 2 + filled["ef_uncertainty_pct"] ** 2)
    filled = filled.assign(_v=(u_row * filled["co2e_t"]) ** 2)
    g = filled.groupby(["_cat", "gas"], sort=False).agg(v=("_v", "sum"), e=("co2e_t", "sum"))
    return pd.Series(
        np.where(g["e"] != 0, np.sqrt(g["v"]) / g["e"].abs().where(g["e"] != 0, 1.0), np.nan), index=g.index
    )


def key_categories(
    results: pd.DataFrame,
    year: int,
    base_year: int | None = None,
    threshold: float = 0.95,
    include_lulucf: bool = True,
    level: str = "category",
    *,
    region: str | None = None,
    threshold_approach2: float = APPROACH2_THRESHOLD,
    defaults: UncertaintyDefaults | None = None,
    notation: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Key categories of ``year`` (level) and of ``base_year → year`` (trend), by category × gas.

    ``level`` is ``"category"`` (codes as reported), ``"sector"`` (first code part) or a number
    of code parts (``"3"`` → ``1.A.1``).  Pass ``region`` when the rows hold nested regions.
    Approach 2 columns are filled when the rows carry uncertainty columns (missing values take
    the defaults of ``uncertainty_defaults.csv``); otherwise they are NaN/False.
    Returns :data:`OUTPUT_COLUMNS`, sorted by level assessment descending.

    **Missing is not zero.**  A category × gas with results in only one of ``base_year`` and
    ``year`` is *not estimated* (NE) in the other year, unless ``notation`` (the
    :meth:`Inventory.notation_keys` table, or declared keys) says it is NO, NA or IE there (then it
    is zero, e.g. a new source).  An NE pair is left out of the trend assessment (both years, and
    the totals of Eq 4.2), so a year without data cannot make a trend key category; its
    ``notation`` column says ``"NE <year>"`` and its missing figure is NaN.
    """
    need = ("year", "category", "gas", "co2e_t")
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise ValidationError([Problem("results", None, c, "required column is missing") for c in missing])
    if not 0 < threshold <= 1:
        raise ValidationError([Problem("options", None, "threshold", "must be in (0, 1]")])
    if level not in ("category", "sector") and not (level.isdigit() and int(level) > 0):
        raise ValidationError(
            [Problem("options", None, "level", "use 'category', 'sector' or a number of code parts")]
        )
    df = results
    if "scope" in df.columns:
        df = df[df["scope"] == "territorial"]
    if region is not None and "region" in df.columns:
        df = df[df["region"].astype(str) == region]
    if not include_lulucf:
        df = df[~_lulucf_codes(df["category"].astype(str))]
    df = df.assign(
        _cat=df["category"].astype(str).map(lambda c: _aggregate_code(c, level)),
        co2e_t=pd.to_numeric(df["co2e_t"], errors="coerce").astype(float),
    )
    years = pd.to_numeric(df["year"], errors="coerce")
    cur = df[years == year]
    if cur.empty:
        raise ValidationError([Problem("results", None, "year", f"no territorial results for {year}")])
    e_t = cur.groupby(["_cat", "gas"], sort=False)["co2e_t"].sum()
    base = None
    if base_year is not None:
        b = df[years == base_year]
        if b.empty:
            raise ValidationError(
                [Problem("results", None, "base_year", f"no territorial results for {base_year}")]
            )
        base = b.groupby(["_cat", "gas"], sort=False)["co2e_t"].sum()
        idx = e_t.index.union(base.index)
        agg = lambda c: _aggregate_code(c, level)  # noqa: E731
        ne_t = missing_is_not_zero(idx.difference(e_t.index), declared_zero_pairs(notation, year, region, agg))
        ne_0 = missing_is_not_zero(
            idx.difference(base.index), declared_zero_pairs(notation, base_year, region, agg)
        )
        e_t = e_t.reindex(idx, fill_value=0.0)
        base = base.reindex(idx, fill_value=0.0)
        note = pd.Series("", index=idx, dtype=object)
        if ne_t:
            e_t.loc[ne_t] = np.nan
            note.loc[ne_t] = f"NE {year}"
        if ne_0:
            base.loc[ne_0] = np.nan
            note.loc[ne_0] = f"NE {base_year}"
    out = pd.DataFrame(index=e_t.index)
    out["co2e_t"] = e_t
    out["base_co2e_t"] = base if base is not None else np.nan
    out["notation"] = note if base is not None else ""
    abs_sum = float(e_t.abs().sum())
    out["level"] = (e_t.abs() / abs_sum).fillna(0.0) if abs_sum > 0 else 0.0
    out["level_cumulative"], out["key_level"] = _cumulative_key(out["level"], threshold)
    if base is not None:
        comparable = e_t.notna() & base.notna()
        abs0 = float(base[comparable].abs().sum())
        tot0 = float(base[comparable].sum())
        tot_t = float(e_t[comparable].sum())
        if abs0 == 0 or tot0 == 0:
            raise ValidationError(
                [Problem("results", None, "base_year", "base-year total is zero: no trend")]
            )
        trend = ((e_t - base) / abs0 - (base.abs() / abs0) * (tot_t - tot0) / abs(tot0)).abs()
        trend = trend.where(comparable)
        out["trend"] = trend
        ts = float(trend.sum())
        out["trend_contribution"] = trend / ts if ts > 0 else 0.0
        cum, key = _cumulative_key(out["trend_contribution"].fillna(0.0), threshold)
        out["trend_cumulative"] = cum.where(comparable)
        out["key_trend"] = key & comparable
    else:
        for c in ("trend", "trend_contribution", "trend_cumulative"):
            out[c] = np.nan
        out["key_trend"] = False
    has_u = {"ad_uncertainty_pct", "ef_uncertainty_pct"} <= set(cur.columns)
    if has_u:
        u = _category_uncertainty(cur, defaults).reindex(out.index)
        out["uncertainty_pct"] = u
        lu = out["level"] * u.fillna(0.0)
        s = float(lu.sum())
        out["level_a2"] = lu / s if s > 0 else 0.0
        _, out["key_level_a2"] = _cumulative_key(out["level_a2"], threshold_approach2)
        if base is not None:
            tu = out["trend"].fillna(0.0) * u.fillna(0.0)
            s2 = float(tu.sum())
            out["trend_a2"] = tu / s2 if s2 > 0 else 0.0
            _, out["key_trend_a2"] = _cumulative_key(out["trend_a2"], threshold_approach2)
        else:
            out["trend_a2"] = np.nan
            out["key_trend_a2"] = False
    else:
        out["uncertainty_pct"] = np.nan
        out["level_a2"] = np.nan
        out["key_level_a2"] = False
        out["trend_a2"] = np.nan
        out["key_trend_a2"] = False
    flags = {"key_level": "L1", "key_trend": "T1", "key_level_a2": "L2", "key_trend_a2": "T2"}
    for c in flags:
        out[c] = out[c].fillna(False).astype(bool)
    out["key"] = out[list(flags)].any(axis=1)
    out["criteria"] = [
        ", ".join(v for c, v in flags.items() if row[c]) for row in out[list(flags)].to_dict("records")
    ]
    out = out.reset_index().rename(columns={"_cat": "category"})
    out = out.sort_values(["level", "category", "gas"], ascending=[False, True, True], kind="stable")
    out = out.reset_index(drop=True)
    for c in ("level", "level_cumulative", "trend", "trend_contribution", "trend_cumulative"):
        out[c] = out[c].astype(float)
    out["uncertainty_pct"] = out["uncertainty_pct"].astype(float)
    return out[list(OUTPUT_COLUMNS)]


def summary(table: pd.DataFrame) -> dict[str, object]:
    """Counts and shares of the key categories of a :func:`key_categories` table."""
    key = table[table["key"]]
    tot = float(table["co2e_t"].abs().sum())
    share = float(key["co2e_t"].abs().sum()) / tot if tot else math.nan
    return {
        "categories": len(table),
        "key_categories": len(key),
        "key_by_level": int(table["key_level"].sum()),
        "key_by_trend": int(table["key_trend"].sum()),
        "key_share_of_level": share,
    }
