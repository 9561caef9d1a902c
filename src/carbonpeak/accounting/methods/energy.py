"""Energy (IPCC 2006 sector 1): fuel combustion, fugitive emissions, reference approach and
net imported electricity.  Formulas and sources: ``docs/methods/energy.md``.

* ``1.A`` sectoral approach (IPCC 2006 Vol 2 Ch 2 Eq 2.1; provincial guideline 2011 Ch 1):
  ``E = AD × NCV`` (skipped when AD is already an energy, e.g. GJ or tce),
  ``CO2 = E × CC × OF × 44/12``, ``CH4, N2O = E × EF``.  Biogenic CO2 (share
  ``biogenic_fraction``, 1 for items of kind ``biomass``) goes to ``memo_biomass_co2``; every gas of
  the memo categories 1.A.3.a.i / 1.A.3.d.i (international bunkers) and 1.A.5.c goes to
  ``memo_international_bunkers``.  Electricity and heat are secondary energy: consuming them is
  not combustion, and a 1.A row with them is rejected (power-plant fuel is counted in 1.A.1, net
  imported electricity under ``M.ELEC``).
* ``1.B`` fugitive: ``emission = AD × EF`` per gas, a volume EF (m³ of gas per t) times the gas
  density (IPCC 2006 Vol 2 Ch 4 Eq 4.1.3-4.1.8).
* ``M.REF.*`` reference approach (IPCC 2006 Vol 2 Ch 6 Eq 6.1-6.3): apparent consumption =
  production + imports − exports − international bunkers − stock change, less non-energy use;
  ``CO2 = Σ ± AD × NCV × CC × OF × 44/12`` → ``memo_reference_approach``.
* ``M.ELEC*`` net imported electricity × grid factor → ``memo_imported_electricity``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import MethodContext, register
from carbonpeak.accounting.deferred import defer, explain_later
from carbonpeak.accounting.resolve import Resolved, _conv, resolve
from carbonpeak.catalog.categories import get_categories
from carbonpeak.catalog.factors import FactorValue
from carbonpeak.catalog.fuel_co2 import CO2_PER_C
from carbonpeak.catalog.units import parse_unit, ureg
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.i18n import Msg, declare

#: Items that are secondary energy carriers, not fuels burnt in the inventory year.
NON_COMBUSTION_ITEMS = ("electricity", "heat")

#: Sign of each reference-approach flow in apparent consumption (IPCC 2006 Vol 2 Eq 6.1-6.2).
REFERENCE_FLOWS = {
    "M.REF.PROD": 1.0,
    "M.REF.IMP": 1.0,
    "M.REF.EXP": -1.0,
    "M.REF.BUNK": -1.0,
    "M.REF.STOCK": -1.0,
    "M.REF.NEU": -1.0,
}

#: Grid of each electricity memo category (``M.ELEC`` itself uses option ``import_grid``).
ELECTRICITY_GRIDS = {"M.ELEC.SOUTH": "south", "M.ELEC.NATIONAL": "national", "M.ELEC.GUANGDONG": "guangdong"}
DEFAULT_IMPORT_GRID = "south"

_ENERGY_DIM = ureg.GJ.dimensionality


@lru_cache(maxsize=1024)
def _to_gj(unit: str) -> float | None:
    """GJ per unit when ``unit`` is an energy, else None."""
    q = parse_unit(unit)
    if q.dimensionality != _ENERGY_DIM:
        return None
    return float(q.to("GJ").magnitude)


@lru_cache(maxsize=4096)
def _product_to(unit_a: str, unit_b: str, target: str) -> float:
    """Multiplier of ``amount[unit_a] × value[unit_b]`` expressed in ``target``."""
    return float((parse_unit(unit_a) * parse_unit(unit_b)).to(target).magnitude)


def _vmap(values: pd.Series, table: dict[Any, Any], dtype: Any) -> np.ndarray:
    """``values.map(table).to_numpy(dtype)`` via one lookup per distinct value (missing → NaN)."""
    codes, uniq = pd.factorize(np.asarray(values.to_numpy(), dtype=object))
    mapped = np.array([table.get(u, np.nan) for u in uniq], dtype=dtype)
    return mapped[codes] if len(codes) else np.zeros(0, dtype=dtype)


def _objects(activity: pd.DataFrame) -> pd.DataFrame:
    """The method's rows with text columns as numpy object arrays (converted once, not per use)."""
    rows = activity.reset_index(drop=True)
    conv = {c: object for c in ("region", "category", "item", "unit", "__file__") if c in rows.columns}
    return rows.astype(conv) if conv else rows


