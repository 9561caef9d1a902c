"""Assess a year against the plan's targets and write the annual assessment report.

One chain for every interface (activity → inventory with the settings' GWP set; observations;
indicators with the activity data and the price base year; optional peak outlook; assessment):
the CLI passes frames read from files or the store, the service and the dashboard the store's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from carbonpeak.store.duck import Store
from carbonpeak.workflows.settings import resolve


@dataclass
class Chain:
    """Everything the assessment needs, loaded once."""

    indicators: pd.DataFrame
    inventory: Any  # accounting.engine.Inventory | None
    outlook: dict[str, Any] | None
    outlook_error: str | None = None
    activity: pd.DataFrame | None = None
    #: where the data came from (:class:`carbonpeak.workflows.demo.DataStatus`): demo data or not
    data: Any = None


def build_chain(
    activity: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    *,
    base_year: int | None = None,
    gwp: str | None = None,
    outlook: Callable[[], dict[str, Any]] | None = None,
) -> Chain:
    """Activity → inventory; observations; computed indicators; optional peak outlook."""
    from carbonpeak.accounting.engine import compile_inventory
    from carbonpeak.targets.indicators import compute_indicators

    s = resolve(gwp=gwp, price_base_year=base_year)
    if observations is None:
        from carbonpeak.model.observation import empty_observations

        observations = empty_observations()
    inv = compile_inventory(activity, gwp=s.gwp) if activity is not None else None
    ind = compute_indicators(
        observations, inv.results if inv is not None else None, base_year=s.price_base_year, activity=activity
    )
    out, err = None, None
    if outlook is not None:
        try:
            out = outlook()
        except ImportError as exc:  # scenarios area not installed
            err = f"peak outlook unavailable: {exc}"
    return Chain(ind, inv, out, err, activity)


def assess_chain(
    ch: Chain, year: int, *, base_year: int | None = None, tier_overrides: dict[str, str] | None = None
) -> dict[str, Any]:
    from carbonpeak.targets.assess import assess

    return assess(
        year,
        ch.indicators,
        inventory_results=ch.inventory.results if ch.inventory is not None else None,
        outlook=ch.outlook,
        base_year=resolve(price_base_year=base_year).price_base_year,
        tier_overrides=tier_overrides,
        activity_sources=ch.activity,
    )


def store_chain(store: Store) -> Chain:
    """The chain on the store's data (cached until the data change); :class:`NoData` on an empty store."""
    from carbonpeak.workflows.demo import NoData, require_data
    from carbonpeak.workflows.inventory import activity_source, cached, observations_source
    from carbonpeak.workflows.projections import outlook

    require_data(store, "nothing to assess")
    s = resolve()

    def build() -> Chain:
        try:
            _, act = activity_source(store)
        except NoData:  # observations only: indicators without an inventory
            act = None

        def _outlook() -> dict[str, Any] | None:
            try:
                return outlook(store)
            except Exception:  # the projection engine is optional for the assessment
                return None

        return build_chain(act, observations_source(store), base_year=s.price_base_year, gwp=s.gwp,
                           outlook=_outlook)  # type: ignore[arg-type]

    return cached(store, ("chain", s), build)  # type: ignore[no-any-return]


def _label_demo(a: dict[str, Any], store: Store) -> dict[str, Any]:
    """The assessment with its ``data`` origin and, per target, ``demo`` (its figure rests on demo data)."""
    from carbonpeak.workflows.demo import data_status

    st = data_status(store)
    out = dict(a)
    out["data"] = st.to_dict()
    region = a.get("region", "GD")
    out["targets"] = [
        {**tg, "demo": st.is_demo(tg.get("value_year") or a["year"], tg.get("region") or region)}
        for tg in a.get("targets", [])
    ]
    return out


def assess_year(store: Store, year: int | None = None) -> dict[str, Any]:
    """The annual assessment of ``year`` (default: the latest year with an inventory, else with indicators).

    The answer carries ``data`` (:meth:`carbonpeak.workflows.demo.DataStatus.to_dict`: whether the
    store's figures are demo data, and which) and ``demo`` on each target.
    """
    from carbonpeak.workflows.inventory import cached

    ch = store_chain(store)
    if year is None:
        if ch.inventory is not None:
            year = int(ch.inventory.results["year"].max())
        else:
            from carbonpeak.targets.assess import latest_assessable_year

            year = latest_assessable_year(ch.indicators) or int(ch.indicators["year"].max())
    y = year
    a = cached(store, ("assessment", y, resolve()), lambda: assess_chain(ch, y))
    return _label_demo(a, store)


def latest_checkpoint(store: Store) -> dict[str, Any] | None:
    """The latest signed audit checkpoint of the store (for the report), ``None`` without one."""
    from carbonpeak.store import checkpoints

    cp = checkpoints.latest(store)
    return None if cp is None else cp.summary()
