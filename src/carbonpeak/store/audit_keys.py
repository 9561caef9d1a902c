"""The keys of the audit chain, kept outside the store.

A *keyring* holds two kinds of keys, each under a key id:

- ``hmac``: 256-bit secrets that key the chain (HMAC-SHA256, RFC 2104).  Each audit entry records
  the id of the key that sealed it, so after a rotation the older entries still verify with the
  older key;
- ``signing``: Ed25519 private keys (RFC 8032) that sign checkpoints of the chain head.

One key of each kind is *active* (new entries and checkpoints use it); rotation adds a new key,
makes it active and keeps the old ones for verification.  ``legacy_upto`` is the last sequence
number of unkeyed entries written before the chain was keyed (0 for a store keyed from its
start): unkeyed entries after it are refused by the verifier.

Where the keyring comes from (first match wins; see docs/security.md, "Key handling"):

1. ``CARBONPEAK_AUDIT_KEYRING`` — the keyring's JSON text, e.g. from a secret manager;
2. ``CARBONPEAK_AUDIT_KEY_FILE`` — the path of a keyring file;
3. a file beside the store, ``<store>.audit-keys.json``, generated with mode 0600 on first use
   (a warning is logged: move it off the database's disk in production);
4. an in-memory store (``:memory:``, tests) gets a keyring generated for the process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from carbonpeak.errors import CarbonpeakError

log = logging.getLogger("carbonpeak.audit")

KEYRING_SUFFIX = ".audit-keys.json"


class KeyringError(CarbonpeakError):
    """The audit keyring is missing, unreadable or lacks a key."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%d')}-{secrets.token_hex(4)}"


def public_key_b64(private: Ed25519PrivateKey) -> str:
    return _b64(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text))


