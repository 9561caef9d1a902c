"""A synthetic county-level boundary source for the map tests: NOT real geography.

Each city becomes a 1° × 1° block at its tile position (``web/citymap.py`` TILES: column → longitude
from 110° E, row → latitude from 25° N), cut into four 0.5° "counties" with GB/T 2260-style codes
(the city's code with 01…04), the block's west edge made jagged so the simplification has work to
do.  ``scripts/build_boundaries.py`` dissolves it to the 21 cities like a real county file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from carbonpeak.catalog.regions import load_regions
from carbonpeak.web.citymap import TILES

ROOT = Path(__file__).resolve().parents[2]


def county_source(path: Path) -> Path:
    feats = []
    for code, r in load_regions().items():
        if r.level != "city":
            continue
        col, row = TILES[code]
        x0, y1 = 110.0 + col, 25.0 - row
        for k, (dx, dy) in enumerate(((0, 0), (0.5, 0), (0, 0.5), (0.5, 0.5)), start=1):
            x, y = x0 + dx, y1 - 0.5 - dy
            ring = [[x, y], [x + 0.5, y], [x + 0.5, y + 0.5], [x, y + 0.5]]
            if dx == 0:  # a jagged west edge: points 0.001° off the straight line
                ring += [[x + (0.001 if i % 2 else 0.0), y + 0.5 - i * 0.05] for i in range(1, 10)]
            ring.append(ring[0])
            feats.append({"type": "Feature", "properties": {"CODE": f"CN{r.adcode[:4]}{k:02d}", "NAME": f"county {k}"},
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


def build_fixture(folder: Path, tolerance: float = 0.01) -> Path:
    """Run scripts/build_boundaries.py on the synthetic source; return the boundary file."""
    src = county_source(folder / "counties.geojson")
    out = folder / "geo" / "test_prefectures.geojson"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_boundaries.py"), str(src), "--code-field", "CODE",
         "--source-name", "synthetic test geometry (tests/web/geo_fixture.py)", "--licence", "test only",
         "--edition", "test", "--attribution", "carbonpeak tests", "--tolerance", str(tolerance), "--out", str(out)],
        check=True, capture_output=True, text=True,
    )
    return out
