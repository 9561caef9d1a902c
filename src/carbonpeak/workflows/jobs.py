"""Durable background jobs: named kinds with validated JSON parameters, run by any worker.

A job is a row of the ``jobs`` table (:mod:`carbonpeak.store.jobs`) holding its *kind*, its
parameters (JSON, validated by the kind's pydantic model when submitted and again when run) and
the scope of the principal who submitted it.  The work is a function registered under the kind's
name (:func:`job_kind`), ``fn(store, params, principal, progress) -> JSON-able result``; the
principal it receives is the stored submitter, never anything from the parameters (a parameter
model forbids unknown fields, and the kinds re-apply the submitter's scope themselves).

A :class:`Runner` (one per worker process: each service worker, ``carbonpeak jobs work`` or
``carbonpeak jobs run-pending``) claims the oldest runnable job with ``FOR UPDATE SKIP LOCKED``
and a lease on the database clock, renews the lease from a heartbeat thread while the job runs,
and records the result or the error.  A job whose worker died is taken over by another worker when
its lease has run out (setting ``job_lease_seconds``), at most ``job_max_attempts`` attempts in
all.  The function of a job whose worker died may thus run again: every kind is idempotent (an
ingest batch already stored is recognised; reports and projections are recomputed).  A job runs
at most once at a time: a worker that cannot renew its lease stops its job at its next progress
step, and its late writes are fenced off by the attempt number.

Why not a job library: procrastinate and PgQueuer (the maintained PostgreSQL job queues) build on
PostgreSQL's LISTEN/NOTIFY, advisory locks and their own tables; the store also runs on DuckDB
(one process, no such features), so a small runner on the store's own table serves both backends
(docs/architecture.md, "Background jobs").
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError

from carbonpeak.errors import CarbonpeakError, NotFound, Problem, ValidationError
from carbonpeak.store import jobs as job_table
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal

log = logging.getLogger("carbonpeak.jobs")

Progress = Callable[[float], None]
JobFn = Callable[[Store, Any, Principal, Progress], Any]


class JobParams(BaseModel):
    """Base of every kind's parameters: unknown fields are refused (no ``role`` or ``city`` can ride
    along), values are validated, and the model is frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class JobKind:
    name: str
    params: type[JobParams]
    fn: JobFn
    #: how many attempts in all when workers die (None: the setting job_max_attempts)
    max_attempts: int | None = None


#: The registered kinds, by name.
KINDS: dict[str, JobKind] = {}


def job_kind(name: str, params: type[JobParams], *, max_attempts: int | None = None) -> Callable[[JobFn], JobFn]:
    """Register ``fn`` as the job kind ``name`` with the parameter model ``params``."""

    def deco(fn: JobFn) -> JobFn:
        if name in KINDS and KINDS[name].fn is not fn:
            raise ValueError(f"job kind {name!r} is registered twice")
        KINDS[name] = JobKind(name, params, fn, max_attempts)
        return fn

    return deco


def load_kinds() -> dict[str, JobKind]:
    """The registered kinds, with the platform's own (:mod:`carbonpeak.workflows.job_kinds`) loaded."""
    import carbonpeak.workflows.job_kinds  # noqa: F401 -- registers the kinds

    return KINDS


class JobLost(CarbonpeakError):
    """The worker lost the lease of its job (another worker took it over); the attempt stops."""


def _principal_dict(p: Principal) -> dict[str, Any]:
    return p.to_dict()


def _principal(d: Mapping[str, Any]) -> Principal:
    return Principal(
        username=str(d["username"]),
        role=str(d["role"]),
        city=d.get("city"),
        enterprise_id=d.get("enterprise_id"),
        assigned=tuple(d.get("assigned") or ()),
    )


def _validate(k: JobKind, params: Mapping[str, Any]) -> JobParams:
    try:
        return k.params.model_validate(dict(params))
    except PydanticError as exc:
        problems = [
            Problem(f"job {k.name}", None, ".".join(str(x) for x in e["loc"]) or "params", e["msg"])
            for e in exc.errors()
        ]
        raise ValidationError(problems) from None


def validate_params(kind: str, params: Mapping[str, Any]) -> JobParams:
    """The parameters of ``kind`` validated by its model (ValidationError naming each bad field)."""
    k = load_kinds().get(kind)
    if k is None:
        raise NotFound(f"no job kind '{kind}'")
    return _validate(k, params)


def submit(store: Store, kind: str, params: Mapping[str, Any], principal: Principal, *,
           files: list[str] | None = None) -> str:  # fmt: skip
    """Queue a job of ``kind`` for ``principal``; its id.  ``files`` (the client's names of the uploads
    it works on) are kept with the job, so that a failed job can say what to send again."""
    from carbonpeak.config import get_settings

    model = validate_params(kind, params)
    k = KINDS[kind]
    job_id = uuid.uuid4().hex
    job_table.enqueue(
        store, job_id, kind, principal.username, model.model_dump(mode="json"), _principal_dict(principal),
        max_attempts=k.max_attempts or get_settings().job_max_attempts, files=files,
    )  # fmt: skip
    return job_id


def _result_json(result: Any) -> str:
    return json.dumps(result, ensure_ascii=False, default=str)


