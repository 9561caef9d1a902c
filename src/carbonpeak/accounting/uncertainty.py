"""Inventory uncertainty: IPCC 2006 Vol 1 Ch 3 Approach 1 (error propagation) and Approach 2
(Monte Carlo).

Both take the territorial rows of ``Inventory.results`` (:data:`RESULT_COLUMNS` plus
``co2e_t``).  Each row is ``E = AD × EF`` in CO2e; its activity-data and emission-factor
uncertainties (``ad_uncertainty_pct``, ``ef_uncertainty_pct``) are 95 % half-widths in percent.
Missing values take the defaults of ``catalog/data/uncertainty_defaults.csv`` (by category
prefix and gas; see :mod:`carbonpeak.catalog.uncertainty_defaults`).

Correlation rule (both approaches):

* rows of one **activity key** ``(year, region, category, item)`` share one activity draw (the
  CO2, CH4 and N2O of a fuel consumed come from the same amount of fuel);
* rows of one ``factor_key`` share one factor draw (fully correlated, e.g. the same national
  default factor used in 21 cities); a row without a factor key has its own factor.

Approach 1 with every key unique is exactly IPCC Eq 3.1 (``U = sqrt(U_AD² + U_EF²)`` per row)
and Eq 3.2 (``U_total = sqrt(Σ (U_i x_i)²) / |Σ x_i|``).  With shared keys the correlated
terms are summed before squaring, which is the IPCC advice for correlated inputs (Vol 1 Ch 3
§3.2.3.1, "combine correlated categories before propagating").  See
``docs/methods/uncertainty.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.catalog.uncertainty_defaults import UncertaintyDefaults, default_uncertainties
from carbonpeak.errors import Problem, ValidationError

#: Half-widths above this (as a fraction, i.e. 50 %) are drawn from a lognormal distribution;
#: at or below it from a normal distribution truncated at zero.
LOGNORMAL_THRESHOLD = 0.5
#: z of the two-sided 95 % interval of the normal distribution.
Z95 = 1.959963984540054
#: Memory budget of the Monte Carlo work arrays (all threads together), bytes.
MC_MEMORY_BUDGET = 512 * 1024**2
#: Largest chunk of draws (smaller chunks keep the work arrays in cache).
MC_MAX_CHUNK = 4096

_REQUIRED = ("category", "co2e_t", "ad_uncertainty_pct", "ef_uncertainty_pct")


@dataclass
class UncertaintyResult:
    """The uncertainty of a total and of each category."""

    method: str
    total_co2e_t: float
    lower_95_co2e_t: float
    upper_95_co2e_t: float
    uncertainty_pct: float
    draws: int | None
    seed: int | None
    by_category: pd.DataFrame = field(default_factory=pd.DataFrame)
    year: int | None = None
    defaults_used: int = 0

    def to_dict(self) -> dict[str, Any]:
        recs = [
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            for r in self.by_category.to_dict("records")
        ]
        return {
            "method": self.method,
            "total_co2e_t": _f(self.total_co2e_t),
            "lower_95_co2e_t": _f(self.lower_95_co2e_t),
            "upper_95_co2e_t": _f(self.upper_95_co2e_t),
            "uncertainty_pct": _f(self.uncertainty_pct),
            "draws": self.draws,
            "seed": self.seed,
            "year": self.year,
            "defaults_used": self.defaults_used,
            "by_category": recs,
        }


def _f(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


# --------------------------------------------------------------------------------------
# preparation
# --------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    frame: pd.DataFrame  # filtered rows with filled uncertainties
    x: np.ndarray  # co2e per row
    a_idx: np.ndarray  # activity key index per row
    f_idx: np.ndarray  # factor key index per row
    u_a: np.ndarray  # 95 % half-width (fraction) per activity key
    u_f: np.ndarray  # 95 % half-width (fraction) per factor key
    c_idx: np.ndarray  # category index per row
    categories: list[str]
    year: int | None
    defaults_used: int


def fill_uncertainty_defaults(
    results: pd.DataFrame, defaults: UncertaintyDefaults | None = None
) -> pd.DataFrame:
    """A copy of ``results`` with missing ``ad_``/``ef_uncertainty_pct`` taken from the defaults.

    Adds a boolean column ``uncertainty_default`` that is true where a default was used.
    """
    d = defaults or default_uncertainties()
    out = results.copy()
    ad = pd.to_numeric(out["ad_uncertainty_pct"], errors="coerce").astype(float)
    ef = pd.to_numeric(out["ef_uncertainty_pct"], errors="coerce").astype(float)
    miss = ad.isna() | ef.isna()
    if miss.any():
        gas = out["gas"].astype(str) if "gas" in out.columns else pd.Series("", index=out.index)
        pairs = pd.DataFrame({"c": out["category"].astype(str), "g": gas})[miss]
        look = {(c, g): d.lookup(c, g) for c, g in pairs.drop_duplicates().itertuples(index=False, name=None)}
        keys = list(zip(pairs["c"], pairs["g"], strict=True))
        ad_def = pd.Series([look[k].ad_uncertainty_pct for k in keys], index=pairs.index)
        ef_def = pd.Series([look[k].ef_uncertainty_pct for k in keys], index=pairs.index)
        ad = ad.fillna(ad_def)
        ef = ef.fillna(ef_def)
    out["ad_uncertainty_pct"] = ad
    out["ef_uncertainty_pct"] = ef
    out["uncertainty_default"] = miss.to_numpy()
    return out


def _prepare(
    results: pd.DataFrame,
    year: int | None,
    region: str | None,
    defaults: UncertaintyDefaults | None,
) -> _Prepared:
    missing = [c for c in _REQUIRED if c not in results.columns]
    if missing:
        raise ValidationError([Problem("results", None, c, "required column is missing") for c in missing])
    df = results
    if "scope" in df.columns:
        df = df[df["scope"] == "territorial"]
    chosen_year: int | None = None
    if "year" in df.columns and len(df):
        years = pd.to_numeric(df["year"], errors="coerce")
        chosen_year = int(years.max()) if year is None else int(year)
        df = df[years == chosen_year]
    if region is not None and "region" in df.columns:
        df = df[df["region"].astype(str) == region]
    co2e = pd.to_numeric(df["co2e_t"], errors="coerce")
    bad = co2e.isna()
    if bad.any():
        raise ValidationError(
            [Problem("results", int(i), "co2e_t", "not a number") for i in df.index[bad][:20]]
        )
    df = df[co2e != 0]
    df = fill_uncertainty_defaults(df, defaults)
    negative = (df["ad_uncertainty_pct"] < 0) | (df["ef_uncertainty_pct"] < 0)
    if negative.any():
        raise ValidationError(
            [Problem("results", int(i), "uncertainty_pct", "must be >= 0") for i in df.index[negative][:20]]
        )
    # a canonical order: the result does not depend on the order of the rows
    order_cols = [c for c in ("category", "year", "region", "item", "gas", "factor_key") if c in df.columns]
    df = df.assign(**{f"_o{i}": df[c].astype(str) for i, c in enumerate(order_cols)})
    df = df.sort_values([f"_o{i}" for i in range(len(order_cols))], kind="stable")
    df = df.drop(columns=[f"_o{i}" for i in range(len(order_cols))]).reset_index(drop=True)
    n = len(df)
    x = df["co2e_t"].to_numpy(dtype=float)
    key_cols = [c for c in ("year", "region", "category", "item") if c in df.columns]
    if key_cols:
        a_idx = df.groupby([df[c].astype(str) for c in key_cols], sort=False).ngroup().to_numpy()
    else:
        a_idx = np.arange(n)
    a_uniques = np.arange(int(a_idx.max()) + 1 if n else 0)
    fk = df["factor_key"] if "factor_key" in df.columns else pd.Series([None] * n)
    fk = fk.astype(object).where(fk.notna() & (fk.astype(str) != ""), None)
    f_idx, f_uniques = pd.factorize(fk, sort=False, use_na_sentinel=True)
    f_idx = np.asarray(f_idx)
    alone = np.flatnonzero(f_idx < 0)  # rows without a factor key: a factor of their own
    f_idx[alone] = len(f_uniques) + np.arange(len(alone))
    f_uniques = np.arange(len(f_uniques) + len(alone))
    # several rows of one key: the largest stated uncertainty (conservative)
    u_a = np.zeros(len(a_uniques))
    np.maximum.at(u_a, a_idx, df["ad_uncertainty_pct"].to_numpy(dtype=float) / 100.0)
    u_f = np.zeros(len(f_uniques))
    np.maximum.at(u_f, f_idx, df["ef_uncertainty_pct"].to_numpy(dtype=float) / 100.0)
    c_idx, cats = pd.factorize(df["category"].astype(str), sort=True)
    return _Prepared(
        frame=df,
        x=x,
        a_idx=np.asarray(a_idx),
        f_idx=np.asarray(f_idx),
        u_a=u_a,
        u_f=u_f,
        c_idx=np.asarray(c_idx),
        categories=[str(c) for c in cats],
        year=chosen_year,
        defaults_used=int(df["uncertainty_default"].sum()),
    )


# --------------------------------------------------------------------------------------
# Approach 1
# --------------------------------------------------------------------------------------


def approach1(
    results: pd.DataFrame,
    *,
    year: int | None = None,
    region: str | None = None,
    defaults: UncertaintyDefaults | None = None,
) -> UncertaintyResult:
    """IPCC 2006 Vol 1 Ch 3 Approach 1: propagation of error (Eq 3.1 for products, Eq 3.2 for sums).

    ``results`` may hold several years; the latest (or ``year``) is analysed.  Pass ``region``
    when the rows hold nested regions (a province and its cities) so they are not summed.
    ``uncertainty_pct`` is the 95 % half-width as a percentage of the total; the interval is
    symmetric (``total ± U·|total|``), as Approach 1 assumes.
    """
    p = _prepare(results, year, region, defaults)
    n_c = len(p.categories)
    # E per (activity key), per (activity key, category), and the same for factor keys
    e_a = np.bincount(p.a_idx, weights=p.x, minlength=len(p.u_a))
    e_f = np.bincount(p.f_idx, weights=p.x, minlength=len(p.u_f))
    total = float(p.x.sum())
    var_total = float(np.sum((p.u_a * e_a) ** 2) + np.sum((p.u_f * e_f) ** 2))
    rows = []
    for c in range(n_c):
        m = p.c_idx == c
        eac = np.bincount(p.a_idx[m], weights=p.x[m], minlength=len(p.u_a))
        efc = np.bincount(p.f_idx[m], weights=p.x[m], minlength=len(p.u_f))
        var_c = float(np.sum((p.u_a * eac) ** 2) + np.sum((p.u_f * efc) ** 2))
        cov_ct = float(np.sum(p.u_a**2 * eac * e_a) + np.sum(p.u_f**2 * efc * e_f))
        tot_c = float(p.x[m].sum())
        half = math.sqrt(var_c)
        rows.append(
            {
                "category": p.categories[c],
                "co2e_t": tot_c,
                "uncertainty_pct": 100.0 * half / abs(tot_c) if tot_c else math.nan,
                "lower_95_co2e_t": tot_c - half,
                "upper_95_co2e_t": tot_c + half,
                "contribution_to_variance": cov_ct / var_total if var_total > 0 else math.nan,
            }
        )
    half_t = math.sqrt(var_total)
    return UncertaintyResult(
        method="approach1",
        total_co2e_t=total,
        lower_95_co2e_t=total - half_t,
        upper_95_co2e_t=total + half_t,
        uncertainty_pct=100.0 * half_t / abs(total) if total else math.nan,
        draws=None,
        seed=None,
        by_category=_by_category_frame(rows),
        year=p.year,
        defaults_used=p.defaults_used,
    )


def _by_category_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = [
        "category",
        "co2e_t",
        "uncertainty_pct",
        "lower_95_co2e_t",
        "upper_95_co2e_t",
        "contribution_to_variance",
    ]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------------------
# Approach 2 (Monte Carlo)
# --------------------------------------------------------------------------------------


def distribution_parameters(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For 95 % half-widths ``u`` (fractions), the sampling rule of each input.

    Returns ``(is_lognormal, a, b)``: normal inputs are ``1 + a·z`` (``a = u/1.96``,
    truncated at 0), lognormal inputs are ``exp(a + b·z)`` with mean 1 and the same standard
    deviation ``u/1.96`` (``b² = ln(1 + (u/1.96)²)``, ``a = -b²/2``).
    """
    sd = np.asarray(u, dtype=float) / Z95
    logn = np.asarray(u) > LOGNORMAL_THRESHOLD
    b = np.sqrt(np.log1p(sd**2))
    a = np.where(logn, -(b**2) / 2.0, sd)
    return logn, a, np.where(logn, b, 0.0)


