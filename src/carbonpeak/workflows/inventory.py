"""Compile the inventory of the stored activity data (cached until the data change)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from carbonpeak.errors import Conflict, NotFound
from carbonpeak.store.duck import ImportResult, Store
from carbonpeak.workflows.settings import resolve

ACTIVITY_KEY = ["year", "region", "category", "item"]
OBSERVATION_KEY = ["indicator", "region", "year"]


def activity_source(store: Store) -> tuple[str, pd.DataFrame]:
    """The stored activity data (``"stored"``, frame); :class:`~carbonpeak.workflows.demo.NoData` without any.

    There is no fallback to the bundled demo files: demo data are in the store only after
    ``carbonpeak demo load`` (:mod:`carbonpeak.workflows.demo`).
    """
    df = store.current("activity", ACTIVITY_KEY)
    if df.empty:
        from carbonpeak.workflows.demo import NoData

        raise NoData("no activity data in the store")
    return "stored", df


def observations_source(store: Store) -> pd.DataFrame:
    """The stored indicator observations (an empty frame without any)."""
    df = store.current("observations", OBSERVATION_KEY)
    if df.empty:
        from carbonpeak.model.observation import empty_observations

        return empty_observations()
    return df


def cached(store: Store, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """``build()`` once per ``key`` and version of the stored batches (:func:`carbonpeak.workflows.cache.cached`);
    a failure is cached (and raised) too, so a page does not recompile bad data on every request."""
    from carbonpeak.workflows.cache import cached as _cached

    return _cached(store, key, build, areas=("batches",))


def inventory(store: Store, gwp: str | None = None) -> Any:
    """The compiled inventory of :func:`activity_source` with the GWP set of the settings."""
    gwp_ = resolve(gwp=gwp).gwp

    def build() -> Any:
        from carbonpeak.accounting.engine import compile_inventory

        _, activity = activity_source(store)
        return compile_inventory(activity, gwp=gwp_)

    return cached(store, ("inventory", gwp_), build)


def compile_summary(
    store: Store,
    *,
    gwp: str | None = None,
    year: int | None = None,
    region: str | None = None,
    uncertainty: str = "none",
    draws: int = 10_000,
    seed: int = 0,
    progress: Callable[[float], None] = lambda _f: None,
) -> dict[str, Any]:
    """The inventory summary of ``year``/``region``, with its uncertainty if asked.

    Several years without ``year`` are never added together: the answer is then
    ``{gwp, years, regions, by_year: {year: summary}, warnings}`` (as ``carbonpeak inventory
    compile``), and an uncertainty asks for a year.
    """
    progress(0.1)
    inv = inventory(store, gwp)
    if region and region not in set(inv.select(explain=False)["region"]):
        raise NotFound(f"no activity data for region {region}")
    progress(0.5)
    out: dict[str, Any] = inv.summary(year=year, region=region)
    years = list(out["years"])
    if year is None and len(years) > 1:
        if uncertainty != "none":
            from carbonpeak.errors import CarbonpeakError

            raise CarbonpeakError(
                f"the data hold {len(years)} years ({years[0]}–{years[-1]}); the uncertainty is of one "
                "year's total: give a year"
            )
        progress(1.0)
        return {
            "gwp": out["gwp"],
            "years": years,
            "regions": out["regions"],
            "by_year": {str(y): s for y, s in inv.summary_by_year(region=region).items()},
            "warnings": out.get("warnings", []),
        }
    if uncertainty != "none":
        from carbonpeak.accounting import uncertainty as unc

        res = inv.select(explain=False)
        res = res[res["scope"] == "territorial"]
        if region:
            res = res[res["region"] == region]
        if year is not None:
            res = res[res["year"] == year]
        u = unc.approach1(res) if uncertainty == "approach1" else unc.monte_carlo(res, draws, seed)
        out["uncertainty"] = u.to_dict()
    from carbonpeak.workflows.demo import data_status

    st = data_status(store)
    pairs = {(y, r) for y, r in st.demo_region_years if (region is None or r == region) and (year is None or y == year)}
    out["demo"] = st.state == "demo" or bool(pairs)
    out["data"] = st.to_dict()
    progress(1.0)
    return out


def _shown_name(file: str, files: list[tuple[Path, str]]) -> str:
    """The name shown for a server path (a workbook's sheet suffix `` [sheet]`` kept)."""
    for p, name in files:
        if file == str(p) or file.startswith(str(p) + " ["):
            return name + file[len(str(p)):]
    return file


def _check_submitter(submitter: str, demo: bool) -> None:
    """The submitter ``demo`` marks the bundled demo data: only ``carbonpeak demo load`` may use it."""
    from carbonpeak.store.demo import DEMO_SUBMITTER

    if submitter == DEMO_SUBMITTER and not demo:
        raise Conflict(
            f"the submitter name '{DEMO_SUBMITTER}' is reserved for the bundled demo data (carbonpeak demo load); "
            "data sent under it would be labelled demo data: use another submitter"
        )


def import_activity(
    store: Store, files: list[tuple[Path, str]], *, submitter: str, demo: bool = False
) -> ImportResult:
    """Validate activity files together and store them as one batch (``files``: path, name shown)."""
    from carbonpeak.model.activity import load_activity

    _check_submitter(submitter, demo)
    act = load_activity([p for p, _ in files])
    act["__file__"] = act["__file__"].map(lambda f: _shown_name(str(f), files))
    names = ", ".join(name for _, name in files)
    return store.import_frame("activity", act, kind="activity", source=names, submitter=submitter)


#: The columns of stored observations (as ``carbonpeak observations import`` stores them).
OBSERVATION_COLUMNS = [
    "indicator", "region", "year", "value", "unit", "value_reported", "unit_reported",
    "source", "status", "note", "__row__", "__file__",
]


def import_observations(
    store: Store,
    files: list[tuple[Path, str]],
    *,
    submitter: str,
    region: str | None = None,
    demo: bool = False,
) -> ImportResult:
    """Validate observation files together and store them as one batch (all-or-nothing,
    idempotent, audited as ``observations.import``; ``files``: path, name shown).

    ``region``: the only region the submitter may load (a city officer's city); a row of another
    region refuses the whole upload, naming file, row and field.  ``demo``: only
    ``carbonpeak demo load`` stores under the reserved submitter ``demo``.
    """
    from carbonpeak.errors import Problem, ValidationError
    from carbonpeak.model.observation import load_observations

    _check_submitter(submitter, demo)
    obs = load_observations([p for p, _ in files])
    obs["__file__"] = obs["__file__"].map(lambda f: _shown_name(str(f), files))
    if region is not None:
        bad = obs[obs["region"] != region]
        if not bad.empty:
            raise ValidationError(
                [
                    Problem(str(f), int(r), "region", f"'{g}' is outside your scope: you may load {region} only")
                    for f, r, g in zip(bad["__file__"], bad["__row__"], bad["region"], strict=True)
                ][:200]
            )
    names = ", ".join(name for _, name in files)
    return store.import_frame(
        "observations", obs[OBSERVATION_COLUMNS], kind="observations", source=names, submitter=submitter
    )
