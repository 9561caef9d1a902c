"""Use case: move a whole store to another database (``carbonpeak store migrate``).

DuckDB -> PostgreSQL when a province outgrows the embedded file, PostgreSQL -> DuckDB for a copy
to take away (an audit, a city office, a laptop).  The copy and its proof are
:func:`carbonpeak.store.transfer.copy_store`; this module decides where the audit keys go:

- the keyring is the **source's** (the chain and the checkpoints are sealed with it);
- a **DuckDB** target keeps its keys beside it, ``<target>.audit-keys.json`` (mode 0600), unless
  ``key_file`` or the ``audit_key_file`` setting names another place;
- a **PostgreSQL** target never keeps its keys in the database (whoever can write the database
  could then re-seal an edited chain).  Its keyring goes where the target will look for it: the
  file named by ``key_file``, else the ``audit_key_file`` setting (``CARBONPEAK_AUDIT_KEY_FILE``,
  what every service worker and the CLI should use in production), else the host's state folder
  (``CARBONPEAK_STATE_DIR``, ``~/.local/share/carbonpeak/pg-<host>-<port>-<db>.audit-keys.json``,
  see :attr:`Store.sidecar_base`); nothing is written when the ``CARBONPEAK_AUDIT_KEYRING`` secret
  is set (the source used it too);
- an existing key file is never overwritten with other keys: the copy is refused instead.

After the copy a new checkpoint of the target is signed (native digests of the target's engine),
so later ``carbonpeak audit verify`` runs on the target have a baseline of their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carbonpeak.config import get_settings
from carbonpeak.errors import CarbonpeakError
from carbonpeak.store import audit, audit_keys, checkpoints, transfer
from carbonpeak.store.audit_keys import Keyring, write_keyring
from carbonpeak.store.duck import Store

log = logging.getLogger("carbonpeak.store")


@dataclass
class MigrateResult:
    """The verified copy, where its keys are, and the checkpoint signed on the target."""

    report: transfer.TransferReport
    key_file: str | None
    key_note: str
    checkpoint: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.report.to_dict(),
            "key_file": self.key_file,
            "keys": self.key_note,
            "new_checkpoint": self.checkpoint,
        }


def default_source() -> str:
    """The store the settings point at (``CARBONPEAK_DATABASE_URL``, else ``db_path``)."""
    s = get_settings()
    return str(s.database_url) if s.database_url else str(s.db_path)


def _is_url(place: str) -> bool:
    return "://" in place or place.startswith(("postgresql:", "postgres:", "duckdb:"))


def target_key_file(target: Store, key_file: Path | None) -> tuple[Path | None, str]:
    """Where the target's keyring goes: where the target itself will look for it (``None``: the
    keyring secret of the environment, nothing to write)."""
    s = get_settings()
    if key_file is not None:
        return key_file, "written to the given key file"
    if s.audit_keyring is not None:
        return None, "CARBONPEAK_AUDIT_KEYRING (the same secret serves the source and the target)"
    path = audit_keys.default_key_file(target.sidecar_base)
    if path is None:
        return None, "in memory"
    if s.audit_key_file is not None:
        return path, "CARBONPEAK_AUDIT_KEY_FILE"
    if target.is_postgres:
        return path, "the state folder of this host (set CARBONPEAK_AUDIT_KEY_FILE in production)"
    return path, "beside the DuckDB file"


def _place_keys(ring: Keyring, path: Path | None) -> bool:
    """Write ``ring`` to ``path`` unless the same keys are there; return True if a file was made."""
    if path is None:
        return False
    if path.exists():
        have = audit_keys.read_keyring(path)
        if (
            have.hmac_keys != ring.hmac_keys
            or set(have.signing_keys) != set(ring.signing_keys)
            or any(
                audit_keys.public_key_b64(have.signing_keys[k]) != audit_keys.public_key_b64(v)
                for k, v in ring.signing_keys.items()
            )
        ):
            raise CarbonpeakError(
                f"{path} holds other audit keys than the source's: move it away or name another "
                "--key-file (an existing keyring is never overwritten)"
            )
        return False
    write_keyring(ring, path)
    return True


def migrate_store(
    to: str, source: str | None = None, *, key_file: Path | None = None, replace: bool = False
) -> MigrateResult:
    """Copy the store at ``source`` (default: the configured one) to ``to`` and verify the copy."""
    src_place = source or default_source()
    if str(src_place) == str(to):
        raise transfer.TransferError("the source and the target are the same store")
    if not _is_url(src_place) and src_place != ":memory:" and not Path(src_place).exists():
        raise CarbonpeakError(f"the source store {src_place} does not exist")
    with Store(src_place) as src:
        ring = audit.keyring(src)
        with Store(to) as dst:
            path, note = target_key_file(dst, key_file)
            made = _place_keys(ring, path)
            try:
                report = transfer.copy_store(src, dst, ring, replace=replace)
            except BaseException:
                if made and path is not None:
                    path.unlink(missing_ok=True)
                raise
            cp: dict[str, Any] | None = None
            if report.chain.get("entries"):
                # the copy is committed and verified; a new baseline checkpoint follows it.  If the
                # target cannot sign one now, say so (the operator runs `audit checkpoint` there).
                try:
                    made_cp, file = checkpoints.create(dst, ring)
                    cp = {**made_cp.summary(), "file": str(file) if file else None}
                except Exception as exc:  # reported; the committed copy stands
                    log.warning("store migrate: no checkpoint signed on the target: %s", exc)
                    cp = {"error": str(exc).strip().splitlines()[0]}
    return MigrateResult(report, str(path) if path else None, note, cp)


def upgrade_store(place: str | None = None) -> dict[str, Any]:
    """Bring the store's schema to this version's head (``carbonpeak store upgrade``).

    Every command applies pending revisions when it opens the store; this runs that step alone,
    once, before the service's workers start after an upgrade (docs/operations.md).
    """
    from carbonpeak.store import migrate

    where = place or default_source()
    if not _is_url(where) and where != ":memory:" and not Path(where).exists():
        raise CarbonpeakError(f"the store {where} does not exist")
    with Store(where, read_only=True) as s:
        before = migrate.current(s)
    with Store(where) as s:  # opening applies the pending revisions
        after = migrate.current(s)
    # ``before`` is None for a new store and for one made by the earlier hand-written runner
    # (stamped with its last file's revision on opening, then upgraded from there)
    return {
        "store": where,
        "before": before,
        "after": after,
        "head": migrate.head(),
        "up_to_date": after == migrate.head(),
    }
