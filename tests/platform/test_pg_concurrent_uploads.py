"""PostgreSQL: uploads of one submission from several threads at once are numbered one by one.

The service lets several uploads run at once on PostgreSQL (api/routes/submissions.py); versions
of one submission are numbered under a transaction-scoped lock (store/access.py).  Real server
(tests/platform/pg.py), no mocks.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from carbonpeak.store import Store, audit
from carbonpeak.store.access import DataAccess
from carbonpeak.store.users import Principal

from .pg import fresh_database


def _rows(k: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "meter_id": ["M1"] * 4,
            "ts": [f"2025-01-0{1 + k % 9}T0{h}:00:00+08:00" for h in range(4)],
            "value": [float(k), 1.0, 2.0, 3.0],
            "__row__": [2, 3, 4, 5],
            "__file__": ["r.csv"] * 4,
        }
    )


def test_concurrent_corrections_of_one_submission_get_distinct_versions() -> None:
    store = Store(fresh_database())
    try:
        p = Principal("ent_a", "enterprise", enterprise_id="ENT-A")

        def submit(k: int) -> int:
            out = DataAccess(store, p).submit(
                submission_id="ENT-A/readings/2025-01",
                kind="readings",
                rows=_rows(k),
                enterprise_id="ENT-A",
                city="GD-GZ",
            )
            return int(out["version"])

        with ThreadPoolExecutor(8) as pool:
            versions = sorted(pool.map(submit, range(16)))
        assert versions == list(range(1, 17))
        assert audit.verify_chain(store).ok
        n = store.query("SELECT count(*) AS n FROM submission_rows")["n"][0]
        assert n == 16 * 4
    finally:
        store.close()
