"""Background jobs: their state and result (one's own; province roles see all)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from carbonpeak.api.deps import PROVINCE_ROLES, LangDep, PrincipalDep, StateDep
from carbonpeak.errors import NotFound, Problem
from carbonpeak.i18n import localize_problems

router = APIRouter(tags=["jobs"])


@router.get("/api/jobs/{job_id}")
def job(job_id: str, p: PrincipalDep, state: StateDep, lang: LangDep) -> dict[str, Any]:
    """A job's state and result.  A job that failed on bad input has the problems (file, row,
    field, message with its ``message_key`` and ``params``) in its result, in the request's language."""
    rec = state.jobs.get(job_id)
    if rec is None or (rec["owner"] != p.username and p.role not in PROVINCE_ROLES):
        raise NotFound(job_id)
    res = rec.get("result")
    if rec.get("status") == "failed" and isinstance(res, dict) and isinstance(res.get("problems"), list):
        res = localize_problems(res, lang)
        lines = [Problem(str(q.get("file")), q.get("row"), q.get("field"), str(q.get("message"))).render(lang)
                 for q in res["problems"][:20] if isinstance(q, dict)]  # fmt: skip
        rec = {**rec, "result": res, "error": "\n".join([f"{res['message']}:", *(f"  - {x}" for x in lines)])}
    return rec
