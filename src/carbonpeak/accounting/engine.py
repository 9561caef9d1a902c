"""The inventory engine: activity rows → results by year × region × category × item × gas.

:func:`compile_inventory` validates the activity table (unless it comes validated from
:func:`carbonpeak.model.activity.load_activity`), dispatches each row to the registered method
whose category prefix is the longest match (``accounting.methods``), checks what the methods
return, and applies a GWP set.  The :class:`~carbonpeak.accounting.inventory.Inventory` it returns
(module ``accounting/inventory.py``, re-exported here) answers totals, the JSON summary,
``explain`` and the sinks report.  Pure functions: no file or database access here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import GASES, RESULT_COLUMNS, SCOPES, MethodContext, registry
from carbonpeak.accounting.deferred import collecting
from carbonpeak.accounting.inventory import Inventory
from carbonpeak.catalog.categories import get_categories, is_prefix
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.gwp import DEFAULT_GWP, gwp_for, gwp_values
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.model.activity import validate_activity

__all__ = ["Inventory", "MethodOutputError", "compile_inventory"]

class _SharedWarnings(list):  # type: ignore[type-arg]
    """The data warnings in ``results.attrs``.  pandas deep-copies ``attrs`` into every frame derived
    from the results (each filter, column, groupby); hundreds of warnings with their message
    parameters, copied thousands of times, cost a tenth of ``inventory compile``.  They are not
    changed after the compile, so every derived frame shares this one list."""

    def __deepcopy__(self, memo: dict[int, object]) -> _SharedWarnings:
        return self



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
    notation_keys: Any = None,
) -> Inventory:
    """Compile an inventory from an activity table (see :mod:`carbonpeak.model.activity`).

    ``notation_keys``: optional declared IPCC notation keys (records or a DataFrame with
    ``year, region, category, key`` and optional ``gas``, ``note``; see
    :mod:`carbonpeak.accounting.notation`).  ``NE`` is also inferred for categories estimated in
    some years but not in others.
    """
    from carbonpeak.accounting import notation as nk

    declared_keys = nk.declared(notation_keys)
    import carbonpeak.accounting.methods  # noqa: F401  (fills the registry)

    gwp_map = gwp_values(gwp)  # validates the set name early
    act = validate_activity(activity)
    fs = factors if factors is not None else FactorSet.default()
    ctx = MethodContext(factors=fs, options=dict(options or {}))
    if len(act):
        # the last year asked for: series models (landfill FOD) report up to it
        ctx.options.setdefault("inventory_end_year", int(act["year"].max()))
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
    deferred_used: list[bool] = []
    by_method: dict[str, list[str]] = {}
    for c, m in cat_method.items():
        if m is not None:
            by_method.setdefault(m, []).append(c)
    # one factorisation of the category column, then an integer mask per method
    cat_codes, cat_uniq = pd.factorize(np.asarray(act["category"].to_numpy(), dtype=object))
    code_of = {c: i for i, c in enumerate(cat_uniq)}
    with collecting() as sink:
        for name, cats in by_method.items():
            sub = act[np.isin(cat_codes, [code_of[c] for c in cats])]
            before = sink.total
            try:
                out = methods[name].fn(sub.reset_index(drop=True), ctx)
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            out = _check_output(name, out)
            if len(out):
                outs.append(out)
                deferred_used.append(sink.total > before)
    if problems:
        raise ValidationError(problems)
    res = pd.concat(outs, ignore_index=True) if outs else pd.DataFrame({c: [] for c in RESULT_COLUMNS})
    # rows whose explain text is deferred hold an int id in ``explain`` (see accounting.deferred)
    explain_ids = np.full(len(res), -1, dtype=np.int64)
    off = 0
    for out, used in zip(outs, deferred_used, strict=True):
        if used:
            col = out["explain"].to_numpy(dtype=object)
            if pd.api.types.infer_dtype(col, skipna=False) == "integer":  # all deferred (C-level scan)
                explain_ids[off : off + len(out)] = col.astype(np.int64)
            else:
                is_id = np.fromiter((type(x) is int for x in col), dtype=bool, count=len(col))
                explain_ids[off : off + len(out)][is_id] = col[is_id].astype(np.int64)
        off += len(out)
    res["year"] = res["year"].astype("int64")
    res["mass_t"] = res["mass_t"].astype(float)
    for c in ("ad_uncertainty_pct", "ef_uncertainty_pct"):
        res[c] = res[c].astype(float)
    factor_of_gas = pd.Series(_gwp_per_row(res, gwp, gwp_map), index=res.index)
    if factor_of_gas.isna().any():
        missing = sorted(res.loc[factor_of_gas.isna(), "gas"].unique())
        raise CarbonpeakError(f"GWP set {gwp} has no value for {missing}")
    res["co2e_t"] = res["mass_t"].to_numpy() * factor_of_gas.to_numpy(dtype=float)
    # travels with the frame (select, exports, reports): see Inventory.data_warnings
    res.attrs["data_warnings"] = _SharedWarnings(dict(w) for w in ctx.warnings)
    inv = Inventory(
        results=res,
        gwp=gwp.upper(),
        factor_files=fs.override_files,
        options=ctx.options,
        warnings=ctx.warnings,
        notation_keys=declared_keys,
    )
    if (explain_ids >= 0).any():
        inv._deferred = (explain_ids, sink)
    return inv


def _gwp_per_row(res: pd.DataFrame, gwp: str, gwp_map: dict[str, float]) -> np.ndarray:
    """GWP-100 of each result row, chosen by :func:`carbonpeak.catalog.gwp.gwp_for` (fossil CH4
    gets the fossil value where the set has one); one lookup per distinct (gas, category, item)."""
    if len(res) == 0:
        return np.zeros(0)
    gas = np.asarray(res["gas"].to_numpy(), dtype=object)
    out = np.full(len(res), np.nan)
    ch4 = gas == "CH4"
    other = ~ch4
    if other.any():
        codes, uniq = pd.factorize(gas[other])
        vals = np.array([float(gwp_map.get(g, np.nan)) for g in uniq], dtype=float)
        out[other] = vals[codes]
    if ch4.any():
        c_codes, c_uniq = pd.factorize(res["category"].to_numpy(dtype=object)[ch4])
        i_codes, i_uniq = pd.factorize(res["item"].to_numpy(dtype=object)[ch4])
        pair, pairs = pd.factorize(c_codes.astype(np.int64) * (len(i_uniq) + 1) + i_codes)
        n_i = len(i_uniq) + 1
        vals = np.array(
            [gwp_for("CH4", str(c_uniq[p // n_i]), str(i_uniq[p % n_i]), gwp)[0] for p in pairs], dtype=float
        )
        out[ch4] = vals[pair]
    return out
