"""The FastAPI application: assembled from the routers of :mod:`carbonpeak.api.routes`.

Endpoints live in ``api/routes/<area>.py``, their models in :mod:`carbonpeak.api.schemas`, the
authentication and scoping dependencies in :mod:`carbonpeak.api.deps` and the mapping of the
error family to HTTP status codes in :mod:`carbonpeak.api.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from carbonpeak import __version__
from carbonpeak.api.checkpointer import Checkpointer
from carbonpeak.api.deps import SESSION_COOKIE, AppState, current_principal
from carbonpeak.api.docs_gate import install_docs
from carbonpeak.api.errors import install_error_handlers
from carbonpeak.api.pinning import PinDataVersions
from carbonpeak.api.ratelimit import LoginGuard
from carbonpeak.api.routes import routers
from carbonpeak.api.scheduler import ServiceScheduler
from carbonpeak.api.security_headers import install_security_headers
from carbonpeak.api.uploads import BodyLimitMiddleware
from carbonpeak.config import get_settings
from carbonpeak.store.duck import Store

__all__ = ["SESSION_COOKIE", "create_app"]


def create_app(
    store: Store | str | Path,
    *,
    session_ttl: timedelta = timedelta(hours=8),
    login_limit: int | None = None,
    login_window: float | None = None,
    login_limit_address: int | None = None,
    trusted_proxies: list[str] | None = None,
    tls: bool | None = None,
    docs_require_login: bool | None = None,
    max_upload_bytes: int | None = None,
    max_request_bytes: int | None = None,
    scheduler: bool | None = None,
    schedule_file: Path | None = None,
) -> FastAPI:
    """Build the service on ``store`` (a Store or a DuckDB path).

    The security options default to the settings (docs/operations.md): ``login_limit`` failed
    logins per user and ``login_limit_address`` per client address lock them for
    ``login_window`` seconds; ``trusted_proxies`` may set X-Forwarded-For; ``tls`` adds HSTS and
    Secure cookies; ``docs_require_login`` puts /docs and /openapi.json behind login.
    Upload limits default to the settings ``max_upload_bytes``/``max_request_bytes``.
    ``scheduler`` runs the schedule (``schedule_file``) in the service (default: the settings
    ``scheduler`` and ``schedule_file``; see :mod:`carbonpeak.api.scheduler`).
    """
    st = store if isinstance(store, Store) else Store(store)
    cfg = get_settings()
    guard = LoginGuard(
        per_user=login_limit if login_limit is not None else cfg.login_limit_user,
        per_address=login_limit_address if login_limit_address is not None else cfg.login_limit_address,
        lockout=login_window if login_window is not None else cfg.login_lockout_seconds,
        store=st,  # failures kept in the store: a restart does not reset a lock-out
    )
    tls = cfg.tls if tls is None else tls

    checkpointer = Checkpointer(st, cfg.checkpoint_interval_minutes * 60)
    schedule = ServiceScheduler(st, schedule_file=schedule_file,
                                enabled=cfg.scheduler if scheduler is None else scheduler)  # fmt: skip

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        checkpointer.start()
        schedule.start()
        _app.state.cp.jobs.start()  # this worker runs queued jobs, its own and any other's
        yield
        schedule.stop()
        checkpointer.stop()
        _app.state.cp.jobs.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="carbonpeak",
        version=__version__,
        description="Carbon-peak accounting, assessment, projection and monitoring service.",
        openapi_url=None,  # served by install_docs (public, or behind login by a setting)
        docs_url=None,
        redoc_url=None,
    )
    app.state.cp = AppState(
        st,
        session_ttl=session_ttl,
        guard=guard,
        trusted_proxies=tuple(trusted_proxies if trusted_proxies is not None else cfg.trusted_proxies),
        tls=tls,
        max_upload_bytes=max_upload_bytes,
    )
    app.state.cp.scheduler = schedule
    install_security_headers(app, tls=tls)  # outermost: wraps even the 500 handler and the 413s
    install_docs(
        app,
        require_login=cfg.docs_require_login if docs_require_login is None else docs_require_login,
        principal=current_principal,
    )
    app.add_middleware(BodyLimitMiddleware, limit=max_request_bytes or get_settings().max_request_bytes)
    app.add_middleware(PinDataVersions)  # one data version per read request (api/pinning.py)
    app.state.cp.jobs.recover()  # jobs left running by a previous process are marked failed

    install_error_handlers(app)
    # The routers' routes are added to the app itself (not ``include_router``, which in FastAPI
    # 0.16x keeps a lazy reference): ``app.routes`` then lists every endpoint, which the route
    # matrix (tests/security/test_route_matrix.py) and scripts/gen_api_docs.py walk.
    for router in routers():
        app.router.routes.extend(router.routes)
    return app
