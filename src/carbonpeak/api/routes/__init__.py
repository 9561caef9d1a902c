"""One router per area of the service, found by its name (``routes/<area>.py``).

:data:`AREAS` is the order in which :func:`carbonpeak.api.app.create_app` includes them; a new
area (markets is next) is a new module here and a new name in the list.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

AREAS: tuple[str, ...] = (
    "auth",
    "users",
    "inventory",
    "dataio",
    "submissions",
    "targets",
    "projections",
    "monitoring",
    "credit",
    "markets",
    "audit",
    "jobs",
    "schedule",
)


def routers() -> list[APIRouter]:
    """The router of every area, in :data:`AREAS` order."""
    return [importlib.import_module(f"{__name__}.{area}").router for area in AREAS]
