"""Dependencies of the routers: the service state, the authenticated principal, scoped access.

Authentication (``PrincipalDep``) and scoping (``AccessDep``: every query of the store filtered
to the principal's scope) are FastAPI dependencies.  Role checks are the ``require_*`` calls at
the top of an endpoint: they run after the request was validated, so a malformed request is a
422 for everyone, as before the routers were split.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response

from carbonpeak.api.jobs import JobRunner
from carbonpeak.api.ratelimit import LoginGuard, client_address, parse_networks
from carbonpeak.config import get_settings
from carbonpeak.errors import AuthError, NotFound, PermissionDenied
from carbonpeak.store.access import PROVINCE_ROLES, DataAccess
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal, resolve_session

SESSION_COOKIE = "cp_session"


class AppState:
    """What every request of one service shares: the store, the job runner, the login guard."""

    def __init__(
        self,
        store: Store,
        *,
        session_ttl: timedelta,
        guard: LoginGuard,
        trusted_proxies: tuple[str, ...] = (),
        tls: bool = False,
        max_upload_bytes: int | None = None,
    ) -> None:
        self.store = store
        self.jobs = JobRunner(store)
        self.guard = guard
        self.proxies = parse_networks(trusted_proxies)
        self.tls = tls
        self.session_ttl = session_ttl
        self.max_upload_bytes = max_upload_bytes or get_settings().max_upload_bytes
        self.scheduler: Any = None  # the ServiceScheduler (set by create_app)

    def client(self, request: Request) -> str:
        """The real client address (X-Forwarded-For only from trusted proxies)."""
        return client_address(request.client.host if request.client else None, request.headers, self.proxies)

    def set_session_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self.tls,
            max_age=int(self.session_ttl.total_seconds()),
        )


def app_state(request: Request) -> AppState:
    return request.app.state.cp  # type: ignore[no-any-return]


StateDep = Annotated[AppState, Depends(app_state)]


def current_principal(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    elif request.cookies.get(SESSION_COOKIE):
        token = request.cookies[SESSION_COOKIE]
    if not token:
        raise AuthError("log in first (POST /api/auth/login)")
    return resolve_session(app_state(request).store, token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def access(request: Request, p: PrincipalDep) -> DataAccess:
    return DataAccess(app_state(request).store, p)


AccessDep = Annotated[DataAccess, Depends(access)]


def require_government(p: Principal) -> None:
    if p.role not in (*PROVINCE_ROLES, "city_officer"):
        raise PermissionDenied("projections are for province and city roles")


def require_province(p: Principal) -> None:
    if p.role not in PROVINCE_ROLES:
        raise PermissionDenied("province roles only")


def require_admin(p: Principal) -> None:
    if p.role != "admin":
        raise PermissionDenied("admin only")


def packaged_scenario(name: str) -> str:
    """``name`` if it is a packaged scenario, else 404."""
    from carbonpeak.scenarios.scenario import available_scenarios

    if name not in available_scenarios():
        raise NotFound(f"scenario {name}")
    return name


__all__ = ["PROVINCE_ROLES", "SESSION_COOKIE", "AccessDep", "AppState", "PrincipalDep", "StateDep", "app_state",
           "current_principal", "packaged_scenario", "require_admin", "require_government", "require_province"]


def request_lang(request: Request) -> str:
    """The language of an answer's messages: ``?lang=zh|en``, else the dashboard's language cookie,
    else the first of ``Accept-Language`` that is zh or en, else English (a machine reads
    ``message_key`` and ``params`` beside)."""
    for q in (request.query_params.get("lang"), request.cookies.get("cp_lang")):
        if q in ("zh", "en"):
            return q
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


LangDep = Annotated[str, Depends(request_lang)]
