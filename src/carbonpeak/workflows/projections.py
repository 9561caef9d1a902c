"""Projections: packaged scenarios, a run, the lever page, Monte Carlo, the peak outlook."""

from __future__ import annotations

import json
import threading
from typing import Any

from carbonpeak.store.duck import Store
from carbonpeak.workflows.settings import resolve

_outlook_cache: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def scenarios() -> list[str]:
    from carbonpeak.scenarios.scenario import available_scenarios

    return available_scenarios()


def observed_history(store: Store) -> Any:
    """Observed years from the store's observations (no observed year without any: the scenario's
    calibration alone; never the bundled demo observations unless the demo was loaded)."""
    from carbonpeak.scenarios.history import load_history
    from carbonpeak.workflows.inventory import observations_source

    return load_history(observations_source(store))


def _labelled(store: Store, out: Any) -> Any:
    """A result with the ``data`` origin of its observed years (demo data or not)."""
    from carbonpeak.workflows.demo import data_status

    if isinstance(out, dict):
        return {**out, "data": data_status(store).to_dict()}
    return out


def run(store: Store, scenario: str) -> Any:
    """One deterministic run of a packaged scenario on the observed history (labelled with its ``data``)."""
    from carbonpeak.scenarios.runs import run_scenario
    from carbonpeak.scenarios.scenario import load_scenario

    return _labelled(store, run_scenario(load_scenario(scenario), history=observed_history(store)))


def levers(scenario: str) -> list[dict[str, Any]]:
    from carbonpeak.scenarios.levers import lever_table

    return lever_table(scenario)


def lever_outlook(store: Store, scenario: str, settings: dict[str, float], *, draws: int, seed: int) -> Any:
    from carbonpeak.scenarios.levers import lever_outlook as _lever_outlook

    return _labelled(store, _lever_outlook(scenario, settings, draws, seed, history=observed_history(store)))


def montecarlo(scenario: str, *, draws: int, seed: int, history: Any = None) -> Any:
    from carbonpeak.scenarios.montecarlo import run_montecarlo, summarise
    from carbonpeak.scenarios.scenario import load_scenario

    sc = load_scenario(scenario)
    inp, res, _ = run_montecarlo(sc, draws, seed, history=history)
    return summarise(sc, inp, res, draws=draws, seed=seed)


def outlook(store: Store, scenario: str | None = None, draws: int = 500, seed: int = 0) -> dict[str, Any]:
    """The peak outlook of a scenario (Monte Carlo + Sobol) on the store's observed history,
    computed once per process and history."""
    hist = observed_history(store)
    fingerprint = json.dumps({k: sorted(v.items()) for k, v in sorted(hist.values.items())}, default=str)
    key = (resolve(scenario=scenario).scenario, draws, seed, fingerprint)
    with _lock:
        hit = _outlook_cache.get(key)
    if hit is None:
        from carbonpeak.scenarios.outlook import peak_outlook

        hit = peak_outlook(key[0], draws=draws, seed=seed, history=hist)
        with _lock:
            if len(_outlook_cache) > 16:
                _outlook_cache.clear()
            _outlook_cache[key] = hit
    return hit  # type: ignore[no-any-return]