def _kinds(items: pd.Series) -> dict[str, str]:
    from carbonpeak.catalog.items import get_items

    cat = get_items()
    return {i: (cat[i].kind if i in cat else "") for i in items.unique()}


def _is_biomass(items: pd.Series) -> dict[str, bool]:
    return {i: k == "biomass" for i, k in _kinds(items).items()}


def _not_combustion(items: pd.Series) -> np.ndarray:
    """Secondary energy (electricity, heat) and grid items: consuming them is not combustion."""
    kinds = _kinds(items)
    bad = {i: (i in NON_COMBUSTION_ITEMS or kinds[i] in ("secondary", "grid")) for i in kinds}
    return _vmap(items, bad, bool)


def _rows_problem(rows: pd.DataFrame, mask: np.ndarray, field: str, msg: Any) -> list[Problem]:
    sub = rows.loc[mask].rename(columns={"__file__": "file_", "__row__": "row_"})
    out = []
    for rec in sub.itertuples(index=False):
        text = msg(rec) if callable(msg) else msg
        out.append(Problem(str(rec.file_), int(rec.row_), field, text))
    return out


def _compact(fv: FactorValue) -> dict[str, Any]:
    """A factor's explain record: value, unit, scope, source, status and provenance.

    Empty fields are left out, and so is the free-text ``note`` (``carbonpeak factors show``
    prints it); ``origin`` (the override file) is given when the factor was overridden.
    """
    d = {k: v for k, v in fv.to_dict().items() if v is not None and k != "note"}
    if not fv.overridden:
        d.pop("origin", None)
    return d


def _combo_json(parts: Sequence[Resolved | None]) -> tuple[np.ndarray, list[str]]:
    """Per-row index into a list of JSON arrays of the factors used (one per distinct combo)."""
    used = [p for p in parts if p is not None]
    if not used:
        return np.zeros(0, dtype=int), ["[]"]
    n = len(used[0].group)
    combined = np.zeros(n, dtype=np.int64)
    for p in used:
        combined = combined * (len(p.factors) + 1) + p.group
    combo, uniq = pd.factorize(combined)
    first_idx = np.zeros(len(uniq), dtype=np.int64)
    first_idx[combo[::-1]] = np.arange(n - 1, -1, -1)
    texts: list[str] = []
    for i in first_idx:
        fvs = [p.factors[int(p.group[i])] for p in used]
        # ASCII JSON keeps every explain string 1 byte per character (no widening by CJK text)
        texts.append(json.dumps([_compact(f) for f in fvs if f is not None], ensure_ascii=True, default=str))
    return combo, texts


class _Parts:
    """The ``"activity": {...}`` JSON fragment of each row (shared by the gases of that row).

    Built on first use (the engine defers explain texts until someone reads them).
    """

    def __init__(self, rows: pd.DataFrame, numbers: dict[str, np.ndarray] | None = None) -> None:
        self.n = len(rows)
        self._files = rows["__file__"].to_numpy()
        self._rows = rows["__row__"].to_numpy()
        self._amount = rows["amount"].to_numpy(dtype=float)
        self._units = rows["unit"].to_numpy()
        self._numbers = {k: np.asarray(v, dtype=float) for k, v in (numbers or {}).items()}
        self._texts: list[str] | None = None

    def texts(self) -> list[str]:
        if self._texts is None:
            files = {f: json.dumps(f, ensure_ascii=True) for f in pd.unique(self._files)}
            units = {u: json.dumps(u, ensure_ascii=True) for u in pd.unique(self._units)}
            keys = list(self._numbers)
            cols: list[list[Any]] = [
                [files[f] for f in self._files],
                [int(r) for r in self._rows],
                self._amount.tolist(),
                [units[u] for u in self._units],
            ] + [self._numbers[k].tolist() for k in keys]
            tmpl = (
                '"activity": {"file": %s, "row": %d, "amount": %r, "unit": %s'
                + "".join(f', "{k}": %r' for k in keys)
                + "}"
            )
            self._texts = [tmpl % t for t in zip(*cols, strict=True)]
        return self._texts


