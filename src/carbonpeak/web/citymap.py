"""The map of the 21 prefecture-level cities: a tile map in their geographic arrangement.

No openly licensed prefecture boundary file could be obtained for the package (geoBoundaries'
CHN ADM2 is stored as Git LFS and is county level; other sets carry no licence), so the page
draws one tile per city, placed as the cities lie (north at the top, the Pearl River Delta in the
middle, the east and west wings on either side) and says so.  See docs/dashboard.md.
"""

from __future__ import annotations

from typing import Any

#: (column, row) of each city's tile; north is row 0.  Arranged from the cities' approximate
#: centroids (longitude → column, latitude → row), then nudged so that neighbours stay adjacent.
TILES: dict[str, tuple[int, int]] = {
    "GD-QY": (3, 0), "GD-SG": (4, 0), "GD-HY": (5, 0), "GD-MZ": (6, 0),
    "GD-YF": (1, 1), "GD-ZQ": (2, 1), "GD-FS": (3, 1), "GD-GZ": (4, 1), "GD-HZ": (5, 1), "GD-JY": (6, 1),
    "GD-CZ": (7, 1),
    "GD-MM": (0, 2), "GD-YJ": (1, 2), "GD-JM": (2, 2), "GD-ZS": (3, 2), "GD-DG": (4, 2), "GD-SW": (5, 2),
    "GD-ST": (6, 2),
    "GD-ZJ": (0, 3), "GD-ZH": (3, 3), "GD-SZ": (4, 3),
}
TILE_W, TILE_H, GAP = 104, 64, 6
STATUS_COLOURS = {"achieved": "#1a7f37", "on_track": "#2da44e", "at_risk": "#d4a72c",
                  "off_track": "#cf222e", "no_data": "#d0d7de"}
#: five classes, light to dark (ColorBrewer Blues)
RAMP = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
INDICATORS = ("status", "emissions", "intensity")


def _classes(values: list[float]) -> list[float]:
    """Upper bounds of five equal-count classes of ``values`` (quantiles)."""
    v = sorted(values)
    return [v[max(0, min(len(v) - 1, round(len(v) * k / 5) - 1))] for k in range(1, 6)]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def tile_map(rows: list[dict[str, Any]], indicator: str, labels: dict[str, str]) -> dict[str, Any]:
    """Tiles (position, colour, label, value text) and a legend for ``indicator``.

    ``rows``: city rows with ``code``, ``name``, ``status``, ``emissions`` (tCO2e) and
    ``intensity`` (t/10⁴ yuan), either may be None; ``labels``: translated legend words
    (``status.<s>``, ``no_data``).
    """
    if indicator not in INDICATORS:
        indicator = "status"
    values = {r["code"]: (r["emissions"] / 1e4 if indicator == "emissions" and r.get("emissions") is not None
                          else r.get("intensity") if indicator == "intensity" else None) for r in rows}
    known = [v for v in values.values() if v is not None]
    bounds = _classes(known) if known else []
    tiles, legend = [], []
    for r in rows:
        if r["code"] not in TILES:
            continue
        col, row = TILES[r["code"]]
        v = values[r["code"]]
        if indicator == "status":
            colour, text = STATUS_COLOURS.get(r["status"], STATUS_COLOURS["no_data"]), labels[f"status.{r['status']}"]
        elif v is None:
            colour, text = "#f6f8fa", labels["no_data"]
        else:
            k = next(i for i, b in enumerate(bounds) if v <= b + 1e-12)
            colour, text = RAMP[k], _fmt(v)
        dark = colour in (RAMP[3], RAMP[4], STATUS_COLOURS["off_track"], STATUS_COLOURS["achieved"],
                          STATUS_COLOURS["on_track"])
        tiles.append({"code": r["code"], "name": r["name"], "x": col * (TILE_W + GAP), "y": row * (TILE_H + GAP),
                      "fill": colour, "ink": "#ffffff" if dark else "#1f2328", "value": text,
                      "status": r["status"]})
    if indicator == "status":
        legend = [{"fill": c, "label": labels[f"status.{s}"]} for s, c in STATUS_COLOURS.items()]
    else:
        lo = min(known) if known else 0.0
        for i, b in enumerate(bounds):
            legend.append({"fill": RAMP[i], "label": f"{_fmt(lo)} – {_fmt(b)}"})
            lo = b
        legend.append({"fill": "#f6f8fa", "label": labels["no_data"]})
    width = 8 * (TILE_W + GAP)
    height = 4 * (TILE_H + GAP)
    return {"tiles": tiles, "legend": legend, "indicator": indicator, "width": width, "height": height,
            "tile_w": TILE_W, "tile_h": TILE_H}
