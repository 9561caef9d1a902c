"""Monitoring use cases: ingest files (who may send what), review an alert (same checks everywhere)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carbonpeak.errors import PermissionDenied
from carbonpeak.store.access import PROVINCE_ROLES, DataAccess
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal

#: Registry before readings, so the readings of a new meter find it.
KIND_ORDER = ("units", "meters", "output", "budgets", "reported", "readings")


@dataclass(frozen=True)
class IngestFile:
    path: Path
    name: str  # as the client named it


def _columns(path: Path) -> list[str]:
    from carbonpeak.io import read_table

    if path.suffix.lower() in (".parquet", ".pq"):
        from carbonpeak.io.tables import check_parquet_size
        from carbonpeak.store.parquet import parquet_columns

        check_parquet_size(path, str(path))  # before DuckDB decodes anything
        return parquet_columns(path)
    return [c for c in read_table(path).columns if not str(c).startswith("__")]


def _meter_ids(path: Path) -> list[str]:
    from carbonpeak.io import read_table

    if path.suffix.lower() in (".parquet", ".pq"):
        from carbonpeak.store.parquet import parquet_meter_ids

        return parquet_meter_ids(path)
    df = read_table(path)
    if "meter_id" not in df.columns:
        return []
    return df["meter_id"].astype(str).str.strip().unique().tolist()  # type: ignore[no-any-return]


def ingest_plan(store: Store, p: Principal, files: list[IngestFile]) -> list[tuple[IngestFile, str]]:
    """Detect each file's kind, check the principal may send it, order registry before readings."""
    from carbonpeak.monitoring.registry import detect_kind

    if p.role not in (*PROVINCE_ROLES, "enterprise"):
        raise PermissionDenied("monitoring data are sent by the province or by the enterprise itself")
    plan = []
    for f in files:
        kind = detect_kind(_columns(f.path), f.name)
        if p.role == "enterprise":
            if kind != "readings":
                raise PermissionDenied(
                    f"{f.name}: an enterprise may send readings only (registry data come from the province)"
                )
            foreign = sorted(set(_meter_ids(f.path)) - DataAccess(store, p).own_meter_ids())
            if foreign:
                raise PermissionDenied(
                    f"{f.name}: meters not registered to your enterprise: {', '.join(foreign[:10])}"
                )
        plan.append((f, kind))
    return sorted(plan, key=lambda fk: KIND_ORDER.index(fk[1]) if fk[1] in KIND_ORDER else 99)


def ingest(
    store: Store,
    plan: list[tuple[IngestFile, str]],
    *,
    submitter: str,
    progress: Callable[[float], None] = lambda _f: None,
) -> list[dict[str, Any]]:
    """Apply each planned file as one all-or-nothing, idempotent batch."""
    from carbonpeak.store import monitoring as mon_store

    out = []
    for i, (f, kind) in enumerate(plan):
        res = mon_store.ingest_path(store, f.path, kind=kind, submitter=submitter, source_name=f.name)
        out.append({**res.to_dict(), "file": f.name})
        progress((i + 1) / len(plan))
    return out


def review_alert(store: Store, p: Principal, alert_id: str, comment: str, outcome: str = "noted") -> dict[str, Any]:
    """Review an alert as ``p``: the province, or a verifier assigned to the unit's owner.

    The same role checks and the same credit event (a confirmed falsification) whether the
    review comes from the CLI or the API.
    """
    return DataAccess(store, p).review_alert(alert_id, comment, outcome)
