"""The ``login_failures`` table: failed logins kept in the store, so that a restart of the service
(or another worker process) sees the same lock-outs (:class:`carbonpeak.api.ratelimit.LoginGuard`).

``kind`` is ``user`` (subject = case-folded user name) or ``address`` (the real client address);
``failed_at`` wall-clock seconds since the epoch.  On PostgreSQL, with several workers, the
count-then-insert of one subject is serialised by a transaction-scoped advisory lock on the
subject, so two workers cannot both let the last allowed attempt through.
"""

from __future__ import annotations

from carbonpeak.store.duck import Store


def _serialise(store: Store, con: object, kind: str, subject: str) -> None:
    if store.is_postgres:
        con.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [f"login:{kind}:{subject}"])  # type: ignore[attr-defined]


def count(store: Store, kind: str, subject: str, now: float, window: float) -> int:
    """Failures of ``subject`` within the window (older ones of it are deleted)."""
    with store.transaction() as con:
        _serialise(store, con, kind, subject)
        con.execute(
            "DELETE FROM login_failures WHERE kind = ? AND subject = ? AND failed_at <= ?",
            [kind, subject, now - window],
        )
        row = con.execute(
            "SELECT count(*) FROM login_failures WHERE kind = ? AND subject = ?", [kind, subject]
        ).fetchone()
    return int(row[0]) if row else 0


def hit(store: Store, kind: str, subject: str, now: float, window: float, limit: int) -> bool:
    """Record a failure; False (nothing recorded) when ``subject`` is already at its limit."""
    with store.transaction() as con:
        _serialise(store, con, kind, subject)
        # expired failures of every name/address of this kind go (the table stays small even
        # when a spray comes from many addresses)
        con.execute("DELETE FROM login_failures WHERE kind = ? AND failed_at <= ?", [kind, now - window])
        row = con.execute(
            "SELECT count(*) FROM login_failures WHERE kind = ? AND subject = ?", [kind, subject]
        ).fetchone()
        if row and int(row[0]) >= limit:
            return False
        con.execute(
            "INSERT INTO login_failures (kind, subject, failed_at) VALUES (?, ?, ?)", [kind, subject, now]
        )
    return True


def reset(store: Store, kind: str, subject: str) -> None:
    with store.transaction() as con:
        con.execute("DELETE FROM login_failures WHERE kind = ? AND subject = ?", [kind, subject])
