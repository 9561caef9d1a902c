"""``/openapi.json`` and ``/docs``: public by default, or for logged-in users only (a setting).

Default (``docs_require_login = false``): the API description is public, as the endpoints'
shapes are no secret and integrators need them before they hold an account; every endpoint
still checks its caller.  With ``docs_require_login = true`` both answer 401 without a valid
session (bearer token or the dashboard's cookie).  The docs page gets its own CSP that admits
its inline start-up script by hash (:func:`carbonpeak.api.security_headers.csp_for_page`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from carbonpeak.api.security_headers import csp_for_page


def install_docs(app: FastAPI, *, require_login: bool, principal: Callable[..., Any]) -> None:
    """Add ``/openapi.json`` and ``/docs`` to ``app`` (built with ``openapi_url=None, docs_url=None``)."""
    deps = [Depends(principal)] if require_login else []

    @app.get("/openapi.json", include_in_schema=False, dependencies=deps)
    def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=deps)
    def docs_page(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} - API")
        html = bytes(page.body).decode("utf-8")
        return HTMLResponse(html, headers={"Content-Security-Policy": csp_for_page(html)})
