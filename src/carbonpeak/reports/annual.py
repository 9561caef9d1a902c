"""The annual assessment report of the store's data (the service's report job).

The assessment itself comes from :mod:`carbonpeak.workflows.assessment`; this module only
writes it as HTML, JSON and PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from carbonpeak.store.duck import Store
from carbonpeak.workflows.assessment import assess_year, latest_checkpoint, store_chain


def write_assessment_report(
    store: Store,
    year: int | None,
    out_dir: Path,
    *,
    lang: str = "zh",
    pdf: bool = True,
    progress: Callable[[float], None] = lambda _f: None,
) -> list[Path]:
    """Write the report (HTML, JSON, PDF) of the store's assessment; the files written."""
    from carbonpeak.reports.assessment import write_report
    from carbonpeak.workflows.demo import data_status

    a = assess_year(store, year)
    from carbonpeak.workflows.markets import report_section

    a = {**a, "markets": report_section(store, a.get("year") if isinstance(a, dict) else year)}
    progress(0.4)
    ch = store_chain(store)
    rf = write_report(
        a,
        out_dir,
        lang=lang,
        inventory_results=ch.inventory.select(explain=False) if ch.inventory is not None else None,
        outlook=ch.outlook,
        pdf=pdf,
        demo=data_status(store).to_dict(),
        gwp=ch.inventory.gwp if ch.inventory is not None else "AR5",
        audit_checkpoint=latest_checkpoint(store),
    )
    progress(1.0)
    return [x for x in (rf.html, rf.json, rf.pdf) if x is not None]
