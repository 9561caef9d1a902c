"""``carbonpeak factors``: the reference catalog with its sources.

Commands: ``list``, ``show ID``, ``gwp``, ``check FILE``, ``status``, ``grid``.  ``--factors FILE`` (repeatable)
layers user factor files over the defaults exactly as the computing commands do, so ``list`` and
``show`` display what a computation would use and which default rows a file overrides.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from carbonpeak.cli.output import Format, FormatOption, emit

FactorsOption = typer.Option(
    [], "--factors", help="User factor file(s) overriding the defaults (repeatable; later files win)."
)

_LIST_COLUMNS = [
    "item",
    "parameter",
    "gas",
    "category",
    "region",
    "year_from",
    "year_to",
    "value",
    "unit",
    "uncertainty_pct",
    "status",
    "overridden",
    "origin",
    "source",
]


def _frame(records: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(records, columns=columns)
    for c in ("year_from", "year_to"):
        if c in df:
            df[c] = df[c].astype("Int64")
    return df


def _years(a: object, b: object) -> str:
    fa = "" if a is None or pd.isna(a) else str(int(a))  # type: ignore[call-overload]
    fb = "" if b is None or pd.isna(b) else str(int(b))  # type: ignore[call-overload]
    if not fa and not fb:
        return ""
    return fa if fa == fb else f"{fa}-{fb}"


def _compact(df: pd.DataFrame, source_width: int = 48) -> pd.DataFrame:
    """The people-readable view for ``--format table``: fewer columns, short sources."""
    out = pd.DataFrame()
    for c in ("item", "parameter", "gas", "category", "region"):
        if c in df:
            out[c] = df[c].fillna("")
    if "year_from" in df:
        out["years"] = [_years(a, b) for a, b in zip(df["year_from"], df["year_to"], strict=True)]
    out["value"] = df["value"]
    out["unit"] = df["unit"]
    if "uncertainty_pct" in df:
        out["±%"] = df["uncertainty_pct"]
    out["status"] = df["status"]
    out["overridden"] = df["overridden"]
    out["origin"] = df["origin"]
    src = df["source"].fillna("").astype(str)
    out["source"] = [t if len(t) <= source_width else t[: source_width - 1] + "…" for t in src]
    return out.loc[:, [c for c in out.columns if c == "value" or (out[c].astype(str) != "").any()]]


def register(app: typer.Typer) -> None:
    factors = typer.Typer(
        help="The reference catalog: fuels, factors, grid factors and GWPs, with sources.",
        no_args_is_help=True,
    )
    app.add_typer(factors, name="factors")

    @factors.command("list")
    def list_cmd(
        item: str | None = typer.Option(None, "--item", help="Only this item id."),
        parameter: str | None = typer.Option(None, "--parameter", help="Only this parameter."),
        status: str | None = typer.Option(None, "--status", help="Only rows with this status."),
        files: list[Path] = FactorsOption,
        fmt: Format = FormatOption,
    ) -> None:
        """List factor rows (defaults and user files) with unit, source, status and overrides."""
        from carbonpeak.catalog.factor_tools import load_factor_set, row_states

        fs = load_factor_set(files)
        recs = []
        for st in row_states(fs):
            r = st.row
            if item and r.item != item:
                continue
            if parameter and r.parameter != parameter:
                continue
            if status and r.status != status:
                continue
            recs.append(st.to_dict())
        df = _frame(recs, _LIST_COLUMNS)
        title = f"{len(df)} factor rows" + (f" (user files: {', '.join(map(str, files))})" if files else "")
        emit(
            fmt,
            data={"rows": recs, "override_files": [str(f) for f in files]},
            table=_compact(df) if fmt == Format.table else df,
            title=title,
        )

    @factors.command("show")
    def show_cmd(
        item_id: str = typer.Argument(..., metavar="ID", help="Catalog item id, e.g. raw_coal."),
        files: list[Path] = FactorsOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Everything the catalog knows about one item: names, unit, and every factor with its source."""
        from carbonpeak.catalog.factor_tools import load_factor_set, row_states
        from carbonpeak.catalog.items import get_items
        from carbonpeak.errors import CatalogError

        fs = load_factor_set(files)
        items = get_items()
        states = sorted(
            (s for s in row_states(fs) if s.row.item == item_id),
            key=lambda s: (s.row.parameter, s.row.gas, s.row.category, s.row.origin != "default"),
        )
        if item_id not in items and not states:
            raise CatalogError(f"unknown item '{item_id}'; see `carbonpeak factors list`")
        info: dict[str, object] = {"id": item_id}
        if item_id in items:
            it = items[item_id]
            info.update(
                name_zh=it.name_zh,
                name_en=it.name_en,
                kind=it.kind,
                group=it.group or None,
                unit=it.unit or None,
                note=it.note or None,
                defined_in=f"items/{it.file}",
            )
        recs = [s.to_dict() for s in states]
        df = _frame(recs, [c for c in _LIST_COLUMNS if c != "item"] + ["overridden_by", "note"])
        if fmt == Format.table:
            from carbonpeak.cli.output import console

            for k, v in info.items():
                if v:
                    console.print(f"[bold]{k}[/]: {v}", highlight=False)
            if not recs:
                console.print("(no factor rows for this item)")
        if fmt == Format.table and recs:
            df = _compact(df)
        emit(
            fmt,
            data={"item": info, "factors": recs},
            table=df,
            title=f"factors of {item_id}",
        )

    @factors.command("gwp")
    def gwp_cmd(
        gwp_set: str | None = typer.Option(
            None, "--set", help="AR4, AR5 or AR6 (default: all, side by side)."
        ),
        fmt: Format = FormatOption,
    ) -> None:
        """The GWP-100 table; the default set and why it is the default."""
        from carbonpeak.catalog.gwp import DEFAULT_GWP, DEFAULT_GWP_SOURCE, GWP_SETS
        from carbonpeak.catalog.loader import load_csv
        from carbonpeak.errors import CatalogError

        df = load_csv("gwp.csv")
        df["value"] = df["value"].astype(float)
        meta = {"default_set": DEFAULT_GWP, "default_source": DEFAULT_GWP_SOURCE}
        if gwp_set:
            key = gwp_set.upper()
            if key not in GWP_SETS:
                raise CatalogError(f"unknown GWP set '{gwp_set}'; choose one of {', '.join(GWP_SETS)}")
            sub = df[df["gwp_set"] == key][["gas", "value", "source", "status", "note"]].reset_index(
                drop=True
            )
            emit(
                fmt,
                data={**meta, "set": key, "values": sub.to_dict(orient="records")},
                table=sub,
                title=f"GWP-100, {key}" + (" (default)" if key == DEFAULT_GWP else ""),
            )
        else:
            wide = df.pivot_table(index="gas", columns="gwp_set", values="value", sort=False).reset_index()
            wide.columns.name = None
            emit(
                fmt,
                data={
                    **meta,
                    "sets": {
                        s: dict(zip(g["gas"], g["value"], strict=True)) for s, g in df.groupby("gwp_set")
                    },
                },
                table=wide,
                title=f"GWP-100 (default {DEFAULT_GWP}: {DEFAULT_GWP_SOURCE})",
            )

    @factors.command("check")
    def check_cmd(
        file: Path = typer.Argument(..., help="A factor file in the catalog format (CSV or YAML)."),
        fmt: Format = FormatOption,
    ) -> None:
        """Validate a user factor file: format, known items, unit dimensions, ranges, duplicates."""
        from carbonpeak.catalog.factor_tools import check_factor_file, load_factor_set, row_states

        rows = check_factor_file(file)
        fs = load_factor_set([file])
        user = [s for s in row_states(fs) if s.row.origin != "default"]
        # which default rows the file replaces
        replaced = [s for s in row_states(fs) if s.row.origin == "default" and s.overridden != "no"]
        recs = [
            {
                "row": s.row.origin_row,
                "item": s.row.item,
                "parameter": s.row.parameter,
                "gas": s.row.gas or None,
                "category": s.row.category or None,
                "value": s.row.value,
                "unit": s.row.unit,
                "status": s.row.status,
                "replaces_default_rows": sum(
                    1
                    for d in replaced
                    if (d.row.item, d.row.parameter, d.row.gas) == (s.row.item, s.row.parameter, s.row.gas)
                ),
            }
            for s in user
        ]
        data = {"file": str(file), "ok": True, "rows": len(rows), "factors": recs}
        emit(fmt, data=data, table=pd.DataFrame(recs), title=f"{file}: OK, {len(rows)} rows")

    @factors.command("status")
    def status_cmd(fmt: Format = FormatOption) -> None:
        """Catalog rows counted by status (verified, derived, consistent, unverified, ...), per file."""
        from carbonpeak.catalog.factor_tools import status_counts

        data = status_counts(by_file=True)
        by_file: dict[str, dict[str, int]] = data["by_file"]  # type: ignore[assignment]
        table = pd.DataFrame([{"file": f, **c} for f, c in by_file.items()])
        table.loc[len(table)] = {"file": "total", **data["by_status"]}  # type: ignore[dict-item]
        emit(fmt, data=data, table=table, title=f"{data['total']} catalog rows by status")

    @factors.command("grid")
    def grid_cmd(
        year: int = typer.Argument(..., help="Year the electricity was used."),
        grid: str = typer.Option("national", "--grid", help="national, south, guangxi, yunnan, ..."),
        series: str = typer.Option(
            "mee_nbs", "--series", help="mee_nbs (statistical) or ets (enterprise reporting)."
        ),
        files: list[Path] = FactorsOption,
        fmt: Format = FormatOption,
    ) -> None:
        """The grid CO2 factor used for a year (an unpublished year takes the closest published one; its note says so)."""
        from carbonpeak.catalog.factor_tools import load_factor_set
        from carbonpeak.catalog.grid import grid_factor

        fv = grid_factor(year, grid, series, load_factor_set(files))
        d = fv.to_dict()
        emit(fmt, data=d, table=pd.DataFrame([d]), title=f"grid factor {grid} {year} ({series})")
