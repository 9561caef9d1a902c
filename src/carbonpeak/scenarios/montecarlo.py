"""Seeded, vectorised Monte Carlo over the uncertain factors of a scenario.

Each factor of :data:`carbonpeak.scenarios.model.FACTORS` is drawn from the distribution the
scenario gives it (``uncertainty:``; factors without one stay at their nominal value) with
``numpy.random.default_rng(seed)``; the model runs once on arrays shaped (draws, years).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from carbonpeak.scenarios.model import FACTORS, Inputs, Result, nominal_factors, prepare, simulate
from carbonpeak.scenarios.runs import (
    PEAK_DEADLINE,
    evaluate_checks,
    peak_stats,
    proportion_interval,
    resolve_checks,
)
from carbonpeak.scenarios.scenario import Scenario, Uncertain

QUANTILES = (0.05, 0.5, 0.95)


SAMPLINGS = ("random", "lhs")


def sample_factors(scenario: Scenario, draws: int, seed: int, sampling: str = "random",
                   ) -> dict[str, np.ndarray]:
    """Draw every uncertain factor (sorted by name, so the stream does not depend on file order).

    ``sampling="random"``: independent draws from ``numpy.random.default_rng(seed)``;
    ``"lhs"``: a Latin hypercube (``scipy.stats.qmc.LatinHypercube``, seeded) mapped through each
    distribution's inverse CDF, which covers the ranges more evenly for the same number of draws.
    """
    if draws < 1:
        raise ValueError("draws must be >= 1")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}")
    out: dict[str, np.ndarray] = {k: np.full(draws, v) for k, v in nominal_factors(scenario).items()}
    names = [n for n in sorted(scenario.uncertainty) if n in FACTORS]
    if sampling == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=max(len(names), 1), seed=seed).random(draws)
        for j, name in enumerate(names):
            out[name] = _ppf(scenario.uncertainty[name], u[:, j])
        return out
    rng = np.random.default_rng(seed)
    for name in names:
        out[name] = _draw(scenario.uncertainty[name], rng, draws)
    return out


def _ppf(u: Uncertain, q: np.ndarray) -> np.ndarray:
    from scipy import stats

    if u.dist == "normal":
        return u.mean + u.sd * stats.norm.ppf(q) if u.sd > 0 else np.full(q.shape, u.mean)
    if u.dist == "uniform":
        return u.low + q * (u.high - u.low)
    if u.dist == "triangular":
        c = (u.mode - u.low) / (u.high - u.low)
        return stats.triang.ppf(q, c, loc=u.low, scale=u.high - u.low)
    return np.full(q.shape, u.value)


def _draw(u: Uncertain, rng: np.random.Generator, n: int) -> np.ndarray:
    if u.dist == "normal":
        return rng.normal(u.mean, u.sd, n)
    if u.dist == "uniform":
        return rng.uniform(u.low, u.high, n)
    if u.dist == "triangular":
        return rng.triangular(u.low, u.mode, u.high, n)
    return np.full(n, u.value)


def run_montecarlo(
    scenario: Scenario, draws: int = 2000, seed: int = 0, end: int | None = None,
    inputs: Inputs | None = None, sampling: str = "random", history: Any = None,
) -> tuple[Inputs, Result, dict[str, np.ndarray]]:
    """Sample and simulate; returns the inputs, the (draws, years) result and the factor draws."""
    inp = inputs if inputs is not None else prepare(scenario, end=end, history=history)
    fac = sample_factors(scenario, draws, seed, sampling)
    return inp, simulate(inp, fac), fac


def summarise(scenario: Scenario, inp: Inputs, res: Result, *, draws: int, seed: int,
              deadline: int = PEAK_DEADLINE, plateau: float = 0.0, sampling: str = "random",
              ) -> dict[str, Any]:
    """JSON-ready summary of a Monte Carlo run.

    Keys: ``headline`` (median and 90 % range of the peak year and value, P(peak ≤ 2030) with its
    binomial standard error and Wilson interval), ``p_peak_before_2030_se``,
    ``p_peak_before_2030_interval``, ``p_already_peaked`` (the maximum is an observed year),
    ``peak_year_quantiles``, ``peak_co2_quantiles_t``, ``co2_2030_quantiles_t``,
    ``scenario, draws, seed, years, p_peak_before_2030, p_not_peaked`` (max in the last
    year: censored by the horizon), ``peak_year_distribution`` (year → share of draws; censored
    draws are listed under the last year and counted in ``p_not_peaked``), ``peak_year_median``,
    ``peak_co2_t`` (median over peaked draws), ``fan`` (list of {year, p05, p50, p95} tCO2),
    ``nonfossil_share_fan``, ``targets`` (each with ``p_met``).
    """
    years = res.years
    total = res.total_co2_t
    pk = peak_stats(total, years, deadline, plateau, last_observed=res.last_observed)
    yrs, counts = np.unique(pk["peak_year"], return_counts=True)
    dist = {int(y): float(c) / draws for y, c in zip(yrs, counts, strict=True)}
    q = np.quantile(total, QUANTILES, axis=0)
    qn = np.quantile(res.nonfossil_share, QUANTILES, axis=0)
    peaked_vals = pk["peak_value"][pk["peaked"]]
    pi = proportion_interval(int(pk["before_deadline"].sum()), int(total.shape[0]))
    py = np.quantile(pk["peak_year"], QUANTILES, method="inverted_cdf")
    pv = np.quantile(pk["peak_value"], QUANTILES)
    j30 = int(np.searchsorted(years, deadline)) if deadline in set(years.tolist()) else None
    headline = (
        f"{scenario.name}: median peak year {int(py[1])} (90 % of draws {int(py[0])}–{int(py[2])}), "
        f"peak {pv[1] / 1e6:,.0f} Mt CO2 ({pv[0] / 1e6:,.0f}–{pv[2] / 1e6:,.0f}); "
        f"P(peak ≤ {deadline}) = {pi['p']:.1%} ± {pi['se']:.1%} (95 % interval {pi['low']:.1%}–{pi['high']:.1%}, "
        f"{int(total.shape[0])} draws, seed {seed})")
    return {
        "headline": headline,
        "p_peak_before_2030_se": pi["se"],
        "p_peak_before_2030_interval": [pi["low"], pi["high"]],
        "p_already_peaked": float(pk["already_peaked"].mean()),
        "last_observed_year": int(res.last_observed),
        "warnings": list(inp.warnings),
        "peak_year_quantiles": {"p05": int(py[0]), "p50": int(py[1]), "p95": int(py[2])},
        "peak_co2_quantiles_t": {"p05": float(pv[0]), "p50": float(pv[1]), "p95": float(pv[2])},
        "co2_2030_quantiles_t": ({"p05": float(q[0][j30]), "p50": float(q[1][j30]), "p95": float(q[2][j30])}
                                 if j30 is not None else None),
        "scenario": scenario.name,
        "draws": int(draws),
        "seed": int(seed),
        "sampling": sampling,
        "plateau": float(plateau),
        "years": [int(y) for y in years],
        "p_peak_before_2030": float(pk["before_deadline"].mean()),
        "p_not_peaked": float(1.0 - pk["peaked"].mean()),
        "peak_year_distribution": dict(sorted(dist.items())),
        "peak_year_median": int(np.median(pk["peak_year"])),
        "peak_co2_t": float(np.median(peaked_vals)) if peaked_vals.size else None,
        "fan": [
            {"year": int(y), "p05": float(a), "p50": float(b), "p95": float(c)}
            for y, a, b, c in zip(years, q[0], q[1], q[2], strict=True)
        ],
        "nonfossil_share_fan": [
            {"year": int(y), "p05": float(a), "p50": float(b), "p95": float(c)}
            for y, a, b, c in zip(years, qn[0], qn[1], qn[2], strict=True)
        ],
        "targets": evaluate_checks(res, inp, resolve_checks(scenario), pk),
    }


def montecarlo(scenario: Scenario, draws: int = 2000, seed: int = 0, end: int | None = None,
               sampling: str = "random", plateau: float = 0.0, history: Any = None, *, output: str = "dict") -> Any:
    """Run and summarise (see :func:`summarise`).

    The summary is a :class:`~carbonpeak.scenarios.results.MonteCarloResult` (readable repr, HTML
    in Jupyter, ``to_pandas()``, ``to_pyam()``); ``output="pandas"`` returns the fan by year,
    ``output="pyam"`` a :class:`pyam.IamDataFrame` with the quantiles as an extra column.
    """
    from carbonpeak.scenarios.results import MonteCarloResult, convert

    inp, res, _ = run_montecarlo(scenario, draws, seed, end, sampling=sampling, history=history)
    summary = summarise(scenario, inp, res, draws=draws, seed=seed, plateau=plateau, sampling=sampling)
    return convert(MonteCarloResult(summary), output)


def factor_table(scenario: Scenario) -> list[Mapping[str, Any]]:
    """The uncertain factors with distribution, nominal value, Sobol bounds and meaning."""
    rows = []
    for name, meaning in FACTORS.items():
        u = scenario.uncertainty.get(name)
        rows.append({
            "factor": name, "dist": u.dist if u else "fixed",
            "nominal": u.nominal() if u else nominal_factors(scenario)[name],
            "low": u.bounds()[0] if u else None, "high": u.bounds()[1] if u else None,
            "meaning": meaning, "note": u.note if u else "",
        })
    return rows
