"""Persistence: the DuckDB store (default), its migrations and idempotent batch imports."""

from carbonpeak.store.duck import ImportResult, Store, frame_digest

__all__ = ["ImportResult", "Store", "frame_digest"]
