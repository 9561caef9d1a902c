"""Build the city map's boundary file from a county- or prefecture-level source (docs/dashboard.md).

Run from the repository root with the ``geo`` extra installed (shapely)::

    .venv/bin/python scripts/build_boundaries.py SOURCE.geojson --code-field ADM2_PCODE \\
        --source-name "OCHA COD-AB China, ADM2" --licence "CC BY 3.0 IGO" --edition 2020 \\
        --attribution "OCHA ROAP / HDX" [--url URL] [--review-number 审图号] \\
        [--tolerance 0.004] [--precision 4] [--out src/carbonpeak/catalog/data/geo/guangdong_prefectures.geojson]

What it does, in order (each step recorded in the sidecar's ``processing``):

1. reads every feature whose code (``--code-field``; the digits are taken, so ``CN440103`` and
   ``440103`` both work) is a Guangdong division (GB/T 2260, starting ``44``); a source without
   codes takes ``--name-field`` plus ``--crosswalk`` (CSV ``name,adcode``);
2. assigns each feature to its prefecture by the structure of the GB/T 2260 code: the first four
   digits are the prefecture (``440103`` 荔湾区 → ``440100`` 广州市; the towns of Dongguan and
   Zhongshan, ``4419…``/``4420…``, likewise), and dissolves (unions) the features of each prefecture;
3. simplifies the 21 outlines together as one coverage (``shapely.coverage_simplify``), so that
   neighbours keep one shared border without gaps or overlaps, with ``--tolerance`` in degrees;
4. rounds coordinates to ``--precision`` decimals, puts a label point inside each city
   (``polylabel`` of its largest part), and writes the GeoJSON plus ``<name>.yaml`` with the source,
   licence, edition, attribution, the source file's SHA-256 and the processing.

It refuses a source in which a city is missing.  The result should stay under 300 KB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import shapely
import yaml
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.ops import polylabel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from carbonpeak.catalog.geo import DEFAULT_FILE, load_boundaries, sidecar_of  # noqa: E402
from carbonpeak.catalog.regions import load_regions  # noqa: E402

SIZE_BUDGET = 300_000


def _digits(v: Any) -> str:
    return re.sub(r"\D", "", str(v or ""))


def _round(geom: Any, precision: int) -> Any:
    return shapely.set_precision(geom, 10 ** -precision, mode="pointwise")


def build(source: Path, out: Path, *, code_field: str | None, name_field: str | None,
          crosswalk: Path | None, tolerance: float, precision: int, meta: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(source.read_text(encoding="utf-8"))
    xw: dict[str, str] = {}
    if crosswalk is not None:
        with crosswalk.open(encoding="utf-8-sig") as fh:
            xw = {r["name"].strip(): _digits(r["adcode"]) for r in csv.DictReader(fh)}
    cities = {r.adcode: r for r in load_regions().values() if r.level == "city"}
    parts: dict[str, list[Any]] = defaultdict(list)
    used = 0
    for i, feat in enumerate(doc.get("features") or []):
        props = feat.get("properties") or {}
        if code_field:
            code = _digits(props.get(code_field))
        else:
            code = xw.get(str(props.get(name_field, "")).strip(), "")
        if not code.startswith("44") or len(code) < 4:
            continue
        pref = code[:4] + "00"
        if pref not in cities:
            raise SystemExit(f"{source}, feature {i}: code {code} is in no Guangdong prefecture of regions.yaml")
        geom = shape(feat["geometry"])
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        parts[pref].append(geom)
        used += 1
    missing = sorted(set(cities) - set(parts))
    if missing:
        raise SystemExit(f"{source}: no feature for {', '.join(cities[c].name_en for c in missing)}")
    order = list(cities)
    dissolved = [shapely.union_all(parts[c]) for c in order]
    polys = [shapely.get_parts(g) for g in dissolved]
    dissolved = [MultiPolygon([p for p in ps if isinstance(p, Polygon)]) for ps in polys]
    simplified = shapely.coverage_simplify(dissolved, tolerance) if tolerance > 0 else dissolved
    feats = []
    for adcode, geom in zip(order, simplified, strict=True):
        geom = _round(geom, precision)
        if geom.is_empty:
            raise SystemExit(f"{cities[adcode].name_en}: nothing left after simplification; lower --tolerance")
        biggest = max(shapely.get_parts(geom), key=lambda p: p.area)
        lab = polylabel(biggest, tolerance=10 ** -precision)
        r = cities[adcode]
        feats.append({"type": "Feature",
                      "properties": {"code": r.code, "adcode": adcode, "name_zh": r.name_zh, "name_en": r.name_en,
                                     "label": [round(lab.x, precision), round(lab.y, precision)]},
                      "geometry": mapping(geom)})
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, separators=(",", ":"))
    out.write_text(text + "\n", encoding="utf-8")
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    processing = (
        f"{used} features of {source.name} with a Guangdong GB/T 2260 code ({code_field or name_field + ' + crosswalk'}) "
        "assigned to their prefecture by the code's first four digits and dissolved (shapely union_all); "
        f"the 21 outlines simplified together as one coverage (shapely.coverage_simplify, tolerance {tolerance} degrees); "
        f"coordinates rounded to {precision} decimals; label points by polylabel; "
        f"built {dt.date.today().isoformat()} by scripts/build_boundaries.py"
    )
    side = {**{k: v for k, v in meta.items() if v}, "source_sha256": sha, "processing": processing,
            "features": len(feats), "crs": "WGS 84 (EPSG:4326)"}
    sidecar_of(out).write_text(yaml.safe_dump(side, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_boundaries(out)  # the file the service will read must pass its checks
    size = out.stat().st_size
    if size > SIZE_BUDGET:
        print(f"warning: {out} is {size:,} bytes (> {SIZE_BUDGET:,}); raise --tolerance or lower --precision",
              file=sys.stderr)
    return {"features": len(feats), "bytes": size, "source_features": used}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("--code-field", help="property holding the GB/T 2260 code (digits are taken)")
    ap.add_argument("--name-field", help="property holding the name (with --crosswalk)")
    ap.add_argument("--crosswalk", type=Path, help="CSV name,adcode for a source without codes")
    ap.add_argument("--tolerance", type=float, default=0.004, help="simplification tolerance in degrees")
    ap.add_argument("--precision", type=int, default=4, help="decimals kept in coordinates")
    ap.add_argument("--out", type=Path, default=DEFAULT_FILE)
    for k in ("source-name", "licence", "edition", "attribution"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--url")
    ap.add_argument("--review-number", help="审图号 of an approved (reviewed) map, where the source has one")
    a = ap.parse_args(argv)
    if not a.code_field and not (a.name_field and a.crosswalk):
        ap.error("give --code-field, or --name-field with --crosswalk")
    meta = {"source": a.source_name, "licence": a.licence, "edition": a.edition, "attribution": a.attribution,
            "url": a.url, "review_number": a.review_number}
    res = build(a.source, a.out, code_field=a.code_field, name_field=a.name_field, crosswalk=a.crosswalk,
                tolerance=a.tolerance, precision=a.precision, meta=meta)
    print(f"wrote {a.out} ({res['features']} cities from {res['source_features']} features, {res['bytes']:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
