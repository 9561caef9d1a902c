"""Data in and out the way statistics offices work: Excel templates, observation uploads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from carbonpeak.api.deps import PrincipalDep, StateDep
from carbonpeak.api.uploads import uploaded
from carbonpeak.errors import NotFound, PermissionDenied
from carbonpeak.store.access import PROVINCE_ROLES

router = APIRouter(tags=["data"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/api/templates/{kind}", response_class=Response)
def template(kind: str, p: PrincipalDep, lang: Annotated[Literal["zh", "en"], Query()] = "zh") -> Response:
    """The Excel input template of ``kind`` (activity, observations, readings, output)."""
    from carbonpeak.io.templates import kinds, template_xlsx

    if kind not in kinds():
        raise NotFound(f"no template '{kind}'; one of: {', '.join(kinds())}")
    body = template_xlsx(kind, lang)
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{kind}_template_{lang}.xlsx"'},
    )


@router.post("/api/observations", status_code=201)
def observations_import(
    p: PrincipalDep, state: StateDep, files: Annotated[list[UploadFile], File()]
) -> dict[str, Any]:
    """Import indicator observations (GDP, population, capacities …): validated together, stored
    as one batch (all-or-nothing, idempotent, audited).  Province roles load any region; a city
    officer only its own city (a row of another region refuses the upload)."""
    from carbonpeak.workflows.inventory import import_observations

    if p.role not in PROVINCE_ROLES and p.role != "city_officer":
        raise PermissionDenied("observations are loaded by province and city roles")
    region = None if p.role in PROVINCE_ROLES else p.city
    with uploaded(files, max_bytes=state.max_upload_bytes) as ups:
        res = import_observations(
            state.store, [(u.path, u.name) for u in ups], submitter=p.username, region=region
        )
    return {"batch_id": res.batch_id, "rows": res.rows, "created": res.created}
