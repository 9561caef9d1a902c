"""The audit log and the verification of its keyed chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from carbonpeak.api.deps import AccessDep, PrincipalDep, StateDep, require_province

router = APIRouter(tags=["audit"])


@router.get("/api/audit")
def audit_list(dal: AccessDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> list[dict[str, Any]]:
    return dal.audit_entries(limit).to_dict(orient="records")  # type: ignore[no-any-return]


@router.get("/api/audit/verify")
def audit_verify(p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """The keyed chain, and the proof against the newest checkpoint file if there is one."""
    require_province(p)
    from carbonpeak.store.checkpoints import verify_store

    return verify_store(state.store)
