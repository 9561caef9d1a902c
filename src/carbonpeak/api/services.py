"""Service-side helpers shared by the API and the dashboard (no HTTP here)."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd

from carbonpeak.store.duck import Store

_cache: dict[tuple[str, str, int], Any] = {}
_cache_lock = threading.Lock()


def activity_source(store: Store) -> tuple[str, pd.DataFrame]:
    """The activity data the service works on: what is stored, else the bundled demo."""
    df = store.current("activity", ["year", "region", "category", "item"])
    if not df.empty:
        return "stored", df
    from carbonpeak.demo import demo_files
    from carbonpeak.model.activity import load_activity

    return "demo", load_activity(demo_files("activity"))


def _batches(store: Store) -> int:
    return int(store.con.execute("SELECT count(*) FROM batches").fetchone()[0])  # type: ignore[index]


def _demo_signature() -> int:
    from carbonpeak.demo import demo_files

    return hash(tuple((f.name, f.stat().st_mtime_ns) for f in demo_files("activity")))


def inventory(store: Store, gwp: str = "AR5") -> Any:
    """The compiled inventory of :func:`activity_source`, cached until the data change.

    A failure is cached too (and raised again), so a page does not recompile bad data on
    every request; a new stored batch or a changed demo file clears it.
    """
    key = (store.path, gwp, _batches(store) * 1_000_003 + _demo_signature())
    with _cache_lock:
        hit = _cache.get(key)
    if hit is None:
        try:
            from carbonpeak.accounting.engine import compile_inventory

            _, activity = activity_source(store)
            hit = compile_inventory(activity, gwp=gwp)
        except Exception as exc:
            hit = exc
        with _cache_lock:
            if len(_cache) > 16:
                _cache.clear()
            _cache[key] = hit
    if isinstance(hit, Exception):
        raise hit
    return hit


def observations_source(store: Store) -> pd.DataFrame:
    """Indicator observations: what is stored, else the bundled demo observations."""
    df = store.current("observations", ["indicator", "region", "year"])
    if not df.empty:
        return df
    from carbonpeak.demo import demo_files
    from carbonpeak.model.observation import load_observations

    return load_observations(demo_files("observations"))


_outlook_cache: dict[tuple[str, int, int], Any] = {}


def outlook(scenario: str = "plan", draws: int = 500, seed: int = 0) -> dict[str, Any]:
    """The peak outlook of a scenario (Monte Carlo + Sobol), computed once per process."""
    key = (scenario, draws, seed)
    with _cache_lock:
        hit = _outlook_cache.get(key)
    if hit is None:
        from carbonpeak.scenarios.outlook import peak_outlook

        hit = peak_outlook(scenario, draws=draws, seed=seed)
        with _cache_lock:
            _outlook_cache[key] = hit
    return hit  # type: ignore[no-any-return]


def assessment(store: Store, year: int | None = None) -> dict[str, Any]:
    """The annual assessment of ``year`` (default: the latest year with an inventory)."""
    from carbonpeak.targets.assess import assess
    from carbonpeak.targets.indicators import compute_indicators

    inv = inventory(store)
    results = inv.select(explain=False)
    if year is None:
        year = int(results["year"].max())
    key = (store.path, "assessment", year * 1_000_003 + _batches(store) + _demo_signature())
    with _cache_lock:
        hit = _cache.get(key)
    if hit is None:
        ind = compute_indicators(observations_source(store), results)
        try:
            out = outlook()
        except Exception:  # the projection engine is optional for the assessment
            out = None
        hit = assess(year, ind, inventory_results=results, outlook=out)
        with _cache_lock:
            _cache[key] = hit
    return hit  # type: ignore[no-any-return]


def data_version(store: Store) -> int:
    """A number that changes whenever stored data or the demo files change (for caches)."""
    v = _batches(store) * 1_000_003 + _demo_signature()
    try:
        row = store.con.execute(
            "SELECT count(*), coalesce(max(epoch_ms(reviewed_at)), 0) FROM mon_alerts WHERE status <> 'open'"
        ).fetchone()
        runs = store.con.execute("SELECT count(*) FROM mon_runs").fetchone()
        v = hash((v, row, runs))
    except Exception:  # monitoring tables absent
        pass
    return v


_view_cache: dict[tuple[Any, ...], Any] = {}


def cached_view(store: Store, key: tuple[Any, ...], build: Any) -> Any:
    """``build()`` once per ``key`` and data version (dashboard views are read far more than data change)."""
    full = (store.path, data_version(store), *key)
    with _cache_lock:
        if full in _view_cache:
            return _view_cache[full]
    value = build()
    with _cache_lock:
        if len(_view_cache) > 256:
            _view_cache.clear()
        _view_cache[full] = value
    return value
