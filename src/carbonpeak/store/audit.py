"""The tamper-evident audit log: an append-only, keyed hash chain in the store.

Each entry carries the hash of the one before (``prev_hash``) and its own ``hash``: an
HMAC-SHA256 (RFC 2104) over ``seq, ts, actor, action, entity, entity_id, payload, prev_hash,
key_id`` in a canonical text form, keyed with a secret that lives *outside* the store
(:mod:`carbonpeak.store.audit_keys`).  Someone who can write the database file but does not
hold the key can neither forge an entry nor recompute the chain after an edit.
:func:`verify_chain` recomputes every hash from the first entry; an edited field, a deleted
entry, a forged entry or a reordering breaks the chain at a position it reports.  Deleting the
*newest* entries leaves a shorter valid chain: that is caught by a signed checkpoint of the head
(:mod:`carbonpeak.store.checkpoints`).  The genesis ``prev_hash`` is 64 zeros.  (Design after
RFC 6962's append-only log, without the Merkle tree: a linear chain is enough for one authority.)

Entries written before the chain was keyed (``key_id`` NULL) are plain SHA-256 and accepted only
up to the keyring's ``legacy_upto``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from carbonpeak.store import audit_keys
from carbonpeak.store.audit_keys import Keyring
from carbonpeak.store.duck import Store

GENESIS = "0" * 64


def _json_ready(value: Any) -> Any:
    """``value`` with every missing or non-finite number as ``None`` (JSON has no NaN: PostgreSQL's
    ``json`` type refuses the ``NaN`` that Python's encoder writes, and a reader of the log could not
    parse it); containers are walked, anything else is left to the encoder."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def canonical_json(payload: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 characters kept, strict (no NaN)."""
    return json.dumps(_json_ready(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str, allow_nan=False)  # fmt: skip


def entry_hash(
    seq: int, ts: str, actor: str, action: str, entity: str, entity_id: str, payload: str, prev_hash: str
) -> str:
    """The unkeyed SHA-256 of an entry (entries written before the chain was keyed)."""
    text = "\x1f".join([str(seq), ts, actor, action, entity, entity_id, payload, prev_hash])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_mac(
    ring: Keyring,
    key_id: str,
    seq: int,
    ts: str,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    payload: str,
    prev_hash: str,
) -> str:
    """The keyed hash of an entry: HMAC-SHA256 with key ``key_id`` of the keyring."""
    text = "\x1f".join([str(seq), ts, actor, action, entity, entity_id, payload, prev_hash, key_id])
    return ring.mac(key_id, text)


def keyring(store: Store) -> Keyring:
    """The keyring of ``store`` (generated beside it on first use; see :mod:`audit_keys`)."""

    def legacy() -> int:  # only asked when a keyring is generated for this store
        row = store.con.execute("SELECT coalesce(max(seq), 0) FROM audit_log WHERE key_id IS NULL").fetchone()
        return int(row[0]) if row else 0

    return audit_keys.keyring_for(store.sidecar_base, legacy_upto=legacy)


#: PostgreSQL advisory lock key of the audit chain (any fixed 64-bit number; "cpaudit" in ASCII).
AUDIT_CHAIN_LOCK = 0x63706175646974


def _ts_text(ts: Any) -> str:
    if isinstance(ts, datetime):
        return ts.astimezone(UTC).isoformat(timespec="microseconds")
    return str(ts)


def append(store: Store, *, actor: str, action: str, entity: str, entity_id: str, payload: Any) -> int:
    """Append one entry inside the caller's transaction if one is open; return its seq.

    Call it inside the same ``store.transaction()`` as the change it records, so that the change
    and its audit entry commit together.
    """
    ring = keyring(store)
    con = store.con
    if store.is_postgres:
        # one writer of the chain at a time (released at the end of the caller's transaction);
        # other writes of other transactions go on concurrently
        con.execute("SELECT pg_advisory_xact_lock(?)", [AUDIT_CHAIN_LOCK])
    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq = 1 if last is None else int(last[0]) + 1
    prev = GENESIS if last is None else str(last[1])
    ts = _ts_text(datetime.now(UTC))
    body = canonical_json(payload)
    kid = ring.active_hmac
    h = entry_mac(ring, kid, seq, ts, actor, action, entity, entity_id, body, prev)
    con.execute(
        "INSERT INTO audit_log (seq, ts, actor, action, entity, entity_id, payload, prev_hash, hash, key_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, ts, actor, action, entity, entity_id, body, prev, h, kid],
    )
    return seq


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def verify_chain(store: Store, ring: Keyring | None = None) -> ChainReport:
    """Recompute the keyed chain; report the first entry where it breaks."""
    ring = ring or keyring(store)
    rows = store.con.execute(
        "SELECT seq, ts, actor, action, entity, entity_id, payload, prev_hash, hash, key_id "
        "FROM audit_log ORDER BY seq"
    ).fetchall()
    prev = GENESIS
    expected_seq = 1
    for seq, ts, actor, action, entity, entity_id, payload, prev_hash, h, kid in rows:
        if seq != expected_seq:
            return ChainReport(False, len(rows), int(seq), f"entry {expected_seq} is missing (found {seq})")
        if prev_hash != prev:
            return ChainReport(False, len(rows), int(seq), "prev_hash does not match the previous entry")
        fields = (seq, _ts_text(ts), actor, action, entity, entity_id, payload, prev_hash)
        if kid is None:
            if seq > ring.legacy_upto:
                return ChainReport(False, len(rows), int(seq), "entry is not sealed with an audit key")
            recomputed = entry_hash(*fields)
        elif kid not in ring.hmac_keys:
            return ChainReport(False, len(rows), int(seq), f"entry is sealed with an unknown key '{kid}'")
        else:
            recomputed = entry_mac(ring, kid, *fields)
        if not hmac.compare_digest(recomputed, str(h)):
            return ChainReport(False, len(rows), int(seq), "entry content does not match its hash")
        prev = h
        expected_seq += 1
    return ChainReport(True, len(rows))


def head(store: Store) -> str:
    """Hash of the newest entry (publish it elsewhere to detect a rewrite of the whole chain)."""
    r = store.con.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return GENESIS if r is None else str(r[0])


_ENTRY_COLUMNS = "SELECT seq, ts, actor, action, entity, entity_id, payload, hash, key_id FROM audit_log"

#: The entries a verifier may read: its own actions and those about its assigned enterprises
#: (credit events, submissions, anything whose payload names the enterprise, reviews of alerts
#: on the enterprise's units).  Literal SQL; the assigned ids are a bound list.
_VERIFIER_SCOPE = (
    "SELECT seq, ts, actor, action, entity, entity_id, payload, hash, key_id FROM audit_log"
    " WHERE actor = $user"
    " OR (entity = 'user' AND entity_id = $user)"
    " OR (entity = 'enterprise' AND list_contains($ents, entity_id))"
    " OR (entity = 'submission' AND list_contains($ents, split_part(entity_id, '/', 1)))"
    " OR list_contains($ents, json_extract_string(payload, '$.enterprise_id'))"
    " OR (entity = 'mon_alert' AND entity_id IN ("
    "     SELECT a.alert_id FROM mon_alerts a JOIN mon_units_current u USING (unit_id)"
    "     WHERE list_contains($ents, u.uscc)))"
    " ORDER BY seq DESC LIMIT $limit"
)


def entries(store: Store, limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` entries (unscoped: for province roles and the CLI)."""
    return store.query(_ENTRY_COLUMNS + " ORDER BY seq DESC LIMIT ?", [limit])


def verifier_entries(store: Store, username: str, assigned: tuple[str, ...], limit: int = 200) -> pd.DataFrame:
    """The newest entries a verifier may read: its own and those of its assigned enterprises."""
    return store.con.execute(
        _VERIFIER_SCOPE, {"user": username, "ents": list(assigned), "limit": limit}
    ).df()
