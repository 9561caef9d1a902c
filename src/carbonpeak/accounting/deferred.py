"""Deferred ``explain`` texts: render the JSON of a result row only when someone reads it.

A method called on its own returns the ``explain`` column as JSON texts (the contract of
:mod:`carbonpeak.accounting.base`).  Inside :func:`carbonpeak.accounting.engine.compile_inventory`
the engine opens a :func:`collecting` block; a method may then hand in a *renderer* (a function
from local row positions to JSON texts) instead of the texts, and put the integer ids returned
by :func:`defer` in its ``explain`` column.  The engine keeps the renderers and
:class:`~carbonpeak.accounting.engine.Inventory` renders the texts on first access, so compiling
100,000 rows does not build (and hold) several hundred MB of JSON that most callers never read.
The texts are identical either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbonpeak.accounting.base import explain_json

Renderer = Callable[[np.ndarray], list[str]]


@dataclass
class Collector:
    """Renderers registered during one compile; ids ``start .. start+n-1`` belong to a chunk."""

    starts: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    renderers: list[Renderer] = field(default_factory=list)
    total: int = 0

    def render(self, ids: np.ndarray) -> list[str]:
        """The texts of the given deferred ids (any order)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty(len(ids), dtype=object)
        if not len(ids):
            return []
        starts = np.asarray(self.starts, dtype=np.int64)
        chunk = np.searchsorted(starts, ids, side="right") - 1
        order = np.argsort(chunk, kind="stable")
        uniq, first = np.unique(chunk[order], return_index=True)
        bounds = [*first.tolist(), len(order)]
        for j, c in enumerate(uniq.tolist()):
            pos = order[bounds[j] : bounds[j + 1]]
            texts = self.renderers[c](ids[pos] - starts[c])
            if len(texts) != len(pos):
                raise RuntimeError(f"explain renderer {c} returned {len(texts)} texts for {len(pos)} rows")
            if len(pos) == 1:
                out[pos[0]] = texts[0]
            else:
                out[pos] = np.array(texts, dtype=object)
        return out.tolist()


_SINK: ContextVar[Collector | None] = ContextVar("carbonpeak_explain_sink", default=None)


@contextmanager
def collecting() -> Iterator[Collector]:
    """Collect deferred explain renderers for the duration of the block."""
    c = Collector()
    token = _SINK.set(c)
    try:
        yield c
    finally:
        _SINK.reset(token)


def current() -> Collector | None:
    return _SINK.get()


def defer(n: int, render: Renderer) -> np.ndarray | None:
    """Register ``render`` for ``n`` rows; their ids, or None when nobody collects (render now)."""
    c = _SINK.get()
    if c is None:
        return None
    start = c.total
    c.starts.append(start)
    c.sizes.append(n)
    c.renderers.append(render)
    c.total += n
    return np.arange(start, start + n, dtype=np.int64)


def explain_later(**parts: Any) -> str | int:
    """:func:`~carbonpeak.accounting.base.explain_json`, deferred inside ``compile_inventory``.

    Returns the JSON text, or (while the engine collects) the id of a one-row renderer that
    serialises ``parts`` when the text is read.  ``parts`` must not be changed afterwards.
    """
    c = _SINK.get()
    if c is None:
        return explain_json(**parts)
    c.starts.append(c.total)
    c.sizes.append(1)
    c.renderers.append(lambda _local: [explain_json(**parts)])
    c.total += 1
    return c.total - 1
