"""The map of the 21 prefecture-level cities: a choropleth of their boundaries, or a tile map.

Where a boundary file is available (``catalog/geo.py``: the package's file, or the operator's
``map_boundaries`` setting), each city is drawn as its outline, projected server-side into inline
SVG (equirectangular, x scaled by the cosine of the middle latitude — adequate for one province's
extent), coloured by the chosen indicator.  Where none is, one tile per city is drawn, placed as
the cities lie (north at the top, the Pearl River Delta in the middle, the east and west wings on
either side), and the page says so.  See docs/dashboard.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from carbonpeak.catalog.geo import Boundaries

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
#: fill of a city without a value
NO_VALUE = "#f6f8fa"
#: width of the boundary map in SVG pixels
MAP_W = 760.0
INDICATORS = ("status", "emissions", "intensity")


def _classes(values: list[float]) -> list[float]:
    """Upper bounds of five equal-count classes of ``values`` (quantiles)."""
    v = sorted(values)
    return [v[max(0, min(len(v) - 1, round(len(v) * k / 5) - 1))] for k in range(1, 6)]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def classify(rows: list[dict[str, Any]], indicator: str, labels: dict[str, str]
             ) -> tuple[str, dict[str, tuple[str, str, str]], list[dict[str, str]]]:
    """Colour, ink and value text of each city for ``indicator``, and the legend.

    ``rows``: city rows with ``code``, ``name``, ``status``, ``emissions`` (tCO2e) and
    ``intensity`` (t/10⁴ yuan), either may be None; ``labels``: translated legend words
    (``status.<s>``, ``no_data``).  Returns (indicator, {code: (fill, ink, text)}, legend); an
    unknown indicator falls back to ``status``.
    """
    if indicator not in INDICATORS:
        indicator = "status"
    values = {r["code"]: (r["emissions"] / 1e4 if indicator == "emissions" and r.get("emissions") is not None
                          else r.get("intensity") if indicator == "intensity" else None) for r in rows}
    known = [v for v in values.values() if v is not None]
    bounds = _classes(known) if known else []
    out: dict[str, tuple[str, str, str]] = {}
    for r in rows:
        v = values[r["code"]]
        if indicator == "status":
            colour, text = STATUS_COLOURS.get(r["status"], STATUS_COLOURS["no_data"]), labels[f"status.{r['status']}"]
        elif v is None:
            colour, text = NO_VALUE, labels["no_data"]
        else:
            k = next(i for i, b in enumerate(bounds) if v <= b + 1e-12)
            colour, text = RAMP[k], _fmt(v)
        dark = colour in (RAMP[3], RAMP[4], STATUS_COLOURS["off_track"], STATUS_COLOURS["achieved"],
                          STATUS_COLOURS["on_track"])
        out[r["code"]] = (colour, "#ffffff" if dark else "#1f2328", text)
    legend: list[dict[str, str]] = []
    if indicator == "status":
        legend = [{"fill": c, "label": labels[f"status.{s}"]} for s, c in STATUS_COLOURS.items()]
    else:
        lo = min(known) if known else 0.0
        for i, b in enumerate(bounds):
            legend.append({"fill": RAMP[i], "label": f"{_fmt(lo)} – {_fmt(b)}"})
            lo = b
        legend.append({"fill": NO_VALUE, "label": labels["no_data"]})
    return indicator, out, legend


def tile_map(rows: list[dict[str, Any]], indicator: str, labels: dict[str, str]) -> dict[str, Any]:
    """Tiles (position, colour, label, value text) and a legend for ``indicator`` (see :func:`classify`)."""
    indicator, colours, legend = classify(rows, indicator, labels)
    tiles = []
    for r in rows:
        if r["code"] not in TILES:
            continue
        col, row = TILES[r["code"]]
        fill, ink, text = colours[r["code"]]
        tiles.append({"code": r["code"], "name": r["name"], "x": col * (TILE_W + GAP), "y": row * (TILE_H + GAP),
                      "fill": fill, "ink": ink, "value": text, "status": r["status"]})
    width = 8 * (TILE_W + GAP)
    height = 4 * (TILE_H + GAP)
    return {"kind": "tiles", "tiles": tiles, "legend": legend, "indicator": indicator, "width": width,
            "height": height, "tile_w": TILE_W, "tile_h": TILE_H}


def projector(bounds: Boundaries, width: float = MAP_W, pad: float = 8.0
              ) -> tuple[Callable[[float, float], tuple[float, float]], float]:
    """(project, height): ``project(lon, lat) -> (x, y)`` in SVG pixels, north up, fitting ``width``.

    Equirectangular with x scaled by cos(middle latitude), so that shapes keep their proportions
    at the province's latitude (about 23° N: 1° of longitude ≈ 0.92° of latitude)."""
    x0, y0, x1, y1 = bounds.bbox()
    k = math.cos(math.radians((y0 + y1) / 2))
    scale = (width - 2 * pad) / ((x1 - x0) * k)
    height = (y1 - y0) * scale + 2 * pad

    def project(lon: float, lat: float) -> tuple[float, float]:
        return pad + (lon - x0) * k * scale, pad + (y1 - lat) * scale

    return project, height


def svg_path(polygons: Any, project: Any) -> str:
    """SVG path data of polygons (rings closed with Z; holes drawn with the even-odd rule)."""
    parts = []
    for poly in polygons:
        for ring in poly:
            pts = [project(x, y) for x, y in ring]
            out, last = [], None
            for x, y in pts:
                q = (round(x, 1), round(y, 1))
                if q != last:
                    out.append(f"{q[0]:g},{q[1]:g}")
                    last = q
            if len(out) >= 3:
                parts.append("M" + "L".join(out) + "Z")
    return "".join(parts)


def boundary_map(rows: list[dict[str, Any]], indicator: str, labels: dict[str, str],
                 bounds: Boundaries, width: float = MAP_W) -> dict[str, Any]:
    """The choropleth: one SVG path per city (``d``), its label point, colour and value text."""
    indicator, colours, legend = classify(rows, indicator, labels)
    project, height = projector(bounds, width)
    areas = []
    for r in rows:
        shape = bounds.cities.get(r["code"])
        if shape is None:
            continue
        fill, _ink, text = colours[r["code"]]
        lx, ly = project(*shape.label)
        areas.append({"code": r["code"], "name": r["name"], "d": svg_path(shape.polygons, project), "fill": fill,
                      "ink": "#1f2328", "halo": "#ffffff", "value": text, "status": r["status"],
                      "lx": round(lx, 1), "ly": round(ly, 1)})
    return {"kind": "boundaries", "areas": areas, "legend": legend, "indicator": indicator,
            "width": round(width), "height": round(height), "boundary_meta": bounds.meta}
