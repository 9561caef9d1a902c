"""The web service (FastAPI): the engines behind authenticated, scoped endpoints.

``create_app(store)`` builds the application; ``carbonpeak serve`` runs it with uvicorn.
Scoping lives in :mod:`carbonpeak.store.access`; endpoints only call it.
"""

from carbonpeak.api.app import create_app

__all__ = ["create_app"]
