"""Alembic revisions of the store's schema (run programmatically by :mod:`carbonpeak.store.migrate`)."""
