"""Background jobs: their state and result (one's own; province roles see all)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from carbonpeak.api.deps import PROVINCE_ROLES, PrincipalDep, StateDep
from carbonpeak.errors import NotFound

router = APIRouter(tags=["jobs"])


@router.get("/api/jobs/{job_id}")
def job(job_id: str, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    rec = state.jobs.get(job_id)
    if rec is None or (rec["owner"] != p.username and p.role not in PROVINCE_ROLES):
        raise NotFound(job_id)
    return rec
