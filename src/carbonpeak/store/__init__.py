"""Persistence: the store on DuckDB (default) or PostgreSQL, its Alembic migrations and idempotent batch imports."""

from carbonpeak.store.duck import ImportResult, Store, frame_digest

__all__ = ["ImportResult", "Store", "frame_digest"]
