"""The data versions of a store: what the caches of derived results (inventory, assessment,
outlook, dashboard views) key on, read in one statement.

A version of an area changes in the transaction that changes the area's data, so every worker
process, the CLI beside the service, and any later request see the new version together with the
new data:

- PostgreSQL: ``data_versions`` rows kept by statement-level triggers on the area's tables
  (Alembic revision ``0800_data_versions``): one indexed read, whatever the size of the tables;
- DuckDB (no triggers; one process writes a DuckDB file): derived from the stored rows (the count
  of batches; the reviewed alerts and the monitoring runs), read in-process.

``epoch`` is a random number drawn when the database was made, so that two databases with equal
counters (a copy, a recreated database, two in-memory stores) never share a cache entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from carbonpeak.store.duck import Store

#: The areas of derived results and what changes them (see the revision for the PostgreSQL tables).
AREAS = ("batches", "monitoring")

_PG_SQL = "SELECT area, version FROM data_versions"
_DUCK_SQL = (
    "SELECT (SELECT max(version) FROM data_versions WHERE area = 'epoch'), "
    "(SELECT count(*) FROM batches), "
    "(SELECT count(*) FROM mon_alerts WHERE status <> 'open'), "
    "(SELECT coalesce(max(epoch_ms(reviewed_at)), 0) FROM mon_alerts WHERE status <> 'open'), "
    "(SELECT count(*) FROM mon_runs)"
)


@dataclass(frozen=True)
class DataVersion:
    """The store's identity and the version of each area (comparable, hashable: a cache key)."""

    store: str  # the store's location (path, or URL without password)
    epoch: int | None
    batches: Any
    monitoring: Any

    def key(self, areas: tuple[str, ...] = AREAS) -> tuple[Any, ...]:
        """The part of a cache key for results derived from ``areas``."""
        return (self.store, self.epoch, *(getattr(self, a) for a in areas))


def read(store: Store) -> DataVersion:
    """The store's current :class:`DataVersion` (one statement)."""
    if store.is_postgres:
        rows = dict(store.con.execute(_PG_SQL).fetchall())
        return DataVersion(store.path, rows.get("epoch"), rows.get("batches"), rows.get("monitoring"))
    try:
        row = store.con.execute(_DUCK_SQL).fetchone()
    except duckdb.CatalogException:  # a store opened read-only before its migration to 0800
        return DataVersion(store.path, None, store.batch_count(), None)
    assert row is not None
    return DataVersion(store.path, row[0], row[1], (row[2], row[3], row[4]))
