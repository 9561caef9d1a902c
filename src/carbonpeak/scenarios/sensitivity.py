"""Global sensitivity of the peak to the levers: Sobol indices (Saltelli sampling, SALib).

The factors are those of :data:`carbonpeak.scenarios.model.FACTORS` that the scenario gives a
distribution; each is sampled uniformly over :meth:`Uncertain.bounds` (normal: mean ± 2 sd).
Sobol' (2001) first-order ``S1`` and total ``ST`` indices are estimated with Saltelli's (2010)
scheme as implemented by SALib (Herman & Usher 2017); the model runs once, vectorised, on all
``N · (2D + 2)`` samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from carbonpeak.scenarios.model import FACTORS, Inputs, nominal_factors, prepare, simulate
from carbonpeak.scenarios.runs import peak_stats
from carbonpeak.scenarios.scenario import Scenario

OUTPUTS = ("peak_co2", "peak_year", "co2_2030")


def sobol(
    scenario: Scenario, n: int = 512, seed: int = 0, output: str = "peak_co2",
    inputs: Inputs | None = None, factors: list[str] | None = None,
) -> dict[str, Any]:
    """Sobol indices of ``output`` (peak CO2, peak year or 2030 CO2) for the scenario's levers.

    ``n`` is the Saltelli base sample (a power of 2).  Returns ``{scenario, output, n, runs,
    seed, levers: [{lever, sobol_first, sobol_first_conf, sobol_total, sobol_total_conf, rank,
    low, high}]}`` ranked by total index.
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}")
    names = factors or [k for k in sorted(scenario.uncertainty) if k in FACTORS]
    names = [k for k in names if scenario.uncertainty[k].bounds()[0] < scenario.uncertainty[k].bounds()[1]]
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(scenario.uncertainty[k].bounds()) for k in names],
    }
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    inp = inputs if inputs is not None else prepare(scenario)
    fac: dict[str, Any] = {k: np.full(x.shape[0], v) for k, v in nominal_factors(scenario).items()}
    for j, k in enumerate(names):
        fac[k] = x[:, j]
    res = simulate(inp, fac)
    y = _output(res.total_co2_t, res.years, output)
    si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    order = np.argsort(-np.asarray(si["ST"]))
    levers = []
    for rank, j in enumerate(order, start=1):
        k = names[int(j)]
        levers.append({
            "lever": k,
            "sobol_total": float(si["ST"][j]),
            "sobol_total_conf": float(si["ST_conf"][j]),
            "sobol_first": float(si["S1"][j]),
            "sobol_first_conf": float(si["S1_conf"][j]),
            "rank": rank,
            "low": problem["bounds"][j][0],
            "high": problem["bounds"][j][1],
            "meaning": FACTORS[k],
        })
    return {"scenario": scenario.name, "output": output, "n": n, "runs": int(x.shape[0]), "seed": seed,
            "levers": levers}


def _output(total: np.ndarray, years: np.ndarray, output: str) -> np.ndarray:
    if output == "co2_2030":
        return total[:, int(np.searchsorted(years, 2030))]
    pk = peak_stats(total, years)
    if output == "peak_year":
        return pk["peak_year"].astype(float)
    return pk["peak_value"]
