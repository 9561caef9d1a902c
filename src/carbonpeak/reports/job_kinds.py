"""The report job kind, and every platform job kind in one call (:func:`platform_kinds`, for the
service workers and the ``carbonpeak jobs`` commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from carbonpeak.errors import PermissionDenied
from carbonpeak.store.access import PROVINCE_ROLES
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal
from carbonpeak.workflows.jobs import KINDS, JobKind, JobParams, Progress, job_kind, load_kinds


class ReportParams(JobParams):
    year: int | None = Field(default=None, ge=2000, le=2100)
    lang: str = Field(default="zh", pattern="^(zh|en)$")
    pdf: bool = True


@job_kind("report.assessment", ReportParams)
def assessment_report(store: Store, params: ReportParams, p: Principal, progress: Progress) -> dict[str, Any]:
    """Write the annual assessment report (HTML, PDF, JSON) into the setting ``reports_dir``."""
    from carbonpeak.config import get_settings
    from carbonpeak.reports.annual import write_assessment_report

    if p.role not in PROVINCE_ROLES:
        raise PermissionDenied("province roles only")
    files = write_assessment_report(
        store, params.year, Path(get_settings().reports_dir), lang=params.lang, pdf=params.pdf, progress=progress
    )
    return {"files": [x.name for x in files]}


def platform_kinds() -> dict[str, JobKind]:
    """Every job kind of the platform (the workflows' and the report's)."""
    load_kinds()
    return dict(KINDS)
