"""Derived results (inventory, assessment chain, data status, dashboard views) cached per data version.

Every entry is keyed on the store's :class:`~carbonpeak.store.versions.DataVersion` of the areas it
is derived from, read from the database (one statement), so a write by any process — another
service worker, the CLI beside the service — is seen by the next read of every worker: the version
changes in the transaction that changes the data (:mod:`carbonpeak.store.versions`).  The version
is read *before* the data a result is built from, so an entry never holds data older than its key.

- One build per key at a time (single flight): concurrent requests that miss the same entry wait
  for one build instead of each computing it (a cold outlook takes seconds).
- A failure is cached like a result (and raised again), so a page does not rebuild bad data on
  every request.
- :func:`pinned` reads the version once for a whole request (the dashboard pages read several
  cached results: one statement instead of one per result).  Only for requests that do not write
  (GET): a write inside the pinned block would not be seen by later reads of the same block.
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from carbonpeak.store import versions
from carbonpeak.store.duck import Store
from carbonpeak.store.versions import AREAS, DataVersion

#: entries kept per process (least recently used dropped first)
MAX_ENTRIES = 256

_entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_building: dict[tuple[Any, ...], threading.Lock] = {}
_lock = threading.Lock()
_pinned: contextvars.ContextVar[dict[str, DataVersion] | None] = contextvars.ContextVar(
    "carbonpeak_pinned_versions", default=None
)


def data_version(store: Store) -> DataVersion:
    """The store's data version (read once per :func:`pinned` block, else on every call)."""
    memo = _pinned.get()
    if memo is None:
        return versions.read(store)
    v = memo.get(store.path)
    if v is None:
        v = memo[store.path] = versions.read(store)
    return v


@contextmanager
def pinned() -> Iterator[None]:
    """Read each store's data version at most once inside the block (a read-only request)."""
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


def cached(
    store: Store, key: tuple[Any, ...], build: Callable[[], Any], *, areas: tuple[str, ...] = AREAS
) -> Any:
    """``build()`` once per ``key`` and version of ``areas``; a failure is cached (and raised) too."""
    full = (*data_version(store).key(areas), *key)
    hit = _get(full)
    if hit is _MISSING:
        with _lock:
            gate = _building.setdefault(full, threading.Lock())
        with gate:  # single flight: one build per entry, the others wait for it
            hit = _get(full)
            if hit is _MISSING:
                try:
                    hit = build()
                except Exception as exc:
                    hit = exc
                with _lock:
                    _entries[full] = hit
                    while len(_entries) > MAX_ENTRIES:
                        _entries.popitem(last=False)
                    _building.pop(full, None)
    if isinstance(hit, Exception):
        raise hit
    return hit


_MISSING = object()


def _get(full: tuple[Any, ...]) -> Any:
    with _lock:
        hit = _entries.get(full, _MISSING)
        if hit is not _MISSING:
            _entries.move_to_end(full)
        return hit


def clear() -> None:
    """Forget every entry of this process (tests; never needed for correctness)."""
    with _lock:
        _entries.clear()
