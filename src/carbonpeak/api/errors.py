"""The one place where the ``CarbonpeakError`` family becomes HTTP status codes.

Domain, store and workflow code raise only that family (:mod:`carbonpeak.errors`).  Anything
else escaping an endpoint -- a ``KeyError`` or ``ValueError`` included -- is a bug and answers
500 with a reference the operator can find in the log, never a traceback or a server path.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from carbonpeak.errors import (
    AuthError,
    CarbonpeakError,
    Conflict,
    NotFound,
    PermissionDenied,
    TooLarge,
    ValidationError,
)
from carbonpeak.i18n import Msg, message_record

#: Most specific first: the first class an error is an instance of gives (status, error code).
STATUS: tuple[tuple[type[CarbonpeakError], int, str], ...] = (
    (ValidationError, 422, "validation"),
    (AuthError, 401, "auth"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (TooLarge, 413, "too_large"),
    (CarbonpeakError, 400, "bad_request"),
)


def status_of(exc: CarbonpeakError) -> tuple[int, str]:
    """The HTTP status and the ``error`` code of a carbonpeak error."""
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad_request"  # pragma: no cover - CarbonpeakError is last in STATUS


def error_response(exc: CarbonpeakError, lang: str = "en") -> JSONResponse:
    status, code = status_of(exc)
    if isinstance(exc, ValidationError):
        # every problem's message in the request's language, with message_key and params beside it
        return JSONResponse(status_code=status, content=exc.to_dict(lang))
    arg = exc.args[0] if len(exc.args) == 1 else None
    if isinstance(arg, Msg):
        # an error raised with a message key (e.g. offsets refused): the message in the request's
        # language, the key and parameters beside it for machines
        return JSONResponse(status_code=status, content={"error": code, **message_record(arg, lang)})
    message = f"not found: {exc}" if isinstance(exc, NotFound) else str(exc)
    return JSONResponse(status_code=status, content={"error": code, "message": message})


def internal_error(request: Request, exc: BaseException) -> JSONResponse:
    """A bug: logged with its traceback; the client gets a reference, never the traceback or a path."""
    ref = uuid.uuid4().hex[:12]
    logging.getLogger("carbonpeak.api").error(
        "internal error %s on %s %s", ref, request.method, request.url.path, exc_info=exc
    )
    return JSONResponse(
        status_code=500,
        content={"error": "internal", "message": f"internal error (reference {ref}); the operator can look it up"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map the error family to 400/401/403/404/409/413/422 and everything else to 500."""

    @app.exception_handler(CarbonpeakError)
    async def _carbonpeak(request: Request, exc: CarbonpeakError) -> JSONResponse:
        from carbonpeak.api.deps import request_lang

        return error_response(exc, request_lang(request))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request, exc)
