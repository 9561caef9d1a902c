"""Users, roles, password hashes (argon2id) and expiring sessions.

No default password ever ships: the first admin is created by ``carbonpeak users bootstrap``
(or ``users add --role admin``) with a password the operator types or a random one printed
once.  Passwords follow :mod:`carbonpeak.store.passwords`.  Session tokens are random (256 bits);
only their SHA-256 is stored.  A disabled account answers a login exactly like a wrong password
(same error, same argon2 work).  Logins and failed logins are audited (entity ``login``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from carbonpeak.errors import AuthError, CarbonpeakError, Conflict, NotFound, PermissionDenied
from carbonpeak.model.ids import check_enterprise_ids

__all__ = ["ROLES", "AuthError", "PermissionDenied", "Principal"]  # the errors are re-exported
from carbonpeak.store import audit
from carbonpeak.store.duck import Store
from carbonpeak.store.passwords import check_password

ROLES = ("admin", "province_analyst", "city_officer", "enterprise", "verifier")
_CITY_RE = re.compile(r"^GD-[A-Z]{2,3}$")
_USER_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
WRONG_CREDENTIALS = "wrong username or password"

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 second recommended option)


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
    if enterprise_id is not None:
        check_enterprise_ids([enterprise_id], "enterprise")


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
    assigned = check_enterprise_ids(list(assigned or []))  # one id per entry: "a,b" is refused
    check_password(password, username)
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise Conflict(f"user '{username}' exists already")
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


#: Who acts on a store that has no user accounts yet (a local monitoring or analysis store).
LOCAL_OPERATOR_ROLE = "admin"


def operator_principal(store: Store, username: str) -> Principal:
    """The principal of a command-line operator acting as ``username``.

    On a store with user accounts the name must be an enabled account, and its role and scope
    apply exactly as in the service.  A store without accounts is a local store: whoever can
    open the file acts as its administrator (and is recorded under ``username``).
    """
    if not has_users(store):
        return Principal(username, LOCAL_OPERATOR_ROLE)
    row = store.con.execute(
        "SELECT disabled, username, role, city, enterprise_id, assigned FROM users WHERE username = ?", [username]
    ).fetchone()
    if row is None or row[0]:
        raise PermissionDenied(f"'{username}' is not an enabled user of this store (carbonpeak users list)")
    return _principal_from_row(row[1:])


def list_users(store: Store) -> list[dict[str, object]]:
    df = store.query(
        "SELECT username, role, city, enterprise_id, assigned, disabled, created_at FROM users ORDER BY username"
    )
    df["created_at"] = df["created_at"].astype(str)
    return df.to_dict(orient="records")


def set_disabled(store: Store, username: str, disabled: bool = True, *, actor: str = "cli") -> None:
    with store.transaction() as con:
        if not con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise NotFound(f"no user '{username}'")
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
    """Check a password; raise :class:`AuthError` with one message for every failure.

    Unknown user, wrong password and disabled account all cost one argon2 operation and raise
    the same error, so neither the answer nor its time tells which it was.
    """
    row = store.con.execute(
        "SELECT password_hash, disabled, username, role, city, enterprise_id, assigned FROM users WHERE username = ?",
        [username],
    ).fetchone()
    if row is None:
        _hasher.hash(password)  # same work as a real check: do not reveal which names exist
        raise AuthError(WRONG_CREDENTIALS)
    try:
        _hasher.verify(str(row[0]), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthError(WRONG_CREDENTIALS) from None
    if row[1]:
        raise AuthError(WRONG_CREDENTIALS)
    return _principal_from_row(row[2:])


def change_password(store: Store, username: str, old_password: str, new_password: str) -> None:
    """Change a user's own password (the old one must be right); other sessions are ended (audited)."""
    authenticate(store, username, old_password)
    if new_password == old_password:
        raise CarbonpeakError("the new password must differ from the old one")
    set_password(store, username, new_password, actor=username)


def set_password(store: Store, username: str, new_password: str, *, actor: str = "cli") -> None:
    """Set a user's password (policy checked; all sessions of the user ended; audited)."""
    check_password(new_password, username)
    digest = _hasher.hash(new_password)
    with store.transaction() as con:
        if not con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise NotFound(f"no user '{username}'")
        con.execute("UPDATE users SET password_hash = ? WHERE username = ?", [digest, username])
        con.execute("DELETE FROM sessions WHERE username = ?", [username])
        audit.append(
            store, actor=actor, action="user.password", entity="user", entity_id=username, payload={}
        )


def record_login(store: Store, username: str, *, ok: bool, address: str, reason: str = "") -> None:
    """Audit a login or a failed login (``reason``: wrong_credentials, locked_user, locked_address)."""
    payload: dict[str, str] = {"address": address}
    if not ok:
        payload["reason"] = reason
    with store.transaction():
        audit.append(
            store,
            actor=username if ok else "anonymous",
            action="auth.login" if ok else "auth.login_failed",
            entity="login",
            entity_id=username[:64],
            payload=payload,
        )


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
        raise AuthError("not logged in or session unknown")
    return _principal_from_row(row[:5])


def end_session(store: Store, token: str) -> None:
    with store.transaction() as con:
        con.execute("DELETE FROM sessions WHERE token_hash = ?", [_token_hash(token)])
