"""Enterprise submissions (readings and output files; versioned, signed off by verifiers)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Form, Query, UploadFile

from carbonpeak.api.deps import AccessDep, StateDep
from carbonpeak.api.inputs import check_period
from carbonpeak.api.uploads import uploaded
from carbonpeak.i18n import Msg, declare
from carbonpeak.io import TableSpec, read_table, validate_table
from carbonpeak.io.validate import Column

router = APIRouter(tags=["submissions"])
#: Uploads checked and written at once in one process.  DuckDB: one (its writes are serialised
#: by the store anyway, and parsing in parallel would only take the interpreter away from the
#: dashboard's reads).  PostgreSQL: several (each in its own transaction; the database's row
#: locks and the audit chain's transaction lock order them), so an upload does not queue behind
#: another one's parsing and network round trips.
_INGEST_GATES = {"duckdb": threading.BoundedSemaphore(1), "postgresql": threading.BoundedSemaphore(4)}


declare({"io.mon.future": {}})


def _not_future(ts: pd.Series) -> tuple[pd.Series, str]:
    """Readings may not lie in the future (beyond the clock allowance of plausible_ranges.yaml)."""
    from carbonpeak.io.validate import clock_allowance_minutes

    limit = pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=clock_allowance_minutes())
    return pd.Series(pd.to_datetime(ts, utc=True) > limit, index=ts.index), Msg("io.mon.future")


#: What an enterprise may upload through the service (a readings or an output file).
UPLOAD_SPECS: dict[str, TableSpec] = {
    "readings": TableSpec(
        "readings",
        (
            Column("meter_id"),
            Column("ts", "timestamp", check=_not_future),
            Column("value", "float", nonnegative=True),
        ),
        unique=("meter_id", "ts"),
    ),
    "output": TableSpec(
        "output",
        (
            Column("unit_id"),
            Column("product"),
            Column("period"),
            Column("amount", "float", nonnegative=True),
            Column("unit"),
        ),
        unique=("unit_id", "product", "period"),
    ),
}


@router.post("/api/submissions", status_code=201)
def submit(
    dal: AccessDep,
    state: StateDep,
    kind: Annotated[str, Form(max_length=16)],
    period: Annotated[str, Form(min_length=1, max_length=32)],
    file: Annotated[UploadFile, File()],
    enterprise_id: Annotated[str | None, Form(max_length=64)] = None,
    city: Annotated[str | None, Form(max_length=16)] = None,
) -> dict[str, Any]:
    """Upload a readings or output file. Row-by-row validation errors come back as 422.

    The enterprise and city are those of the account (and of the registry), never the form's:
    ``enterprise_id``/``city`` may be sent, but a value that disagrees is refused (403).
    """
    check_period(kind, period)
    ent, city_ = dal.submission_scope(enterprise_id, city)
    # A sync endpoint: FastAPI runs it in its thread pool, not on the event loop; the gate of
    # the backend bounds how many uploads one process checks and writes at once.
    with _INGEST_GATES[state.store.backend], uploaded([file], max_bytes=state.max_upload_bytes) as ups:
        df = read_table(ups[0].path)
        df["__file__"] = ups[0].name
        rows = validate_table(df, UPLOAD_SPECS[kind])
        dal.check_owned(rows, kind, ent)
        return dal.submit(
            submission_id=f"{ent}/{kind}/{period}", kind=kind, rows=rows, enterprise_id=ent, city=city_
        )


@router.get("/api/submissions")
def submissions(dal: AccessDep, enterprise_id: str | None = None) -> list[dict[str, Any]]:
    return dal.submission_records(enterprise_id=enterprise_id)


@router.get("/api/submissions/{enterprise_id}/{kind}/{period}")
def submission(
    enterprise_id: str,
    kind: str,
    period: str,
    dal: AccessDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    return dal.get_submission(f"{enterprise_id}/{kind}/{period}", version)


@router.post("/api/submissions/{enterprise_id}/{kind}/{period}/versions/{version}/sign-off")
def sign_off(enterprise_id: str, kind: str, period: str, version: int, dal: AccessDep) -> dict[str, Any]:
    dal.sign_off(f"{enterprise_id}/{kind}/{period}", version)
    return {"status": "signed_off"}
