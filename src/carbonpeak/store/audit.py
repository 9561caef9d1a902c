"""The tamper-evident audit log: an append-only hash chain in the store.

Each entry carries the SHA-256 of the one before (``prev_hash``) and its own ``hash`` over
``seq, ts, actor, action, entity, entity_id, payload, prev_hash`` in a canonical text form.
:func:`verify_chain` recomputes every hash from the first entry; an edited field, a deleted
entry or a reordering breaks the chain at a position it reports.  The genesis ``prev_hash``
is 64 zeros.  (Design after RFC 6962's append-only log idea, without the Merkle tree: a linear
chain is enough for one authority.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carbonpeak.store.duck import Store

GENESIS = "0" * 64


def canonical_json(payload: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 characters kept."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    seq: int, ts: str, actor: str, action: str, entity: str, entity_id: str, payload: str, prev_hash: str
) -> str:
    text = "\x1f".join([str(seq), ts, actor, action, entity, entity_id, payload, prev_hash])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ts_text(ts: Any) -> str:
    if isinstance(ts, datetime):
        return ts.astimezone(UTC).isoformat(timespec="microseconds")
    return str(ts)


def append(store: Store, *, actor: str, action: str, entity: str, entity_id: str, payload: Any) -> int:
    """Append one entry inside the caller's transaction if one is open; return its seq.

    Call it inside the same ``store.transaction()`` as the change it records, so that the change
    and its audit entry commit together.
    """
    con = store.con
    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq = 1 if last is None else int(last[0]) + 1
    prev = GENESIS if last is None else str(last[1])
    ts = _ts_text(datetime.now(UTC))
    body = canonical_json(payload)
    h = entry_hash(seq, ts, actor, action, entity, entity_id, body, prev)
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, ts, actor, action, entity, entity_id, body, prev, h],
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


def verify_chain(store: Store) -> ChainReport:
    """Recompute the chain; report the first entry where it breaks."""
    rows = store.con.execute(
        "SELECT seq, ts, actor, action, entity, entity_id, payload, prev_hash, hash "
        "FROM audit_log ORDER BY seq"
    ).fetchall()
    prev = GENESIS
    expected_seq = 1
    for seq, ts, actor, action, entity, entity_id, payload, prev_hash, h in rows:
        if seq != expected_seq:
            return ChainReport(False, len(rows), int(seq), f"entry {expected_seq} is missing (found {seq})")
        if prev_hash != prev:
            return ChainReport(False, len(rows), int(seq), "prev_hash does not match the previous entry")
        recomputed = entry_hash(seq, _ts_text(ts), actor, action, entity, entity_id, payload, prev_hash)
        if recomputed != h:
            return ChainReport(False, len(rows), int(seq), "entry content does not match its hash")
        prev = h
        expected_seq += 1
    return ChainReport(True, len(rows))


def head(store: Store) -> str:
    """Hash of the newest entry (publish it elsewhere to detect a rewrite of the whole chain)."""
    r = store.con.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return GENESIS if r is None else str(r[0])
