"""``carbonpeak sinks FILE...`` (also ``carbonpeak inventory sinks``): the carbon-sink account.

Compiles the activity files like ``inventory compile`` and prints the net CO2 removed by
forest, blue-carbon ecosystems (mangrove, salt marsh, seagrass) and other land, by year and
region.  JSON keys: :mod:`carbonpeak.accounting.sinks`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from carbonpeak.cli.output import Format, FormatOption, emit


def sinks_cmd(
    files: list[Path] = typer.Argument(..., help="Activity files (CSV, Excel, Parquet)."),
    factors: list[Path] = typer.Option(
        [], "--factors", help="Factor file overriding the defaults item by item (repeatable)."
    ),
    year: int | None = typer.Option(None, "--year", help="Only this year."),
    region: str | None = typer.Option(None, "--region", help="Only this region (GD, GD-GZ, ...)."),
    fmt: Format = FormatOption,
) -> None:
    """Carbon sinks: net t CO2 removed by ecosystem (forest, mangrove, salt marsh, seagrass, ...)."""
    from carbonpeak.accounting.engine import compile_inventory
    from carbonpeak.accounting.sinks import sink_account, sink_summary
    from carbonpeak.catalog.factors import FactorSet
    from carbonpeak.model.activity import load_activity

    act = load_activity(files)
    inv = compile_inventory(act, FactorSet.default(overrides=factors))
    acc = sink_account(inv.results)
    if year is not None:
        acc = acc[acc["year"] == year]
    if region is not None:
        acc = acc[acc["region"] == region]
    summary = sink_summary(inv.results, year=year, region=region)
    totals = [
        {"ecosystem": k, "removals_tco2": v} for k, v in summary["by_ecosystem"].items()
    ] + [{"ecosystem": "TOTAL", "removals_tco2": summary["total_removals_tco2"]}]
    emit(
        fmt,
        data=summary,
        table=acc,
        title="Carbon sinks: net t CO2 removed (positive = removal)",
        extra_tables=[("Totals by ecosystem", pd.DataFrame(totals))],
    )


def register(app: typer.Typer) -> None:
    app.command("sinks")(sinks_cmd)
    for group in app.registered_groups:
        if group.name == "inventory" and group.typer_instance is not None:
            group.typer_instance.command("sinks")(sinks_cmd)
