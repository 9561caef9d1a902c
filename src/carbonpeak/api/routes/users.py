"""User accounts (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from carbonpeak.api.deps import PrincipalDep, StateDep, require_admin
from carbonpeak.api.schemas import UserIn
from carbonpeak.store.users import add_user, list_users, set_disabled

router = APIRouter(tags=["users"])


@router.get("/api/users")
def users(p: PrincipalDep, state: StateDep) -> list[dict[str, Any]]:
    require_admin(p)
    return list_users(state.store)


@router.post("/api/users", status_code=201)
def create_user(body: UserIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    require_admin(p)
    u = add_user(
        state.store,
        body.username,
        body.password,
        body.role,
        city=body.city,
        enterprise_id=body.enterprise_id,
        assigned=body.assigned,
        actor=p.username,
    )
    return u.to_dict()


@router.post("/api/users/{username}/disable")
def disable_user(username: str, p: PrincipalDep, state: StateDep) -> dict[str, str]:
    require_admin(p)
    set_disabled(state.store, username, True, actor=p.username)
    return {"username": username, "status": "disabled"}
