"""Monitoring of key energy-consuming units: ingest, units, alerts and their review, PUE."""

from __future__ import annotations

import json
import shutil
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile

from carbonpeak.api.deps import PROVINCE_ROLES, AccessDep, LangDep, PrincipalDep, StateDep
from carbonpeak.api.schemas import ReviewIn
from carbonpeak.api.uploads import client_names, new_upload_folder, save_uploads
from carbonpeak.errors import PermissionDenied
from carbonpeak.i18n import alert_location, alert_text, alert_why
from carbonpeak.jsonutil import frame_records
from carbonpeak.workflows import monitoring as wf

router = APIRouter(tags=["monitoring"])


@router.post("/api/monitoring/ingest", status_code=202)
def mon_ingest(p: PrincipalDep, state: StateDep, files: Annotated[list[UploadFile], File()]) -> dict[str, Any]:
    """Ingest registry files (units, meters, output, budgets, reported) and readings as a background job.

    Province roles may send anything; an enterprise may send readings of its own meters only.
    Each file is one all-or-nothing, idempotent batch; files are applied registry first.
    """
    if p.role not in (*PROVINCE_ROLES, "enterprise"):
        raise PermissionDenied("monitoring data are sent by the province or by the enterprise itself")
    tmp = new_upload_folder("cp-ingest-")
    try:
        ups = save_uploads(files, tmp, max_bytes=state.max_upload_bytes)
        with client_names(ups, tmp):
            wf.ingest_plan(state.store, p, [wf.IngestFile(u.path, u.name) for u in ups])  # 403 now, not later
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    # the job may run in another worker process: it gets the saved files (and checks the scope again)
    params = {"folder": str(tmp), "files": [{"path": str(u.path), "name": u.name} for u in ups]}
    names = [u.name for u in ups]
    try:
        job_id = state.jobs.submit("monitoring.ingest", p, params, files=names)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"job_id": job_id, "status": "queued"}


@router.get("/api/monitoring/units")
def mon_units(dal: AccessDep) -> list[dict[str, Any]]:
    return frame_records(dal.monitoring_units())


@router.get("/api/monitoring/alerts")
def mon_alerts(
    dal: AccessDep,
    lang: LangDep,
    status: Annotated[str | None, Query(pattern="^(open|reviewed)$")] = "open",
    kind: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Alerts in the caller's scope.  ``observed``, ``why`` and ``location`` keep their English text;
    ``message`` is what was observed and why it matters, ``location_message`` where (unit, its name
    and city, meter), in the request's language (``?lang=zh|en`` or ``Accept-Language``), with
    ``message_key`` and ``params`` beside them for machines."""
    out = []
    for r in frame_records(dal.monitoring_alerts(status=status, kind=kind)):
        params = json.loads(r["params"]) if isinstance(r.get("params"), str) else (r.get("params") or {})
        out.append({**r, "params": params, "message": alert_text({**r, "params": params}, lang),
                    "location_message": alert_location(r, lang)})  # fmt: skip
    return out


@router.post("/api/monitoring/alerts/{alert_id}/review")
def mon_review(alert_id: str, body: ReviewIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    rec = wf.review_alert(state.store, p, alert_id, body.comment, body.outcome)
    return {"alert_id": alert_id, "status": rec["status"], "reviewed_by": rec["reviewed_by"]}


@router.get("/api/monitoring/pue")
def mon_pue(dal: AccessDep, grain: Annotated[str, Query(pattern="^(day|month|year)$")] = "month") -> list[dict[str, Any]]:
    return frame_records(dal.pue(grain))


@router.get("/api/enterprise/export")
def enterprise_export(
    dal: AccessDep, lang: LangDep, headers: Annotated[Literal["labels", "ids"], Query()] = "labels"
) -> Response:
    """All of the calling enterprise's own data (units, meters, readings, output, budgets, daily
    energy, alerts, submissions) as a ZIP of UTF-8-BOM CSV files; the scope is the principal's.

    ``headers=labels`` (the default: column names in the request's language with units, for
    people; the project's readers map them back to the ids) or ``headers=ids`` (for programs)."""
    import io
    import zipfile

    from carbonpeak.io.export import csv_bytes
    from carbonpeak.store.monitoring_views import enterprise_export as export

    if dal.p.role != "enterprise" or not dal.p.enterprise_id:
        raise PermissionDenied("only an enterprise downloads its own data")
    frames = export(dal)
    frames["submissions"] = dal.list_submissions(enterprise_id=dal.p.enterprise_id)
    al = frames.get("alerts")
    if headers == "labels" and al is not None and len(al):
        # for people: what was observed and why it matters in their language (the key and its
        # parameters stay in the ids variant)
        recs = al.to_dict(orient="records")
        al = al.assign(observed=[alert_text(r, lang, with_why=False) for r in recs],
                       why=[alert_why(str(r["kind"]), lang, default=str(r["why"])) for r in recs],
                       **({"location": [alert_location(r, lang) for r in recs]} if "location" in al else {}))
        frames["alerts"] = al.drop(columns=["message_key", "params"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, df in frames.items():
            z.writestr(f"{name}.csv", csv_bytes(df, lang=lang if headers == "labels" else None))
    fname = f"carbonpeak-{dal.p.enterprise_id}.zip"
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{fname}"'})
