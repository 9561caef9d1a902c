"""Tables that fit the terminal: the table format of :mod:`carbonpeak.cli.output`.

A table wider than the terminal (80 columns when it is not a terminal and ``COLUMNS`` is unset)
is fitted instead of folded letter by letter:

1. text columns are cut with "…" (the widest first, down to :data:`MIN_TEXT` characters);
   numbers are never cut;
2. if it is still too wide, the last columns are left out and the caption names them.

``--wide`` (anywhere on the command line) prints every column in full, whatever the width
(for ``less -S`` or a file); ``--format csv|json`` give all the data.  Columns of
probabilities — named ``probability``, ``p_*``, ``*_probability`` or ``*_prob`` — print as
percentages (``59.5%``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

#: Set by ``--wide`` (see :func:`carbonpeak.cli.main`): print every column in full.
WIDE = False
#: A text column is never cut below this many characters (or its full width, if less).
MIN_TEXT = 10


def is_percent_column(name: str) -> bool:
    """A column of probabilities (0–1) by its name: ``probability``, ``p_*``, ``*_probability``, ``*_prob``."""
    low = name.lower()
    return low in ("probability", "prob") or low.startswith("p_") or low.endswith(("_probability", "_prob"))


def fmt_percent(v: Any) -> str:
    """A probability as a percentage: 0.595 → ``59.5%`` (``–`` when missing)."""
    if v is None or isinstance(v, bool):
        return "–" if v is None else str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "–"
    return f"{f:.1%}"


def _overhead(n: int) -> int:
    """Characters a rich table with the default box and padding adds to ``n`` columns."""
    return 3 * n + 1


def fit_widths(headers: Sequence[str], numeric: Sequence[bool], rows: Sequence[Sequence[str]],
               width: int) -> tuple[list[int], int]:  # fmt: skip
    """Column widths that fit ``width`` and how many leading columns are shown."""
    nat = [max([cell_len(h)] + [cell_len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    widths = list(nat)
    shown = len(headers)
    avail = width - _overhead(shown)
    # 1. cut text columns, the widest first
    while sum(widths) > avail:
        cand = [i for i in range(shown) if not numeric[i] and widths[i] > min(MIN_TEXT, nat[i])]
        if not cand:
            break
        i = max(cand, key=lambda k: widths[k])
        widths[i] -= 1
    # 2. leave out the last columns
    while shown > 1 and sum(widths[:shown]) > width - _overhead(shown):
        shown -= 1
    return widths[:shown], shown


def fit_and_print(headers: Sequence[str], numeric: Sequence[bool], rows: Sequence[Sequence[str]],
                  title: str | None, console: Console, *, wide: bool | None = None) -> None:  # fmt: skip
    """Print the formatted ``rows`` as a table that fits ``console`` (all of it with ``wide``)."""
    wide = WIDE if wide is None else wide
    if wide:
        nat = [max([cell_len(h)] + [cell_len(r[i]) for r in rows]) for i, h in enumerate(headers)]
        need = sum(nat) + _overhead(len(headers))
        console = Console(width=max(console.width, need), file=console.file, force_terminal=console.is_terminal,
                          no_color=console.no_color)  # fmt: skip
        widths, shown = nat, len(headers)
    else:
        widths, shown = fit_widths(headers, numeric, rows, console.width)
    caption = None
    if shown < len(headers):
        left = list(headers[shown:])
        caption = f"{len(left)} more column(s) not shown: {', '.join(left)} (--wide shows all; or --format csv)"
    t = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    for i in range(shown):
        t.add_column(headers[i], justify="right" if numeric[i] else "left", overflow="ellipsis", no_wrap=True,
                     min_width=widths[i] if numeric[i] else None, max_width=widths[i])  # fmt: skip
    for r in rows:
        t.add_row(*r[:shown])
    console.print(t)
