"""Caching of dashboard views: built once per key and data version (read far more than data change)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from carbonpeak.store.duck import Store
from carbonpeak.store.monitoring import review_state
from carbonpeak.workflows.inventory import batch_version

_view_cache: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def data_version(store: Store) -> int:
    """A number that changes whenever stored data, reviews or runs change."""
    return hash((batch_version(store), review_state(store)))


def cached_view(store: Store, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """``build()`` once per ``key`` and data version."""
    full = (store.path, data_version(store), *key)
    with _lock:
        if full in _view_cache:
            return _view_cache[full]
    value = build()
    with _lock:
        if len(_view_cache) > 256:
            _view_cache.clear()
        _view_cache[full] = value
    return value