def _activity_parts(rows: pd.DataFrame, numbers: dict[str, np.ndarray] | None = None) -> _Parts:
    return _Parts(rows, numbers)


def _explain(
    method: str,
    formula: str,
    activity_parts: _Parts,
    factor_parts: Sequence[Resolved | None],
    mask: np.ndarray | None = None,
) -> pd.Series | np.ndarray:
    """Explain JSON per row: method and formula, the activity row, the factors used.

    The factor JSON is serialised once per distinct combination of factors, the activity
    fragment once per activity row, so building it is a few string joins per row.  Inside
    ``compile_inventory`` the texts are deferred (:mod:`carbonpeak.accounting.deferred`) and
    this returns their ids instead.
    """
    idx = np.arange(activity_parts.n) if mask is None else np.flatnonzero(mask)
    factor_parts = list(factor_parts)

    def render(local: np.ndarray) -> list[str]:
        combo, texts = _combo_json(factor_parts)
        head = json.dumps({"method": method, "formula": formula}, ensure_ascii=True)[:-1] + ", "
        parts = activity_parts.texts()
        sel = idx[local].tolist()
        if len(combo) == 0:
            return [head + parts[i] + ', "factors": []}' for i in sel]
        tails = [', "factors": ' + t + "}" for t in texts]
        return [f"{head}{parts[i]}{tails[combo[i]]}" for i in sel]

    ids = defer(len(idx), render)
    if ids is not None:
        return ids
    return pd.Series(render(np.arange(len(idx))), dtype=object)


def _quad(*us: np.ndarray) -> np.ndarray:
    """Combined relative uncertainty of a product (IPCC 2006 Vol 1 Ch 3 Eq 3.1); NaN if none known."""
    stack = np.vstack(us)
    known = ~np.isnan(stack)
    sq = np.where(known, stack, 0.0) ** 2
    out = np.sqrt(sq.sum(axis=0))
    return np.where(known.any(axis=0), out, np.nan)


def _fk_category(cats: Sequence[Resolved | None], n: int) -> np.ndarray:
    """The most specific factor category among the factors of each row ('*' if none)."""
    best = np.full(n, "*", dtype=object)
    blen = np.zeros(n, dtype=int)
    for r in cats:
        if r is None:
            continue
        names = np.array([(f.category if f is not None else "") for f in r.factors], dtype=object)
        lens = np.array([len(c) for c in names], dtype=int)
        fl = lens[r.group]
        take = fl > blen
        best = np.where(take, names[r.group], best)
        blen = np.maximum(blen, fl)
    return best


