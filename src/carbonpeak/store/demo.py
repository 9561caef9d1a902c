"""Which stored data are the bundled demo: batches whose submitter is :data:`DEMO_SUBMITTER`.

``carbonpeak demo load`` imports the bundled demo files through the ordinary import path
(:meth:`Store.import_frame`: one audited, idempotent batch per kind) with the submitter
``demo``; that is the only mark, so no table of its own is needed.  These queries tell the
application layer whether the store holds any inventory data, whether some of it is demo data,
and which (year, region) figures rest on demo rows (a mixed store of demo and own data).

The SQL is plain (no dialect extensions), so it runs on DuckDB and PostgreSQL alike.
"""

from __future__ import annotations

import pandas as pd

from carbonpeak.store.duck import Store

#: The submitter of every batch ``carbonpeak demo load`` writes (reserved for it).
DEMO_SUBMITTER = "demo"
#: The batch kinds the inventory, the assessment and the projections read.
DATA_KINDS = ("activity", "observations")


def batch_origins(store: Store) -> pd.DataFrame:
    """Batches of the inventory kinds by kind and origin: ``kind``, ``demo`` (bool), ``batches``, ``rows``."""
    return store.query(
        "SELECT kind, CASE WHEN submitter = ? THEN 1 ELSE 0 END AS demo, count(*) AS batches, "
        "sum(rows) AS rows FROM batches WHERE kind IN (?, ?) GROUP BY 1, 2 ORDER BY 1, 2",
        [DEMO_SUBMITTER, *DATA_KINDS],
    ).astype({"demo": bool})


_ACTIVITY_DEMO = """
SELECT year, region, max(is_demo) AS demo, min(is_demo) AS all_demo FROM (
    SELECT t.year, t.region, CASE WHEN b.submitter = ? THEN 1 ELSE 0 END AS is_demo,
           row_number() OVER (PARTITION BY t.year, t.region, t.category, t.item
                              ORDER BY b.created_at DESC, t.source_row DESC) AS rn
    FROM activity t JOIN batches b ON b.batch_id = t.batch_id
) x WHERE rn = 1 GROUP BY year, region ORDER BY region, year
"""

_OBSERVATIONS_DEMO = """
SELECT year, region, max(is_demo) AS demo, min(is_demo) AS all_demo FROM (
    SELECT t.year, t.region, CASE WHEN b.submitter = ? THEN 1 ELSE 0 END AS is_demo,
           row_number() OVER (PARTITION BY t.indicator, t.region, t.year
                              ORDER BY b.created_at DESC, t.source_row DESC) AS rn
    FROM observations t JOIN batches b ON b.batch_id = t.batch_id
) x WHERE rn = 1 GROUP BY year, region ORDER BY region, year
"""


def region_year_origins(store: Store) -> dict[str, pd.DataFrame]:
    """Per kind, the (year, region) pairs of the current rows: ``demo`` (some row is demo), ``all_demo``."""
    out = {}
    for kind, sql in (("activity", _ACTIVITY_DEMO), ("observations", _OBSERVATIONS_DEMO)):
        df = store.query(sql, [DEMO_SUBMITTER])
        out[kind] = df.astype({"year": int, "demo": bool, "all_demo": bool}) if len(df) else df
    return out
