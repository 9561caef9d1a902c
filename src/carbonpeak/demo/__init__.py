"""Bundled Guangdong demo data (real public figures with sources; estimates labelled).

``data/activity/`` inventory activity data, ``data/observations/`` indicator observations
(GDP, population, energy, ...).  Each file's rows carry ``source`` and, where estimated,
say ``estimate`` and how in ``note``.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).parent / "data"


def demo_path(*parts: str) -> Path:
    """Path inside the demo data folder."""
    return DEMO_DIR.joinpath(*parts)


def demo_files(kind: str) -> list[Path]:
    """All CSV files of one kind (``activity``, ``observations``, ...), sorted by name."""
    d = DEMO_DIR / kind
    return sorted(d.glob("*.csv")) if d.exists() else []
