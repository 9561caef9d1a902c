"""Projections: packaged scenarios, one run, the lever page, Monte Carlo (government roles)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from carbonpeak.api.deps import LangDep, PrincipalDep, StateDep, packaged_scenario, require_government
from carbonpeak.api.schemas import LeversIn, MonteCarloIn, ScenarioIn
from carbonpeak.i18n import with_messages
from carbonpeak.jsonutil import json_safe
from carbonpeak.workflows import projections as wf

router = APIRouter(tags=["projections"])


@router.get("/api/projections/scenarios")
def scenarios(p: PrincipalDep) -> list[str]:
    return wf.scenarios()


@router.post("/api/projections/run")
def projection_run(body: ScenarioIn, p: PrincipalDep, state: StateDep, lang: LangDep) -> Any:
    """One deterministic run of a packaged scenario, labelled as one path (peak, trajectory, ...)."""
    require_government(p)
    return json_safe(with_messages(wf.run(state.store, packaged_scenario(body.scenario)), lang))


@router.get("/api/projections/levers")
def projection_levers(p: PrincipalDep, scenario: str = "plan") -> list[dict[str, Any]]:
    """The sliders of the lever page (range, step, the scenario's nominal value)."""
    require_government(p)
    return wf.levers(packaged_scenario(scenario))


@router.post("/api/projections/levers")
def projection_levers_run(body: LeversIn, p: PrincipalDep, state: StateDep, lang: LangDep) -> Any:
    """Monte Carlo outlook with the sliders set: median, interval, P(peak ≤ 2030) ± its error, fan."""
    require_government(p)
    out = wf.lever_outlook(
        state.store, packaged_scenario(body.scenario), body.settings, draws=body.draws, seed=body.seed
    )
    return json_safe(with_messages(out, lang))


@router.post("/api/projections/montecarlo", status_code=202)
def projection_mc(body: MonteCarloIn, p: PrincipalDep, state: StateDep, lang: LangDep) -> dict[str, Any]:
    """Monte Carlo of a packaged scenario as a background job (P(peak before 2030), fan, ...)."""
    require_government(p)
    params = {"scenario": packaged_scenario(body.scenario), "draws": body.draws, "seed": body.seed, "lang": lang}
    return {"job_id": state.jobs.submit("projection.montecarlo", p, params), "status": "queued"}