def _multipliers_t(rng: np.random.Generator, m: int, a: np.ndarray, b: np.ndarray, n_norm: int) -> np.ndarray:
    """``m`` draws of the multiplicative error of each input, as a ``(len(a) + 1, m)`` float32 array
    whose last row is ones (for inputs without uncertainty).

    The inputs are ordered: ``n_norm`` normal ones first (``1 + a·z`` truncated at 0: an
    emission cannot change sign), then lognormal ones (``exp(a + b·z)``), parameters from
    :func:`distribution_parameters`.
    """
    n = len(a)
    z = np.empty((n + 1, m), dtype=np.float32)
    rng.standard_normal(out=z[:n], dtype=np.float32)
    z[n] = 1.0  # the shared row of certain inputs
    zn = z[:n_norm]
    zn *= a[:n_norm, None].astype(np.float32)
    zn += 1
    np.maximum(zn, 0, out=zn)
    zl = z[n_norm:n]
    zl *= b[n_norm:, None].astype(np.float32)
    zl += a[n_norm:, None].astype(np.float32)
    np.exp(zl, out=zl)
    return z


def _ordered_inputs(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:
    """Order inputs normal → lognormal → certain; return (a, b, of drawn inputs), n_norm, position of each.

    ``position[k]`` is the row of input ``k`` in the multiplier array; certain inputs (u = 0)
    point at an extra row of ones appended by the caller (index ``n_drawn``).
    """
    logn, a, b = distribution_parameters(u)
    cls = np.where(u <= 0, 2, np.where(logn, 1, 0))
    order = np.argsort(cls, kind="stable")
    n_drawn = int(np.sum(cls < 2))
    pos = np.empty(len(u), dtype=np.int64)
    pos[order] = np.arange(len(u))
    pos = np.minimum(pos, n_drawn)  # all certain inputs share the row of ones
    drawn = order[:n_drawn]
    return a[drawn], b[drawn], u[drawn], int(np.sum(cls == 0)), pos


@dataclass
class _MCPlan:
    """The sampling structure of one inventory (built once, used by every chunk)."""

    g_mean: np.ndarray  # (G,) sum of co2e of the rows of each (factor key, category) group
    c_ind: Any  # sparse (C, G) indicator: category of each group
    q_t: Any  # sparse (G, R): Gaussian part of the groups = q_t @ z, z iid N(0, 1) (R draws)
    e_t: Any  # sparse (G, A_e): lognormal activity keys' part = e_t @ (M - 1)
    e_a: np.ndarray  # (A_e,) lognormal parameters of those activity keys
    e_b: np.ndarray
    f_a: np.ndarray  # (F_drawn,) distribution parameters of the uncertain factor keys
    f_b: np.ndarray
    f_nnorm: int  # how many of them are normal (they come first)
    g_fpos: np.ndarray  # (G,) row of each group's factor key in the factor multiplier array
    n_normal_keys: int  # activity keys drawn through the Gaussian aggregation


def _mc_plan(p: _Prepared) -> _MCPlan:
    """Aggregate rows into (factor key × category × sign) groups and compress the Gaussian activity part.

    The activity part of group ``g`` is ``S_g = Σ_k x_k·M_a(k)``.  For normal activity keys
    ``M_a = 1 + s_a·z_a`` and ``S`` is exactly multivariate normal with covariance
    ``Σ = BᵀB`` (``B[a, g] = s_a·Σ_{k∈a,g} x_k``).  Any ``Q`` with ``QᵀQ = Σ`` reproduces it
    from ``R`` independent standard normals: per connected component of ``Σ`` we use the rows of
    ``B`` or the eigen-factor ``diag(√λ)·Vᵀ``, whichever has fewer non-zeros.  This is exact (up
    to the truncation at zero, applied to the group sums) and means an inventory of 21 cities
    that share factor keys needs about as many draws as one region.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n_a = len(p.u_a)
    # groups: (category, factor key), sorted by category
    # groups are single-signed (a removal and an emission sharing a factor are kept apart), so
    # that the truncation at zero of a group sum is well defined
    gkey = (p.c_idx.astype(np.int64) * (len(p.u_f) + 1) + p.f_idx) * 2 + (p.x < 0)
    g_uniques, g_idx = np.unique(gkey, return_inverse=True)
    n_g = len(g_uniques)
    g_c = (g_uniques // 2 // (len(p.u_f) + 1)).astype(np.int64)
    g_f = (g_uniques // 2 % (len(p.u_f) + 1)).astype(np.int64)
    g_mean = np.bincount(g_idx, weights=p.x, minlength=n_g)
    c_ind = sp.csr_matrix(
        (np.ones(n_g, dtype=np.float32), (g_c, np.arange(n_g))), shape=(len(p.categories), n_g)
    )
    w = sp.csr_matrix((p.x, (p.a_idx, g_idx)), shape=(n_a, n_g))  # duplicates are summed
    w.sum_duplicates()
    gauss = (p.u_a > 0) & (p.u_a <= LOGNORMAL_THRESHOLD)
    logn = p.u_a > LOGNORMAL_THRESHOLD
    s_a = np.where(gauss, p.u_a / Z95, 0.0)
    b = (sp.diags(s_a) @ w).tocsr()
    b.eliminate_zeros()
    b_gauss = b[np.flatnonzero(gauss)]
    sigma = (b_gauss.T @ b_gauss).tocsr()
    n_comp, comp = connected_components(sigma != 0, directed=False)
    # non-zeros of B per component (by the component of each B entry's group)
    bcoo = b_gauss.tocoo()
    nnz_b = np.bincount(comp[bcoo.col], minlength=n_comp)
    size = np.bincount(comp, minlength=n_comp)
    rows_r: list[np.ndarray] = []
    cols_r: list[np.ndarray] = []
    vals_r: list[np.ndarray] = []
    use_b = np.zeros(n_comp, dtype=bool)
    # one-group components: one draw with the group's standard deviation
    diag = sigma.diagonal()
    single = (size == 1) & (nnz_b > 1)
    use_b |= (size == 1) & (nnz_b <= 1)
    next_row = 0
    single_groups = np.flatnonzero(single[comp] & (diag > 0))
    if len(single_groups):
        rows_r.append(np.arange(len(single_groups)) + next_row)
        cols_r.append(single_groups)
        vals_r.append(np.sqrt(diag[single_groups]))
        next_row += len(single_groups)
    # multi-group components: eigen-factor of the dense block, batched by block size
    eig = (size > 1) & (nnz_b > size * size) & (size <= 400)
    use_b |= (size > 1) & ~eig
    order = np.argsort(comp, kind="stable")
    starts = np.r_[0, np.cumsum(size)]
    local = np.empty(n_g, dtype=np.int64)
    local[order] = np.arange(n_g) - starts[comp[order]]
    scoo = sigma.tocoo()
    for k in np.unique(size[eig]):
        comps = np.flatnonzero(eig & (size == k))
        slot = np.full(n_comp, -1, dtype=np.int64)
        slot[comps] = np.arange(len(comps))
        blocks = np.zeros((len(comps), k, k))
        sel = slot[comp[scoo.row]] >= 0
        blocks[slot[comp[scoo.row[sel]]], local[scoo.row[sel]], local[scoo.col[sel]]] = scoo.data[sel]
        lam, vec = np.linalg.eigh(blocks)  # (nc, k), (nc, k, k)
        keep = lam > np.maximum(lam.max(axis=1, keepdims=True), 0.0) * 1e-12
        groups_of = order[starts[comps][:, None] + np.arange(k)[None, :]]  # (nc, k) group ids
        ci, ri = np.nonzero(keep)  # each kept eigenpair is one draw
        fac = vec[ci, :, ri] * np.sqrt(lam[ci, ri])[:, None]  # (n_kept, k)
        rows_r.append(np.repeat(np.arange(len(ci)) + next_row, k))
        cols_r.append(groups_of[ci].ravel())
        vals_r.append(fac.ravel())
        next_row += len(ci)
    # components sampled through the rows of B (each such activity key is one draw)
    in_b = use_b[comp[bcoo.col]]
    if in_b.any():
        b_rows = bcoo.row[in_b]
        uniq_rows, new_rows = np.unique(b_rows, return_inverse=True)
        rows_r.append(new_rows + next_row)
        cols_r.append(bcoo.col[in_b])
        vals_r.append(bcoo.data[in_b])
        next_row += len(uniq_rows)
    if rows_r:
        q = sp.csr_matrix(
            (np.concatenate(vals_r), (np.concatenate(rows_r), np.concatenate(cols_r))), shape=(next_row, n_g)
        )
    else:
        q = sp.csr_matrix((0, n_g))
    e_rows = np.flatnonzero(logn)
    e_t = w[e_rows].T.tocsr().astype(np.float32)
    _, e_a, e_b = distribution_parameters(p.u_a[e_rows])
    f_a, f_b, _, f_nnorm, f_pos = _ordered_inputs(p.u_f)
    return _MCPlan(
        g_mean=g_mean,
        c_ind=c_ind,
        q_t=q.T.tocsr().astype(np.float32),
        e_t=e_t,
        e_a=e_a,
        e_b=e_b,
        f_a=f_a,
        f_b=f_b,
        f_nnorm=f_nnorm,
        g_fpos=f_pos[g_f],
        n_normal_keys=int(gauss.sum()),
    )


def _chunk_sizes(draws: int, plan: _MCPlan, n_cat: int, budget: int) -> list[int]:
    n_g = len(plan.g_mean)
    per_draw = 4 * (plan.q_t.shape[1] + len(plan.e_a) + len(plan.f_a) + 3 * n_g) + 8 * (3 * n_g + 2 * n_cat)
    size = int(max(64, min(draws, MC_MAX_CHUNK, budget // max(1, per_draw))))
    sizes = [size] * (draws // size)
    if draws % size:
        sizes.append(draws % size)
    return sizes


def monte_carlo(
    results: pd.DataFrame,
    draws: int = 100_000,
    seed: int = 0,
    *,
    year: int | None = None,
    region: str | None = None,
    defaults: UncertaintyDefaults | None = None,
    memory_budget: int = MC_MEMORY_BUDGET,
) -> UncertaintyResult:
    """IPCC 2006 Vol 1 Ch 3 Approach 2: Monte Carlo simulation.

    Each activity key and each factor key gets ``draws`` multiplicative errors (normal
    truncated at zero for half-widths up to 50 %, lognormal with mean 1 above; see
    :func:`distribution_parameters`); each row is ``co2e × M_activity × M_factor``.  The
    interval is the 2.5th and 97.5th percentile of the simulated totals; ``uncertainty_pct`` is
    half its width as a percentage of the inventory total (IPCC Vol 1 Ch 3 §3.2.3.2).
    Normal activity keys are sampled through their exact Gaussian aggregate (see
    :func:`_mc_plan`), the truncation at zero being applied to each (factor key × category)
    group sum.

    Draws are made in chunks so that the work arrays stay under ``memory_budget`` bytes; chunk
    ``i`` uses the ``i``-th child of ``numpy.random.SeedSequence(seed)`` with the PCG64
    generator: the result depends only on the inputs, ``draws``, ``seed`` and the budget.
    """
    if draws < 2:
        raise ValidationError([Problem("options", None, "draws", "need at least 2 draws")])
    p = _prepare(results, year, region, defaults)
    n_c = len(p.categories)
    total = float(p.x.sum())
    cat_tot = np.bincount(p.c_idx, weights=p.x, minlength=n_c) if len(p.x) else np.zeros(0)
    cat_draws = np.zeros((n_c, draws), dtype=np.float32)  # per category (float32: half the memory)
    tot_draws = np.zeros(draws, dtype=np.float64)
    if len(p.x):
        plan = _mc_plan(p)
        sizes = _chunk_sizes(draws, plan, n_c, memory_budget)
        children = np.random.SeedSequence(seed).spawn(len(sizes))
        g_mean32 = plan.g_mean.astype(np.float32)[:, None]
        floor = np.where(plan.g_mean >= 0, 0.0, -np.inf).astype(np.float32)[:, None]
        ceil = np.where(plan.g_mean >= 0, np.inf, 0.0).astype(np.float32)[:, None]
        has_neg = bool((plan.g_mean < 0).any())
        start = 0
        for i, m in enumerate(sizes):
            rng = np.random.Generator(np.random.PCG64(children[i]))
            if plan.q_t.shape[1]:
                z = rng.standard_normal((plan.q_t.shape[1], m), dtype=np.float32)
                s = np.asarray(plan.q_t @ z)
                s += g_mean32
            else:
                s = np.repeat(g_mean32, m, axis=1)
            if len(plan.e_a):
                me = _multipliers_t(rng, m, plan.e_a, plan.e_b, 0)[:-1]
                me -= 1
                s += plan.e_t @ me
            # truncation at zero: a group sum keeps the sign of its central value
            np.maximum(s, floor, out=s)
            if has_neg:
                np.minimum(s, ceil, out=s)
            mf = _multipliers_t(rng, m, plan.f_a, plan.f_b, plan.f_nnorm)
            s *= mf[plan.g_fpos]
            chunk = plan.c_ind @ s
            cat_draws[:, start : start + m] = chunk
            tot_draws[start : start + m] = chunk.sum(axis=0, dtype=np.float64)
            start += m
    lo, hi = np.percentile(tot_draws, [2.5, 97.5])
    var_t = float(np.var(tot_draws))
    rows = []
    if n_c:
        c_lo, c_hi = np.percentile(cat_draws, [2.5, 97.5], axis=1)
        tc = tot_draws - tot_draws.mean()
        cov = np.empty(n_c)
        for c in range(n_c):  # one float64 row at a time (memory)
            xc = cat_draws[c].astype(np.float64)
            cov[c] = float(np.dot(xc - xc.mean(), tc)) / draws
        for c in range(n_c):
            t = float(cat_tot[c])
            rows.append(
                {
                    "category": p.categories[c],
                    "co2e_t": t,
                    "uncertainty_pct": 100.0 * (c_hi[c] - c_lo[c]) / 2.0 / abs(t) if t else math.nan,
                    "lower_95_co2e_t": float(c_lo[c]),
                    "upper_95_co2e_t": float(c_hi[c]),
                    "contribution_to_variance": float(cov[c]) / var_t if var_t > 0 else math.nan,
                }
            )
    return UncertaintyResult(
        method="monte_carlo",
        total_co2e_t=total,
        lower_95_co2e_t=float(lo),
        upper_95_co2e_t=float(hi),
        uncertainty_pct=100.0 * float(hi - lo) / 2.0 / abs(total) if total else math.nan,
        draws=int(draws),
        seed=int(seed),
        by_category=_by_category_frame(rows),
        year=p.year,
        defaults_used=p.defaults_used,
    )


# --------------------------------------------------------------------------------------
# Approach 1: uncertainty of the trend (IPCC 2006 Vol 1 Ch 3 Table 3.2, columns I-M)
# --------------------------------------------------------------------------------------


@dataclass
class TrendUncertainty:
    """Approach 1 uncertainty of the trend between a base year and a year (Table 3.2)."""

    base_year: int
    year: int
    base_total_co2e_t: float
    total_co2e_t: float
    trend_pct: float  # (ΣD − ΣC)/ΣC × 100
    trend_uncertainty_pct_points: float  # sqrt(Σ M), percentage points of the trend
    level_uncertainty_pct: float  # sqrt(Σ (G·D)²)/|ΣD| (Eq 3.2)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_year": self.base_year,
            "year": self.year,
            "base_total_co2e_t": _f(self.base_total_co2e_t),
            "total_co2e_t": _f(self.total_co2e_t),
            "trend_pct": _f(self.trend_pct),
            "trend_uncertainty_pct_points": _f(self.trend_uncertainty_pct_points),
            "level_uncertainty_pct": _f(self.level_uncertainty_pct),
            "by_category": [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                for r in self.table.to_dict("records")
            ],
        }


def approach1_trend(
    results: pd.DataFrame,
    base_year: int,
    year: int,
    *,
    region: str | None = None,
    defaults: UncertaintyDefaults | None = None,
    notation: pd.DataFrame | None = None,
) -> TrendUncertainty:
    """Approach 1 uncertainty of the level of ``year`` and of the trend since ``base_year``.

    Missing is not zero: a category × gas with results in only one of the two years is not
    estimated (NE) in the other, unless ``notation`` declares it NO/NA/IE there; NE pairs are
    left out of both years (listed in the table with ``notation`` ``"NE <year>"`` and no
    figures), so the trend is computed over comparable categories only.

    By category × gas, in the layout of IPCC 2006 Vol 1 Ch 3 Table 3.2: C base-year and D
    year-t emissions; E activity and F factor uncertainty of year t (Eq 3.2 over the rows, the
    rows of one factor key summed first); G = sqrt(E² + F²) (Eq 3.1); H contribution to
    variance = (G·D)²/(ΣD)²; I type A sensitivity = the change of the trend (percentage points)
    when the category rises 1 % in both years; J type B sensitivity = |D|/|ΣC| (1 % rise in year t
    only); K = I·F (factor errors fully correlated between the years); L = J·E·√2 (activity
    errors independent); M = K² + L².  Trend uncertainty = sqrt(Σ M).
    """
    missing = [c for c in (*_REQUIRED, "year", "gas") if c not in results.columns]
    if missing:
        raise ValidationError([Problem("results", None, c, "required column is missing") for c in missing])
    df = results
    if "scope" in df.columns:
        df = df[df["scope"] == "territorial"]
    if region is not None and "region" in df.columns:
        df = df[df["region"].astype(str) == region]
    years = pd.to_numeric(df["year"], errors="coerce")
    base = df[years == base_year]
    cur = df[years == year]
    if base.empty or cur.empty:
        raise ValidationError(
            [
                Problem(
                    "results", None, "year", f"no territorial results for {base_year if base.empty else year}"
                )
            ]
        )
    cur = fill_uncertainty_defaults(cur, defaults)
    cur = cur.assign(co2e_t=pd.to_numeric(cur["co2e_t"], errors="coerce").astype(float))
    fk = cur["factor_key"] if "factor_key" in cur.columns else pd.Series([None] * len(cur), index=cur.index)
    cur = cur.assign(
        _fk=fk.where(fk.notna(), pd.Series([f"\x00{i}" for i in range(len(cur))], index=cur.index))
    )
    keys = ["category", "gas"]
    c_sum = base.assign(co2e_t=pd.to_numeric(base["co2e_t"], errors="coerce")).groupby(keys)["co2e_t"].sum()
    d_sum = cur.groupby(keys)["co2e_t"].sum()
    ad_var = (
        cur.assign(v=(cur["ad_uncertainty_pct"] * cur["co2e_t"]) ** 2).groupby(keys)["v"].sum()
    )  # rows of one category × gas are different activities
    ef_by_key = cur.groupby([*keys, "_fk"]).agg(e=("co2e_t", "sum"), u=("ef_uncertainty_pct", "max"))
    ef_var = ((ef_by_key["u"] * ef_by_key["e"]) ** 2).groupby(level=[0, 1]).sum()
    from carbonpeak.accounting.notation import declared_zero_pairs, missing_is_not_zero

    full_idx = c_sum.index.union(d_sum.index)
    ne_t = missing_is_not_zero(full_idx.difference(d_sum.index), declared_zero_pairs(notation, year, region))
    ne_0 = missing_is_not_zero(full_idx.difference(c_sum.index), declared_zero_pairs(notation, base_year, region))
    excluded = pd.Index(ne_t).append(pd.Index(ne_0)) if (ne_t or ne_0) else full_idx[:0]
    idx = full_idx.difference(excluded) if len(excluded) else full_idx
    t = pd.DataFrame(index=idx)
    t["base_co2e_t"] = c_sum.reindex(idx, fill_value=0.0)
    t["co2e_t"] = d_sum.reindex(idx, fill_value=0.0)
    dabs = t["co2e_t"].abs().where(t["co2e_t"] != 0, np.nan)
    t["ad_uncertainty_pct"] = np.sqrt(ad_var.reindex(idx, fill_value=0.0)) / dabs
    t["ef_uncertainty_pct"] = np.sqrt(ef_var.reindex(idx, fill_value=0.0)) / dabs
    t[["ad_uncertainty_pct", "ef_uncertainty_pct"]] = t[["ad_uncertainty_pct", "ef_uncertainty_pct"]].fillna(
        0.0
    )
    t["combined_uncertainty_pct"] = np.sqrt(t["ad_uncertainty_pct"] ** 2 + t["ef_uncertainty_pct"] ** 2)
    sum_c = float(t["base_co2e_t"].sum())
    sum_d = float(t["co2e_t"].sum())
    if sum_c == 0:
        raise ValidationError([Problem("results", None, "base_year", "base-year total is zero: no trend")])
    t["contribution_to_variance"] = (
        (t["combined_uncertainty_pct"] * t["co2e_t"]) ** 2 / sum_d**2 if sum_d else np.nan
    )
    trend = (sum_d - sum_c) / sum_c * 100.0
    t["sensitivity_a"] = (
        (0.01 * t["co2e_t"] + sum_d - (0.01 * t["base_co2e_t"] + sum_c))
        / (0.01 * t["base_co2e_t"] + sum_c)
        * 100.0
        - trend
    ).abs()
    t["sensitivity_b"] = (t["co2e_t"] / sum_c).abs()
    t["trend_u_from_ef"] = t["sensitivity_a"] * t["ef_uncertainty_pct"]
    t["trend_u_from_ad"] = t["sensitivity_b"] * t["ad_uncertainty_pct"] * math.sqrt(2.0)
    t["trend_variance"] = t["trend_u_from_ef"] ** 2 + t["trend_u_from_ad"] ** 2
    level_u = (
        math.sqrt(float(((t["combined_uncertainty_pct"] * t["co2e_t"]) ** 2).sum())) / abs(sum_d)
        if sum_d
        else math.nan
    )
    table = t.reset_index().assign(notation="")
    if len(excluded):
        ne_rows = pd.DataFrame(
            [{"category": c, "gas": g, "notation": f"NE {year}"} for c, g in ne_t]
            + [{"category": c, "gas": g, "notation": f"NE {base_year}"} for c, g in ne_0]
        )
        table = pd.concat([table, ne_rows], ignore_index=True)
    return TrendUncertainty(
        base_year=int(base_year),
        year=int(year),
        base_total_co2e_t=sum_c,
        total_co2e_t=sum_d,
        trend_pct=trend,
        trend_uncertainty_pct_points=math.sqrt(float(t["trend_variance"].sum())),
        level_uncertainty_pct=level_u,
        table=table,
    )
