"""``carbonpeak inventory``: compile, explain and import greenhouse-gas inventories.

Commands:

* ``compile FILE...`` — activity files → inventory summary (JSON keys in docs/inventory.md),
  optionally with the uncertainty of the total (IPCC Approach 1 or Monte Carlo);
* ``explain FILE... --category C --year Y`` — the rows and factors behind one figure, with any
  user override shown;
* ``import FILE... --db PATH`` — store activity data in the DuckDB store (all-or-nothing,
  idempotent);
* ``categories`` — the IPCC 2006 category tree.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from carbonpeak.cli.output import Format, FormatOption, emit

_err = Console(stderr=True)


class GwpSet(StrEnum):
    AR4 = "AR4"
    AR5 = "AR5"
    AR6 = "AR6"


class UncertaintyMode(StrEnum):
    none = "none"
    approach1 = "approach1"
    mc = "mc"


FilesArg = typer.Argument(..., exists=False, help="Activity files (CSV, Excel, Parquet).")
FactorsOpt = typer.Option(
    [], "--factors", help="Factor file overriding the defaults item by item (repeatable)."
)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    )


def _default_gwp() -> str:
    import os

    if not any(k.upper() == "CARBONPEAK_GWP" for k in os.environ) and not Path(
        os.environ.get("CARBONPEAK_CONFIG", "carbonpeak.toml")
    ).exists():
        # nothing sets it: the settings' default, without loading the settings machinery (pydantic,
        # a tenth of `inventory compile`'s time); tests/cli check the two defaults agree
        from carbonpeak.catalog.gwp import DEFAULT_GWP

        return DEFAULT_GWP
    from carbonpeak.config import get_settings

    return get_settings().gwp


NotationOpt = typer.Option(
    None,
    "--notation",
    help="CSV of declared IPCC notation keys: year,region,category,key[,gas,note] (NE, NO, NA, IE, C).",
)

GridOpt = typer.Option(
    None,
    "--import-grid",
    help="Grid factor for plain M.ELEC rows: south (default), national, ... (catalog grids).",
)


def _read_notation(path: Path | None) -> Any:
    """Declared notation keys from a CSV (validated; errors name file, row and field)."""
    if path is None:
        return None
    from carbonpeak.accounting.notation import declared
    from carbonpeak.errors import Problem, ValidationError

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    except (OSError, ValueError) as exc:
        raise ValidationError([Problem(str(path), None, None, f"cannot read notation keys: {exc}")]) from exc
    return declared(df, origin=str(path), first_row=2)


def _compile(
    files: list[Path],
    factors: list[Path],
    gwp: str,
    progress: Progress,
    import_grid: str | None = None,
    notation: Path | None = None,
) -> Any:
    from carbonpeak.accounting.engine import compile_inventory
    from carbonpeak.catalog.factors import FactorSet
    from carbonpeak.model.activity import load_activity

    t = progress.add_task("reading and validating activity data", total=3)
    act = load_activity(files)
    progress.update(t, advance=1, description="loading factors")
    fs = FactorSet.default(overrides=factors)
    progress.update(t, advance=1, description=f"compiling {len(act):,} activity rows")
    inv = compile_inventory(
        act,
        fs,
        gwp=gwp,
        options={"import_grid": import_grid} if import_grid else None,
        notation_keys=_read_notation(notation),
    )
    progress.update(t, advance=1)
    return inv


def _summary_tables(summary: dict[str, Any]) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
    from carbonpeak.catalog.categories import get_categories

    cats = get_categories()
    rows = [
        {"category": c, "name": cats[c].name_en if c in cats else "", "co2e_t": v}
        for c, v in summary["by_category"].items()
        if c not in cats or cats[c].level <= 3
    ]
    totals = pd.DataFrame(
        [
            {"figure": "total_co2e_t", "value": summary["total_co2e_t"]},
            {"figure": "total_excluding_lulucf_co2e_t", "value": summary["total_excluding_lulucf_co2e_t"]},
            {"figure": "removals_co2e_t", "value": summary["removals_co2e_t"]},
            {"figure": "consumption_based_co2e_t", "value": summary["consumption_based_co2e_t"]},
        ]
        + [{"figure": f"memo.{k}", "value": v} for k, v in summary["memo"].items() if k != "reference_check"]
        + [
            {"figure": f"uncertainty.{k}", "value": v}
            for k, v in (summary.get("uncertainty") or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
    )
    gases = pd.DataFrame([{"gas": g, "mass_t": m} for g, m in summary["by_gas"].items()])
    return pd.DataFrame(rows), [("Totals and memo items", totals), ("Mass by gas (t)", gases)]


def _category_rows(summary: dict[str, Any]) -> dict[str, float]:
    from carbonpeak.catalog.categories import get_categories

    cats = get_categories()
    return {c: v for c, v in summary["by_category"].items() if c not in cats or cats[c].level <= 3}


def _by_year_tables(
    by_year: dict[int, dict[str, Any]],
) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
    """The category table with one column per year (tCO2e), and totals and gases by year."""
    from carbonpeak.catalog.categories import get_categories

    cats = get_categories()
    codes: dict[str, None] = {}
    for s in by_year.values():
        codes.update(dict.fromkeys(_category_rows(s)))
    order = {c: i for i, c in enumerate(cats)}
    rows = [
        {"category": c, "name": cats[c].name_en if c in cats else ""}
        | {str(y): s["by_category"].get(c) for y, s in by_year.items()}
        for c in sorted(codes, key=lambda c: order.get(c, 1 << 30))
    ]
    figures = ("total_co2e_t", "total_excluding_lulucf_co2e_t", "removals_co2e_t", "consumption_based_co2e_t")
    totals = pd.DataFrame([{"figure": f} | {str(y): s[f] for y, s in by_year.items()} for f in figures])
    gases = sorted({g for s in by_year.values() for g in s["by_gas"]})
    gas = pd.DataFrame([{"gas": g} | {str(y): s["by_gas"].get(g) for y, s in by_year.items()} for g in gases])
    return pd.DataFrame(rows), [("Totals by year (tCO2e)", totals), ("Mass by gas and year (t)", gas)]


def compile_cmd(
    files: list[Path] = FilesArg,
    gwp: GwpSet | None = typer.Option(None, "--gwp", help="GWP set (default: settings, AR5)."),
    uncertainty: UncertaintyMode = typer.Option(
        UncertaintyMode.none, "--uncertainty", help="Uncertainty of the total."
    ),
    draws: int = typer.Option(100_000, "--draws", min=100, help="Monte Carlo draws."),
    seed: int = typer.Option(0, "--seed", help="Monte Carlo seed."),
    factors: list[Path] = FactorsOpt,
    year: int | None = typer.Option(
        None, "--year", help="Only this year (several years without --year: one column per year)."
    ),
    region: str | None = typer.Option(None, "--region", help="Only this region (GD, GD-GZ, ...)."),
    import_grid: str | None = GridOpt,
    notation: Path | None = NotationOpt,
    detail: bool = typer.Option(
        False,
        "--detail",
        help="csv: the row-level results (one row per year, region, category, item and gas, with "
        "notation keys) instead of the category table; xlsx always has them as a sheet.",
    ),
    fmt: Format = FormatOption,
) -> None:
    """Compile an inventory from activity files and print its summary (by year if several)."""
    gwp_set = gwp.value if gwp is not None else _default_gwp()
    with _progress() as progress:
        inv = _compile(files, factors, gwp_set, progress, import_grid, notation)
        summary = inv.summary(year=year, region=region)
        years = list(summary["years"])
        if uncertainty != UncertaintyMode.none:
            if len(years) > 1:
                from carbonpeak.errors import CarbonpeakError

                raise CarbonpeakError(
                    f"the data hold {len(years)} years ({years[0]}–{years[-1]}); the uncertainty is of one "
                    "year's total: add --year"
                )
            from carbonpeak.accounting import uncertainty as unc

            t = progress.add_task(f"uncertainty ({uncertainty.value})", total=1)
            sel = inv.select(year, region, explain=False)
            terr = sel[sel["scope"] == "territorial"]
            if uncertainty == UncertaintyMode.approach1:
                res = unc.approach1(terr)
            else:
                res = unc.monte_carlo(terr, draws=draws, seed=seed)
            summary["uncertainty"] = res.to_dict()
            progress.update(t, advance=1)
    where = ", ".join(summary["regions"])
    sources = [{"what": "activity file", "source": str(f), "status": ""} for f in files] + [
        {"what": "gwp", "source": summary["gwp"], "status": ""}
    ]
    if (fmt == Format.csv and detail) or fmt == Format.parquet:
        # estimated rows plus one row per notation key (NE, NO, ...): missing is not zero
        emit(fmt, table=inv.export(year, region))
        return
    if len(years) > 1:
        # several years are never added together: one column per year
        by_year = inv.summary_by_year(region=region)
        table, extra = _by_year_tables(by_year)
        title = f"Inventory by year ({summary['gwp']}; regions {where}) tCO2e"
        data: dict[str, Any] = {
            "gwp": summary["gwp"],
            "years": years,
            "regions": summary["regions"],
            "by_year": {str(y): s for y, s in by_year.items()},
            "warnings": summary.get("warnings", []),
        }
    else:
        table, extra = _summary_tables(summary)
        title = f"Inventory ({summary['gwp']}; year {', '.join(map(str, years))}; regions {where}) tCO2e"
        data = summary
    if fmt == Format.xlsx:
        extra = [*extra, ("Detail (rows)", inv.export(year, region))]
        emit(fmt, data=data, table=table, title="Categories (tCO2e)", extra_tables=extra, sources=sources,
             units={str(y): "tCO2e" for y in years})
        return
    emit(fmt, data=data, table=table, title=title, extra_tables=extra)
    if fmt == Format.table:
        for w in summary.get("warnings", []):
            _err.print(f"[yellow]warning:[/] {w}", markup=True, highlight=False)


def explain_cmd(
    files: list[Path] = FilesArg,
    category: str = typer.Option(..., "--category", help="IPCC 2006 code (sub-categories included)."),
    year: int | None = typer.Option(None, "--year"),
    region: str | None = typer.Option(None, "--region"),
    gas: str | None = typer.Option(None, "--gas"),
    item: str | None = typer.Option(None, "--item"),
    gwp: GwpSet | None = typer.Option(None, "--gwp"),
    factors: list[Path] = FactorsOpt,
    import_grid: str | None = GridOpt,
    fmt: Format = FormatOption,
) -> None:
    """Show the activity rows and factors behind one figure (user overrides flagged)."""
    gwp_set = gwp.value if gwp is not None else _default_gwp()
    with _progress() as progress:
        inv = _compile(files, factors, gwp_set, progress, import_grid)
    ex = inv.explain(category, year=year, region=region, gas=gas, item=item)
    rows = pd.DataFrame(
        [
            {k: r[k] for k in ("year", "region", "category", "item", "gas", "scope", "mass_t", "co2e_t")}
            | {
                "file": (r["explain"].get("activity") or {}).get("file"),
                "row": (r["explain"].get("activity") or {}).get("row"),
            }
            for r in ex["rows"]
        ]
    )
    facs = pd.DataFrame(
        [
            {
                k: f.get(k)
                for k in (
                    "item",
                    "parameter",
                    "gas",
                    "category",
                    "value",
                    "unit",
                    "source",
                    "status",
                    "overridden",
                    "origin",
                )
            }
            for f in ex["factors"]
        ]
    )
    title = f"{category} {ex['name_en'] or ''}: {ex['total_co2e_t']:,.2f} tCO2e ({ex['gwp']})" + (
        " — USER FACTOR OVERRIDE USED" if ex["overridden"] else ""
    )
    emit(fmt, data=ex, table=rows, title=title, extra_tables=[("Factors", facs)] if len(facs) else [])


def import_cmd(
    files: list[Path] = FilesArg,
    db: Path | None = typer.Option(None, "--db", help="DuckDB file (default: settings db_path)."),
    submitter: str = typer.Option("cli", "--submitter", help="Who submits the data."),
    fmt: Format = FormatOption,
) -> None:
    """Validate activity files and store them as one batch (all-or-nothing, idempotent)."""
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store
    from carbonpeak.workflows.inventory import import_activity

    path = db if db is not None else get_settings().store_location
    with Store(path) as store:
        shown = store.path  # a PostgreSQL URL without its password
        res = import_activity(store, [(f, str(f)) for f in files], submitter=submitter)
    data = {"batch_id": res.batch_id, "rows": res.rows, "created": res.created, "db": shown}
    emit(fmt, data=data, table=[data], title="Activity import" + ("" if res.created else " (already stored)"))


def categories_cmd(
    sector: str | None = typer.Option(
        None, "--sector", help="energy, ippu, agriculture, lulucf, waste, memo"
    ),
    fmt: Format = FormatOption,
) -> None:
    """List the IPCC 2006 category tree (and carbonpeak's memo codes)."""
    from carbonpeak.catalog.categories import get_categories

    rows = [
        {
            "code": c.code,
            "parent": c.parent,
            "sector": c.sector,
            "name_en": c.name_en,
            "name_zh": c.name_zh,
            "unit_dims": "|".join(c.unit_dims),
        }
        for c in get_categories().values()
        if sector is None or c.sector == sector
    ]
    emit(fmt, data=rows, table=rows, title="IPCC 2006 categories")


def register(app: typer.Typer) -> None:
    inv = typer.Typer(help="Greenhouse-gas inventory: compile, explain, import.", no_args_is_help=True)
    inv.command("compile")(compile_cmd)
    inv.command("explain")(explain_cmd)
    inv.command("import")(import_cmd)
    inv.command("categories")(categories_cmd)
    app.add_typer(inv, name="inventory")
