"""Emission factors, activity-data import and the inventory (province and city roles)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile

from carbonpeak.api.deps import LangDep, PrincipalDep, StateDep, require_province
from carbonpeak.api.schemas import CompileIn
from carbonpeak.api.uploads import uploaded
from carbonpeak.i18n import with_messages

router = APIRouter()


@router.get("/api/factors", tags=["catalog"])
def factors(p: PrincipalDep, item: str | None = None, parameter: str | None = None) -> list[dict[str, Any]]:
    from carbonpeak.catalog.factors import FactorSet

    rows = FactorSet.default().rows()
    return [
        r.to_dict()
        for r in rows
        if (item is None or r.item == item) and (parameter is None or r.parameter == parameter)
    ]


@router.post("/api/inventory/compile", tags=["inventory"])
def inventory_compile(body: CompileIn, p: PrincipalDep, state: StateDep, lang: LangDep) -> dict[str, Any]:
    """Compile the inventory of the stored activity data.

    Without uncertainty the answer comes at once; with uncertainty it is a background job.
    City officers may only ask for their own city.
    """
    from carbonpeak.workflows.inventory import compile_summary
    from carbonpeak.workflows.job_kinds import inventory_region

    region = inventory_region(p, body.region)  # a city officer: its own city only
    if body.uncertainty == "none":
        return with_messages(compile_summary(
            state.store, gwp=body.gwp, year=body.year, region=region, uncertainty=body.uncertainty,
            draws=body.draws, seed=body.seed,
        ), lang)  # fmt: skip
    job_id = state.jobs.submit("inventory.compile", p, {**body.model_dump(), "region": region, "lang": lang})
    return {"job_id": job_id, "status": "queued"}


@router.post("/api/activity", tags=["inventory"], status_code=201)
def activity_import(p: PrincipalDep, state: StateDep, files: Annotated[list[UploadFile], File()]) -> dict[str, Any]:
    """Import activity-data files (province roles): validated together, stored as one batch.

    This is how operators load data while the service owns the store (docs/operations.md).
    """
    require_province(p)
    from carbonpeak.workflows.inventory import import_activity

    with uploaded(files, max_bytes=state.max_upload_bytes) as ups:
        res = import_activity(state.store, [(u.path, u.name) for u in ups], submitter=p.username)
    return {"batch_id": res.batch_id, "rows": res.rows, "created": res.created}
