"""One data version per read request (:func:`carbonpeak.workflows.cache.pinned`).

A dashboard page reads several cached results (the view, the data status, the inventory…); each
would read the store's data version (one statement).  For GET and HEAD requests, which do not
write, the version is read once and kept for the request; writing requests read it afresh on every
use, so what they write is seen by what they read afterwards.
"""

from __future__ import annotations

from typing import Any

from carbonpeak.workflows.cache import pinned

_READS = frozenset({"GET", "HEAD"})


class PinDataVersions:
    """ASGI middleware: the request's code runs inside :func:`pinned` when it only reads."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") not in _READS:
            await self.app(scope, receive, send)
            return
        with pinned():
            await self.app(scope, receive, send)
