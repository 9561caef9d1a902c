"""Credit records of enterprises (events, missed deadlines, export)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from carbonpeak.api.deps import AccessDep, require_province
from carbonpeak.api.schemas import CreditIn, DeadlineIn

router = APIRouter(tags=["credit"])


@router.post("/api/credit", status_code=201)
def credit_add(body: CreditIn, dal: AccessDep) -> dict[str, str]:
    event_id = dal.record_credit_event(
        enterprise_id=body.enterprise_id, kind=body.kind, detail=body.detail, period=body.period
    )
    return {"event_id": event_id}


@router.post("/api/credit/check-deadlines")
def credit_deadlines(body: DeadlineIn, dal: AccessDep) -> dict[str, Any]:
    """Record a missed deadline for each registered enterprise without a submission by the due date."""
    missed = dal.check_deadlines(kind=body.kind, period=body.period, due=body.due)
    return {"missed": missed, "count": len(missed)}


@router.get("/api/credit")
def credit(dal: AccessDep) -> list[dict[str, Any]]:
    return dal.credit_records().to_dict(orient="records")  # type: ignore[no-any-return]


@router.get("/api/credit/export.csv", response_class=PlainTextResponse)
def credit_export(dal: AccessDep) -> PlainTextResponse:
    require_province(dal.p)
    from carbonpeak.io.export import to_csv

    # a UTF-8 BOM, so that zh-CN Excel opens the download unmangled
    return PlainTextResponse(to_csv(dal.credit_records(), bom=True), media_type="text/csv; charset=utf-8")
