"""Report charts (matplotlib, SVG text kept as text so the browser renders it with the CJK font)."""

from __future__ import annotations

import glob
import io
import re
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ticker import FuncFormatter

#: WenQuanYi Micro Hei (TrueType outlines) first: Chromium embeds TrueType fonts in the PDF as real CID
#: fonts, whereas the CFF outlines of Noto/Source Han become Type 3 bitmaps-in-disguise that archive
#: badly (issue 12; checked with ``pdffonts`` in tests/reports).  DejaVu Sans (TrueType) supplies the
#: symbols WenQuanYi lacks (superscripts, ≥, ±) before the CFF families are tried.
FONT_STACK = ("'WenQuanYi Micro Hei', 'DejaVu Sans', 'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', "
              "sans-serif")
_FONT_GLOBS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK*.ttc",
    "/usr/share/fonts/**/NotoSansCJK*",
    "/usr/share/fonts/**/NotoSansSC*",
    "/usr/share/fonts/**/wqy-microhei*",
)
STATUS_COLOURS = {"achieved": "#1a7f37", "on_track": "#2da44e", "at_risk": "#d4a72c",
                  "off_track": "#cf222e", "no_data": "#8c959f"}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Register a CJK font with matplotlib (for text metrics) and return its family name."""
    for pattern in _FONT_GLOBS:
        for path in sorted(glob.glob(pattern, recursive=True)):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError):  # pragma: no cover - broken font file
                continue
    return None


def _setup() -> None:
    fam = cjk_font()
    plt.rcParams.update({
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.sans-serif": ([fam] if fam else []) + ["DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():
        # glyphs absent from the CJK font (e.g. superscript 8) only affect text metrics here: the SVG keeps
        # the text and the browser draws it with its own font fallback
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    s = buf.getvalue()
    s = s[s.index("<svg"):]
    # the browser picks the font: a CJK family stack (Simplified Chinese first)
    s = re.sub(r"font-family:\s*'?[^;\"']+'?", "font-family: " + FONT_STACK, s)
    s = re.sub(r"font-family=\"[^\"]*\"", f"font-family=\"{FONT_STACK}\"", s)
    return s


def tick(v: float, _pos: object = None) -> str:
    """An axis label with thousands separators and no more decimals than the scale needs."""
    a = abs(v)
    if a >= 100 or v == 0:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.1f}".rstrip("0").rstrip(".")
    return f"{v:.3f}".rstrip("0").rstrip(".")


def format_axes(ax: Any, zero_note: str | None = None, axis: str = "y") -> None:
    """Thousands separators on ``axis``; start it at zero when the data sit within 2.5x of it, else
    say in the chart that it does not start at zero (``zero_note``)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(tick))
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if lo > 0:
        if lo < 0.6 * hi:
            (ax.set_ylim if axis == "y" else ax.set_xlim)(0, hi)
        elif zero_note:
            ax.text(0.0, -0.02, zero_note, transform=ax.transAxes, fontsize=7, color="#57606a",
                    ha="right" if axis == "y" else "left", va="top", rotation=0)


def trajectory_chart(title: str, unit: str, observed: Sequence[tuple[int, float]], path: Sequence[tuple[int, float]],
                     target: tuple[int, float] | None, labels: dict[str, str], zero_note: str | None = None) -> str:
    """Observed series against the target path and the target point."""
    _setup()
    fig, ax = plt.subplots(figsize=(5.6, 2.6))
    if path:
        ax.plot([p[0] for p in path], [p[1] for p in path], "--", color="#57606a", lw=1.2, label=labels["path"])
    if observed:
        ax.plot([p[0] for p in observed], [p[1] for p in observed], "o-", color="#0969da", lw=1.6, ms=3.5,
                label=labels["observed"])
    if target:
        ax.plot([target[0]], [target[1]], marker="*", ms=11, color="#cf222e", ls="none", label=labels["target"])
    if observed and not path and labels.get("no_path"):
        ax.text(0.99, 0.02, labels["no_path"], transform=ax.transAxes, fontsize=7, color="#57606a",
                ha="right", va="bottom")
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(unit)
    ax.grid(axis="y", color="#d0d7de", lw=0.6)
    ax.xaxis.get_major_locator().set_params(integer=True)
    format_axes(ax, zero_note)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return _svg(fig)


