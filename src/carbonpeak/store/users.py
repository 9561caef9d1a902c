"""Users, roles, password hashes (argon2id) and expiring sessions.

No default password ever ships: the first admin is created by ``carbonpeak users bootstrap``
(or ``users add --role admin``) with a password the operator types or a random one printed
once.  Session tokens are random (256 bits); only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from carbonpeak.errors import CarbonpeakError
from carbonpeak.store import audit
from carbonpeak.store.duck import Store

ROLES = ("admin", "province_analyst", "city_officer", "enterprise", "verifier")
_CITY_RE = re.compile(r"^GD-[A-Z]{2,3}$")
_USER_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
MIN_PASSWORD = 12

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 second recommended option)


class AuthError(CarbonpeakError):
    """Wrong credentials, expired session or disabled user."""


class PermissionDenied(CarbonpeakError):
    """The principal may not see or do this."""


@dataclass(frozen=True)
class Principal:
    """Who is asking, and what they are scoped to."""

    username: str
    role: str
    city: str | None = None
    enterprise_id: str | None = None
    assigned: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "role": self.role,
            "city": self.city,
            "enterprise_id": self.enterprise_id,
            "assigned": list(self.assigned),
        }


def _check_user_fields(username: str, role: str, city: str | None, enterprise_id: str | None) -> None:
    if not _USER_RE.match(username):
        raise CarbonpeakError("username: 3-64 characters of letters, digits, _ . @ -")
    if role not in ROLES:
        raise CarbonpeakError(f"role '{role}' is not one of {', '.join(ROLES)}")
    if role == "city_officer" and not (city and _CITY_RE.match(city)):
        raise CarbonpeakError("a city_officer needs --city GD-XX (a city code from catalog regions)")
    if role == "enterprise" and not enterprise_id:
        raise CarbonpeakError("an enterprise user needs --enterprise ID")


def add_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    *,
    city: str | None = None,
    enterprise_id: str | None = None,
    assigned: list[str] | None = None,
    actor: str = "cli",
) -> Principal:
    """Create a user (audited).  Refuses short passwords and duplicate names."""
    _check_user_fields(username, role, city, enterprise_id)
    if len(password) < MIN_PASSWORD:
        raise CarbonpeakError(f"password must have at least {MIN_PASSWORD} characters")
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise CarbonpeakError(f"user '{username}' exists already")
        con.execute(
            "INSERT INTO users (username, password_hash, role, city, enterprise_id, assigned, disabled, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, FALSE, ?)",
            [
                username,
                _hasher.hash(password),
                role,
                city,
                enterprise_id,
                ",".join(assigned or []),
                datetime.now(UTC),
            ],
        )
        audit.append(
            store,
            actor=actor,
            action="user.create",
            entity="user",
            entity_id=username,
            payload={"role": role, "city": city, "enterprise_id": enterprise_id, "assigned": assigned or []},
        )
    return Principal(username, role, city, enterprise_id, tuple(assigned or ()))


def has_users(store: Store) -> bool:
    return bool(store.con.execute("SELECT count(*) FROM users").fetchone()[0])  # type: ignore[index]


def list_users(store: Store) -> list[dict[str, object]]:
    df = store.query(
        "SELECT username, role, city, enterprise_id, assigned, disabled, created_at FROM users ORDER BY username"
    )
    df["created_at"] = df["created_at"].astype(str)
    return df.to_dict(orient="records")


def set_disabled(store: Store, username: str, disabled: bool = True, *, actor: str = "cli") -> None:
    with store.transaction() as con:
        if not con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise CarbonpeakError(f"no user '{username}'")
        con.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, username])
        if disabled:
            con.execute("DELETE FROM sessions WHERE username = ?", [username])
        audit.append(
            store,
            actor=actor,
            action="user.disable" if disabled else "user.enable",
            entity="user",
            entity_id=username,
            payload={"disabled": disabled},
        )


def _principal_from_row(row: tuple[object, ...]) -> Principal:
    username, role, city, enterprise_id, assigned = row
    return Principal(
        str(username),
        str(role),
        city or None,
        enterprise_id or None,  # type: ignore[arg-type]
        tuple(a for a in str(assigned or "").split(",") if a),
    )


def authenticate(store: Store, username: str, password: str) -> Principal:
    """Check a password; raise :class:`AuthError` with one message for every failure."""
    row = store.con.execute(
        "SELECT password_hash, disabled, username, role, city, enterprise_id, assigned FROM users WHERE username = ?",
        [username],
    ).fetchone()
    if row is None:
        _hasher.hash(password)  # same work as a real check: do not reveal which names exist
        raise AuthError("wrong username or password")
    try:
        _hasher.verify(str(row[0]), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthError("wrong username or password") from None
    if row[1]:
        raise AuthError("this user is disabled")
    return _principal_from_row(row[2:])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    store: Store, principal: Principal, ttl: timedelta = timedelta(hours=8)
) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.transaction() as con:
        con.execute("DELETE FROM sessions WHERE expires_at < ?", [now])
        con.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?)",
            [_token_hash(token), principal.username, now, now + ttl],
        )
    return token, now + ttl


def resolve_session(store: Store, token: str) -> Principal:
    row = store.con.execute(
        "SELECT u.username, u.role, u.city, u.enterprise_id, u.assigned, s.expires_at, u.disabled "
        "FROM sessions s JOIN users u USING (username) WHERE s.token_hash = ?",
        [_token_hash(token)],
    ).fetchone()
    if row is None:
        raise AuthError("not logged in or session unknown")
    expires = row[5]
    if isinstance(expires, datetime) and expires.astimezone(UTC) < datetime.now(UTC):
        raise AuthError("session expired; log in again")
    if row[6]:
        raise AuthError("this user is disabled")
    return _principal_from_row(row[:5])


def end_session(store: Store, token: str) -> None:
    with store.transaction() as con:
        con.execute("DELETE FROM sessions WHERE token_hash = ?", [_token_hash(token)])
