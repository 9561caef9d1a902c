"""Signed checkpoints of the audit chain head, in the spirit of RFC 6962's signed tree heads.

A checkpoint states: the chain had ``seq`` entries, the newest with hash ``head``, at ``time``;
and the guarded tables had these digests.  It is signed with the keyring's Ed25519 key
(RFC 8032) and written both into the store (``audit_checkpoints``) and as a file outside it
(``<store>.checkpoints/`` or the ``checkpoint_dir`` setting), where a copy can be handed to a
third party.  :func:`verify_against` then proves, for a checkpoint file:

- its signature is valid under the keyring's public key of its key id;
- the chain verifies (every entry sealed with the audit key) and its entry ``seq`` still has the
  hash ``head``: nothing at or before the checkpoint was removed, changed or reordered;
- each guarded table either has the digest it had then, or was changed only through audited
  changes recorded after the checkpoint.  A table that differs while the chain records no change
  to it was edited behind the chain.

What a checkpoint cannot prove: an edit to a guarded table made *and* covered by a later audited
change to the same table is found only by a checkpoint taken between the two (take them often;
see docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from carbonpeak.errors import CarbonpeakError
from carbonpeak.store import audit
from carbonpeak.store.audit_keys import Keyring, load_public_key, public_key_b64
from carbonpeak.store.duck import Store

LOG_ID = "carbonpeak-audit-v1"

#: The guarded tables: one literal digest query each (rows hashed as JSON in UTC, sorted), and
#: the audit ``entity`` values whose entries record a legitimate change to the table.
GUARDED: dict[str, tuple[str, tuple[str, ...]]] = {
    "users": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM users r ORDER BY h",
        ("user",),
    ),
    "submissions": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM submissions r ORDER BY h",
        ("submission",),
    ),
    "credit_events": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM credit_events r ORDER BY h",
        ("enterprise",),
    ),
    "batches": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM batches r ORDER BY h",
        ("batch",),
    ),
    "activity": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM activity r ORDER BY h",
        ("batch",),
    ),
    # the monitoring registry: written only by Store.import_frame (a batch, audited
    # ``mon_<kind>.import`` with entity "batch" in the same transaction)
    "mon_units": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM mon_units r ORDER BY h",
        ("batch",),
    ),
    "mon_meters": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM mon_meters r ORDER BY h",
        ("batch",),
    ),
    "mon_output": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM mon_output r ORDER BY h",
        ("batch",),
    ),
    "mon_budgets": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM mon_budgets r ORDER BY h",
        ("batch",),
    ),
    "mon_reported": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM mon_reported r ORDER BY h",
        ("batch",),
    ),
    "mon_uploads": (
        "SELECT sha256(CAST(to_json(r) AS VARCHAR)) AS h FROM mon_uploads r ORDER BY h",
        ("batch",),
    ),
    # alert reviews: the review columns of every alert that has been reviewed (runs add and
    # update alerts but never touch these columns; only review_alert does, audited "mon_alert")
    "alert_reviews": (
        "SELECT sha256(CAST(to_json({'alert_id': alert_id, 'status': status, 'review_comment': review_comment, "
        "'reviewed_by': reviewed_by, 'reviewed_at': reviewed_at}) AS VARCHAR)) AS h FROM mon_alerts "
        "WHERE status <> 'open' OR review_comment IS NOT NULL OR reviewed_by IS NOT NULL OR reviewed_at IS NOT NULL "
        "ORDER BY h",
        ("mon_alert",),
    ),
}


class CheckpointError(CarbonpeakError):
    """A checkpoint file that cannot be read."""


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def table_digests(store: Store) -> tuple[int, str, dict[str, dict[str, Any]]]:
    """The chain head and each guarded table's digest, read in one snapshot (timestamps in UTC)."""
    cur = store.con.cursor()
    try:
        cur.execute("SET SESSION TimeZone = 'UTC'")
        cur.execute("BEGIN TRANSACTION")
        row = cur.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        seq, head = (0, audit.GENESIS) if row is None else (int(row[0]), str(row[1]))
        out: dict[str, dict[str, Any]] = {}
        for name, (sql, _entities) in GUARDED.items():
            h = hashlib.sha256()
            n = 0
            res = cur.execute(sql)
            while batch := res.fetchmany(10_000):
                for (rh,) in batch:
                    h.update(bytes.fromhex(rh))
                    n += 1
            out[name] = {"rows": n, "sha256": h.hexdigest()}
        cur.execute("COMMIT")
    finally:
        cur.close()
    return seq, head, out


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the chain head and the guarded tables."""

    body: dict[str, Any]
    signature: str

    @property
    def seq(self) -> int:
        return int(self.body["seq"])

    @property
    def head(self) -> str:
        return str(self.body["head"])

    @property
    def time(self) -> str:
        return str(self.body["time"])

    @property
    def key_id(self) -> str:
        return str(self.body["key_id"])

    def to_dict(self) -> dict[str, Any]:
        return {**self.body, "signature": self.signature}

    def summary(self) -> dict[str, Any]:
        return {"seq": self.seq, "head": self.head, "time": self.time, "key_id": self.key_id}

    @classmethod
    def from_dict(cls, doc: dict[str, Any], origin: str = "checkpoint") -> Checkpoint:
        try:
            body = {k: v for k, v in doc.items() if k != "signature"}
            cp = cls(body, str(doc["signature"]))
            _ = (cp.seq, cp.head, cp.time, cp.key_id, body["tables"], body["public_key"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{origin}: not a carbonpeak audit checkpoint") from None
        return cp

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise CheckpointError(f"{path.name}: cannot read the checkpoint file") from None
        if not isinstance(doc, dict):
            raise CheckpointError(f"{path.name}: not a carbonpeak audit checkpoint")
        return cls.from_dict(doc, path.name)


def checkpoint_dir(store: Store) -> Path | None:
    from carbonpeak.config import get_settings

    d = get_settings().checkpoint_dir
    if d is not None:
        return Path(d)
    return None if store.sidecar_base == ":memory:" else Path(store.sidecar_base + ".checkpoints")


def create(store: Store, ring: Keyring | None = None, out: Path | None = None) -> tuple[Checkpoint, Path | None]:
    """Sign a checkpoint of the current head, store it and write it as a file; return both."""
    ring = ring or audit.keyring(store)
    seq, head, tables = table_digests(store)
    kid, key = ring.signer()
    body = {
        "log": LOG_ID,
        "seq": seq,
        "head": head,
        "time": datetime.now(UTC).isoformat(timespec="microseconds"),
        "tables": tables,
        "key_id": kid,
        "public_key": public_key_b64(key),
    }
    sig = base64.b64encode(key.sign(_canonical(body))).decode("ascii")
    cp = Checkpoint(body, sig)
    with store.transaction() as con:
        con.execute(
            "INSERT INTO audit_checkpoints (seq, head, ts, key_id, body, signature) VALUES (?, ?, ?, ?, ?, ?)",
            [seq, head, cp.time, kid, _canonical(body).decode("utf-8"), sig],
        )
    folder = out.parent if out is not None else checkpoint_dir(store)
    path = None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        path = out if out is not None else folder / f"checkpoint-{seq:09d}-{cp.time[:19].replace(':', '')}.json"
        path.write_text(json.dumps(cp.to_dict(), indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return cp, path


def latest(store: Store) -> Checkpoint | None:
    """The newest checkpoint stored in the store (``None`` if none was taken)."""
    row = store.con.execute(
        "SELECT body, signature FROM audit_checkpoints ORDER BY seq DESC, ts DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return Checkpoint.from_dict({**json.loads(str(row[0])), "signature": str(row[1])})


def latest_file(store: Store) -> Path | None:
    """The newest checkpoint file in the checkpoint folder (outside the store)."""
    folder = checkpoint_dir(store)
    if folder is None or not folder.is_dir():
        return None
    files = sorted(folder.glob("checkpoint-*.json"))
    return files[-1] if files else None


@dataclass
class CheckpointReport:
    ok: bool
    checkpoint: dict[str, Any]
    chain: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checkpoint": self.checkpoint,
            "chain": self.chain,
            "tables": self.tables,
            "problems": self.problems,
        }


def check_signature(cp: Checkpoint, ring: Keyring) -> str | None:
    """``None`` if ``cp`` is signed by the keyring's key of its id, else what is wrong."""
    pub = ring.public_key(cp.key_id)
    if pub is None:
        return f"checkpoint signed with key '{cp.key_id}', which is not in the keyring"
    if public_key_b64_of(pub) != cp.body.get("public_key"):
        return "the checkpoint's public key is not the keyring's key of that id"
    try:
        pub.verify(base64.b64decode(cp.signature), _canonical(cp.body))
    except (InvalidSignature, ValueError):
        return "the checkpoint's signature is not valid"
    return None


