"""The interactive lever page's model call (en-ROADS-style sliders over the projection).

Each slider sets one uncertain factor of :data:`carbonpeak.scenarios.model.FACTORS` for the
projection years: a ``*_delivery``/``*_scale`` slider multiplies that factor's Monte Carlo draws by
value ÷ nominal (the uncertainty stays around the chosen setting); a ``*_shift`` slider adds to
them.  Observed years do not move.  The answer leads with the Monte Carlo median and interval and
P(peak ≤ 2030) with its sampling error, as every projection output does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from carbonpeak.errors import Problem, ValidationError
from carbonpeak.scenarios.model import FACTORS, Inputs, nominal_factors, prepare, simulate
from carbonpeak.scenarios.montecarlo import sample_factors, summarise
from carbonpeak.scenarios.scenario import Scenario, load_scenario

#: The sliders: factor → (label en, label zh, min, max, step).  Defaults: the scenario's nominal value.
LEVERS: dict[str, tuple[str, str, float, float, float]] = {
    "gdp_growth_shift": ("GDP growth after the last observed year (± per year)", "GDP增速调整（每年）",
                         -0.03, 0.02, 0.0025),
    "wind_solar_delivery": ("Wind and solar additions (× plan)", "风电光伏新增（×方案）", 0.0, 2.0, 0.05),
    "nuclear_delivery": ("Nuclear additions (× plan)", "核电新增（×方案）", 0.0, 1.5, 0.05),
    "imports_delivery": ("West-to-East transmission additions (× plan)", "西电东送新增（×方案）", 0.0, 1.5, 0.05),
    "gas_power_delivery": ("Gas-fired additions (× plan)", "气电新增（×方案）", 0.0, 1.5, 0.05),
    "storage_delivery": ("Storage and demand response (× plan)", "储能与需求响应（×方案）", 0.0, 3.0, 0.1),
    "ev_delivery": ("Electric cars (× plan)", "电动汽车（×方案）", 0.0, 2.0, 0.05),
    "heavy_industry_delivery": ("Heavy-industry efficiency (× plan)", "重工业能效（×方案）", 0.0, 2.0, 0.05),
    "industry_efficiency_delivery": ("Other-industry efficiency (× plan)", "其他工业能效（×方案）", 0.0, 2.0, 0.05),
    "buildings_delivery": ("Building efficiency and electrification (× plan)", "建筑节能与电气化（×方案）",
                           0.0, 2.0, 0.05),
}
MAX_DRAWS = 2000


def lever_table(scenario: str = "plan") -> list[dict[str, Any]]:
    """The sliders with their ranges and the scenario's nominal value."""
    nom = nominal_factors(_scenario(scenario))
    return [{"lever": k, "label_en": en, "label_zh": zh, "min": lo, "max": hi, "step": st, "default": nom[k],
             "meaning": FACTORS[k]} for k, (en, zh, lo, hi, st) in LEVERS.items()]


@lru_cache(maxsize=8)
def _scenario(name: str) -> Scenario:
    return load_scenario(name)


_INPUTS: dict[tuple[str, str], Inputs] = {}


def _inputs(name: str, history: Any = None) -> Inputs:
    """Prepared inputs per (scenario, observed history), kept for the next slider move."""
    key = (name, "" if history is None else json.dumps(
        {k: sorted(v.items()) for k, v in sorted(history.values.items())}, default=str))
    if key not in _INPUTS:
        if len(_INPUTS) > 16:
            _INPUTS.clear()
        _INPUTS[key] = prepare(_scenario(name), history=history)
    return _INPUTS[key]


def lever_outlook(scenario: str, settings: Mapping[str, float], draws: int = 300, seed: int = 0,
                  history: Any = None) -> dict[str, Any]:
    """Monte Carlo outlook of a packaged scenario with the sliders set (see the module docstring);
    ``history`` (e.g. from the store's observations) replaces the bundled observations."""
    problems = []
    for k, v in settings.items():
        if k not in LEVERS:
            problems.append(Problem("<levers>", None, k, f"unknown lever; one of {', '.join(LEVERS)}"))
        elif not (LEVERS[k][2] <= float(v) <= LEVERS[k][3]):
            problems.append(Problem("<levers>", None, k, f"{v} outside {LEVERS[k][2]}..{LEVERS[k][3]}"))
    if not 10 <= draws <= MAX_DRAWS:
        problems.append(Problem("<levers>", None, "draws", f"must be 10..{MAX_DRAWS}"))
    if problems:
        raise ValidationError(problems)
    sc = _scenario(scenario)
    inp = _inputs(scenario, history)
    nom = nominal_factors(sc)
    fac = sample_factors(sc, draws, seed)
    for k, v in settings.items():
        if k.endswith("_shift"):
            fac[k] = fac[k] - nom[k] + float(v)
        else:
            fac[k] = fac[k] * (float(v) / nom[k] if nom[k] else 1.0) if nom[k] else np.full(draws, float(v))
    res = simulate(inp, fac)
    mc = summarise(sc, inp, res, draws=draws, seed=seed)
    one = {k: float(v) for k, v in nom.items()}
    one.update({k: float(v) for k, v in settings.items()})
    det = simulate(inp, one)
    return {
        "scenario": sc.name, "settings": dict(settings), "headline": mc["headline"],
        "p_peak_before_2030": mc["p_peak_before_2030"], "p_peak_before_2030_se": mc["p_peak_before_2030_se"],
        "p_peak_before_2030_interval": mc["p_peak_before_2030_interval"],
        "peak_year_quantiles": mc["peak_year_quantiles"], "peak_co2_quantiles_t": mc["peak_co2_quantiles_t"],
        "last_observed_year": mc["last_observed_year"], "fan": mc["fan"],
        "path": {"kind": "one path at the slider settings (nominal values of the other factors)",
                 "co2_t": {int(y): float(v) for y, v in zip(det.years, det.total_co2_t[0], strict=True)}},
        "draws": draws, "seed": seed,
    }
