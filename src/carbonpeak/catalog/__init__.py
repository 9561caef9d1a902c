"""Reference data: versioned data files with a source for every value, and their loaders.

Files live in ``carbonpeak/catalog/data/``.  Two shapes are used:

* **long factor tables** (CSV, one value per row with ``source``), read by
  :class:`carbonpeak.catalog.factors.FactorSet`;
* **YAML documents** (items, regions, targets, ...), read by :func:`load_yaml`.

Nothing here imports any other carbonpeak package except :mod:`carbonpeak.errors`.
"""

from __future__ import annotations

from carbonpeak.catalog.loader import DATA_DIR, data_path, load_csv, load_yaml

__all__ = ["DATA_DIR", "data_path", "load_csv", "load_yaml"]