@dataclass
class Keyring:
    """HMAC and Ed25519 keys by id, with the active id of each kind."""

    hmac_keys: dict[str, bytes] = field(default_factory=dict)
    signing_keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    active_hmac: str = ""
    active_signing: str = ""
    legacy_upto: int = 0
    created: dict[str, str] = field(default_factory=dict)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def generate(cls, legacy_upto: int = 0) -> Keyring:
        ring = cls(legacy_upto=legacy_upto)
        ring.rotate()
        return ring

    def rotate(self, *, hmac_key: bool = True, signing_key: bool = True) -> list[str]:
        """Add fresh keys and make them active; old keys stay for verification.  Return new ids."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        new = []
        if hmac_key:
            kid = _new_id("hmac")
            self.hmac_keys[kid] = secrets.token_bytes(32)
            self.active_hmac = kid
            self.created[kid] = now
            new.append(kid)
        if signing_key:
            kid = _new_id("ed25519")
            self.signing_keys[kid] = Ed25519PrivateKey.generate()
            self.active_signing = kid
            self.created[kid] = now
            new.append(kid)
        return new

    # -- use ------------------------------------------------------------------------------------
    def mac(self, key_id: str, text: str) -> str:
        """HMAC-SHA256 of ``text`` with key ``key_id`` (hex)."""
        try:
            key = self.hmac_keys[key_id]
        except KeyError:
            raise KeyringError(f"audit key '{key_id}' is not in the keyring") from None
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def signer(self, key_id: str | None = None) -> tuple[str, Ed25519PrivateKey]:
        kid = key_id or self.active_signing
        if kid not in self.signing_keys:
            raise KeyringError(f"signing key '{kid}' is not in the keyring")
        return kid, self.signing_keys[kid]

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        k = self.signing_keys.get(key_id)
        return None if k is None else k.public_key()

    def public_keys(self) -> dict[str, str]:
        """Public keys by id (to publish beside the checkpoints)."""
        return {kid: public_key_b64(k) for kid, k in self.signing_keys.items()}

    # -- serialisation --------------------------------------------------------------------------
    def to_json(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        doc = {
            "version": 1,
            "legacy_upto": self.legacy_upto,
            "hmac": {
                "active": self.active_hmac,
                "keys": {k: {"secret": _b64(v), "created": self.created.get(k)} for k, v in self.hmac_keys.items()},
            },
            "signing": {
                "active": self.active_signing,
                "keys": {
                    k: {
                        "private": _b64(v.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
                        "public": public_key_b64(v),
                        "created": self.created.get(k),
                    }
                    for k, v in self.signing_keys.items()
                },
            },
        }
        return json.dumps(doc, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, origin: str = "keyring") -> Keyring:
        try:
            doc: dict[str, Any] = json.loads(text)
            ring = cls(legacy_upto=int(doc.get("legacy_upto", 0)))
            for kid, v in doc["hmac"]["keys"].items():
                ring.hmac_keys[kid] = _unb64(v["secret"])
                ring.created[kid] = v.get("created") or ""
            for kid, v in doc["signing"]["keys"].items():
                ring.signing_keys[kid] = Ed25519PrivateKey.from_private_bytes(_unb64(v["private"]))
                ring.created[kid] = v.get("created") or ""
            ring.active_hmac = str(doc["hmac"]["active"])
            ring.active_signing = str(doc["signing"]["active"])
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"{origin}: not a valid audit keyring ({type(exc).__name__})") from None
        if ring.active_hmac not in ring.hmac_keys or ring.active_signing not in ring.signing_keys:
            raise KeyringError(f"{origin}: the active key ids are not in the keyring")
        return ring


def write_keyring(ring: Keyring, path: Path) -> None:
    """Write the keyring file atomically with mode 0600 (owner read/write only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(ring.to_json())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_keyring(path: Path) -> Keyring:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyringError(f"cannot read the audit keyring {path.name}: {exc.strerror}") from None
    return Keyring.from_json(text, origin=path.name)


# -- which keyring a store uses ---------------------------------------------------------------------
_lock = threading.Lock()
_cache: dict[str, tuple[float, Keyring]] = {}
_memory_ring: Keyring | None = None


def default_key_file(store_path: str) -> Path | None:
    """The keyring file used for a store when no setting names one (``None`` for ``:memory:``)."""
    from carbonpeak.config import get_settings

    s = get_settings()
    if s.audit_key_file is not None:
        return Path(s.audit_key_file)
    if store_path == ":memory:":
        return None
    return Path(store_path + KEYRING_SUFFIX)


def keyring_for(store_path: str, *, legacy_upto: Callable[[], int] | int = 0) -> Keyring:
    """The keyring of the store at ``store_path`` (created on first use; see the module text).

    ``legacy_upto`` (a number, or a function computing it, called only then) is recorded when a
    new keyring is generated: the last sequence number of unkeyed entries already in the store.
    """
    global _memory_ring
    from carbonpeak.config import get_settings

    secret = get_settings().audit_keyring
    if secret is not None:
        text = secret.get_secret_value()
        with _lock:
            hit = _cache.get("env")
            if hit is None or hit[0] != hash(text):
                _cache["env"] = (hash(text), Keyring.from_json(text, origin="CARBONPEAK_AUDIT_KEYRING"))
            return _cache["env"][1]
    path = default_key_file(store_path)
    with _lock:
        if path is None:
            if _memory_ring is None:
                _memory_ring = Keyring.generate()
            return _memory_ring
        key = str(path.resolve())
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            ring = Keyring.generate(legacy_upto() if callable(legacy_upto) else legacy_upto)
            write_keyring(ring, path)
            log.warning(
                "generated a new audit keyring %s (mode 0600); keep it off the database's disk and back "
                "it up (docs/security.md, 'Key handling')",
                path,
            )
            mtime = path.stat().st_mtime
            _cache[key] = (mtime, ring)
            return ring
        hit = _cache.get(key)
        if hit is None or hit[0] != mtime:
            _cache[key] = (mtime, read_keyring(path))
        return _cache[key][1]


def rotate_key_file(path: Path) -> list[str]:
    """Rotate the keyring file at ``path`` in place; return the new key ids."""
    ring = read_keyring(path)
    new = ring.rotate()
    write_keyring(ring, path)
    with _lock:
        _cache.pop(str(path.resolve()), None)
    return new