class Runner:
    """The job runner of one worker process: claims jobs, runs them with a heartbeat, records the end.

    ``run_pending()`` runs what is runnable now and returns; ``start()`` runs a polling thread
    (``threads`` of them) until ``stop()``; ``wake()`` makes it look at once (after a submit).
    """

    def __init__(self, store: Store, *, worker: str | None = None, lease_seconds: int | None = None,
                 poll_seconds: float | None = None, threads: int = 1,
                 kinds: Mapping[str, JobKind] | None = None) -> None:  # fmt: skip
        from carbonpeak.config import get_settings

        cfg = get_settings()
        self.store = store
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_seconds = int(lease_seconds or cfg.job_lease_seconds)
        self.poll_seconds = float(poll_seconds if poll_seconds is not None else cfg.job_poll_seconds)
        self.threads = threads
        self.kinds = dict(kinds) if kinds is not None else load_kinds()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool: list[threading.Thread] = []

    # -- one job ------------------------------------------------------------------------------
    def run_one(self) -> str | None:
        """Claim and run one job; its id, or None when nothing is runnable."""
        c = job_table.claim_due(self.store, sorted(self.kinds), self.worker, self.lease_seconds)
        if c is None:
            return None
        self._execute(c)
        return c.job_id

    def run_pending(self, max_jobs: int | None = None) -> list[str]:
        """Run runnable jobs until none is left (or ``max_jobs`` ran); their ids."""
        done: list[str] = []
        while max_jobs is None or len(done) < max_jobs:
            jid = self.run_one()
            if jid is None:
                break
            done.append(jid)
        return done

    def _execute(self, c: job_table.Claim) -> None:
        lost = threading.Event()
        finished = threading.Event()

        def beat() -> None:  # renew the lease a few times per lease period
            while not finished.wait(max(0.2, self.lease_seconds / 3)):
                try:
                    if not job_table.renew(self.store, c, self.lease_seconds):
                        lost.set()
                        return
                except Exception:  # the database is away for a moment: try again next beat
                    log.warning("job %s: the lease could not be renewed", c.job_id, exc_info=True)

        def progress(f: float) -> None:
            if lost.is_set() or not job_table.renew(self.store, c, self.lease_seconds, max(0.0, min(1.0, float(f)))):
                lost.set()
                raise JobLost(f"job {c.job_id}: another worker took it over")

        heart = threading.Thread(target=beat, name=f"carbonpeak-job-heartbeat-{c.job_id[:8]}", daemon=True)
        heart.start()
        try:
            status, result, error = self._call(c, progress)
        finally:
            finished.set()
            heart.join(timeout=30)
        if lost.is_set() or not self._finish(c, status, result, error):
            log.warning("job %s: attempt %d of worker %s was taken over; its outcome is dropped",
                        c.job_id, c.attempt, self.worker)  # fmt: skip

    def _call(self, c: job_table.Claim, progress: Progress) -> tuple[str, str | None, str | None]:
        try:
            kind = self.kinds[c.kind]
            params = _validate(kind, c.params)
            result = kind.fn(self.store, params, _principal(c.principal), progress)
        except JobLost:
            return "failed", None, "taken over"
        except CarbonpeakError as exc:  # the user's own error: its message names their file, row, field
            detail = exc.to_dict() if hasattr(exc, "to_dict") else None
            return "failed", _result_json(detail) if detail else None, str(exc)
        except Exception:  # a bug: logged with its traceback here, never shown to the client
            log.exception("job %s failed", c.job_id)
            return "failed", None, f"internal error (job {c.job_id}); the operator can find it in the service log"
        try:
            return "done", _result_json(result), None
        except Exception:
            log.exception("job %s: result could not be recorded", c.job_id)
            return "done", _result_json({"note": "done; the result could not be recorded"}), None

    def _finish(self, c: job_table.Claim, status: str, result: str | None, error: str | None) -> bool:
        # The work is done (and its data committed): from here on the job is a success, even if
        # recording the result fails once.
        try:
            return job_table.finish(self.store, c, status=status, result=result, error=error)
        except Exception:
            log.exception("job %s: the outcome could not be recorded; trying without the result", c.job_id)
            note = _result_json({"note": f"{status}; the result could not be recorded"})
            return job_table.finish(self.store, c, status=status, result=note, error=error)

    # -- the polling threads of a service worker -----------------------------------------------
    def start(self) -> None:
        """Run jobs in the background until :meth:`stop` (idempotent)."""
        self._pool = [t for t in self._pool if t.is_alive()]
        if self._pool:
            return
        self._stop.clear()
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"carbonpeak-job-{i}", daemon=True)
            t.start()
            self._pool.append(t)

    def wake(self) -> None:
        """Look for jobs now (a job was just submitted)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_one()
            except Exception:
                if self._stop.is_set() or getattr(self.store, "_closed", False):
                    return
                log.exception("job runner %s: claiming a job failed", self.worker)
                ran = None
            if ran is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def stop(self, timeout: float | None = None) -> None:
        """Stop polling and wait for the running job(s) to end, so the store is never closed under them.

        A job that cannot end (the process is killed) is taken over by another worker when its
        lease has run out.
        """
        self._stop.set()
        self._wake.set()
        for t in self._pool:
            t.join(timeout)
        self._pool = []


def get(store: Store, job_id: str) -> dict[str, Any] | None:
    """The job as the API shows it (status, progress, result, error, owner, times)."""
    return job_table.get(store, job_id)
