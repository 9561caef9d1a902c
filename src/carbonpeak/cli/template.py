"""``carbonpeak template KIND``: the Excel input template of activity data, observations,
readings or output (Chinese and English headers, drop-down lists, an instructions sheet)."""

from __future__ import annotations

from pathlib import Path

import typer


def template_cmd(
    kind: str = typer.Argument(..., help="activity, observations, readings or output"),
    lang: str = typer.Option("zh", "--lang", help="Language of the headers, lists and instructions: zh or en."),
    output: Path | None = typer.Option(
        None, "-o", "--output", dir_okay=False, help="Where to write the .xlsx (default: KIND_template_LANG.xlsx)."
    ),
) -> None:
    """Write the Excel template of one kind of input (fill it in, then import or upload it)."""
    from carbonpeak.io.templates import kinds, write_template

    if kind not in kinds():
        raise typer.BadParameter(f"'{kind}' is not a template; one of: {', '.join(kinds())}", param_hint="KIND")
    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    path = output or Path(f"{kind}_template_{lang}.xlsx")
    write_template(kind, lang, path)  # type: ignore[arg-type]
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("template")(template_cmd)
