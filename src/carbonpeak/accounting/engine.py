"""The inventory engine: activity rows → results by year × region × category × item × gas.

:func:`compile_inventory` validates the activity table (unless it comes validated from
:func:`carbonpeak.model.activity.load_activity`), dispatches each row to the registered method
whose category prefix is the longest match (``accounting.methods``), checks what the methods
return, and applies a GWP set.  :class:`Inventory` answers totals, the JSON summary, ``explain``
and the sinks report.  Pure functions: no file or database access here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import GASES, RESULT_COLUMNS, SCOPES, MethodContext, registry
from carbonpeak.catalog.categories import ancestors, get_categories, is_prefix
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.gwp import DEFAULT_GWP, gwp_values
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.model.activity import validate_activity

#: IPCC 2006 Vol 2 Ch 6 §6.8: differences between the reference and the sectoral approach of
#: more than this (in %) should be explained.
REFERENCE_TOLERANCE_PCT = 5.0


class MethodOutputError(CarbonpeakError):
    """A category method returned a malformed result (a bug in the method, not in the data)."""


def _method_for(category: str, methods: dict[str, Any]) -> str | None:
    best, best_len = None, -1
    for name, m in methods.items():
        for p in m.prefixes:
            if is_prefix(p, category) and len(p) > best_len:
                best, best_len = name, len(p)
    return best


def _check_output(name: str, out: pd.DataFrame) -> pd.DataFrame:
    cols = set(out.columns)
    if cols != set(RESULT_COLUMNS):
        missing = sorted(set(RESULT_COLUMNS) - cols)
        extra = sorted(cols - set(RESULT_COLUMNS))
        raise MethodOutputError(f"method {name} returned wrong columns (missing {missing}, extra {extra})")
    out = out[list(RESULT_COLUMNS)]
    if len(out) == 0:
        return out
    bad_gas = sorted(set(out["gas"].unique()) - set(GASES))
    if bad_gas:
        raise MethodOutputError(f"method {name} returned unknown gases {bad_gas}; allowed {list(GASES)}")
    bad_scope = sorted(set(out["scope"].unique()) - set(SCOPES))
    if bad_scope:
        raise MethodOutputError(f"method {name} returned unknown scopes {bad_scope}")
    mass = pd.to_numeric(out["mass_t"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(mass).all():
        raise MethodOutputError(f"method {name} returned a non-finite mass_t")
    cats = get_categories()
    unknown = sorted(set(out["category"].unique()) - set(cats))
    if unknown:
        raise MethodOutputError(f"method {name} returned unknown categories {unknown}")
    return out


def compile_inventory(
    activity: pd.DataFrame,
    factors: FactorSet | None = None,
    *,
    gwp: str = DEFAULT_GWP,
    options: dict[str, Any] | None = None,
) -> Inventory:
    """Compile an inventory from an activity table (see :mod:`carbonpeak.model.activity`)."""
    import carbonpeak.accounting.methods  # noqa: F401  (fills the registry)

    gwp_map = gwp_values(gwp)  # validates the set name early
    act = validate_activity(activity)
    fs = factors if factors is not None else FactorSet.default()
    ctx = MethodContext(factors=fs, options=dict(options or {}))
    methods = registry()
    cat_method = {c: _method_for(c, methods) for c in act["category"].unique()}
    problems: list[Problem] = []
    orphan = [c for c, m in cat_method.items() if m is None]
    if orphan:
        sub = act[act["category"].isin(orphan)]
        known = sorted({p for m in methods.values() for p in m.prefixes})
        for cat, row, file in zip(sub["category"], sub["__row__"], sub["__file__"], strict=True):
            problems.append(
                Problem(
                    str(file),
                    int(row),
                    "category",
                    f"no method computes category {cat} (methods exist for {', '.join(known) or 'none'})",
                )
            )
    outs: list[pd.DataFrame] = []
    by_method: dict[str, list[str]] = {}
    for c, m in cat_method.items():
        if m is not None:
            by_method.setdefault(m, []).append(c)
    for name, cats in by_method.items():
        sub = act[act["category"].isin(cats)]
        try:
            out = methods[name].fn(sub.reset_index(drop=True), ctx)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        outs.append(_check_output(name, out))
    if problems:
        raise ValidationError(problems)
    outs = [o for o in outs if len(o)]
    res = pd.concat(outs, ignore_index=True) if outs else pd.DataFrame({c: [] for c in RESULT_COLUMNS})
    res["year"] = res["year"].astype("int64")
    res["mass_t"] = res["mass_t"].astype(float)
    for c in ("ad_uncertainty_pct", "ef_uncertainty_pct"):
        res[c] = res[c].astype(float)
    factor_of_gas = res["gas"].map(gwp_map).astype(float)
    if factor_of_gas.isna().any():
        missing = sorted(res.loc[factor_of_gas.isna(), "gas"].unique())
        raise CarbonpeakError(f"GWP set {gwp} has no value for {missing}")
    res["co2e_t"] = res["mass_t"].to_numpy() * factor_of_gas.to_numpy(dtype=float)
    return Inventory(results=res, gwp=gwp.upper(), factor_files=fs.override_files, options=ctx.options)


def _sectors(categories: pd.Series) -> pd.Series:
    cats = get_categories()
    return categories.map({c: cats[c].sector for c in categories.unique()})


@dataclass
class Inventory:
    """A compiled inventory: ``results`` has :data:`RESULT_COLUMNS` plus ``co2e_t``."""

    results: pd.DataFrame
    gwp: str = DEFAULT_GWP
    factor_files: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    # -- selection ---------------------------------------------------------------------------
    def select(self, year: int | None = None, region: str | None = None) -> pd.DataFrame:
        r = self.results
        if year is not None:
            r = r[r["year"] == int(year)]
        if region is not None:
            r = r[r["region"] == region]
        return r

    @property
    def territorial(self) -> pd.DataFrame:
        """Rows counted in the totals (what uncertainty and key-category analysis work on)."""
        return self.results[self.results["scope"] == "territorial"]

    def totals(
        self,
        by: Sequence[str] = ("year", "region"),
        scope: str = "territorial",
        include_lulucf: bool = True,
    ) -> pd.DataFrame:
        """co2e_t (and mass_t when grouped by gas) summed by the given columns.

        ``by`` may name result columns and ``sector``.
        """
        r = self.results[self.results["scope"] == scope]
        if not include_lulucf or "sector" in by:
            r = r.assign(sector=_sectors(r["category"]))
            if not include_lulucf:
                r = r[r["sector"] != "lulucf"]
        by = list(by)
        cols = ["co2e_t"] + (["mass_t"] if "gas" in by else [])
        if not by:
            return pd.DataFrame({c: [float(r[c].sum())] for c in cols})
        return r.groupby(by, sort=True, as_index=False)[cols].sum()

    # -- the JSON contract -------------------------------------------------------------------
    def summary(self, year: int | None = None, region: str | None = None) -> dict[str, Any]:
        """The inventory summary (keys documented in docs/inventory.md)."""
        sel = self.select(year, region)
        terr = sel[sel["scope"] == "territorial"]
        sectors = _sectors(terr["category"]) if len(terr) else pd.Series([], dtype=object)
        total = float(terr["co2e_t"].sum())
        lulucf_mask = (sectors == "lulucf").to_numpy()
        lulucf = float(terr.loc[lulucf_mask, "co2e_t"].sum())
        removals = float(terr.loc[lulucf_mask & (terr["co2e_t"] < 0).to_numpy(), "co2e_t"].sum())
        by_cat_leaf = terr.groupby("category")["co2e_t"].sum()
        by_category: dict[str, float] = {}
        for code, v in by_cat_leaf.items():
            for a in ancestors(str(code)):
                by_category[a] = by_category.get(a, 0.0) + float(v)
        order = {c: i for i, c in enumerate(get_categories())}
        by_category = dict(sorted(by_category.items(), key=lambda kv: order.get(kv[0], 1 << 30)))
        by_sector = {str(k): float(v) for k, v in terr.groupby(sectors.to_numpy())["co2e_t"].sum().items()}
        by_gas = {str(k): float(v) for k, v in terr.groupby("gas")["mass_t"].sum().items()}
        by_gas_co2e = {str(k): float(v) for k, v in terr.groupby("gas")["co2e_t"].sum().items()}

        def scope_sum(scope: str, col: str = "mass_t", gas: str | None = "CO2") -> float:
            m = sel["scope"] == scope
            if gas is not None:
                m &= sel["gas"] == gas
            return float(sel.loc[m, col].sum())

        elec = scope_sum("memo_imported_electricity", "co2e_t", None)
        ref_check = self.reference_check(year, region)
        ref_total = float(sum(r["reference_co2_t"] for r in ref_check))
        sect_total = float(sum(r["sectoral_co2_t"] for r in ref_check))
        memo = {
            "imported_electricity_co2_t": scope_sum("memo_imported_electricity"),
            "international_bunkers_co2_t": scope_sum("memo_international_bunkers"),
            "international_bunkers_co2e_t": scope_sum("memo_international_bunkers", "co2e_t", None),
            "biomass_co2_t": scope_sum("memo_biomass_co2"),
            "reference_approach_co2_t": ref_total if ref_check else None,
            "sectoral_approach_co2_t": sect_total if ref_check else None,
            "reference_vs_sectoral_difference_pct": (
                (ref_total - sect_total) / sect_total * 100.0 if ref_check and sect_total else None
            ),
            "reference_check": ref_check,
        }
        return {
            "gwp": self.gwp,
            "years": sorted(int(y) for y in sel["year"].unique()),
            "regions": sorted(str(r) for r in sel["region"].unique()),
            "total_co2e_t": total,
            "total_excluding_lulucf_co2e_t": total - lulucf,
            "lulucf_co2e_t": lulucf,
            "removals_co2e_t": removals,
            "consumption_based_co2e_t": total + elec,
            "by_sector": by_sector,
            "by_category": by_category,
            "by_gas": by_gas,
            "by_gas_co2e_t": by_gas_co2e,
            "memo": memo,
            "factor_overrides": self.factor_overrides(sel),
            "rows": len(sel),
        }

    def reference_check(self, year: int | None = None, region: str | None = None) -> list[dict[str, Any]]:
        """Reference vs sectoral approach CO2 per (year, region) that has reference data.

        IPCC 2006 Vol 2 Ch 6 §6.8: sectoral = fuel-combustion CO2 (1.A, territorial, without
        biomass and bunkers); differences beyond ±5 % are flagged for explanation.
        """
        sel = self.select(year, region)
        ref = sel[(sel["scope"] == "memo_reference_approach") & (sel["gas"] == "CO2")]
        if ref.empty:
            return []
        ref_by = ref.groupby(["year", "region"])["mass_t"].sum()
        comb = sel[
            (sel["scope"] == "territorial")
            & (sel["gas"] == "CO2")
            & ((sel["category"] == "1.A") | sel["category"].str.startswith("1.A."))
        ]
        sect_by = comb.groupby(["year", "region"])["mass_t"].sum()
        out: list[dict[str, Any]] = []
        for (y, reg), rv in ref_by.items():
            sv = float(sect_by.get((y, reg), 0.0))
            diff = (float(rv) - sv) / sv * 100.0 if sv else None
            out.append(
                {
                    "year": int(y),
                    "region": str(reg),
                    "reference_co2_t": float(rv),
                    "sectoral_co2_t": sv,
                    "difference_pct": diff,
                    "flag": diff is None or abs(diff) > REFERENCE_TOLERANCE_PCT,
                }
            )
        return out

    def factor_overrides(self, rows: pd.DataFrame | None = None) -> dict[str, Any]:
        """User-override factors used by ``rows`` (default: all results), one entry per factor."""
        r = self.results if rows is None else rows
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        if len(r):
            hit = r["explain"].str.contains('"overridden": true', regex=False)
            for text in r.loc[hit, "explain"].unique():
                for f in _factors_in(json.loads(text)):
                    if f.get("overridden"):
                        k = (
                            f.get("origin"),
                            f.get("item"),
                            f.get("parameter"),
                            f.get("gas"),
                            f.get("category"),
                        )
                        seen.setdefault(k, f)
        return {"files": list(self.factor_files), "used": list(seen.values())}

    def explain(
        self,
        category: str,
        year: int | None = None,
        region: str | None = None,
        gas: str | None = None,
        item: str | None = None,
    ) -> dict[str, Any]:
        """The rows and factors behind the figure of ``category`` (and its sub-categories)."""
        sel = self.select(year, region)
        m = (sel["category"] == category) | sel["category"].str.startswith(category + ".")
        if gas:
            m &= sel["gas"] == gas
        if item:
            m &= sel["item"] == item
        rows = sel[m]
        cats = get_categories()
        factors: dict[tuple[Any, ...], dict[str, Any]] = {}
        out_rows: list[dict[str, Any]] = []
        for r in rows.itertuples(index=False):
            ex = json.loads(r.explain) if r.explain else {}
            for f in _factors_in(ex):
                k = (
                    f.get("origin"),
                    f.get("item"),
                    f.get("parameter"),
                    f.get("gas"),
                    f.get("category"),
                    f.get("region"),
                    f.get("year_from"),
                )
                factors.setdefault(k, f)
            out_rows.append(
                {
                    "year": int(r.year),
                    "region": r.region,
                    "category": r.category,
                    "item": r.item,
                    "gas": r.gas,
                    "scope": r.scope,
                    "mass_t": float(r.mass_t),
                    "co2e_t": float(r.co2e_t),
                    "factor_key": r.factor_key,
                    "explain": ex,
                }
            )
        terr = rows[rows["scope"] == "territorial"]
        return {
            "category": category,
            "name_en": cats[category].name_en if category in cats else None,
            "name_zh": cats[category].name_zh if category in cats else None,
            "year": year,
            "region": region,
            "gas": gas,
            "item": item,
            "gwp": self.gwp,
            "total_co2e_t": float(terr["co2e_t"].sum()),
            "mass_t_by_gas": {str(k): float(v) for k, v in terr.groupby("gas")["mass_t"].sum().items()},
            "memo_co2e_t": {
                str(k): float(v)
                for k, v in rows[rows["scope"] != "territorial"].groupby("scope")["co2e_t"].sum().items()
            },
            "overridden": any(f.get("overridden") for f in factors.values()),
            "factors": list(factors.values()),
            "rows": out_rows,
        }

    def sinks(self, year: int | None = None, region: str | None = None) -> pd.DataFrame:
        """Removals on their own: territorial LULUCF rows with negative mass."""
        sel = self.select(year, region)
        terr = sel[sel["scope"] == "territorial"]
        if terr.empty:
            return terr[["year", "region", "category", "item", "gas", "mass_t", "co2e_t"]]
        lul = terr[(_sectors(terr["category"]) == "lulucf").to_numpy() & (terr["mass_t"] < 0).to_numpy()]
        return (
            lul.groupby(["year", "region", "category", "item", "gas"], as_index=False)[["mass_t", "co2e_t"]]
            .sum()
            .sort_values(["year", "region", "category", "item", "gas"])
            .reset_index(drop=True)
        )


def _factors_in(obj: Any) -> Iterable[dict[str, Any]]:
    """Every factor record (a dict with ``parameter`` and ``source``) inside an explain record."""
    if isinstance(obj, dict):
        if "parameter" in obj and "source" in obj and "value" in obj:
            yield obj
        else:
            for v in obj.values():
                yield from _factors_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _factors_in(v)
