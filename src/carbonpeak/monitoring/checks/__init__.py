"""The monitoring rules.  Every module in this package is imported so that its ``@register`` runs
(:mod:`carbonpeak.monitoring.rulebase`); a new rule is one function in one file here."""

from __future__ import annotations

import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
