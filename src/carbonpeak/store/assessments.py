"""The ``assessments`` table: assessment JSON kept once per content."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from carbonpeak.jsonutil import to_json
from carbonpeak.store.duck import Store


def save(store: Store, a: dict[str, Any]) -> str:
    """Store the assessment JSON once per content (id = year + digest); return its id."""
    payload = to_json({k: v for k, v in a.items() if k != "report_files"})
    aid = f"{a['year']}:{hashlib.sha256(payload.encode()).hexdigest()[:32]}"
    with store.transaction() as con:
        con.execute(
            "INSERT INTO assessments SELECT ?, ?, ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM assessments WHERE assessment_id = ?)",
            [aid, int(a["year"]), datetime.now(UTC), payload, aid],
        )
    return aid
