"""Security headers on every answer of the service (pages, API, static files, errors).

- ``Content-Security-Policy``: scripts only from the service itself (no inline script: the
  dashboard's scripts are static files, its data are JSON blocks), no framing
  (``frame-ancestors 'none'``, against click-jacking), no plugins, no foreign form targets.
  Styles allow ``'unsafe-inline'`` because Plotly sets element styles; scripts never do.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``X-Frame-Options: DENY`` (for browsers without CSP level 2), ``Permissions-Policy``.
- ``Strict-Transport-Security`` only when the service is reached over TLS (setting ``tls``):
  sent over plain HTTP it would be ignored, and a wrong one locks users out.

An answer that sets its own ``Content-Security-Policy`` (the API docs page, which needs its
inline start-up script by hash) keeps it; the others are always set.
A plain ASGI middleware, so it also covers streamed files and error answers.  Registered with
:func:`install_security_headers`, it wraps the *whole* middleware stack, outside Starlette's
``ServerErrorMiddleware`` (which answers a 500 for an unhandled exception outside every
middleware added with ``add_middleware``) and outside the body-limit middleware (413), so those
answers carry the headers too.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer."""

    def __init__(self, app: ASGIApp, *, tls: bool = False) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(k, v) for k, v in _COMMON if k not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", CSP.encode()))
                if self.tls and b"strict-transport-security" not in present:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: Any, *, tls: bool = False) -> None:
    """Wrap ``app``'s whole middleware stack (Starlette builds it on the first request) in
    :class:`SecurityHeaders`, so it is the outermost layer: every answer, 500s of the server-error
    handler and 413s of the body limit included, carries the headers."""
    build = app.build_middleware_stack

    def outermost() -> ASGIApp:
        return SecurityHeaders(build(), tls=tls)

    app.build_middleware_stack = outermost


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def csp_for_page(html: str, *, cdn: str = "https://cdn.jsdelivr.net") -> str:
    """A CSP for a third-party page (the API docs): its inline scripts allowed by SHA-256 only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode("utf-8")).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {cdn} {hashes}".strip(),
            f"style-src 'self' {cdn} 'unsafe-inline'",
            "img-src 'self' data: https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
