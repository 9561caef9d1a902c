"""The settings a command reads, without loading the settings machinery when nothing sets them.

Building :class:`carbonpeak.config.Settings` (pydantic-settings, its environment and TOML sources)
costs about 0.1 s of CPU, a third of the command line's fixed cost of ``monitor run`` (issue 14).
When no ``CARBONPEAK_*`` environment variable is set and there is no configuration file
(``CARBONPEAK_CONFIG``, default ``./carbonpeak.toml``), every setting is its default:
:func:`settings` then answers from :data:`DEFAULTS` instead.  ``tests/cli/test_cli_settings.py``
checks that :data:`DEFAULTS` are the defaults of :class:`~carbonpeak.config.Settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

#: the defaults of the settings the light path answers (the same as ``carbonpeak.config.Settings``)
DEFAULTS: dict[str, Any] = {
    "db_path": Path("carbonpeak.duckdb"),
    "database_url": None,
    "engine": "duckdb",
    "spark_master": "local[2]",
    "lake_path": None,
    "electricity_method": "calorific",
    "monitor_duckdb_memory_limit": None,
    "monitor_duckdb_threads": None,
    "monitor_duckdb_temp_directory": None,
}


def configured() -> bool:
    """Whether anything can set a setting: a ``CARBONPEAK_*`` variable (any case, as
    pydantic-settings reads them) or the configuration file."""
    if any(k.upper().startswith("CARBONPEAK_") for k in os.environ):
        return True
    return Path(os.environ.get("CARBONPEAK_CONFIG", "carbonpeak.toml")).exists()


def settings() -> Any:
    """The process's settings: :func:`carbonpeak.config.get_settings` when anything configures
    them, else the defaults (:data:`DEFAULTS`, with ``store_location`` as in ``Settings``)."""
    if configured():
        from carbonpeak.config import get_settings

        return get_settings()
    return SimpleNamespace(**DEFAULTS, store_location=DEFAULTS["database_url"] or DEFAULTS["db_path"])
