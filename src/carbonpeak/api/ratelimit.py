"""Login limits: failed attempts counted per user and per real client address, with lock-outs.

- :func:`client_address` is the address of the client, not of a proxy: ``X-Forwarded-For`` is
  honoured only when the peer is one of the configured trusted proxies (setting
  ``trusted_proxies``), and then read from the right, skipping trusted proxies, so a client
  cannot choose its own address by sending the header itself.
- :class:`LoginGuard` locks a user name after ``per_user`` failures (guessing one password)
  and an address after ``per_address`` failures (password spraying: one password tried on many
  names), each for ``lockout`` seconds after the last failure in the window.  While locked, a
  login is refused *before* the password is checked, so a correct password is never accepted
  during a lock-out.

With a store (the service's), the failures are kept in its ``login_failures`` table
(:mod:`carbonpeak.store.login_limits`; Alembic revision ``0630_login_failures``), so a restart of
the service does not reset a lock-out and, on PostgreSQL, every worker process sees the same
counts; the times are wall-clock seconds (a monotonic clock does not survive a restart).  Without
a store (tools, tests of the limiter alone) they are kept in memory.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carbonpeak.store import login_limits

if TYPE_CHECKING:
    from carbonpeak.store.duck import Store

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.1", "192.168.0.0/16"]`` as networks (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(x.strip(), strict=False) for x in items if x.strip())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(addr: str, proxies: tuple[Network, ...]) -> bool:
    ip = _ip(addr)
    return ip is not None and any(ip in n for n in proxies)


def client_address(peer: str | None, headers: Mapping[str, str], proxies: tuple[Network, ...]) -> str:
    """The real client address of a request from ``peer`` (see the module text)."""
    peer = peer or "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if _ip(hop) is None:  # garbage in the header: stop at the last address we can trust
            return peer
        if not _trusted(hop, proxies):
            return hop
        peer = hop
    return peer


def _now() -> float:
    """Wall-clock seconds (the lock-outs outlive the process when they are kept in the store)."""
    return time.time()


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (in memory, or in ``store``)."""

    def __init__(
        self, limit: int = 5, window: float = 60.0, *, store: Store | None = None, kind: str = ""
    ) -> None:
        self.limit = limit
        self.window = window
        self.store = store
        self.kind = kind
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    # -- kept in the store (carbonpeak.store.login_limits) ----------------------------------------
    def _db_count(self, key: str, now: float) -> int:
        assert self.store is not None
        return login_limits.count(self.store, self.kind, key, now, self.window)

    def _db_hit(self, key: str, now: float) -> bool:
        assert self.store is not None
        return login_limits.hit(self.store, self.kind, key, now, self.window, self.limit)

    def _prune(self, q: deque[float], now: float) -> None:
        while q and now - q[0] > self.window:
            q.popleft()

    def count(self, key: str) -> int:
        if self.store is not None:
            return self._db_count(key, _now())
        with self._lock:
            q = self._events.get(key)
            if q is None:
                return 0
            self._prune(q, _now())
            return len(q)

    def hit(self, key: str) -> bool:
        """Record an event; return False when the key is (now) over its limit."""
        now = _now()
        if self.store is not None:
            return self._db_hit(key, now)
        with self._lock:
            q = self._events[key]
            self._prune(q, now)
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True

    def reset(self, key: str) -> None:
        if self.store is not None:
            login_limits.reset(self.store, self.kind, key)
            return
        with self._lock:
            self._events.pop(key, None)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # "user" or "address" when locked


class LoginGuard:
    """Failed logins per user name and per client address; lock-outs (see the module text)."""

    def __init__(
        self, per_user: int = 5, per_address: int = 20, lockout: float = 900.0, *, store: Store | None = None
    ) -> None:
        self.users = RateLimiter(per_user, lockout, store=store, kind="user")
        self.addresses = RateLimiter(per_address, lockout, store=store, kind="address")

    def check(self, username: str, address: str) -> Verdict:
        """May this attempt be checked at all?  (Call before looking at the password.)"""
        if self.users.count(username.casefold()) >= self.users.limit:
            return Verdict(False, "user")
        if self.addresses.count(address) >= self.addresses.limit:
            return Verdict(False, "address")
        return Verdict(True)

    def failed(self, username: str, address: str) -> None:
        self.users.hit(username.casefold())
        self.addresses.hit(address)

    def succeeded(self, username: str) -> None:
        """A correct login clears the user's failures (the address keeps its count: spraying)."""
        self.users.reset(username.casefold())