def _energy_gj(
    rows: pd.DataFrame, ctx: MethodContext, category: str | None
) -> tuple[np.ndarray, Resolved | None, list[Problem]]:
    """Energy content of each row in GJ (NCV applied where the amount is not an energy)."""
    units = rows["unit"]
    gj = _vmap(units, {u: (np.nan if (g := _to_gj(u)) is None else g) for u in units.unique()}, float)
    is_energy = ~np.isnan(gj)
    amount = rows["amount"].to_numpy(dtype=float)
    energy = np.where(is_energy, amount * np.where(is_energy, gj, 0.0), np.nan)
    problems: list[Problem] = []
    ncv: Resolved | None = None
    if (~is_energy).any():
        phys = rows.loc[~is_energy]
        ncv = resolve(ctx.factors, phys, "ncv", unit=None, category=category)
        problems += ncv.problems
        ncv_units = np.array([f.unit if f is not None else "" for f in ncv.factors], dtype=object)[ncv.group]
        # one unit conversion per distinct (activity unit, NCV unit) pair
        u_codes, u_uniq = pd.factorize(np.asarray(phys["unit"].to_numpy(), dtype=object))
        n_codes, n_uniq = pd.factorize(np.asarray(ncv_units, dtype=object))
        pair, pairs = pd.factorize(u_codes.astype(np.int64) * (len(n_uniq) + 1) + n_codes)
        pm = np.empty(len(pairs))
        pbad = np.zeros(len(pairs), dtype=bool)
        for j, code in enumerate(pairs):
            au, nu = u_uniq[code // (len(n_uniq) + 1)], n_uniq[code % (len(n_uniq) + 1)]
            if not nu:
                pm[j] = np.nan
                continue
            try:
                pm[j] = _product_to(au, nu, "GJ")
            except Exception:  # a pint dimensionality error: mass activity, volume NCV, ...
                pm[j] = np.nan
                pbad[j] = True
        mult = pm[pair]
        bad = pbad[pair]
        if bad.any():
            problems += _rows_problem(
                phys.reset_index(drop=True),
                bad,
                "unit",
                lambda r: (
                    f"unit '{r.unit}' does not fit the net calorific value of {r.item}; "
                    "give the amount in the unit of its NCV (e.g. t, 10^4 Nm3) or in energy (GJ, tce)"
                ),
            )
        energy[~is_energy] = phys["amount"].to_numpy(dtype=float) * ncv.values * mult
        full = np.full(len(rows), -1, dtype=int)
        full[~is_energy] = ncv.group
        ncv_all = Resolved(
            values=np.where(~is_energy, 0.0, np.nan), group=full, factors=ncv.factors, problems=[]
        )
        ncv = _with_none(ncv_all)
    return energy, ncv, problems


def _with_none(r: Resolved) -> Resolved:
    """Map group -1 (factor not used) to a trailing ``None`` factor."""
    factors = [*r.factors, None]
    group = np.where(r.group < 0, len(factors) - 1, r.group)
    return Resolved(values=r.values, group=group, factors=factors, problems=r.problems)


def _result_cols(
    rows: pd.DataFrame,
    gas: str,
    mass: np.ndarray,
    scope: np.ndarray | str,
    ef_u: np.ndarray,
    factor_key: Sequence[str] | np.ndarray,
    explain: pd.Series | list[str] | np.ndarray,
    mask: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The result columns as arrays: ``rows`` columns (restricted to ``mask``) + per-row values
    (already restricted)."""

    def col(c: str, dtype: Any = None) -> np.ndarray:
        a = rows[c].to_numpy(dtype=dtype)
        return a if mask is None else a[mask]

    n = len(rows) if mask is None else int(np.count_nonzero(mask))

    def obj(v: Any) -> np.ndarray:
        if isinstance(v, str):
            return np.full(n, v, dtype=object)
        return np.asarray(v, dtype=object)

    return {
        "year": col("year"),
        "region": obj(col("region")),
        "category": obj(col("category")),
        "item": obj(col("item")),
        "gas": obj(gas),
        "mass_t": np.asarray(mass, dtype=float),
        "scope": obj(scope),
        "ad_uncertainty_pct": col("uncertainty_pct", float),
        "ef_uncertainty_pct": np.asarray(ef_u, dtype=float),
        "factor_key": obj(factor_key),
        "explain": obj(explain.to_numpy() if isinstance(explain, pd.Series) else explain),
    }


def _frame(parts: Sequence[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One result frame from column dicts (one concatenation per column, text columns as object)."""
    cols: dict[str, Any] = {}
    for c in parts[0]:
        a = np.concatenate([p[c] for p in parts]) if len(parts) > 1 else parts[0][c]
        cols[c] = pd.Series(a, dtype=object) if a.dtype == object else a
    return pd.DataFrame(cols)


def _result(
    rows: pd.DataFrame,
    gas: str,
    mass: np.ndarray,
    scope: np.ndarray | str,
    ef_u: np.ndarray,
    factor_key: Sequence[str] | np.ndarray,
    explain: pd.Series | list[str] | np.ndarray,
) -> pd.DataFrame:
    return _frame([_result_cols(rows, gas, mass, scope, ef_u, factor_key, explain)])


def _key(items: np.ndarray, gas: str, fk_cat: np.ndarray, prefix: str = "") -> np.ndarray:
    """``<prefix><item>|<gas>|<factor category>`` per row (built once per distinct pair)."""
    codes_i, ui = pd.factorize(np.asarray(items, dtype=object))
    codes_c, uc = pd.factorize(np.asarray(fk_cat, dtype=object))
    combo, uniq = pd.factorize(codes_i.astype(np.int64) * (len(uc) + 1) + codes_c)
    texts = np.array(
        [f"{prefix}{ui[u // (len(uc) + 1)]}|{gas}|{uc[u % (len(uc) + 1)]}" for u in uniq], dtype=object
    )
    return texts[combo] if len(combo) else np.zeros(0, dtype=object)


@register("fuel_combustion", ("1.A",), "Fuel combustion, sectoral approach (IPCC 2006 Vol 2 Ch 2-3)")
def fuel_combustion(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Fuel combustion by category × fuel: CO2 from carbon content, CH4 and N2O per TJ."""
    rows = _objects(activity)
    problems: list[Problem] = []
    nc = _not_combustion(rows["item"])
    if nc.any():
        problems += _rows_problem(
            rows,
            nc,
            "item",
            lambda r: (
                f"'{r.item}' in {r.category} is not fuel combustion: power and heat plants' fuels are "
                "reported in 1.A.1, net imported electricity under M.ELEC (see docs/methods/energy.md)"
            ),
        )
        raise ValidationError(problems)
    energy, ncv, p = _energy_gj(rows, ctx, None)
    problems += p
    fs = ctx.factors
    cc = resolve(fs, rows, "carbon_content", unit="t/GJ")
    of = resolve(fs, rows, "oxidation", unit="1")
    ch4 = resolve(fs, rows, "ef", gas="CH4", unit="t/GJ")
    n2o = resolve(fs, rows, "ef", gas="N2O", unit="t/GJ")
    bio = resolve(fs, rows, "biogenic_fraction", unit="1", required=False)
    problems += cc.problems + of.problems + ch4.problems + n2o.problems
    if problems:
        raise ValidationError(problems)
    kind_bio = _vmap(rows["item"], _is_biomass(rows["item"]), bool)
    bio_share = np.where(np.isnan(bio.values), np.where(kind_bio, 1.0, 0.0), bio.values)
    cats = get_categories()
    memo_cat = _vmap(rows["category"], {c: cats[c].sector == "memo" for c in rows["category"].unique()}, bool)
    base_scope = np.where(memo_cat, "memo_international_bunkers", "territorial")
    co2 = energy * cc.values * of.values * CO2_PER_C
    items = rows["item"].to_numpy()
    u_ncv = ncv.uncertainty if ncv is not None else np.full(len(rows), np.nan)
    out: list[dict[str, np.ndarray]] = []
    formula_co2 = "CO2 = E × CC × OF × 44/12, E = amount × NCV (IPCC 2006 Vol 2 Eq 2.1)"
    bio_used = bio if (~np.isnan(bio.values)).any() else None
    fk_co2 = _fk_category([ncv, cc, of, bio_used], len(rows))
    parts = _activity_parts(rows, {"energy_GJ": energy})
    u_co2 = _quad(u_ncv, cc.uncertainty, of.uncertainty)
    fossil = bio_share < 1.0
    biog = bio_share > 0.0
    co2_factors = [ncv, cc, of, bio_used]
    if fossil.any():
        m = fossil
        out.append(
            _result_cols(
                rows,
                "CO2",
                (co2 * (1 - bio_share))[m],
                base_scope[m],
                u_co2[m],
                _key(items, "CO2", fk_co2)[m],
                _explain("fuel_combustion", formula_co2, parts, co2_factors, m),
                mask=m,
            )
        )
    if biog.any():
        m = biog
        out.append(
            _result_cols(
                rows,
                "CO2",
                (co2 * bio_share)[m],
                "memo_biomass_co2",
                u_co2[m],
                _key(items, "CO2", fk_co2, "bio:")[m],
                _explain("fuel_combustion", formula_co2, parts, co2_factors, m),
                mask=m,
            )
        )
    for gas, ef in (("CH4", ch4), ("N2O", n2o)):
        fk = _fk_category([ncv, ef], len(rows))
        ex = _explain("fuel_combustion", f"{gas} = E × EF (IPCC 2006 Vol 2 Eq 2.1)", parts, [ncv, ef])
        out.append(
            _result_cols(
                rows,
                gas,
                energy * ef.values,
                base_scope,
                _quad(u_ncv, ef.uncertainty),
                _key(items, gas, fk),
                ex,
            )
        )
    return _frame(out)


@register("fugitive", ("1.B",), "Fugitive emissions from fuels (IPCC 2006 Vol 2 Ch 4, Tier 1)")
def fugitive(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Fugitive CH4/CO2/N2O: amount × EF (× gas density when the EF is a volume per unit)."""
    rows = _objects(activity)
    problems: list[Problem] = []
    out: list[pd.DataFrame] = []
    found = np.zeros(len(rows), dtype=bool)
    for gas in ("CH4", "CO2", "N2O"):
        ef = resolve(ctx.factors, rows, "ef", gas=gas, unit=None, required=False)
        # only factors given for a 1.B category are fugitive factors (blank-category 'ef' rows are
        # combustion factors per TJ)
        fug_ok = np.array([f is not None and f.category.startswith("1.B") for f in ef.factors], dtype=bool)
        has = fug_ok[ef.group] if len(rows) else np.zeros(0, dtype=bool)
        if not has.any():
            continue
        found |= has
        sub = rows[has].reset_index(drop=True)
        efs = Resolved(ef.values[has], ef.group[has], ef.factors, [])
        ef_units = np.array([f.unit if f is not None else "" for f in efs.factors], dtype=object)[efs.group]
        dens: Resolved | None = None
        need_density = np.zeros(len(sub), dtype=bool)
        mult = np.empty(len(sub))
        bad = np.zeros(len(sub), dtype=bool)
        for i, (au, eu) in enumerate(zip(sub["unit"].to_numpy(), ef_units, strict=True)):
            q = parse_unit(au) * parse_unit(eu)
            if q.dimensionality == ureg.t.dimensionality:
                mult[i] = float(q.to("t").magnitude)
            elif q.dimensionality == ureg.m.dimensionality**3:
                mult[i] = float(q.to("m**3").magnitude)
                need_density[i] = True
            else:
                mult[i] = np.nan
                bad[i] = True
        if bad.any():
            problems += _rows_problem(
                sub,
                bad,
                "unit",
                lambda r, g=gas: (
                    f"unit '{r.unit}' does not fit the {g} emission factor of {r.item} in {r.category}"
                ),
            )
            continue
        dens_vals = np.ones(len(sub))
        if need_density.any():
            dens = resolve(ctx.factors, sub, "density", item=gas, category="", unit="t/m**3", required=False)
            missing = need_density & np.isnan(dens.values)
            if missing.any():
                problems += _rows_problem(
                    sub, missing, "item", f"no factor 'density' for {gas}; add one with --factors FILE"
                )
            dens_vals = np.where(need_density, dens.values, 1.0)
        mass = sub["amount"].to_numpy(dtype=float) * efs.values * mult * dens_vals
        fparts: list[Resolved | None] = [efs] + ([dens] if dens is not None else [])
        ex = _explain(
            "fugitive",
            f"{gas} = amount × EF × density (IPCC 2006 Vol 2 Ch 4 Eq 4.1.3-4.1.8)",
            _activity_parts(sub),
            fparts,
        )
        fk = _fk_category([efs], len(sub))
        u = _quad(efs.uncertainty, dens.uncertainty if dens is not None else np.full(len(sub), np.nan))
        out.append(
            _result(sub, gas, mass, "territorial", u, _key(sub["item"].to_numpy(), gas, fk, "fug:"), ex)
        )
    if (~found).any():
        problems += _rows_problem(
            rows,
            ~found,
            "item",
            lambda r: (
                f"no fugitive emission factor 'ef' for '{r.item}' in {r.category}; add one with --factors FILE"
            ),
        )
    if problems:
        raise ValidationError(problems)
    return pd.concat(out, ignore_index=True)


@register(
    "reference_approach", ("M.REF",), "Reference approach from apparent consumption (IPCC 2006 Vol 2 Ch 6)"
)
def reference_approach(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """CO2 from apparent consumption of fossil fuels, reported beside the sectoral approach."""
    rows = _objects(activity)
    problems: list[Problem] = []
    unknown = ~rows["category"].isin(list(REFERENCE_FLOWS)).to_numpy()
    if unknown.any():
        problems += _rows_problem(
            rows, unknown, "category", f"reference-approach flows are {', '.join(REFERENCE_FLOWS)}"
        )
    bad_item = _not_combustion(rows["item"]) | _vmap(rows["item"], _is_biomass(rows["item"]), bool)
    if bad_item.any():
        problems += _rows_problem(
            rows,
            bad_item,
            "item",
            lambda r: f"the reference approach covers fossil fuels only, not '{r.item}'",
        )
    if problems:
        raise ValidationError(problems)
    energy, ncv, p = _energy_gj(rows, ctx, "1.A")
    problems += p
    cc = resolve(ctx.factors, rows, "carbon_content", unit="t/GJ", category="1.A")
    of = resolve(ctx.factors, rows, "oxidation", unit="1", category="1.A")
    problems += cc.problems + of.problems
    if problems:
        raise ValidationError(problems)
    sign = _vmap(rows["category"], REFERENCE_FLOWS, float)
    co2 = sign * energy * cc.values * of.values * CO2_PER_C
    u_ncv = ncv.uncertainty if ncv is not None else np.full(len(rows), np.nan)
    fk = _fk_category([ncv, cc, of], len(rows))
    ex = _explain(
        "reference_approach",
        "CO2 = sign × amount × NCV × CC × OF × 44/12; sign + for production/imports, − for exports/bunkers/"
        "stock increase/non-energy use (IPCC 2006 Vol 2 Eq 6.1-6.3)",
        _activity_parts(rows, {"energy_GJ": energy, "sign": sign}),
        [ncv, cc, of],
    )
    return _result(
        rows,
        "CO2",
        co2,
        "memo_reference_approach",
        _quad(u_ncv, cc.uncertainty, of.uncertainty),
        _key(rows["item"].to_numpy(), "CO2", fk, "ref:"),
        ex,
    )


def _covers_year(fv: FactorValue, year: int) -> bool:
    """Whether a (year-bound) factor row is valid for ``year``; open bounds cover every year."""
    if fv.year_from is not None and year < fv.year_from:
        return False
    return not (fv.year_to is not None and year > fv.year_to)


declare({"warning.grid_factor_year_not_covered": {"series": Msg, "grid": object, "year": int, "factor_years": str,
                                                  "value": float, "unit": str, "category": object},
         "grid_series.mee_nbs": {}, "grid_series.ets": {}})


def _grid_words(grid: str, series: str, category: str) -> dict[str, Any]:
    """The grid, the factor series and the category of a grid-factor warning as people read them:
    the catalog's names in both languages (``grid_<grid>`` items, categories.csv), the ids where
    the catalog lacks a name."""
    from carbonpeak.catalog.categories import get_categories
    from carbonpeak.catalog.items import get_items
    from carbonpeak.i18n import load_messages, names

    item = get_items().get(f"grid_{grid}")
    cat = get_categories().get(category)
    key = f"grid_series.{series}"
    return {
        "grid": names(item.name_zh, item.name_en) if item is not None else grid,
        "series": Msg(key) if key in load_messages() else series,
        "category": names(f"{category} {cat.name_zh}", f"{category} {cat.name_en}") if cat is not None else category,
    }


def _years_of(fv: FactorValue) -> str:
    if fv.year_from is None and fv.year_to is None:
        return "undated"
    if fv.year_from == fv.year_to:
        return str(fv.year_from)
    return f"{fv.year_from or ''}-{fv.year_to or ''}"


def _grid_factor(year: int, grid: str, series: str, factors: Any) -> Any:
    from carbonpeak.catalog import grid as grid_mod  # provided by the catalog

    return grid_mod.grid_factor(year, grid=grid, series=series, factors=factors)


@register("imported_electricity", ("M.ELEC",), "Net imported electricity × grid factor (memo)")
def imported_electricity(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Indirect CO2 of net imported electricity (negative amount = net export)."""
    rows = activity.reset_index(drop=True)
    problems: list[Problem] = []
    not_elec = (rows["item"] != "electricity").to_numpy()
    if not_elec.any():
        problems += _rows_problem(rows, not_elec, "item", "M.ELEC rows must have item 'electricity'")
    units = rows["unit"]
    mwh = units.map({u: (_to_gj(u) or np.nan) / 3.6 for u in units.unique()}).to_numpy(dtype=float)
    bad_unit = np.isnan(mwh)
    if bad_unit.any():
        problems += _rows_problem(
            rows, bad_unit, "unit", lambda r: f"electricity must be an energy, not '{r.unit}'"
        )
    if problems:
        raise ValidationError(problems)
    default_grid = str(ctx.options.get("import_grid", DEFAULT_IMPORT_GRID))
    series = str(ctx.options.get("grid_series", "mee_nbs"))
    grids = rows["category"].map(lambda c: ELECTRICITY_GRIDS.get(c, default_grid)).to_numpy()
    # a user factor (item electricity, parameter grid_ef, category M.ELEC...) wins over the catalog series
    user = resolve(ctx.factors, rows, "grid_ef", unit="t/MWh", required=False)
    cache: dict[tuple[int, str], Any] = {}
    ef = np.empty(len(rows))
    fvs: list[Any] = []
    for i, (y, g, uv) in enumerate(zip(rows["year"].to_numpy(), grids, user.values, strict=True)):
        if not np.isnan(uv):
            ef[i] = uv
            fvs.append(user.factor_of(i))
            continue
        k = (int(y), str(g))
        if k not in cache:
            try:
                cache[k] = _grid_factor(k[0], k[1], series, ctx.factors)
            except (CarbonpeakError, ImportError) as exc:
                cache[k] = exc
        fv = cache[k]
        if isinstance(fv, Exception):
            problems.append(
                Problem(
                    str(rows["__file__"].iloc[i]),
                    int(rows["__row__"].iloc[i]),
                    "year",
                    f"no grid emission factor for {g} grid in {k[0]}: {fv}",
                )
            )
            ef[i] = np.nan
            fvs.append(None)
            continue
        ef[i] = fv.value * _conv(fv.unit, "t/MWh")  # = fv.to("t/MWh"), cached
        fvs.append(fv)
        if not _covers_year(fv, k[0]):
            ctx.warn(
                "grid_factor_year_not_covered",
                Msg("warning.grid_factor_year_not_covered", year=int(k[0]), factor_years=_years_of(fv),
                    value=float(fv.value), unit=str(fv.unit),
                    **_grid_words(str(g), series, str(rows["category"].iloc[i]))),
                year=k[0],
                region=str(rows["region"].iloc[i]),
                category=str(rows["category"].iloc[i]),
                grid=g,
                factor_year=fv.year_from,
            )
    if problems:
        raise ValidationError(problems)
    mwh_amt = rows["amount"].to_numpy(dtype=float) * mwh
    files, rownos = rows["__file__"].tolist(), rows["__row__"].tolist()
    amounts, units_l = rows["amount"].to_numpy(dtype=float).tolist(), rows["unit"].tolist()
    years_l = rows["year"].tolist()
    explain = [
        explain_later(
            method="imported_electricity",
            formula="CO2 = net imported electricity (MWh) × grid emission factor (tCO2/MWh)",
            activity={
                "file": files[i],
                "row": int(rownos[i]),
                "amount": amounts[i],
                "unit": units_l[i],
                "MWh": mwh_amt[i],
            },
            grid=grids[i],
            factors=[fvs[i]] if fvs[i] is not None else [],
            warning=(
                None
                if fvs[i] is None or _covers_year(fvs[i], int(years_l[i]))
                else f"grid factor of {_years_of(fvs[i])} used for {int(years_l[i])} (year not covered)"
            ),
        )
        for i in range(len(rows))
    ]
    u = np.array(
        [np.nan if f is None or f.uncertainty_pct is None else f.uncertainty_pct for f in fvs], dtype=float
    )
    fk = [f"grid|CO2|{g}|{y}" for g, y in zip(grids, rows["year"].to_numpy(), strict=True)]
    return _result(rows, "CO2", mwh_amt * ef, "memo_imported_electricity", u, fk, explain)
