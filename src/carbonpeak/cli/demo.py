"""``carbonpeak demo``: the main job on the bundled Guangdong data; ``carbonpeak demo load``: the demo in the store.

``carbonpeak demo``: demo activity data → inventory → computed indicators + demo observations →
peak outlook (scenarios) → annual assessment → report (HTML + PDF in zh and en, JSON, marked
示范数据 / demo data) in ``demo-output/``, from the bundled files (the store is not touched).

``carbonpeak demo load [--db]``: import the bundled files into the store through the ordinary
import path (audited, idempotent batches with the submitter ``demo``), so that the service, the
dashboard and the store-reading commands show them — labelled 示范数据 / demo data everywhere.
Without it, an empty store is an empty platform.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer

from carbonpeak.cli.output import Format, FormatOption, emit, print_table

DEFAULT_YEAR = 2023


def demo_cmd(
    ctx: typer.Context,
    year: int = typer.Option(DEFAULT_YEAR, "--year", help="Assessment year"),
    out: Path = typer.Option(Path("demo-output"), "--out", help="Output folder"),
    lang: str = typer.Option("both", "--lang", help="zh, en or both"),
    draws: int = typer.Option(1000, "--draws", help="Monte Carlo draws of the peak outlook"),
    seed: int = typer.Option(0, "--seed", help="Random seed of the peak outlook"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Print the PDF with headless Chromium"),
    fmt: Format = FormatOption,
) -> None:
    """Run the whole chain on the bundled Guangdong demo data and write the annual assessment report.

    `carbonpeak demo load` puts the demo data into the store instead (for the service and dashboard).
    """
    if ctx.invoked_subcommand is not None:
        return
    import pandas as pd

    from carbonpeak.cli.targets import load_chain
    from carbonpeak.demo import demo_files
    from carbonpeak.reports.assessment import write_report
    from carbonpeak.reports.pdf import find_chromium, html_to_pdf
    from carbonpeak.targets.assess import assess, latest_assessable_year, status_coverage

    t0 = time.perf_counter()
    langs = ["zh", "en"] if lang == "both" else [lang]
    activity = demo_files("activity") + demo_files("activity_cities")
    observations = demo_files("observations")
    ch = load_chain(
        activity=activity,
        observations=observations,
        db=None,
        base_year=2020,
        outlook=True,
        scenario="plan",
        draws=draws,
        seed=seed,
    )
    a = assess(
        year,
        ch.indicators,
        inventory_results=ch.inventory.select(explain=False) if ch.inventory else None,
        outlook=ch.outlook,
        activity_sources=ch.activity,
    )
    a["data"] = ch.data.to_dict()  # the report JSON says: demo data (the bundled files)
    coverage = status_coverage(a)
    coverage["latest_assessable_year"] = latest_assessable_year(ch.indicators) or year
    files = []
    for la in langs:
        rf = write_report(
            a,
            out,
            lang=la,
            inventory_results=ch.inventory.select(explain=False) if ch.inventory else None,
            outlook=ch.outlook,
            pdf=False,
            demo=True,
            gwp=ch.inventory.gwp if ch.inventory else "AR5",
        )
        files.append(rf)
    pdfs: list[Path] = []
    pdf_note = ""
    if pdf:
        if find_chromium() is None:
            pdf_note = "Chromium not found: PDF not written (run `make system-deps`)"
        else:
            with ThreadPoolExecutor(max_workers=len(files)) as ex:
                pdfs = list(ex.map(lambda rf: html_to_pdf(rf.html, rf.html.with_suffix(".pdf")), files))
    elapsed = time.perf_counter() - t0
    paths = [str(f.html) for f in files] + [str(p) for p in pdfs] + [str(files[0].json)]
    data = {
        "year": year,
        "summary": a["summary"],
        "coverage": coverage,
        "headline": a["headline"],
        "report_files": paths,
        "outlook_error": ch.outlook_error,
        "data": a["data"],
        "seconds": round(elapsed, 1),
    }
    if fmt != Format.table:
        emit(fmt, data=data, table=[{"file": p} for p in paths])
        return
    if ch.inventory is not None:
        _print_inventory_summary(ch.inventory)
    h = a["headline"]
    rows = []
    for k in ("co2_emissions", "co2_intensity", "energy_intensity", "nonfossil_share", "wind_solar_capacity"):
        v = h[k]
        rows.append(
            {"indicator": k, "value": v["value"], "unit": v["unit"], "year": v["year"], "status": v["status"]}
        )
    print_table(pd.DataFrame(rows), f"Guangdong demo: headline (assessment {year})")
    if "peak_outlook" in h:
        o = h["peak_outlook"]
        p_text = f"P(peak before 2030) = {o['p_peak_before_2030']:.0%}"
        if o.get("p_peak_before_2030_se") is not None:
            lo, hi = o["p_peak_before_2030_interval"]
            p_text += f" ± {o['p_peak_before_2030_se']:.1%} (95 % interval {lo:.0%}–{hi:.0%})"
        years = o.get("peak_year_range")
        span = f" (90 % of draws {years[0]}–{years[1]})" if years else ""
        typer.echo(
            f"Peak outlook ({o['scenario']}, {o['draws']} draws, seed {o['seed']}): median peak year "
            f"{o['peak_year']}{span}, {p_text}"
        )
    elif ch.outlook_error:
        typer.echo(ch.outlook_error)
    typer.echo("Targets: " + ", ".join(f"{k} {v}" for k, v in a["summary"].items()))
    typer.echo(
        f"Targets with a status in {year}: {coverage['with_status']} of {coverage['targets']}"
        f" (latest year with published GDP: {coverage['latest_assessable_year']})"
    )
    missed = a["cities"].get("missed") or []
    typer.echo("Cities that missed targets (通报批评): " + (", ".join(missed) if missed else "none"))
    if pdf_note:
        typer.echo(pdf_note)
    typer.echo(f"Report written in {elapsed:.1f} s:")
    for p in paths:
        typer.echo(f"  {Path(p).resolve()}")


def _print_inventory_summary(inv: object) -> None:
    """The province's inventory of the latest year: by sector, totals and memo items (issue 2 §5)."""
    import pandas as pd

    res = inv.select(explain=False)  # type: ignore[attr-defined]
    year = int(res.loc[(res["region"] == "GD") & (res["scope"] == "territorial"), "year"].max())
    s = inv.summary(year=year, region="GD")  # type: ignore[attr-defined]
    names = {
        "energy": "1 Energy",
        "ippu": "2 IPPU",
        "agriculture": "3 Agriculture",
        "lulucf": "3 LULUCF",
        "waste": "4 Waste",
    }
    by_sector = sorted(s["by_sector"].items(), key=lambda kv: names.get(kv[0], kv[0]))
    rows = [{"sector": names.get(k, k), "MtCO2e": v / 1e6} for k, v in by_sector]
    rows += [
        {"sector": "Total excluding LULUCF", "MtCO2e": s["total_excluding_lulucf_co2e_t"] / 1e6},
        {"sector": "Total including LULUCF", "MtCO2e": s["total_co2e_t"] / 1e6},
        {
            "sector": "memo: net imported electricity (CO2)",
            "MtCO2e": s["memo"]["imported_electricity_co2_t"] / 1e6,
        },
        {"sector": "Consumption-based total", "MtCO2e": s["consumption_based_co2e_t"] / 1e6},
    ]
    print_table(pd.DataFrame(rows), f"Guangdong demo inventory {year} ({s['gwp']}), MtCO2e")


def load_cmd(
    db: Path | None = typer.Option(None, "--db", help="DuckDB file (default: settings db_path)."),
    fmt: Format = FormatOption,
) -> None:
    """Import the bundled demo data into the store (audited, idempotent; labelled demo data everywhere)."""
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store
    from carbonpeak.workflows.demo import load_demo

    path = db if db is not None else get_settings().store_location
    with Store(path) as store:
        results = load_demo(store)
    rows = [{"batch_id": r.batch_id, "kind": r.kind, "rows": r.rows, "created": r.created} for r in results]
    new = any(r.created for r in results)
    emit(
        fmt,
        data={"db": str(path), "batches": rows},
        table=rows,
        title=f"Demo data loaded into {path}" if new else f"Demo data already in {path}",
    )


def register(app: typer.Typer) -> None:
    demo = typer.Typer(
        help="The bundled Guangdong demo: run it (report in demo-output/) or `demo load` it into the store.",
        invoke_without_command=True,
        no_args_is_help=False,
    )
    demo.callback(invoke_without_command=True)(demo_cmd)
    demo.command("load")(load_cmd)
    app.add_typer(demo, name="demo")
