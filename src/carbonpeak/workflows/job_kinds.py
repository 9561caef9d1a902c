"""The platform's background job kinds of the workflows floor (the report kind is registered by
:mod:`carbonpeak.reports.job_kinds`).

Each kind re-applies the submitter's scope itself (the ``principal`` argument is the stored
submitter, never a parameter): a city officer's inventory is its own city's whatever the
parameters say, an enterprise's ingest is checked against its own meters again when it runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from carbonpeak.errors import PermissionDenied
from carbonpeak.store.access import PROVINCE_ROLES
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal
from carbonpeak.workflows.jobs import JobParams, Progress, job_kind


class CompileParams(JobParams):
    gwp: Literal["AR4", "AR5", "AR6"] | None = None
    year: int | None = Field(default=None, ge=1990, le=2100)
    region: str | None = Field(default=None, max_length=8)
    uncertainty: Literal["none", "approach1", "mc"] = "none"
    draws: int = Field(default=10_000, ge=100, le=1_000_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    #: the language of the answer's ``warning_messages`` (the request's)
    lang: Literal["zh", "en"] = "en"


def inventory_region(p: Principal, region: str | None) -> str | None:
    """The region ``p`` may compile: a city officer only its own city (the default), the province any."""
    if p.role in ("enterprise", "verifier"):
        raise PermissionDenied("inventories are for province and city roles")
    if p.role == "city_officer":
        if region not in (None, p.city):
            raise PermissionDenied("a city officer sees only its own city")
        return p.city
    return region


@job_kind("inventory.compile", CompileParams)
def compile_inventory(store: Store, params: CompileParams, p: Principal, progress: Progress) -> dict[str, Any]:
    from carbonpeak.i18n import with_messages
    from carbonpeak.workflows.inventory import compile_summary

    return with_messages(compile_summary(
        store, gwp=params.gwp, year=params.year, region=inventory_region(p, params.region),
        uncertainty=params.uncertainty, draws=params.draws, seed=params.seed, progress=progress,
    ), params.lang)  # fmt: skip


class MonteCarloParams(JobParams):
    scenario: str = Field(min_length=1, max_length=64)
    draws: int = Field(default=2000, ge=10, le=100_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    lang: Literal["zh", "en"] = "en"


def require_government(p: Principal) -> None:
    if p.role not in (*PROVINCE_ROLES, "city_officer"):
        raise PermissionDenied("projections are for province and city roles")


@job_kind("projection.montecarlo", MonteCarloParams)
def projection_montecarlo(store: Store, params: MonteCarloParams, p: Principal, progress: Progress) -> Any:
    from carbonpeak.errors import NotFound
    from carbonpeak.i18n import with_messages
    from carbonpeak.jsonutil import json_safe
    from carbonpeak.workflows import projections as wf
    from carbonpeak.workflows.demo import data_status

    require_government(p)
    if params.scenario not in wf.scenarios():
        raise NotFound(f"scenario {params.scenario}")
    hist = wf.observed_history(store)
    origin = data_status(store).to_dict()
    out = wf.montecarlo(params.scenario, draws=params.draws, seed=params.seed, history=hist)
    progress(0.8)
    return json_safe(with_messages({**out, "data": origin}, params.lang))


class IngestUpload(JobParams):
    #: the server's file (``<folder>/<NNN><suffix>``) and the client's name of it
    path: str = Field(min_length=1, max_length=4096)
    name: str = Field(min_length=1, max_length=200)


class IngestParams(JobParams):
    folder: str = Field(min_length=1, max_length=4096)
    files: list[IngestUpload] = Field(min_length=1, max_length=1000)


def _upload_files(params: IngestParams) -> tuple[Path, list[Any]]:
    """The uploads of an ingest job, which must be files of one upload folder the service made."""
    from carbonpeak.errors import CarbonpeakError
    from carbonpeak.workflows.uploads import MARKER, Upload

    folder = Path(params.folder)
    if not folder.is_absolute() or not (folder / MARKER).is_file():
        raise CarbonpeakError("the job's upload folder is gone (removed after an earlier run); send the upload again")
    ups = []
    for f in params.files:
        path = Path(f.path)
        if path.parent != folder or path.name.startswith("."):
            raise PermissionDenied("an ingest job reads only the files of its own upload folder")
        ups.append(Upload(path, f.name))
    return folder, ups


@job_kind("monitoring.ingest", IngestParams)
def monitoring_ingest(store: Store, params: IngestParams, p: Principal, progress: Progress) -> Any:
    """Ingest the uploaded files as ``p`` (the scope is checked again here); the folder is removed
    when the job ends, so a job taken over after its worker died finds its files still there."""
    from carbonpeak.workflows import monitoring as wf
    from carbonpeak.workflows.uploads import client_names

    folder, ups = _upload_files(params)
    try:
        with client_names(ups, folder):
            plan = wf.ingest_plan(store, p, [wf.IngestFile(u.path, u.name) for u in ups])
            return wf.ingest(store, plan, submitter=p.username, progress=progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
