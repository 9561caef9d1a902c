"""Low-level loaders for the packaged reference-data files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from carbonpeak.errors import CatalogError

DATA_DIR = Path(__file__).parent / "data"

#: Allowed values of the ``status`` column/field of every sourced value.  They follow the
#: labels of ``shared/reference``: ``verified`` = seen in the cited source; ``derived`` =
#: computed from verified values; ``consistent`` = agreed by independent public code, primary
#: standard not opened; ``unverified`` = single weak source; ``estimate`` = carbonpeak's own
#: estimate, method in ``note``; ``synthetic`` = invented demo data.
STATUSES = ("verified", "derived", "consistent", "unverified", "estimate", "synthetic")


def data_path(name: str) -> Path:
    """Path of a packaged data file, e.g. ``data_path("factors/fuels.csv")``."""
    p = DATA_DIR / name
    if not p.exists():
        raise CatalogError(f"catalog file not found: {name} (looked in {DATA_DIR})")
    return p


#: libyaml's safe loader where PyYAML was built with it (about ten times faster on the catalog
#: files, which every command reads), else the pure-Python one.  Same safe subset either way.
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=64)
def _load_yaml_cached(path: str, mtime: float) -> Any:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=SafeLoader)  # a safe loader (C or Python)


def load_yaml(name_or_path: str | Path) -> Any:
    """Load a YAML file from the catalog (by relative name) or from any path."""
    p = Path(name_or_path)
    if not p.is_absolute() and not p.exists():
        p = data_path(str(name_or_path))
    try:
        return _load_yaml_cached(str(p), p.stat().st_mtime)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{p}: not valid YAML: {exc}") from exc


def load_csv(name_or_path: str | Path) -> pd.DataFrame:
    """Load a CSV file from the catalog (by relative name) or from any path, as strings.

    Lines starting with ``#`` are comments (used for a file header that names the sources).
    """
    p = Path(name_or_path)
    if not p.is_absolute() and not p.exists():
        p = data_path(str(name_or_path))
    return pd.read_csv(p, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True)
