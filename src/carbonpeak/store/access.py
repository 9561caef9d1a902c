"""The data-access layer: every read and write of scoped data goes through here.

Scoping is decided in ONE place, :func:`scope_predicate` (for queries) and :func:`allowed`
(for single resources).  Endpoints never filter by role themselves; they call a method of
:class:`DataAccess`, which is built for one :class:`Principal`.

Rules (docs/security.md):

=================  =========================================================================
role               may read                                 may write
=================  =========================================================================
admin              everything                               everything, users
province_analyst   everything                               credit records, assessments
city_officer       its city's resources                     nothing enterprise-owned
enterprise         its own enterprise's resources           its own submissions
verifier           enterprises assigned to it               sign-off, alert review (assigned)
=================  =========================================================================
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from carbonpeak.errors import CarbonpeakError, NotFound
from carbonpeak.store import audit
from carbonpeak.store.duck import Store, frame_digest
from carbonpeak.store.users import PermissionDenied, Principal

PROVINCE_ROLES = ("admin", "province_analyst")
CREDIT_KINDS = ("missed_deadline", "confirmed_falsification", "repeated_limit_breach")
REVIEW_OUTCOMES = ("noted", "dismissed", "confirmed_falsification")
#: ``submissions.payload`` of a version whose rows are in ``submission_rows`` (one per row).
ROWS_POINTER = "submission_rows"
#: Reporting deadlines are days of the province's calendar (China Standard Time, UTC+8).
DEADLINE_TZ = "Asia/Shanghai"


def allowed(p: Principal, *, city: str | None, enterprise_id: str | None) -> bool:
    """May ``p`` read a resource that belongs to ``city`` and/or ``enterprise_id``?"""
    if p.role in PROVINCE_ROLES:
        return True
    if p.role == "city_officer":
        return city is not None and city == p.city
    if p.role == "enterprise":
        return enterprise_id is not None and enterprise_id == p.enterprise_id
    if p.role == "verifier":
        return enterprise_id is not None and enterprise_id in p.assigned
    return False


def scope_predicate(
    p: Principal, city_col: str = "city", enterprise_col: str = "enterprise_id"
) -> tuple[str, list[Any]]:
    """SQL predicate (and parameters) restricting a query to what ``p`` may read."""
    if p.role in PROVINCE_ROLES:
        return "TRUE", []
    if p.role == "city_officer":
        return f"{city_col} = ?", [p.city]
    if p.role == "enterprise":
        return f"{enterprise_col} = ?", [p.enterprise_id]
    if p.role == "verifier":
        if not p.assigned:
            return "FALSE", []
        marks = ", ".join("?" for _ in p.assigned)
        return f"{enterprise_col} IN ({marks})", list(p.assigned)
    return "FALSE", []


def require(cond: bool, what: str) -> None:
    if not cond:
        raise PermissionDenied(what)


class DataAccess:
    """Scoped operations for one principal."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self.store = store
        self.p = principal

    # -- scope from the principal (issue 9): never from the form -----------------------------
    def enterprise_units(self, enterprise_id: str) -> pd.DataFrame:
        """The registered units (unit_id, city) of ``enterprise_id`` (its unified social credit code)."""
        try:
            return self.store.query(
                "SELECT unit_id, city FROM mon_units_current WHERE uscc = ? ORDER BY unit_id", [enterprise_id]
            )
        except Exception:  # monitoring tables absent
            return pd.DataFrame({"unit_id": [], "city": []})

    def own_meter_ids(self, enterprise_id: str | None = None) -> set[str]:
        """Meters registered (through their unit) to ``enterprise_id`` (default: the principal's)."""
        ent = enterprise_id or self.p.enterprise_id
        if not ent:
            return set()
        try:
            df = self.store.query(
                "SELECT m.meter_id FROM mon_meters_current m JOIN mon_units_current u USING (unit_id) "
                "WHERE u.uscc = ?",
                [ent],
            )
        except Exception:  # monitoring tables absent
            return set()
        return set(df["meter_id"].astype(str))

    def submission_scope(self, enterprise_id: str | None, city: str | None) -> tuple[str, str | None]:
        """The enterprise and city a submission belongs to, from the principal and the registry.

        An enterprise user files for its own enterprise; the city is that of the enterprise's
        registered units.  A ``enterprise_id`` or ``city`` sent by the client is only checked
        against these, never taken: a disagreement is refused (403).
        """
        if self.p.role == "enterprise":
            ent = str(self.p.enterprise_id or "")
            if enterprise_id not in (None, "", ent):
                raise PermissionDenied(
                    f"enterprise_id '{enterprise_id}' is not your enterprise ({ent}); "
                    "leave it out: it is taken from your account"
                )
        elif self.p.role == "admin":
            if not enterprise_id:
                raise CarbonpeakError("enterprise_id is required when an admin files for an enterprise")
            ent = enterprise_id
        else:
            raise PermissionDenied("only the enterprise itself (or an admin) may submit its data")
        cities = sorted(set(self.enterprise_units(ent)["city"].astype(str)))
        if city not in (None, ""):
            if city not in cities:
                raise PermissionDenied(
                    f"city '{city}' is not where enterprise {ent} is registered"
                    + (f" ({', '.join(cities)})" if cities else " (it has no registered units)")
                    + "; leave it out: it is taken from the registry"
                )
            return ent, city
        if len(cities) > 1:
            raise CarbonpeakError(
                f"enterprise {ent} has units in several cities ({', '.join(cities)}); say which with 'city'"
            )
        return ent, (cities[0] if cities else None)

    def check_owned(self, rows: pd.DataFrame, kind: str, enterprise_id: str) -> None:
        """Every meter (readings) or unit (output) of ``rows`` must be registered to ``enterprise_id``."""
        from carbonpeak.errors import Problem, ValidationError

        col, own, what = (
            ("meter_id", self.own_meter_ids(enterprise_id), "meter")
            if kind == "readings"
            else ("unit_id", set(self.enterprise_units(enterprise_id)["unit_id"].astype(str)), "unit")
        )
        if col not in rows.columns:
            return
        bad = ~rows[col].astype(str).isin(own)
        if bad.any():
            sub = rows.loc[bad].head(50)
            raise ValidationError(
                [
                    Problem(str(f), int(r), col, f"{what} '{v}' is not registered to enterprise {enterprise_id}")
                    for f, r, v in zip(sub["__file__"], sub["__row__"], sub[col], strict=True)
                ]
            )

    # -- submissions (versioned; nothing is ever overwritten) ----------------------------------
    def submit(
        self,
        *,
        submission_id: str,
        kind: str,
        rows: pd.DataFrame,
        enterprise_id: str,
        city: str | None,
    ) -> dict[str, Any]:
        """Store a batch as a new version of ``submission_id``; idempotent on identical content.

        Returns ``{"submission_id", "version", "batch_id", "created"}``.  The batch, its version
        row and its audit entry commit in one transaction, and the answer is given only after
        the commit, so an acknowledged batch is durable.
        """
        require(
            self.p.role == "admin" or (self.p.role == "enterprise" and enterprise_id == self.p.enterprise_id),
            "only the enterprise itself (or an admin) may submit its data",
        )
        batch_id = f"{kind}:{frame_digest(rows)[:32]}"
        data = rows.drop(columns=[c for c in rows.columns if str(c).startswith("__")])
        records = pd.DataFrame(
            {
                "row_no": rows["__row__"].astype("int64").to_numpy()
                if "__row__" in rows.columns
                else range(2, 2 + len(rows)),
                "record": [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in json.loads(
                    data.to_json(orient="records", force_ascii=False, date_format="iso")
                )],
            }
        )
        with self.store.transaction() as con:
            if self.store.is_postgres:
                # concurrent uploads of one submission (several workers, several uploads per
                # worker) number their versions one at a time; released at the commit
                con.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [submission_id])
            same = con.execute(
                "SELECT version FROM submissions WHERE submission_id = ? AND batch_id = ?",
                [submission_id, batch_id],
            ).fetchone()
            if same is not None:
                return {
                    "submission_id": submission_id,
                    "version": int(same[0]),
                    "batch_id": batch_id,
                    "created": False,
                }
            last = con.execute(
                "SELECT max(version) FROM submissions WHERE submission_id = ?", [submission_id]
            ).fetchone()
            version = int(last[0] or 0) + 1 if last else 1
            con.execute(
                "INSERT INTO submissions (submission_id, version, enterprise_id, city, kind, batch_id, rows,"
                " payload, submitted_by, submitted_at, status) VALUES (?,?,?,?,?,?,?,?,?,?, 'submitted')",
                [
                    submission_id,
                    version,
                    enterprise_id,
                    city,
                    kind,
                    batch_id,
                    len(rows),
                    ROWS_POINTER,
                    self.p.username,
                    datetime.now(UTC),
                ],
            )
            con.register("_sub_rows", records)
            try:
                con.execute(
                    "INSERT INTO submission_rows SELECT ?, ?, row_no, record FROM _sub_rows",
                    [submission_id, version],
                )
            finally:
                con.unregister("_sub_rows")
            audit.append(
                self.store,
                actor=self.p.username,
                action="submission.create" if version == 1 else "submission.correct",
                entity="submission",
                entity_id=f"{submission_id}#v{version}",
                payload={
                    "batch_id": batch_id,
                    "rows": len(rows),
                    "kind": kind,
                    "enterprise_id": enterprise_id,
                },
            )
        return {"submission_id": submission_id, "version": version, "batch_id": batch_id, "created": True}

    def list_submissions(self, *, enterprise_id: str | None = None) -> pd.DataFrame:
        """The submissions in scope (every version), as a table (exports, monitoring's inputs)."""
        return self.store.query(*self._submissions_sql(enterprise_id))

    def submission_records(self, *, enterprise_id: str | None = None) -> list[dict[str, Any]]:
        """:meth:`list_submissions` as plain dicts, for the API's JSON and the enterprise page (no
        DataFrame: the list grows with every upload and is read on every dashboard refresh)."""
        return self.store.records(*self._submissions_sql(enterprise_id))

    def _submissions_sql(self, enterprise_id: str | None) -> tuple[str, list[object]]:
        pred, params = scope_predicate(self.p)
        sql = (
            "SELECT submission_id, version, enterprise_id, city, kind, batch_id, rows, submitted_by,"  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
            " CAST(submitted_at AS VARCHAR) AS submitted_at, status, signed_off_by FROM submissions WHERE "
            + pred
        )
        if enterprise_id:
            sql += " AND enterprise_id = ?"
            params = [*params, enterprise_id]
        return sql + " ORDER BY submission_id, version", list(params)

    def get_submission(self, submission_id: str, version: int | None = None) -> dict[str, Any]:
        sql = "SELECT * FROM submissions WHERE submission_id = ?"
        params: list[Any] = [submission_id]
        if version is not None:
            sql += " AND version = ?"
            params.append(version)
        df = self.store.query(sql + " ORDER BY version DESC LIMIT 1", params)
        if df.empty:
            raise NotFound(f"no submission {submission_id}")
        rec = df.iloc[0].to_dict()
        # Not found and not allowed look the same from outside: no probing of other scopes.
        if not allowed(self.p, city=rec.get("city"), enterprise_id=rec.get("enterprise_id")):
            raise NotFound(f"no submission {submission_id}")
        rec["submitted_at"] = str(rec["submitted_at"])
        if rec.get("payload") == ROWS_POINTER:
            recs = self.store.query(
                "SELECT record FROM submission_rows WHERE submission_id = ? AND version = ? ORDER BY row_no",
                [submission_id, int(rec["version"])],
            )["record"]
            rec["payload"] = "[" + ",".join(recs) + "]"
        return rec

    def sign_off(self, submission_id: str, version: int) -> None:
        rec = self.get_submission(submission_id, version)
        require(
            self.p.role == "admin" or (self.p.role == "verifier" and rec["enterprise_id"] in self.p.assigned),
            "only a verifier assigned to this enterprise may sign off",
        )
        with self.store.transaction() as con:
            con.execute(
                "UPDATE submissions SET status = 'signed_off', signed_off_by = ? WHERE submission_id = ? AND version = ?",
                [self.p.username, submission_id, version],
            )
            audit.append(
                self.store,
                actor=self.p.username,
                action="submission.sign_off",
                entity="submission",
                entity_id=f"{submission_id}#v{version}",
                payload={},
            )

    # -- enterprise credit records (plan §三(四)) ------------------------------------------------
    def record_credit_event(
        self, *, enterprise_id: str, kind: str, detail: str, period: str | None = None
    ) -> str:
        require(
            self.p.role in PROVINCE_ROLES or (self.p.role == "verifier" and enterprise_id in self.p.assigned),
            "only the province or the assigned verifier may record credit events",
        )
        if kind not in CREDIT_KINDS:
            raise CarbonpeakError(f"kind must be one of {', '.join(CREDIT_KINDS)}")
        event_id = uuid.uuid4().hex
        with self.store.transaction() as con:
            con.execute(
                "INSERT INTO credit_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [event_id, enterprise_id, kind, detail, period, self.p.username, datetime.now(UTC)],
            )
            audit.append(
                self.store,
                actor=self.p.username,
                action="credit.record",
                entity="enterprise",
                entity_id=enterprise_id,
                payload={"kind": kind, "detail": detail, "period": period},
            )
        return event_id

    def credit_records(self) -> pd.DataFrame:
        """Per-enterprise credit record, scoped: the recorded events plus the repeated limit breaches
        derived from monitoring alerts (rule in ``catalog/data/credit_rules.yaml``)."""
        pred, params = scope_predicate(self.p, city_col="NULL")
        recorded = self.store.query(
            "SELECT enterprise_id, kind, detail, period, recorded_by, CAST(recorded_at AS VARCHAR) AS recorded_at"  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
            f" FROM credit_events WHERE {pred}",
            params,
        )
        derived = self._repeated_breaches()
        out = pd.concat([recorded, derived], ignore_index=True) if len(derived) else recorded
        return out.sort_values(["enterprise_id", "kind", "period"], na_position="last").reset_index(drop=True)

    def _repeated_breaches(self) -> pd.DataFrame:
        from carbonpeak.catalog.loader import load_yaml

        rule = load_yaml("credit_rules.yaml")["repeated_limit_breach"]
        kinds = list(rule["alert_kinds"])
        pred, params = scope_predicate(self.p, city_col="NULL", enterprise_col="u.uscc")
        try:
            return self.store.query(
                "SELECT u.uscc AS enterprise_id, 'repeated_limit_breach' AS kind, "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
                "string_agg(a.kind || ' ' || a.unit_id || ' ' || CAST(a.period_start AS VARCHAR), '; ') AS detail, "
                "CAST(year(a.period_start) AS VARCHAR) AS period, 'rule:credit_rules.yaml' AS recorded_by, "
                "CAST(max(a.period_end) AS VARCHAR) AS recorded_at "
                "FROM mon_alerts a JOIN mon_units_current u USING (unit_id) "
                f"WHERE a.kind IN ({', '.join('?' for _ in kinds)}) AND {pred} "
                "GROUP BY u.uscc, year(a.period_start) HAVING count(*) >= ?",
                [*kinds, *params, int(rule["min_count_per_year"])],
            )
        except Exception:  # monitoring tables absent
            return pd.DataFrame()

    def check_deadlines(self, *, kind: str, period: str, due: date) -> list[str]:
        """Record ``missed_deadline`` for every registered enterprise (owner of a monitored unit) with
        no ``kind`` submission for ``period`` by the end of the day ``due`` (China Standard Time).
        The submission must be exactly ``<enterprise>/<kind>/<period>`` (no pattern matching) and
        have arrived before midnight that ends ``due``.  Idempotent: one event per enterprise,
        kind and period."""
        from zoneinfo import ZoneInfo

        require(self.p.role in PROVINCE_ROLES, "only the province checks reporting deadlines")
        if isinstance(due, datetime):
            due = due.date()
        end = datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(DEADLINE_TZ))
        ents = self.store.query("SELECT DISTINCT uscc FROM mon_units_current ORDER BY uscc")["uscc"].tolist()
        on_time = set(
            self.store.query(
                "SELECT DISTINCT enterprise_id FROM submissions WHERE kind = ? "
                "AND submission_id = enterprise_id || '/' || ? AND submitted_at < ?",
                [kind, f"{kind}/{period}", end],
            )["enterprise_id"]
        )
        missed = [e for e in ents if e not in on_time]
        with self.store.transaction() as con:
            for e in missed:
                event_id = f"deadline:{e}:{kind}:{period}"
                if con.execute("SELECT 1 FROM credit_events WHERE event_id = ?", [event_id]).fetchone():
                    continue
                detail = f"no {kind} submission for {period} by {due.isoformat()}"
                con.execute(
                    "INSERT INTO credit_events VALUES (?, ?, 'missed_deadline', ?, ?, ?, ?)",
                    [event_id, e, detail, period, self.p.username, datetime.now(UTC)],
                )
                audit.append(
                    self.store,
                    actor=self.p.username,
                    action="credit.record",
                    entity="enterprise",
                    entity_id=e,
                    payload={"kind": "missed_deadline", "detail": detail, "period": period},
                )
        return missed

    # -- monitoring (issue 5): units are scoped by city and by owner (uscc = enterprise id) ------------
    def monitoring_units(self) -> pd.DataFrame:
        pred, params = scope_predicate(self.p, city_col="city", enterprise_col="uscc")
        return self.store.query(
            f"SELECT unit_id, name, uscc, industry_code, city, kind, hub_node FROM mon_units_current WHERE {pred} "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
            "ORDER BY unit_id",
            params,
        )

    def monitoring_alerts(self, *, status: str | None = "open", kind: str | None = None) -> pd.DataFrame:
        pred, params = scope_predicate(self.p, city_col="u.city", enterprise_col="u.uscc")
        sql = (
            "SELECT a.alert_id, a.kind, a.severity, a.unit_id, a.meter_id, u.city, a.period_start, a.period_end,"  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
            " a.observed, a.location, a.why, a.rule_source, a.status, a.review_comment, a.reviewed_by, a.message_key,"
            " a.params "
            f"FROM mon_alerts a JOIN mon_units_current u USING (unit_id) WHERE {pred}"
        )
        if status:
            sql += " AND a.status = ?"
            params = [*params, status]
        if kind:
            sql += " AND a.kind = ?"
            params = [*params, kind]
        return self.store.query(sql + " ORDER BY a.severity DESC, a.kind, a.unit_id", params)

    def review_alert(self, alert_id: str, comment: str, outcome: str = "noted") -> dict[str, Any]:
        """Mark an alert reviewed: the province, or a verifier assigned to the unit's owner.

        ``outcome`` is ``noted``, ``dismissed`` or ``confirmed_falsification``; a confirmed
        falsification goes into the enterprise's credit record."""
        if outcome not in REVIEW_OUTCOMES:
            raise CarbonpeakError(f"outcome must be one of {', '.join(REVIEW_OUTCOMES)}")
        row = self.store.con.execute(
            "SELECT u.city, u.uscc FROM mon_alerts a JOIN mon_units_current u USING (unit_id) WHERE a.alert_id = ?",
            [alert_id],
        ).fetchone()
        if row is None or not allowed(self.p, city=row[0], enterprise_id=row[1]):
            raise NotFound(f"no alert {alert_id}")
        require(
            self.p.role in PROVINCE_ROLES or (self.p.role == "verifier" and row[1] in self.p.assigned),
            "only the province or a verifier assigned to this enterprise may review its alerts",
        )
        from carbonpeak.catalog.loader import load_yaml
        from carbonpeak.store.monitoring import review_alert

        if outcome == "confirmed_falsification":
            kinds = load_yaml("credit_rules.yaml")["confirmed_falsification"]["alert_kinds"]
            kind = self.store.con.execute(
                "SELECT kind FROM mon_alerts WHERE alert_id = ?", [alert_id]
            ).fetchone()[0]  # type: ignore[index]
            if kind not in kinds:
                raise CarbonpeakError(f"an alert of kind '{kind}' cannot be confirmed as falsification")
        rec = review_alert(self.store, alert_id, comment=f"[{outcome}] {comment}", reviewer=self.p.username)
        if outcome == "confirmed_falsification":
            self.record_credit_event(
                enterprise_id=row[1],
                kind="confirmed_falsification",
                detail=f"alert {alert_id}: {comment}",
                period=str(rec.get("period_start")),
            )
        return rec

    def pue(self, grain: str = "month") -> pd.DataFrame:
        pred, params = scope_predicate(self.p, city_col="u.city", enterprise_col="u.uscc")
        return self.store.query(
            "SELECT p.unit_id, u.name, u.city, p.grain, p.period, p.pue, p.limit_value, p.over_limit, p.grade "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
            f"FROM mon_pue p JOIN mon_units_current u USING (unit_id) WHERE p.grain = ? AND {pred} "
            "ORDER BY p.period, p.pue DESC",
            [grain, *params],
        )

    # -- audit -----------------------------------------------------------------------------------
    def audit_entries(self, limit: int = 200) -> pd.DataFrame:
        require(
            self.p.role in PROVINCE_ROLES or self.p.role == "verifier",
            "audit log is for the province and verifiers",
        )
        if self.p.role == "verifier":  # only its own entries and those of its assigned enterprises
            return audit.verifier_entries(self.store, self.p.username, self.p.assigned, limit)
        return audit.entries(self.store, limit)