def public_key_b64_of(pub: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def verify_signature_with(cp: Checkpoint, public_key: str) -> bool:
    """Check a checkpoint with a published public key only (no keyring: third parties)."""
    try:
        load_public_key(public_key).verify(base64.b64decode(cp.signature), _canonical(cp.body))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_against(store: Store, cp: Checkpoint, ring: Keyring | None = None) -> CheckpointReport:
    """Prove that nothing at or before checkpoint ``cp`` was removed or changed (see module text)."""
    ring = ring or audit.keyring(store)
    problems: list[str] = []
    sig = check_signature(cp, ring)
    if sig:
        problems.append(sig)
    chain = audit.verify_chain(store, ring)
    if not chain.ok:
        problems.append(f"audit chain broken at entry {chain.first_bad_seq}: {chain.problem}")
    if cp.seq > 0:
        row = store.con.execute("SELECT hash FROM audit_log WHERE seq = ?", [cp.seq]).fetchone()
        if row is None:
            end = store.con.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()
            problems.append(
                f"entry {cp.seq} of the checkpoint is gone: the chain now ends at {end[0] if end else 0}"
                " (entries were removed)"
            )
        elif str(row[0]) != cp.head:
            problems.append(f"entry {cp.seq} no longer has the checkpoint's head hash (the chain was rewritten)")
    _seq, _head, now = table_digests(store)
    tables: dict[str, str] = {}
    for name, (_sql, entities) in GUARDED.items():
        then = cp.body["tables"].get(name)
        if then is None:
            tables[name] = "not in checkpoint"
            continue
        if now[name] == then:
            tables[name] = "unchanged"
            continue
        changes = store.con.execute(
            "SELECT count(*) FROM audit_log WHERE seq > ? AND list_contains(?::VARCHAR[], entity)",
            [cp.seq, list(entities)],
        ).fetchone()
        n = int(changes[0]) if changes else 0
        if n == 0:
            tables[name] = "changed behind the chain"
            problems.append(
                f"table {name} changed after the checkpoint with no audited change "
                f"({then['rows']} rows then, {now[name]['rows']} now)"
            )
        else:
            tables[name] = f"changed by {n} audited change(s) since"
    return CheckpointReport(not problems, cp.summary(), chain.to_dict(), problems, tables)


def verify_store(store: Store, against: Path | None = None) -> dict[str, Any]:
    """The chain report, plus (when a checkpoint file is given or one is in the checkpoint
    folder) the proof against that checkpoint; ``ok`` only if both hold."""
    rep = audit.verify_chain(store)
    out: dict[str, Any] = {**rep.to_dict(), "head": audit.head(store)}
    cp_file = against or latest_file(store)
    if cp_file is not None:
        crep = verify_against(store, Checkpoint.read(cp_file))
        out["checkpoint"] = {"file": cp_file.name, **crep.to_dict()}
        out["ok"] = rep.ok and crep.ok
    return out
