"""A small market for the route matrix and the pages: accounts, allocations, PHCER applications."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from carbonpeak.store import Store
from carbonpeak.store.users import Principal
from carbonpeak.workflows import markets as wm

ADMIN = Principal("admin", "admin")
USERS = ("admin", "analyst", "gz_officer", "ent_a", "verifier_a")


def seed_markets(store: Store) -> None:
    """ENT-A (GD-GZ) and ENT-B (GD-SZ) with 2024 allowances, a 2025 energy budget for U-A, and
    PHCER applications per user: APP-N-<user> (applied), APP-V-<user> (noticed, notice over),
    APP-I-admin (verified)."""
    wm.setup(store)
    wm.allocate(store, ADMIN, year=2024, allocations=pd.DataFrame(
        {"enterprise_id": ["ENT-A", "ENT-B"], "city": ["GD-GZ", "GD-SZ"], "quantity": [1000, 500]}))
    store.import_frame("mon_budgets", pd.DataFrame({"unit_id": ["U-A"], "year": [2025], "budget_tce": [12000.0]}),
                       kind="mon_budgets", source="route matrix seed")
    inputs = {"EG_y": 10.0, "EF_grid_y": 0.5}
    for stage, users in (("N", USERS), ("V", USERS), ("I", ("admin",))):
        for u in users:
            app = f"APP-{stage}-{u}"
            wm.apply_phcer(store, ADMIN, application_id=app, methodology_id="gd_pv_distributed", version="V01",
                           project=f"PV {app}", owner="ENT-A", city="GD-GZ", vintage=2024, inputs=inputs)
            if stage in ("V", "I"):
                wm.notice_phcer(store, ADMIN, application_id=app, start=dt.date(2025, 1, 6))
            if stage == "I":
                wm.verify_phcer(store, ADMIN, application_id=app, verified_t=5.0, today=dt.date(2025, 2, 1))
