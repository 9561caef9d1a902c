"""Health, log in and out, one's own password and identity."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response

from carbonpeak import __version__
from carbonpeak.api.deps import SESSION_COOKIE, AppState, PrincipalDep, StateDep
from carbonpeak.api.schemas import LoginIn, LoginOut, PasswordIn
from carbonpeak.errors import AuthError, CarbonpeakError
from carbonpeak.store.users import (
    Principal,
    authenticate,
    change_password,
    create_session,
    end_session,
    record_login,
)

router = APIRouter()


@router.get("/api/health", tags=["service"])
def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.post("/api/auth/login", response_model=LoginOut, tags=["auth"])
def login(body: LoginIn, request: Request, response: Response, state: StateDep) -> LoginOut:
    """Log in; failed logins are limited per user and per client address (429 while locked)."""
    p = checked_login(state, state.client(request), body.username, body.password)
    token, expires = create_session(state.store, p, state.session_ttl)
    state.set_session_cookie(response, token)
    return LoginOut(token=token, expires_at=expires.isoformat(), user=p.to_dict())


@router.post("/api/auth/password", response_model=LoginOut, tags=["auth"])
def password(body: PasswordIn, p: PrincipalDep, request: Request, response: Response, state: StateDep) -> LoginOut:
    """Change one's own password: every session of the user ends; a new one is returned."""
    addr = state.client(request)
    if not state.guard.check(p.username, addr).allowed:
        raise HTTPException(status_code=429, detail="too many failed attempts; try again later")
    try:
        change_password(state.store, p.username, body.old_password, body.new_password)
    except AuthError:
        state.guard.failed(p.username, addr)
        record_login(state.store, p.username, ok=False, address=addr, reason="wrong_old_password")
        raise CarbonpeakError("the current password is wrong") from None
    token, expires = create_session(state.store, p, state.session_ttl)
    state.set_session_cookie(response, token)
    return LoginOut(token=token, expires_at=expires.isoformat(), user=p.to_dict())


@router.post("/api/auth/logout", tags=["auth"])
def logout(
    request: Request,
    p: PrincipalDep,
    response: Response,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    token = (authorization or "")[7:].strip() or request.cookies.get(SESSION_COOKIE, "")
    end_session(state.store, token)
    response.delete_cookie(SESSION_COOKIE)
    return {"status": "logged_out", "username": p.username}


@router.get("/api/me", tags=["auth"])
def me(p: PrincipalDep) -> dict[str, Any]:
    return p.to_dict()


def checked_login(state: AppState, addr: str, username: str, password: str) -> Principal:
    """Lock-out check *before* the password, then the password; both outcomes audited."""
    if not state.guard.check(username, addr).allowed:
        logging.getLogger("carbonpeak.auth").warning("login refused during lock-out: %r from %s", username, addr)
        raise HTTPException(status_code=429, detail="too many failed logins; try again later")
    try:
        p = authenticate(state.store, username, password)
    except AuthError:
        state.guard.failed(username, addr)
        locked = state.guard.check(username, addr)
        reason = "wrong_credentials" if locked.allowed else f"wrong_credentials_now_locked_{locked.reason}"
        record_login(state.store, username, ok=False, address=addr, reason=reason)
        raise
    state.guard.succeeded(username)
    record_login(state.store, p.username, ok=True, address=addr)
    return p
