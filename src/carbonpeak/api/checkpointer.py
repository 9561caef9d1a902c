"""While the service runs it owns the store, so it also signs the audit checkpoints.

Every ``checkpoint_interval_minutes`` (a setting; 0 turns it off) a background thread signs a
checkpoint of the chain head and the guarded tables (:mod:`carbonpeak.store.checkpoints`) when
the chain has grown since the last one, and writes it to the checkpoint folder.  Copy that
folder off the host (docs/operations.md, "The audit trail").
"""

from __future__ import annotations

import logging
import threading

from carbonpeak.store.duck import Store

log = logging.getLogger("carbonpeak.audit")


class Checkpointer:
    """A daemon thread taking a checkpoint every ``interval`` seconds when the head moved."""

    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="cp-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def tick(self) -> bool:
        """Take a checkpoint if the chain grew since the newest one; return whether one was taken."""
        from carbonpeak.store import audit, checkpoints

        last = checkpoints.latest(self.store)
        if last is not None and last.head == audit.head(self.store):
            return False
        checkpoints.create(self.store)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # never let the thread die; the next tick tries again
                log.exception("could not write an audit checkpoint")
