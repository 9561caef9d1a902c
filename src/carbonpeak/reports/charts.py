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

FONT_STACK = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif"
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


def trajectory_chart(title: str, unit: str, observed: Sequence[tuple[int, float]], path: Sequence[tuple[int, float]],
                     target: tuple[int, float] | None, labels: dict[str, str]) -> str:
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
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(unit)
    ax.grid(axis="y", color="#d0d7de", lw=0.6)
    ax.xaxis.get_major_locator().set_params(integer=True)
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
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper left", bbox_to_anchor=(0, -0.12))
    return _svg(fig)


def fan_chart(fan: Sequence[dict[str, float]], title: str, ylabel: str, history: Sequence[tuple[int, float]] = ()) -> str:
    _setup()
    fig, ax = plt.subplots(figsize=(5.6, 2.6))
    ys = [f["year"] for f in fan]
    ax.fill_between(ys, [f["p05"] / 1e4 for f in fan], [f["p95"] / 1e4 for f in fan], color="#54aeff", alpha=0.35,
                    lw=0)
    ax.plot(ys, [f["p50"] / 1e4 for f in fan], color="#0969da", lw=1.6)
    if history:
        ax.plot([h[0] for h in history], [h[1] for h in history], "o-", color="#24292f", ms=3, lw=1.2)
    ax.axvline(2030, color="#cf222e", lw=0.8, ls=":")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#d0d7de", lw=0.6)
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
    ax.legend(frameon=True, framealpha=0.95, edgecolor="#d0d7de", fontsize=7.5, loc="lower right")
    return _svg(fig)