def stacked_sector_chart(years: Sequence[int], series: dict[str, Sequence[float]], ylabel: str, title: str) -> str:
    _setup()
    fig, ax = plt.subplots(figsize=(5.6, 2.2))
    bottom = [0.0] * len(years)
    palette = ["#0969da", "#bf8700", "#1a7f37", "#8250df", "#cf222e", "#57606a"]
    for i, (name, vals) in enumerate(series.items()):
        ax.bar(years, vals, bottom=bottom, label=name, color=palette[i % len(palette)], width=0.65)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#d0d7de", lw=0.6)
    ax.set_xticks(list(years), [str(y) for y in years])
    format_axes(ax)
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper left", bbox_to_anchor=(0, -0.12))
    return _svg(fig)


def fan_chart(fan: Sequence[dict[str, float]], title: str, ylabel: str, history: Sequence[tuple[int, float]] = (),
              labels: dict[str, str] | None = None, zero_note: str | None = None) -> str:
    """The projection's median and 90 % band (tCO2 → 10⁴ t) joined to the history (10⁴ t) it starts from."""
    _setup()
    lab = {"history": "history", "median": "median", "band": "90 %", **(labels or {})}
    fig, ax = plt.subplots(figsize=(5.6, 2.6))
    ys = [f["year"] for f in fan]
    med = [f["p50"] / 1e4 for f in fan]
    ax.fill_between(ys, [f["p05"] / 1e4 for f in fan], [f["p95"] / 1e4 for f in fan], color="#54aeff", alpha=0.35,
                    lw=0, label=lab["band"])
    ax.plot(ys, med, color="#0969da", lw=1.6, label=lab["median"])
    if history:
        hist = sorted(history)
        ax.plot([h[0] for h in hist], [h[1] for h in hist], "o-", color="#24292f", ms=3, lw=1.2, label=lab["history"])
        # one line from the last observed year into the projection: no gap between the two
        later = [(y, m) for y, m in zip(ys, med, strict=True) if y > hist[-1][0]]
        if later:
            ax.plot([hist[-1][0], later[0][0]], [hist[-1][1], later[0][1]], ":", color="#0969da", lw=1.4)
    ax.axvline(2030, color="#cf222e", lw=0.8, ls=":")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#d0d7de", lw=0.6)
    format_axes(ax, zero_note)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _svg(fig)


def city_bar_chart(names: Sequence[str], series: dict[str, Sequence[float]], title: str, xlabel: str) -> str:
    """Grouped horizontal bars: one bar per method for each city."""
    _setup()
    n, k = len(names), max(len(series), 1)
    fig, ax = plt.subplots(figsize=(5.6, 0.16 * n * k / 1.4 + 1.0))
    h = 0.8 / k
    palette = ["#bf8700", "#0969da", "#1a7f37"]
    for j, (label, vals) in enumerate(series.items()):
        ys = [n - 1 - i + (k - 1 - 2 * j) * h / 2 for i in range(n)]
        ax.barh(ys, list(vals), height=h, label=label, color=palette[j % len(palette)])
    ax.set_yticks([n - 1 - i for i in range(n)], list(names), fontsize=7.5)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#d0d7de", lw=0.6)
    top = max((max(v) for v in series.values() if len(v)), default=1.0)
    ax.set_xlim(0, top * 1.55 if top > 0 else 1.0)
    ax.xaxis.set_major_formatter(FuncFormatter(tick))
    ax.legend(frameon=True, framealpha=0.95, edgecolor="#d0d7de", fontsize=7.5, loc="lower right")
    return _svg(fig)
