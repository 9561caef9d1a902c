"""Peak outlook for the annual assessment report (data only; the report draws the charts)."""

from __future__ import annotations

from typing import Any

from carbonpeak.scenarios.model import prepare
from carbonpeak.scenarios.montecarlo import run_montecarlo, summarise
from carbonpeak.scenarios.runs import run_scenario
from carbonpeak.scenarios.scenario import load_scenario
from carbonpeak.scenarios.sensitivity import sobol

TOP_LEVERS = 5
SOBOL_N = 512
SOBOL_OUTPUT = "peak_year"


def peak_outlook(scenario: str = "plan", draws: int = 2000, seed: int = 0, history: Any = None) -> dict[str, Any]:
    """Peak outlook of a scenario (packaged name or YAML path).

    Returns ``scenario``, ``peak_year`` and ``peak_co2_t`` (the Monte Carlo medians; the results
    lead with them), ``peak_year_range`` ([p05, p95] of the draws), ``p_peak_before_2030`` (share
    of Monte Carlo draws peaking in or before 2030 within the horizon) with
    ``p_peak_before_2030_se`` (binomial standard error) and ``p_peak_before_2030_interval``
    (Wilson 95 %), ``p_already_peaked``, ``headline`` (the sentence to quote), ``deterministic``
    (the single nominal run, labelled as one path), ``p_not_peaked``, ``peak_year_distribution`` (year → probability),
    ``fan`` (list of {year, p05, p50, p95} in tCO2), ``top_levers`` (list of {lever,
    sobol_total, rank}: the plan levers — the ``*_delivery`` factors — with the largest total
    Sobol index on the peak year, top five), ``top_drivers`` (the same for the non-policy
    factors: GDP, demand, capacity factors…) and ``targets``
    (each plan target with its probability of being met), plus ``draws``, ``seed``, ``years``.
    ``history`` (a :class:`~carbonpeak.scenarios.history.History`, e.g. of the store's observations)
    replaces the bundled observations as the observed years.
    """
    sc = load_scenario(scenario)
    inp = prepare(sc, history=history)
    det = run_scenario(sc, history=history)
    _, res, _ = run_montecarlo(sc, draws, seed, inputs=inp)
    mc = summarise(sc, inp, res, draws=draws, seed=seed)
    si = sobol(sc, n=SOBOL_N, seed=seed, output=SOBOL_OUTPUT, inputs=inp)
    levers = [lv for lv in si["levers"] if lv["lever"].endswith("_delivery")]
    drivers = [lv for lv in si["levers"] if not lv["lever"].endswith("_delivery")]
    return {
        "scenario": sc.name,
        "headline": mc["headline"],
        "peak_year": mc["peak_year_quantiles"]["p50"],
        "peak_year_range": [mc["peak_year_quantiles"]["p05"], mc["peak_year_quantiles"]["p95"]],
        "peak_co2_t": mc["peak_co2_quantiles_t"]["p50"],
        "peak_co2_range_t": [mc["peak_co2_quantiles_t"]["p05"], mc["peak_co2_quantiles_t"]["p95"]],
        "peaked": det["peaked"],
        "deterministic": {"kind": det["kind"], "peak_year": det["peak_year"], "peak_co2_t": det["peak_co2_t"],
                          "peak_text": det["peak_text"]},
        "last_observed_year": mc["last_observed_year"],
        "p_already_peaked": mc["p_already_peaked"],
        "p_peak_before_2030": mc["p_peak_before_2030"],
        "p_peak_before_2030_se": mc["p_peak_before_2030_se"],
        "p_peak_before_2030_interval": mc["p_peak_before_2030_interval"],
        "p_not_peaked": mc["p_not_peaked"],
        "peak_year_distribution": mc["peak_year_distribution"],
        "fan": mc["fan"],
        "top_levers": [
            {"lever": lv["lever"], "sobol_total": lv["sobol_total"], "sobol_total_conf": lv["sobol_total_conf"],
             "rank": i, "meaning": lv["meaning"]}
            for i, lv in enumerate(levers[:TOP_LEVERS], start=1)
        ],
        "top_drivers": [
            {"driver": lv["lever"], "sobol_total": lv["sobol_total"], "rank": i, "meaning": lv["meaning"]}
            for i, lv in enumerate(drivers[:TOP_LEVERS], start=1)
        ],
        "targets": mc["targets"],
        "sobol_output": SOBOL_OUTPUT,
        "draws": draws,
        "seed": seed,
        "years": mc["years"],
    }
