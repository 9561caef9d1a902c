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


def seed_peak_link(store: Store) -> None:
    """The link to the peak plan: ENT-P (GD-GZ, textiles, historical emissions) and ENT-Q (GD-FS,
    cement clinker, benchmark on its monitoring output) allocated for 2024 from the store and issued;
    verified 2024 emissions; a synthetic cap path 2024-2030 (labelled so)."""
    store.import_frame("mon_units", pd.DataFrame({
        "unit_id": ["U-P", "U-Q"], "name": ["P mill", "Q kiln"], "uscc": ["ENT-P", "ENT-Q"],
        "industry_code": ["C17", "C30"], "city": ["GD-GZ", "GD-FS"], "kind": ["industrial", "industrial"],
        "hub_node": [False, False], "registered_level": ["provincial", "provincial"], "synthetic": [True, True]}),
        kind="mon_units", source="peak-link seed")
    store.import_frame("mon_output", pd.DataFrame({
        "unit_id": ["U-Q"], "product": ["clinker"], "period_start": [dt.date(2024, 1, 1)],
        "period_end": [dt.date(2024, 12, 31)], "quantity": [1_000_000.0], "unit": ["t"]}),
        kind="mon_output", source="peak-link seed")
    for ent, y, e in (("ENT-P", 2021, 102_000.0), ("ENT-P", 2022, 98_000.0), ("ENT-P", 2023, 100_000.0),
                      ("ENT-P", 2024, 99_500.0), ("ENT-Q", 2024, 880_000.0)):
        wm.sign_off_emissions(store, ADMIN, enterprise_id=ent, year=y, verified_t=e)
    ents = pd.DataFrame({"enterprise_id": ["ENT-P", "ENT-Q"], "sector": ["textiles", "cement"],
                         "activity": ["*", "clinker"], "city": ["GD-GZ", "GD-FS"], "method": [None, "benchmark"]})
    wm.allocate_from_store(store, ADMIN, entities=ents, ruleset_id="guangdong-2024", year=2024, params={
        "allocation.history.base_years": 3, "allocation.benchmark.value[cement:clinker]": "0.85 tCO2/t",
        "allocation.benchmark.annual_factor": 1.0}, issue=True)
    for y in range(2024, 2031):
        wm.set_cap(store, ADMIN, year=y, value=round(2.97 - 0.03 * (y - 2024), 2), unit="亿t",
                   source="synthetic test path (not a published cap)")
