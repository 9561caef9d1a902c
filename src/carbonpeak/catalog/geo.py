"""Prefecture boundaries of Guangdong for the city map: a GeoJSON file and its metadata sidecar.

A boundary file is a GeoJSON ``FeatureCollection`` of the 21 prefecture-level cities, one feature
each, with ``properties.code`` (the carbonpeak region code, ``GD-GZ`` …) or ``properties.adcode``
(the GB/T 2260 division code, ``440100`` …), and Polygon/MultiPolygon geometry in WGS 84
longitude/latitude.  Beside it, ``<name>.yaml`` records where it came from — required keys
``source``, ``licence``, ``edition``, ``attribution`` and ``processing`` (dissolve, simplification
tolerance); optional ``review_number`` (审图号, the map-review number of an approved map) and
``url``.  A file without its sidecar, or with a city missing, is refused: a map whose origin is
unknown is not drawn.

The package looks for ``data/geo/guangdong_prefectures.geojson``; an operator points the service at
a file of their own with the setting ``map_boundaries`` (docs/dashboard.md).  No file is shipped
today: no openly licensed prefecture boundary set could be obtained for the package (see
docs/dashboard.md, "The city map"); the page then draws the tile map.  ``scripts/build_boundaries.py``
turns a county- or prefecture-level source into such a file (dissolve by GB/T 2260 code,
simplify, write the sidecar).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbonpeak.catalog.loader import DATA_DIR, load_yaml
from carbonpeak.catalog.regions import load_regions
from carbonpeak.errors import CatalogError

#: where the package's own boundary file would be
DEFAULT_FILE = DATA_DIR / "geo" / "guangdong_prefectures.geojson"
#: keys every sidecar must have (non-empty)
REQUIRED_META = ("source", "licence", "edition", "attribution", "processing")

Ring = list[tuple[float, float]]
Polygon = list[Ring]  # outer ring first, then holes


@dataclass(frozen=True)
class CityShape:
    code: str
    polygons: tuple[Polygon, ...]
    #: a point inside the city for its label (``properties.label`` [lon, lat], else computed)
    label: tuple[float, float]


@dataclass(frozen=True)
class Boundaries:
    path: Path
    cities: dict[str, CityShape]
    meta: dict[str, Any] = field(default_factory=dict)

    def bbox(self) -> tuple[float, float, float, float]:
        xs = [x for c in self.cities.values() for p in c.polygons for r in p for x, _ in r]
        ys = [y for c in self.cities.values() for p in c.polygons for r in p for _, y in r]
        return min(xs), min(ys), max(xs), max(ys)


def sidecar_of(path: Path) -> Path:
    return path.with_suffix(".yaml")


def _ring(raw: Any, where: str) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise CatalogError(f"{where}: a ring needs at least 4 [lon, lat] positions")
    out: Ring = []
    for i, pt in enumerate(raw):
        try:
            lon, lat = float(pt[0]), float(pt[1])
        except (TypeError, ValueError, IndexError) as exc:
            raise CatalogError(f"{where}, position {i}: not a [lon, lat] pair ({exc})") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
            raise CatalogError(f"{where}, position {i}: [{lon}, {lat}] is not WGS 84 longitude/latitude")
        out.append((lon, lat))
    return out


def _polygons(geom: Any, where: str) -> tuple[Polygon, ...]:
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        raise CatalogError(f"{where}: geometry must be a Polygon or MultiPolygon")
    coords = geom.get("coordinates")
    polys = [coords] if geom["type"] == "Polygon" else coords
    if not isinstance(polys, list) or not polys:
        raise CatalogError(f"{where}: empty geometry")
    return tuple([_ring(r, f"{where}, polygon {k}, ring {j}") for j, r in enumerate(p)]
                 for k, p in enumerate(polys))


def ring_area(ring: Ring) -> float:
    """Signed area (shoelace) in degrees²; used to pick the largest part for a label."""
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))


def ring_centroid(ring: Ring) -> tuple[float, float]:
    a = ring_area(ring)
    if abs(a) < 1e-12:
        n = len(ring)
        return sum(x for x, _ in ring) / n, sum(y for _, y in ring) / n
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    return cx / (6 * a), cy / (6 * a)


def _label(props: dict[str, Any], polys: tuple[Polygon, ...], where: str) -> tuple[float, float]:
    raw = props.get("label")
    if raw is not None:
        try:
            return float(raw[0]), float(raw[1])
        except (TypeError, ValueError, IndexError):
            raise CatalogError(f"{where}: properties.label must be [lon, lat]") from None
    biggest = max(polys, key=lambda p: abs(ring_area(p[0])))
    return ring_centroid(biggest[0])


def load_boundaries(path: str | Path | None = None) -> Boundaries | None:
    """The boundary file at ``path`` (default: the package's), checked; None where no file exists.

    Raises :class:`CatalogError` naming the file and feature where the file exists but is not
    usable (no sidecar, a sidecar key missing, unknown or missing city, bad geometry)."""
    p = Path(path) if path is not None else DEFAULT_FILE
    if not p.exists():
        if path is not None:
            raise CatalogError(f"map boundary file not found: {p}")
        return None
    side = sidecar_of(p)
    if not side.exists():
        raise CatalogError(f"{p}: no metadata sidecar {side.name} (source, licence, edition, attribution, "
                           "processing); a boundary file of unknown origin is not drawn")
    meta = load_yaml(side) or {}
    if not isinstance(meta, dict):
        raise CatalogError(f"{side}: must be a mapping of metadata keys")
    missing = [k for k in REQUIRED_META if not str(meta.get(k) or "").strip()]
    if missing:
        raise CatalogError(f"{side}: missing metadata {', '.join(missing)}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{p}: not a readable GeoJSON file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise CatalogError(f"{p}: must be a GeoJSON FeatureCollection")
    cities = {c: r for c, r in load_regions().items() if r.level == "city"}
    by_adcode = {r.adcode: c for c, r in cities.items()}
    shapes: dict[str, CityShape] = {}
    for i, feat in enumerate(doc.get("features") or []):
        props = (feat or {}).get("properties") or {}
        code = props.get("code") or by_adcode.get(str(props.get("adcode", "")))
        where = f"{p}, feature {i}"
        if code not in cities:
            raise CatalogError(f"{where}: properties.code/adcode {props.get('code') or props.get('adcode')!r} "
                               "is not one of the 21 cities (regions.yaml)")
        if code in shapes:
            raise CatalogError(f"{where}: {code} appears twice")
        polys = _polygons(feat.get("geometry"), f"{where} ({code})")
        shapes[code] = CityShape(code, polys, _label(props, polys, f"{where} ({code})"))
    absent = sorted(set(cities) - set(shapes))
    if absent:
        raise CatalogError(f"{p}: no boundary for {', '.join(absent)}")
    return Boundaries(p, {c: shapes[c] for c in cities}, dict(meta))
