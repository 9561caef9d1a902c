"""The schedule of unattended work, for the administrator: what runs when, what ran, run now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from carbonpeak.api.deps import PrincipalDep, StateDep, require_admin

router = APIRouter(tags=["schedule"])


@router.get("/api/admin/schedule")
def schedule(p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Every job of the schedule (task, cron, time zone, next run, last run), whether the service
    runs the scheduler, and the notification channels configured (names only, no addresses or keys)."""
    require_admin(p)
    return state.scheduler.overview()  # type: ignore[no-any-return]


@router.get("/api/admin/schedule/history")
def schedule_history(p: PrincipalDep, state: StateDep, limit: int = 100) -> list[dict[str, Any]]:
    """The latest scheduled runs, newest first, with the notifications each sent."""
    require_admin(p)
    from carbonpeak.workflows.schedule import history

    return history(state.store, max(1, min(int(limit), 1000)))


@router.post("/api/admin/schedule/{name}/run", status_code=202)
def schedule_run(name: str, p: PrincipalDep, state: StateDep) -> dict[str, str]:
    """Run job ``name`` now (on a background thread); poll ``GET /api/jobs/{job_id}``."""
    require_admin(p)
    return {"job_id": state.scheduler.start_now(name)}
