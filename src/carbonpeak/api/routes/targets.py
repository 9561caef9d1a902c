"""The plan's targets, the annual assessment and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from carbonpeak.api.deps import PrincipalDep, StateDep, require_province
from carbonpeak.api.schemas import ReportIn
from carbonpeak.errors import NotFound, PermissionDenied
from carbonpeak.jsonutil import json_safe

router = APIRouter()


@router.get("/api/targets", tags=["targets"])
def targets(p: PrincipalDep) -> Any:
    from carbonpeak.catalog.loader import DATA_DIR, load_yaml

    if not (DATA_DIR / "targets.yaml").exists():
        raise NotFound("targets catalog")
    return load_yaml("targets.yaml")


@router.get("/api/assessment", tags=["targets"])
def assessment_json(
    p: PrincipalDep, state: StateDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Any:
    """The annual assessment (stable keys: targets[].id, status, value, target, gap ...)."""
    if p.role in ("enterprise",):
        raise PermissionDenied("the assessment is for government roles and verifiers")
    from carbonpeak.workflows import assessment

    return json_safe(assessment.assess_year(state.store, year))


@router.post("/api/reports/assessment", tags=["reports"], status_code=202)
def report_job(body: ReportIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Write the annual assessment report (HTML, PDF, JSON) as a background job."""
    require_province(p)
    job_id = state.jobs.submit("report.assessment", p, body.model_dump())
    return {"job_id": job_id, "status": "queued"}


@router.get("/api/reports/{name}", tags=["reports"])
def report_file(name: str, p: PrincipalDep) -> FileResponse:
    """Download a written report file (by the name a report job returned)."""
    if p.role in ("enterprise",):
        raise PermissionDenied("reports are for government roles and verifiers")
    from carbonpeak.config import get_settings

    root = Path(get_settings().reports_dir).resolve()
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        raise NotFound(name)
    return FileResponse(path)
