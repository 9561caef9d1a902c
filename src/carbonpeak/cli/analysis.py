"""Inventory analysis commands: key categories and recalculations.

* ``carbonpeak keycategories FILE... --year Y [--base-year B]`` — IPCC 2006 Vol 1 Ch 4 key
  category analysis (level and trend, Approach 1 and 2) of the compiled inventory;
* ``carbonpeak recalc --previous FILE... --current FILE...`` — what changed between two
  versions of the activity data and/or factors, by year × category × gas, with the reasons, the
  year-on-year jump check and the implied-emission-factor outliers.

Both compile the activity files with the inventory engine first (``--gwp``, ``--factors`` as in
``inventory compile``).  JSON keys are documented in ``docs/methods/uncertainty.md``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console

from carbonpeak.cli.output import Format, FormatOption, emit

_err = Console(stderr=True)


class Gwp(StrEnum):
    AR4 = "AR4"
    AR5 = "AR5"
    AR6 = "AR6"


def _gwp(g: Gwp | None) -> str:
    if g is not None:
        return g.value
    from carbonpeak.config import get_settings

    return get_settings().gwp


def _compile(files: list[Path], factors: list[Path], gwp: str) -> Any:
    from carbonpeak.accounting.engine import compile_inventory
    from carbonpeak.catalog.factors import FactorSet
    from carbonpeak.model.activity import load_activity

    act = load_activity(files)
    return compile_inventory(act, FactorSet.default(overrides=factors), gwp=gwp)


def _pick_region(results: pd.DataFrame, region: str | None) -> str | None:
    """The region to analyse: the one asked for, or the province when it is there with its cities."""
    if region is not None:
        return region
    from carbonpeak.catalog.regions import PROVINCE

    regions = sorted(results["region"].astype(str).unique()) if "region" in results.columns else []
    if len(regions) > 1 and PROVINCE in regions:
        _err.print(
            f"[dim]results hold {len(regions)} regions; analysing the province {PROVINCE} "
            "(use --region to choose another)[/]"
        )
        return PROVINCE
    return None


def keycategories_cmd(
    files: list[Path] = typer.Argument(..., help="Activity files (CSV, Excel, Parquet)."),
    year: int = typer.Option(..., "--year", help="Year of the level assessment."),
    base_year: int | None = typer.Option(None, "--base-year", help="Base year of the trend assessment."),
    gwp: Gwp | None = typer.Option(None, "--gwp", help="GWP set (default: settings)."),
    factors: list[Path] = typer.Option(
        [], "--factors", help="Factor file overriding the defaults (repeatable)."
    ),
    threshold: float = typer.Option(0.95, "--threshold", help="Cumulative share of Approach 1 (0-1)."),
    no_lulucf: bool = typer.Option(False, "--no-lulucf", help="Exclude LULUCF categories."),
    level: str = typer.Option("category", "--level", help="category | sector | number of code parts."),
    region: str | None = typer.Option(None, "--region", help="Region to analyse (default: the province)."),
    fmt: Format = FormatOption,
) -> None:
    """Key category analysis (IPCC 2006 Vol 1 Ch 4): level, trend, Approach 1 and 2."""
    from carbonpeak.accounting.keycategory import key_categories, summary

    inv = _compile(files, factors, _gwp(gwp))
    res = inv.results
    reg = _pick_region(res, region)
    table = key_categories(
        res,
        year,
        base_year,
        threshold=threshold,
        include_lulucf=not no_lulucf,
        level=level,
        region=reg,
        notation=inv.notation_keys(region=reg),
    )
    data = {
        "year": year,
        "base_year": base_year,
        "region": reg,
        "gwp": inv.gwp,
        "threshold": threshold,
        "include_lulucf": not no_lulucf,
        "summary": summary(table),
        "categories": table,
    }
    extra: list[tuple[str, pd.DataFrame]] = []
    if base_year is not None:
        from carbonpeak.accounting.uncertainty import approach1_trend

        tu = approach1_trend(res, base_year, year, region=reg, notation=inv.notation_keys(region=reg))
        data["trend_uncertainty"] = tu.to_dict()
        extra.append(
            (
                "Approach 1 uncertainty (IPCC 2006 Vol 1 Ch 3 Table 3.2)",
                pd.DataFrame(
                    [
                        {"figure": f"level uncertainty {year} (%)", "value": tu.level_uncertainty_pct},
                        {"figure": f"trend {base_year}-{year} (%)", "value": tu.trend_pct},
                        {
                            "figure": "trend uncertainty (percentage points)",
                            "value": tu.trend_uncertainty_pct_points,
                        },
                    ]
                ),
            )
        )
    shown = table
    if fmt == Format.table:
        cols = ["category", "gas", "co2e_t", "level", "level_cumulative", "trend_contribution"]
        shown = table.loc[table["key"], [*cols, "uncertainty_pct", "criteria"]]
    title = (
        f"Key categories {year}"
        + (f" (trend from {base_year})" if base_year else "")
        + f", {reg or 'all regions'}"
        f", {inv.gwp}: {int(table['key'].sum())} of {len(table)}"
    )
    emit(fmt, data=data, table=shown, title=title, extra_tables=extra)


def recalc_cmd(
    previous: list[Path] = typer.Option(
        ..., "--previous", help="Previous activity file(s) (repeat the option)."
    ),
    current: list[Path] = typer.Option(
        ..., "--current", help="Current activity file(s) (repeat the option)."
    ),
    previous_factors: list[Path] = typer.Option(
        [], "--previous-factors", help="Factor file(s) of the previous run."
    ),
    current_factors: list[Path] = typer.Option(
        [], "--current-factors", help="Factor file(s) of the current run."
    ),
    gwp: Gwp | None = typer.Option(None, "--gwp", help="GWP set for both runs (default: settings)."),
    previous_gwp: Gwp | None = typer.Option(None, "--previous-gwp", help="GWP set of the previous run."),
    region: str | None = typer.Option(None, "--region", help="Region to compare (default: the province)."),
    jump_threshold: float = typer.Option(10.0, "--jump-threshold", help="Year-on-year jump flag, in %."),
    ief_tolerance: float = typer.Option(50.0, "--ief-tolerance", help="Implied-EF outlier tolerance, in %."),
    changed_only: bool = typer.Option(False, "--changed-only", help="Only rows whose figure changed."),
    fmt: Format = FormatOption,
) -> None:
    """Recalculation report: previous vs current inventory by year × category × gas, with reasons."""
    from carbonpeak.accounting.recalc import implied_ef_outliers, recalculation_report

    g = _gwp(gwp)
    prev = _compile(previous, previous_factors, previous_gwp.value if previous_gwp else g)
    cur = _compile(current, current_factors, g)
    reg = _pick_region(cur.results, region)
    report = recalculation_report(prev.results, cur.results, jump_threshold_pct=jump_threshold, region=reg)
    cur_res = cur.results if reg is None else cur.results[cur.results["region"] == reg]
    ief = implied_ef_outliers(cur_res, tolerance_pct=ief_tolerance)
    outliers = ief[ief["outlier"]] if len(ief) else ief
    if changed_only:
        report = report[report["reason"] != "unchanged"]
    totals = (
        report.groupby("year")[["previous_co2e_t", "current_co2e_t", "difference_co2e_t"]].sum().reset_index()
    )
    data = {
        "region": reg,
        "previous_gwp": prev.gwp,
        "current_gwp": cur.gwp,
        "totals_by_year": totals,
        "rows": report,
        "yoy_jumps": report[report["yoy_jump"]],
        "implied_ef_outliers": outliers,
    }
    extra = [("Totals by year (tCO2e)", totals)]
    if len(outliers):
        extra.append(("Implied-EF outliers (current)", outliers))
    shown = report
    if fmt == Format.table:
        shown = report.loc[
            report["reason"] != "unchanged",
            ["year", "category", "gas", "previous_co2e_t", "current_co2e_t", "change_pct", "reason"],
        ]
    emit(fmt, data=data, table=shown, title=f"Recalculations, {reg or 'all regions'}", extra_tables=extra)


def register(app: typer.Typer) -> None:
    app.command("keycategories")(keycategories_cmd)
    app.command("recalc")(recalc_cmd)
