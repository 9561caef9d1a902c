"""Caching of dashboard views: built once per key and data version (read far more than data change).

A view depends on the stored batches (inventory, targets, outlook) and on the monitoring results
and reviews; :mod:`carbonpeak.workflows.cache` keys it on both versions, read from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carbonpeak.store.duck import Store
from carbonpeak.workflows.cache import cached, pinned

__all__ = ["cached_view", "pinned"]


def cached_view(store: Store, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """``build()`` once per ``key`` and data version (a failure is cached and raised too)."""
    return cached(store, ("view", *key), build)
