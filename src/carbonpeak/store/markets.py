"""The registry ledger's persistence (issue 11 §3): the only SQL of the markets.

Rules are :mod:`carbonpeak.markets.ledger`; this module reads the state they need, writes what
they decide and appends every journal entry to the audit chain in the same transaction (the
entry's id *is* its audit sequence number).  All values are bound parameters.

Concurrency: a movement deletes the block it takes with a conditional ``DELETE … WHERE
account_id = <debit>`` and refuses the whole transaction unless exactly one row went.  Two
requests for the same serials therefore cannot both succeed: on DuckDB the store's write lock
serialises them and the second finds the block gone; on PostgreSQL a movement first takes a
transaction-scoped advisory lock on its debit account (so it plans from the committed blocks),
and the conditional ``DELETE`` is the last line of defence: a second ``DELETE`` of the same block
waits for the first transaction and then matches nothing.  The loser gets :class:`DoubleSpend` (409)
and nothing it did is kept.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from carbonpeak.errors import NotFound
from carbonpeak.markets.ledger import (
    ACCOUNT_KINDS,
    CREATING,
    TERMINAL_KINDS,
    Account,
    Block,
    DoubleSpend,
    Entry,
    LedgerError,
    Movement,
    check_movement,
    plan_movement,
    serial_label,
    split,
    unit_types,
)
from carbonpeak.store import audit
from carbonpeak.store.duck import Store

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
#: PostgreSQL advisory-lock class of the ledger's per-account locks (the audit chain has its own key).
ACCOUNT_LOCK_CLASS = 7001
FAR_PAST = datetime(1900, 1, 1, tzinfo=UTC)


# -- accounts ------------------------------------------------------------------------------
def open_account(
    store: Store, account_id: str, kind: str, owner: str, *, city: str | None = None, name: str | None = None,
    actor: str = "cli",
) -> Account:
    """Open an account (idempotent: the same account opened again is returned unchanged)."""
    if kind not in ACCOUNT_KINDS:
        raise LedgerError(f"account kind '{kind}' is not one of {', '.join(ACCOUNT_KINDS)}")
    if not account_id or len(account_id) > 120:
        raise LedgerError("account id: 1-120 characters")
    with store.transaction() as con:
        row = con.execute("SELECT account_id, kind, owner, city FROM mk_accounts WHERE account_id = ?",
                          [account_id]).fetchone()
        if row is not None:
            acc = Account(str(row[0]), str(row[1]), str(row[2]), row[3])
            if (acc.kind, acc.owner) != (kind, owner):
                raise LedgerError(f"account {account_id} exists as {acc.kind} of {acc.owner}")
            return acc
        con.execute(
            "INSERT INTO mk_accounts (account_id, kind, owner, city, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [account_id, kind, owner, city, name, datetime.now(UTC)],
        )
        audit.append(store, actor=actor, action="markets.account.open", entity="mk_account", entity_id=account_id,
                     payload={"kind": kind, "owner": owner, "city": city, "enterprise_id": owner})
    return Account(account_id, kind, owner, city)


def open_accounts(store: Store, rows: pd.DataFrame, *, actor: str) -> int:
    """Open many accounts (account_id, kind, owner, city, name) in one transaction; existing ones are kept."""
    bad = set(rows["kind"]) - set(ACCOUNT_KINDS)
    if bad:
        raise LedgerError(f"account kind(s) {sorted(bad)} not one of {', '.join(ACCOUNT_KINDS)}")
    have = set(accounts(store)["account_id"])
    new = rows[~rows["account_id"].isin(have)]
    with store.transaction() as con:
        for r in new.itertuples(index=False):
            con.execute("INSERT INTO mk_accounts (account_id, kind, owner, city, name, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", [r.account_id, r.kind, r.owner, r.city, r.name, datetime.now(UTC)])
            audit.append(store, actor=actor, action="markets.account.open", entity="mk_account",
                         entity_id=str(r.account_id), payload={"kind": r.kind, "owner": r.owner, "city": r.city,
                                                               "enterprise_id": r.owner})
    return len(new)


def _two_accounts(con: Any, a: str, b: str) -> tuple[Account, Account]:
    """Both accounts of a movement in one round trip (404 for one that does not exist)."""
    got = {str(r[0]): Account(str(r[0]), str(r[1]), str(r[2]), r[3]) for r in con.execute(
        "SELECT account_id, kind, owner, city FROM mk_accounts WHERE account_id IN (?, ?)", [a, b]).fetchall()}
    for x in (a, b):
        if x not in got:
            raise NotFound(f"account {x}")
    return got[a], got[b]


def get_account(store: Store, account_id: str) -> Account:
    row = store.con.execute("SELECT account_id, kind, owner, city FROM mk_accounts WHERE account_id = ?",
                            [account_id]).fetchone()
    if row is None:
        raise NotFound(f"account {account_id}")
    return Account(str(row[0]), str(row[1]), str(row[2]), row[3])


def accounts(store: Store) -> pd.DataFrame:
    """All accounts (account_id, kind, owner, city, name)."""
    return store.query("SELECT account_id, kind, owner, city, name FROM mk_accounts ORDER BY account_id")


# -- movements -----------------------------------------------------------------------------
def _blocks_of(con: Any, m: Movement) -> list[Block]:
    """The blocks of the debit account that a movement can take (not all the account holds).

    Serials ``start..end``: the blocks overlapping them.  A quantity q takes the lowest serials
    first and every block holds at least one, so the first q blocks are enough (fewer rows
    come back only when the account holds less: then they are all it holds).
    """
    if m.start is not None and m.end is not None:
        rows = con.execute(
            "SELECT unit_type, vintage, serial_start, serial_end, account_id FROM mk_blocks "
            "WHERE account_id = ? AND unit_type = ? AND vintage = ? AND serial_start <= ? AND serial_end >= ? "
            "ORDER BY serial_start",
            [m.debit, m.unit_type, m.vintage, m.end, m.start],
        ).fetchall()
    else:
        rows = con.execute(
            "SELECT unit_type, vintage, serial_start, serial_end, account_id FROM mk_blocks "
            "WHERE account_id = ? AND unit_type = ? AND vintage = ? ORDER BY serial_start LIMIT ?",
            [m.debit, m.unit_type, m.vintage, max(1, m.requested)],
        ).fetchall()
    return [Block(str(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows]


def post(store: Store, m: Movement, *, actor: str, compliance_year: int | None = None,
         check: Any = None, origin: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Carry out one movement: its journal entries, block moves and audit entries, all or nothing.

    ``check(entries)``, when given, is called with the planned entries inside the transaction,
    before anything is written (offset eligibility at surrender); raising refuses the movement.
    ``origin`` (project_id, project_type, origin_province, origin_pilot, pre_cdm) is recorded for
    issued offsets in the same transaction.
    """
    with store.transaction() as con:
        entries = _post_in(store, con, m, actor=actor, compliance_year=compliance_year, check=check)
        if origin is not None:
            record_offset_origin(store, entries, **origin)
        return entries


def _post_in(store: Store, con: Any, m: Movement, *, actor: str, compliance_year: int | None,
             check: Any = None) -> list[dict[str, Any]]:
    """:func:`post` inside the caller's transaction."""
    txn = uuid.uuid4().hex[:16]
    out: list[dict[str, Any]] = []
    if store.is_postgres:
        # one movement out of an account at a time (released at commit): the blocks read below are
        # then the committed state, so a quantity is taken from what is really there, and an
        # issuer's new serials are numbered once
        con.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", [ACCOUNT_LOCK_CLASS, m.debit])
    debit, credit = _two_accounts(con, m.debit, m.credit)
    check_movement(m, debit, credit, compliance_year=compliance_year)
    held = [] if m.kind in CREATING else _blocks_of(con, m)
    nxt = 1
    if m.kind in CREATING:
        # every serial ever issued is in exactly one block (terminal accounts keep theirs), and
        # blocks never overlap: the last serial issued ends the block with the greatest start
        row = con.execute(
            "SELECT serial_end FROM mk_blocks WHERE unit_type = ? AND vintage = ? "
            "ORDER BY serial_start DESC LIMIT 1",
            [m.unit_type, m.vintage],
        ).fetchone()
        nxt = int(row[0]) + 1 if row else 1
    planned = plan_movement(m, held, nxt)
    if check is not None:
        check(planned)
    deltas: dict[tuple[str, str, int], int] = {}
    for e in planned:
        out.append(_write_entry(store, con, e, txn, actor, held))
        for acc, q in ((e.credit, e.quantity), (e.debit, -e.quantity)):
            deltas[(acc, e.unit_type, e.vintage)] = deltas.get((acc, e.unit_type, e.vintage), 0) + q
    _apply_balances(con, deltas)
    return out


def span_class(quantity: int) -> int:
    """The smallest k with 2^k >= quantity: an entry of class k covering serial s starts in
    ``[s - 2^k + 1, s]`` (the serial lookup of :func:`serial_history`)."""
    return max(0, int(quantity) - 1).bit_length()


def _apply_balances(con: Any, deltas: dict[tuple[str, str, int], int]) -> None:
    """Add the entries' changes to ``mk_balances`` (in key order: concurrent writers never deadlock)."""
    # (an UPDATE, then an INSERT for a new key: DuckDB's ON CONFLICT path is ten times slower).  A
    # movement changes two accounts of one unit type and vintage: both rows in one statement.
    by_units: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for (acc, ut, v), q in sorted(deltas.items()):
        if q:
            by_units.setdefault((ut, v), []).append((acc, q))
    for (ut, v), changes in sorted(by_units.items()):
        for i in range(0, len(changes), 2):
            pair = changes[i:i + 2]
            (a1, q1), (a2, q2) = pair[0], pair[-1]
            hit = {str(r[0]) for r in con.execute(
                "UPDATE mk_balances SET balance = balance + CASE WHEN account_id = ? THEN ? ELSE ? END "
                "WHERE unit_type = ? AND vintage = ? AND account_id IN (?, ?) RETURNING account_id",
                [a1, q1, q2, ut, v, a1, a2]).fetchall()}
            for acc, q in pair:
                if acc not in hit:
                    con.execute("INSERT INTO mk_balances (account_id, unit_type, vintage, balance) VALUES (?, ?, ?, ?)",
                                [acc, ut, v, q])


def issue_application(store: Store, application_id: str, m: Movement, *, actor: str,
                      origin: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue a verified PHCER application into the register and mark it issued, in one transaction."""
    from carbonpeak.errors import Conflict

    with store.transaction() as con:
        entries = _post_in(store, con, m, actor=actor, compliance_year=None)
        record_offset_origin(store, entries, **origin)
        n = con.execute(
            "UPDATE mk_phcer_applications SET state = 'issued', issued_txn = ?, updated_at = ? "
            "WHERE application_id = ? AND state = 'verified' RETURNING application_id",
            [entries[0]["txn_id"], datetime.now(UTC), application_id],
        ).fetchall()
        if len(n) != 1:
            raise Conflict(f"application {application_id} is not (or no longer) verified; nothing was issued")
        audit.append(store, actor=actor, action="markets.phcer.issue", entity="mk_phcer_application",
                     entity_id=application_id, payload={"txn_id": entries[0]["txn_id"], "quantity": m.requested})
    return entries


def _write_entry(store: Store, con: Any, e: Entry, txn: str, actor: str, held: list[Block]) -> dict[str, Any]:
    ts = datetime.now(UTC)
    payload = {**asdict(e), "txn_id": txn, "quantity": e.quantity,
               "serials": serial_label(e.unit_type, e.vintage, e.start, e.end, unit_types()[e.unit_type]["issuer"])}
    seq = audit.append(store, actor=actor, action=f"markets.{e.kind}", entity="mk_entry", entity_id=txn,
                       payload=payload)
    if e.kind in CREATING:
        parts = [Block(e.unit_type, e.vintage, e.start, e.end, e.credit)]
    else:
        src = next(b for b in held if b.start <= e.start and e.end <= b.end)
        gone = con.execute(
            "DELETE FROM mk_blocks WHERE unit_type = ? AND vintage = ? AND serial_start = ? AND serial_end = ? "
            "AND account_id = ? RETURNING serial_start",
            [src.unit_type, src.vintage, src.start, src.end, src.account],
        ).fetchall()
        if len(gone) != 1:
            raise DoubleSpend(f"{e.unit_type} {e.vintage} serials {e.start}..{e.end} left account {e.debit} "
                              "in a concurrent movement; nothing was moved")
        parts = split(src, e.start, e.end, e.credit)
    for b in parts:
        con.execute(
            "INSERT INTO mk_blocks (unit_type, vintage, serial_start, serial_end, account_id, entry_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [b.unit_type, b.vintage, b.start, b.end, b.account, seq],
        )
    con.execute(
        "INSERT INTO mk_journal (entry_id, txn_id, ts, kind, unit_type, vintage, serial_start, serial_end, quantity, "
        "debit_account, credit_account, actor, reference, span_class) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, txn, ts, e.kind, e.unit_type, e.vintage, e.start, e.end, e.quantity, e.debit, e.credit, actor,
         e.reference, span_class(e.quantity)],
    )
    return {**payload, "entry_id": seq, "ts": ts.isoformat()}


# -- derived views ---------------------------------------------------------------------------
# Each query is shaped for an index of revision 0720_ledger_indexes (docs/markets.md, "Ledger
# speed"); the times at 1,000,000 entries are in bench/bench_ledger.py.
_BALANCE_SQL = (
    "SELECT unit_type, vintage, sum(q) AS balance FROM ("
    " SELECT unit_type, vintage, quantity AS q FROM mk_journal WHERE credit_account = ? AND ts < ?"
    " UNION ALL"
    " SELECT unit_type, vintage, -quantity AS q FROM mk_journal WHERE debit_account = ? AND ts < ?"
    ") x GROUP BY unit_type, vintage ORDER BY unit_type, vintage"
)


def balance(store: Store, account_id: str, *, before: datetime | None = None) -> pd.DataFrame:
    """The balance of an account by unit type and vintage.

    Now: the account's rows of ``mk_balances``, written in the transaction of each journal entry
    (credits minus debits; :func:`check_integrity` proves them equal to the journal's sums).
    Before a time: summed from the journal itself.
    """
    if before is None:
        rows = store.con.execute("SELECT unit_type, vintage, balance FROM mk_balances WHERE account_id = ? "
                                 "ORDER BY unit_type, vintage", [account_id]).fetchall()
    else:
        rows = store.con.execute(_BALANCE_SQL, [account_id, before, account_id, before]).fetchall()
    rows = [(str(u), int(v), int(b)) for u, v, b in rows if int(b) != 0]
    return pd.DataFrame({"unit_type": pd.Series([r[0] for r in rows], dtype=object),
                         "vintage": pd.Series([r[1] for r in rows], dtype="int64"),
                         "balance": pd.Series([r[2] for r in rows], dtype="int64")})


def journal_balance(store: Store, account_id: str) -> pd.DataFrame:
    """The balance of an account summed from the whole journal (the proof of :func:`balance`)."""
    return balance(store, account_id, before=FAR_FUTURE)


def holdings(store: Store, account_id: str) -> pd.DataFrame:
    """The serial blocks an account holds now (the derived cache; see :func:`check_integrity`)."""
    return store.query(
        "SELECT unit_type, vintage, serial_start, serial_end, serial_end - serial_start + 1 AS quantity "
        "FROM mk_blocks WHERE account_id = ? ORDER BY unit_type, vintage, serial_start",
        [account_id],
    )


_STATEMENT_COLUMNS = ["entry_id", "ts", "txn_id", "kind", "unit_type", "vintage", "serial_start", "serial_end",
                      "change", "debit_account", "credit_account", "actor", "reference"]


def statement(store: Store, account_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Opening balance, the entries in ``[start, end)`` and the closing balance of an account."""
    get_account(store, account_id)
    # one round trip: the period's entries (part 0) and the opening balance by unit type and
    # vintage (part 1), each read by the account's (account, ts) index on PostgreSQL
    rows = store.con.execute(
        "SELECT 0 AS part, entry_id, ts, txn_id, kind, unit_type, vintage, serial_start, serial_end,"
        " quantity AS change, debit_account, credit_account, actor, reference FROM mk_journal"
        " WHERE credit_account = ? AND ts >= ? AND ts < ?"
        " UNION ALL"
        " SELECT 0, entry_id, ts, txn_id, kind, unit_type, vintage, serial_start, serial_end, -quantity,"
        " debit_account, credit_account, actor, reference FROM mk_journal"
        " WHERE debit_account = ? AND ts >= ? AND ts < ?"
        " UNION ALL"
        " SELECT 1, NULL, NULL, NULL, NULL, unit_type, vintage, NULL, NULL, CAST(sum(q) AS BIGINT), NULL, NULL, NULL,"
        " NULL FROM ("
        "  SELECT unit_type, vintage, quantity AS q FROM mk_journal WHERE credit_account = ? AND ts < ?"
        "  UNION ALL"
        "  SELECT unit_type, vintage, -quantity AS q FROM mk_journal WHERE debit_account = ? AND ts < ?"
        " ) x GROUP BY unit_type, vintage",
        [account_id, start, end, account_id, start, end, account_id, start, account_id, start],
    ).fetchall()
    # plain rows -> one frame (building it column by column from a driver frame cost more than the query)
    period = sorted((r[1:] for r in rows if int(r[0]) == 0), key=lambda r: int(r[0]))
    entries = pd.DataFrame.from_records(period, columns=_STATEMENT_COLUMNS)
    for col in ("entry_id", "vintage", "serial_start", "serial_end", "change"):
        entries[col] = entries[col].astype("int64")
    entries["ts"] = pd.to_datetime(entries["ts"], utc=True)
    o = {(str(r[5]), int(r[6])): int(r[9]) for r in rows if int(r[0]) == 1}
    c = dict(o)
    for r in period:
        c[(str(r[4]), int(r[5]))] = c.get((str(r[4]), int(r[5])), 0) + int(r[8])

    def side(d: dict[tuple[str, int], int]) -> pd.DataFrame:
        rows = [(ut, v, q) for (ut, v), q in sorted(d.items()) if q]
        return pd.DataFrame({"unit_type": pd.Series([r[0] for r in rows], dtype=object),
                             "vintage": pd.Series([r[1] for r in rows], dtype="int64"),
                             "balance": pd.Series([r[2] for r in rows], dtype="int64")})

    return {"account_id": account_id, "start": start, "end": end, "opening": side(o), "entries": entries,
            "closing": side(c)}


def serial_history(store: Store, unit_type: str, vintage: int, serial: int) -> dict[str, Any]:
    """The life of one serial: every entry that moved it, and the account holding it now.

    An entry of span class k (quantity <= 2^k) that moved ``serial`` starts in
    ``[serial - 2^k + 1, serial]``: one narrow range per class of the index
    ``(unit_type, vintage, span_class, serial_start)``.  The blocks never overlap, so the holder is
    the block with the greatest start at or below the serial, if it reaches the serial.
    """
    rows = store.con.execute(
        "SELECT j.entry_id, j.ts, j.txn_id, j.kind, j.debit_account, j.credit_account, j.serial_start, j.serial_end,"
        " j.actor, j.reference FROM mk_span_classes c JOIN mk_journal j"
        " ON j.span_class = c.span_class AND j.serial_start >= ? - c.width + 1 AND j.serial_start <= ?"
        " WHERE j.unit_type = ? AND j.vintage = ? AND j.serial_end >= ? ORDER BY j.entry_id",
        [serial, serial, unit_type, vintage, serial],
    ).fetchall()
    entries = pd.DataFrame.from_records(rows, columns=["entry_id", "ts", "txn_id", "kind", "debit_account",
                                                       "credit_account", "serial_start", "serial_end", "actor",
                                                       "reference"])
    for col in ("entry_id", "serial_start", "serial_end"):
        entries[col] = entries[col].astype("int64")
    entries["ts"] = pd.to_datetime(entries["ts"], utc=True)
    if entries.empty:
        raise NotFound(f"{unit_type} {vintage} serial {serial}")
    now = store.con.execute(
        "SELECT b.account_id, a.kind, b.serial_end FROM mk_blocks b JOIN mk_accounts a ON a.account_id = b.account_id "
        "WHERE b.unit_type = ? AND b.vintage = ? AND b.serial_start <= ? ORDER BY b.serial_start DESC LIMIT 1",
        [unit_type, vintage, serial],
    ).fetchall()
    now = [r for r in now if int(r[2]) >= serial]
    return {"unit_type": unit_type, "vintage": vintage, "serial": serial, "entries": entries,
            "holder": str(now[0][0]) if now else None, "final": bool(now) and str(now[0][1]) in TERMINAL_KINDS}


def positions(store: Store, owners: list[str] | None = None) -> pd.DataFrame:
    """Holdings by owner, account kind and unit type (allowances beside energy-use rights)."""
    df = store.query(
        "SELECT a.owner, a.city, a.kind, b.unit_type, b.vintage, sum(b.serial_end - b.serial_start + 1) AS quantity "
        "FROM mk_blocks b JOIN mk_accounts a USING (account_id) "
        "GROUP BY a.owner, a.city, a.kind, b.unit_type, b.vintage ORDER BY a.owner, b.unit_type, b.vintage"
    )
    if owners is not None:
        df = df[df["owner"].isin(owners)].reset_index(drop=True)
    df["quantity"] = df["quantity"].astype("int64")
    return df


def totals(store: Store) -> pd.DataFrame:
    """Per unit type and vintage: issued (issuer debits) and where the units are now, by account kind."""
    df = store.query(
        "SELECT b.unit_type, b.vintage, a.kind, sum(b.serial_end - b.serial_start + 1) AS quantity "
        "FROM mk_blocks b JOIN mk_accounts a USING (account_id) GROUP BY b.unit_type, b.vintage, a.kind "
        "ORDER BY b.unit_type, b.vintage, a.kind"
    )
    df["quantity"] = df["quantity"].astype("int64")
    return df


def journal(store: Store, account_ids: list[str] | None = None, limit: int = 200) -> pd.DataFrame:
    """The newest entries (of ``account_ids`` when given)."""
    df = store.query(
        "SELECT entry_id, ts, txn_id, kind, unit_type, vintage, serial_start, serial_end, quantity, "
        "debit_account, credit_account, actor, reference FROM mk_journal ORDER BY entry_id DESC LIMIT ?",
        [limit if account_ids is None else 1_000_000],
    )
    if account_ids is not None:
        df = df[df["debit_account"].isin(account_ids) | df["credit_account"].isin(account_ids)].head(limit)
    return df.reset_index(drop=True)


def check_integrity(store: Store) -> list[str]:
    """Every broken ledger invariant, checked in SQL over the whole journal (empty when sound).

    (1) each unit type and vintage sums to zero over all accounts; (2) no account but an issuer
    is negative; (3) the block cache equals the journal's balances; (4) no serial is in two
    blocks; (5) no entry debits a terminal account (a surrendered/retired serial never moves);
    (6) the stored balances (``mk_balances``) equal the journal's sums; (7) every entry's span
    class is right (``2^(k-1) < quantity <= 2^k``).
    """
    con = store.con
    problems: list[str] = []
    for ut, v, t in con.execute(
        "SELECT unit_type, vintage, sum(CASE WHEN kind IN ('issue', 'borrow') THEN quantity ELSE 0 END) - "
        "coalesce((SELECT sum(serial_end - serial_start + 1) FROM mk_blocks b "
        "          WHERE b.unit_type = j.unit_type AND b.vintage = j.vintage), 0) "
        "FROM mk_journal j GROUP BY unit_type, vintage"
    ).fetchall():
        if t:
            problems.append(f"{ut} {v}: issued and held differ by {t}")
    bal_sql = (
        "WITH bal AS (SELECT account_id, unit_type, vintage, sum(q) AS q FROM ("
        " SELECT credit_account AS account_id, unit_type, vintage, quantity AS q FROM mk_journal"
        " UNION ALL SELECT debit_account, unit_type, vintage, -quantity FROM mk_journal) x"
        " GROUP BY account_id, unit_type, vintage),"
        " held AS (SELECT account_id, unit_type, vintage, sum(serial_end - serial_start + 1) AS q FROM mk_blocks"
        " GROUP BY account_id, unit_type, vintage)"
        " SELECT coalesce(bal.account_id, held.account_id), coalesce(bal.unit_type, held.unit_type),"
        " coalesce(bal.vintage, held.vintage), coalesce(bal.q, 0), coalesce(held.q, 0), a.kind"
        " FROM bal FULL OUTER JOIN held ON bal.account_id = held.account_id AND bal.unit_type = held.unit_type"
        " AND bal.vintage = held.vintage JOIN mk_accounts a ON a.account_id = coalesce(bal.account_id, held.account_id)"
    )
    for acc, ut, v, bq, hq, kind in con.execute(bal_sql).fetchall():
        if kind == "issuer":
            if hq:
                problems.append(f"issuer account {acc} holds blocks of {ut} {v}")
            continue
        if bq < 0:
            problems.append(f"account {acc} has a negative balance {bq} of {ut} {v}")
        if bq != hq:
            problems.append(f"account {acc} {ut} {v}: journal balance {bq}, blocks held {hq}")
    for ut, v, s in con.execute(
        "SELECT unit_type, vintage, serial_start FROM (SELECT unit_type, vintage, serial_start, "
        "lag(serial_end) OVER (PARTITION BY unit_type, vintage ORDER BY serial_start) AS prev_end FROM mk_blocks) t "
        "WHERE serial_start <= prev_end"
    ).fetchall():
        problems.append(f"{ut} {v} serial {s} is in two blocks")
    # (6) the stored balances are the journal's sums, account by account
    for acc, ut, v, jq, sq in con.execute(
        "WITH bal AS (SELECT account_id, unit_type, vintage, sum(q) AS q FROM ("
        " SELECT credit_account AS account_id, unit_type, vintage, quantity AS q FROM mk_journal"
        " UNION ALL SELECT debit_account, unit_type, vintage, -quantity FROM mk_journal) x"
        " GROUP BY account_id, unit_type, vintage)"
        " SELECT coalesce(bal.account_id, s.account_id), coalesce(bal.unit_type, s.unit_type),"
        " coalesce(bal.vintage, s.vintage), coalesce(bal.q, 0), coalesce(s.balance, 0)"
        " FROM bal FULL OUTER JOIN mk_balances s ON bal.account_id = s.account_id AND bal.unit_type = s.unit_type"
        " AND bal.vintage = s.vintage WHERE coalesce(bal.q, 0) <> coalesce(s.balance, 0)"
    ).fetchall():
        problems.append(f"account {acc} {ut} {v}: journal balance {jq}, stored balance {sq}")
    # (7) every entry's span class is the one its serial lookup assumes
    row = con.execute(
        "SELECT count(*) FROM mk_journal j LEFT JOIN mk_span_classes c ON c.span_class = j.span_class "
        "WHERE c.width IS NULL OR j.quantity > c.width OR (j.span_class > 0 AND 2 * j.quantity <= c.width)"
    ).fetchone()
    if row and row[0]:
        problems.append(f"{row[0]} journal entries have a wrong span class (their serials cannot be looked up)")
    row = con.execute(
        "SELECT count(*) FROM mk_journal j JOIN mk_accounts a ON a.account_id = j.debit_account "
        "WHERE a.kind IN ('surrender', 'retirement', 'cancellation', 'withdrawal')"
    ).fetchone()
    if row and row[0]:
        problems.append(f"{row[0]} entries move units out of a terminal account")
    return problems


# -- bulk import (registry migration; the bench's 1,000,000 entries) --------------------------
def import_journal(store: Store, entries: pd.DataFrame, *, actor: str) -> int:
    """Append many already-planned entries at once, sealed into the audit chain, all or nothing.

    ``entries`` has columns kind, unit_type, vintage, serial_start, serial_end, debit_account,
    credit_account (and optionally txn_id, reference, ts: the historical time of each entry), in
    journal order.  The blocks are
    recomputed from the whole journal afterwards and :func:`check_integrity` must pass, or
    nothing is kept.  For migrating an existing registry's history (and the bench).
    """
    n = len(entries)
    if n == 0:
        return 0
    with store.transaction() as con:
        ring = audit.keyring(store)
        rows = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
        last = rows[0] if rows else None
        seq0 = 1 if last is None else int(last[0]) + 1
        prev = audit.GENESIS if last is None else str(last[1])
        kid = ring.active_hmac
        now = datetime.now(UTC)
        ts = audit._ts_text(now)
        df = entries.reset_index(drop=True).copy()
        df["quantity"] = df["serial_end"] - df["serial_start"] + 1
        df["span_class"] = [span_class(q) for q in df["quantity"].tolist()]
        if "txn_id" not in df:
            df["txn_id"] = [f"import-{seq0 + i}" for i in range(n)]
        if "reference" not in df:
            df["reference"] = ""
        seqs, hashes, prevs, bodies, actions = [], [], [], [], []
        cols = ["kind", "unit_type", "vintage", "serial_start", "serial_end", "debit_account", "credit_account",
                "txn_id", "reference"]
        for i, rec in enumerate(df[cols].itertuples(index=False, name=None)):
            kind, ut, v, s, e, d, c, txn, ref = rec
            body = audit.canonical_json({"kind": kind, "unit_type": ut, "vintage": int(v), "start": int(s),
                                         "end": int(e), "debit": d, "credit": c, "reference": ref, "txn_id": txn,
                                         "quantity": int(e) - int(s) + 1})
            seq = seq0 + i
            h = audit.entry_mac(ring, kid, seq, ts, actor, f"markets.{kind}", "mk_entry", txn, body, prev)
            seqs.append(seq)
            prevs.append(prev)
            hashes.append(h)
            bodies.append(body)
            actions.append(f"markets.{kind}")
            prev = h
        log = pd.DataFrame({"seq": seqs, "ts": ts, "actor": actor, "action": actions, "entity": "mk_entry",
                            "entity_id": df["txn_id"], "payload": bodies, "prev_hash": prevs, "hash": hashes,
                            "key_id": kid})
        df["entry_id"] = seqs
        if "ts" not in df:
            df["ts"] = now
        df["actor"] = actor
        con.register("_mk_log", log)
        con.register("_mk_entries", df)
        try:
            con.execute("INSERT INTO audit_log (seq, ts, actor, action, entity, entity_id, payload, prev_hash, hash, "
                        "key_id) SELECT seq, ts, actor, action, entity, entity_id, payload, prev_hash, hash, key_id "
                        "FROM _mk_log")
            con.execute("INSERT INTO mk_journal (entry_id, txn_id, ts, kind, unit_type, vintage, serial_start, "
                        "serial_end, quantity, debit_account, credit_account, actor, reference, span_class) SELECT "
                        "entry_id, txn_id, ts, kind, unit_type, vintage, serial_start, serial_end, quantity, "
                        "debit_account, credit_account, actor, reference, span_class FROM _mk_entries")
        finally:
            con.unregister("_mk_log")
            con.unregister("_mk_entries")
        _rebuild_blocks(con)
        _rebuild_balances(con)
        problems = check_integrity(store)
        if problems:
            raise LedgerError("the imported journal breaks the ledger's rules; nothing was imported: "
                              + "; ".join(problems[:5]))
    if store.is_postgres:
        # after a bulk load: fresh statistics for the planner AND the visibility map, without which
        # the statements' index-only scans (revision 0720) fetch every row from the heap until
        # autovacuum comes round (the bench right after an import: statement 241 ms against 0.7 ms
        # after VACUUM).  Outside the transaction: the store's connection is in autocommit there.
        for stmt in ("VACUUM (ANALYZE) mk_journal", "VACUUM (ANALYZE) mk_blocks", "VACUUM (ANALYZE) mk_balances"):
            store.con.execute(stmt)
    return n


def _rebuild_balances(con: Any) -> None:
    """Recompute ``mk_balances`` from the whole journal (credits minus debits per account)."""
    con.execute("DELETE FROM mk_balances")
    con.execute(
        "INSERT INTO mk_balances (account_id, unit_type, vintage, balance) "
        "SELECT account_id, unit_type, vintage, sum(q) FROM ("
        " SELECT credit_account AS account_id, unit_type, vintage, quantity AS q FROM mk_journal"
        " UNION ALL SELECT debit_account, unit_type, vintage, -quantity FROM mk_journal) x "
        "GROUP BY account_id, unit_type, vintage")


def _rebuild_blocks(con: Any) -> None:
    """Recompute every block's holder from the journal: the last entry that moved each serial range.

    Per unit type and vintage the serial line is cut at every entry's boundaries; the entries are
    painted onto the pieces in journal order, so each piece ends with the credit account (and
    entry) of the newest entry covering it; adjacent pieces with the same holder and entry are
    merged into one block.
    """
    import numpy as np

    j = con.execute("SELECT unit_type, vintage, serial_start, serial_end, credit_account, entry_id FROM mk_journal "
                    "ORDER BY unit_type, vintage, entry_id").df()
    con.execute("DELETE FROM mk_blocks")
    out = []
    for (ut, v), g in j.groupby(["unit_type", "vintage"], sort=False):
        s = g["serial_start"].to_numpy(np.int64)
        e = g["serial_end"].to_numpy(np.int64) + 1
        cuts = np.unique(np.concatenate([s, e]))
        a, b = np.searchsorted(cuts, s), np.searchsorted(cuts, e)
        holder = np.full(len(cuts) - 1, -1, dtype=np.int64)
        for k, (lo, hi) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            holder[lo:hi] = k
        keep = holder >= 0
        starts, ends, h = cuts[:-1][keep], cuts[1:][keep] - 1, holder[keep]
        new = np.ones(len(h), dtype=bool)
        new[1:] = (h[1:] != h[:-1]) | (starts[1:] != ends[:-1] + 1)
        idx = np.flatnonzero(new)
        last = np.append(idx[1:] - 1, len(h) - 1)
        out.append(pd.DataFrame({"unit_type": ut, "vintage": int(v), "serial_start": starts[idx],
                                 "serial_end": ends[last], "account_id": g["credit_account"].to_numpy()[h[idx]],
                                 "entry_id": g["entry_id"].to_numpy(np.int64)[h[idx]]}))
    if not out:
        return
    blocks = pd.concat(out, ignore_index=True)
    con.register("_mk_blocks", blocks)
    try:
        con.execute("INSERT INTO mk_blocks (unit_type, vintage, serial_start, serial_end, account_id, entry_id) "
                    "SELECT unit_type, vintage, serial_start, serial_end, account_id, entry_id FROM _mk_blocks")
    finally:
        con.unregister("_mk_blocks")


def as_json(obj: Any) -> Any:
    """Frames and dates of the views above, as JSON-ready values."""
    if isinstance(obj, pd.DataFrame):
        return json.loads(obj.to_json(orient="records", date_format="iso"))
    if isinstance(obj, dict):
        return {k: as_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [as_json(v) for v in obj]
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    return obj


# -- PHCER methodology register and issuance applications ------------------------------------------
def record_methodology(store: Store, m: dict[str, Any], *, actor: str) -> bool:
    """Record a methodology version (idempotent: an existing (id, version) is left as it is)."""
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM mk_methodologies WHERE methodology_id = ? AND version = ?",
                       [m["methodology_id"], m["version"]]).fetchone():
            return False
        con.execute(
            "INSERT INTO mk_methodologies (methodology_id, version, name_zh, name_en, scope, formula, parameters, "
            "source, status, stage, filed_on, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [m["methodology_id"], m["version"], m["name_zh"], m["name_en"], m["scope"], m["formula"],
             json.dumps(m["parameters"], ensure_ascii=False, sort_keys=True), m["source"], m["status"], m["stage"],
             m.get("filed_on"), actor, datetime.now(UTC)],
        )
        audit.append(store, actor=actor, action="markets.methodology.record", entity="mk_methodology",
                     entity_id=f"{m['methodology_id']}/{m['version']}",
                     payload={"stage": m["stage"], "status": m["status"], "formula": m["formula"]})
    return True


def methodologies(store: Store) -> pd.DataFrame:
    return store.query(
        "SELECT methodology_id, version, name_zh, name_en, scope, formula, parameters, source, status, stage, filed_on "
        "FROM mk_methodologies ORDER BY methodology_id, version"
    )


def get_methodology(store: Store, methodology_id: str, version: str) -> dict[str, Any]:
    df = store.query(
        "SELECT methodology_id, version, formula, parameters, stage, status FROM mk_methodologies "
        "WHERE methodology_id = ? AND version = ?", [methodology_id, version])
    if df.empty:
        raise NotFound(f"methodology {methodology_id} {version}")
    return dict(df.iloc[0])


def set_methodology_stage(store: Store, methodology_id: str, version: str, stage: str, *, on: date | None,
                          actor: str) -> None:
    with store.transaction() as con:
        con.execute("UPDATE mk_methodologies SET stage = ?, filed_on = coalesce(?, filed_on) "
                    "WHERE methodology_id = ? AND version = ?", [stage, on, methodology_id, version])
        audit.append(store, actor=actor, action="markets.methodology.stage", entity="mk_methodology",
                     entity_id=f"{methodology_id}/{version}", payload={"stage": stage, "on": on})


def create_application(store: Store, a: dict[str, Any], *, actor: str) -> None:
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM mk_phcer_applications WHERE application_id = ?",
                       [a["application_id"]]).fetchone():
            from carbonpeak.errors import Conflict

            raise Conflict(f"application {a['application_id']} exists")
        con.execute(
            "INSERT INTO mk_phcer_applications (application_id, methodology_id, version, project, owner, city, vintage, "
            "inputs, claimed_t, state, updated_at, resubmission_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'applied', ?, ?)",
            [a["application_id"], a["methodology_id"], a["version"], a["project"], a["owner"], a.get("city"),
             a["vintage"], json.dumps(a["inputs"], sort_keys=True), a["claimed_t"], datetime.now(UTC),
             a.get("resubmission_of")],
        )
        audit.append(store, actor=actor, action="markets.phcer.apply", entity="mk_phcer_application",
                     entity_id=a["application_id"], payload={**a, "enterprise_id": a["owner"]})


def get_application(store: Store, application_id: str) -> dict[str, Any]:
    df = store.query("SELECT * FROM mk_phcer_applications WHERE application_id = ?", [application_id])
    if df.empty:
        raise NotFound(f"application {application_id}")
    return {k: (None if (not isinstance(v, str) and pd.isna(v)) else v) for k, v in df.iloc[0].items()}


def applications(store: Store) -> pd.DataFrame:
    return store.query("SELECT application_id, methodology_id, version, project, owner, city, vintage, claimed_t, "
                       "notice_start, notice_end, verified_t, verifier, state, issued_txn, updated_at, "
                       "rejected_reason, rejected_by, rejected_at, resubmission_of "
                       "FROM mk_phcer_applications ORDER BY application_id")


def update_application(store: Store, application_id: str, expected_state: str, changes: dict[str, Any], *,
                       actor: str, action: str) -> None:
    """Move an application on (only from ``expected_state``: a concurrent step loses with 409)."""
    from carbonpeak.errors import Conflict

    allowed = {"state", "notice_start", "notice_end", "verified_t", "verifier", "issued_txn", "rejected_reason",
               "rejected_by", "rejected_at"}
    bad = set(changes) - allowed
    if bad:
        raise LedgerError(f"cannot change {sorted(bad)}")
    with store.transaction() as con:
        n = con.execute(
            "UPDATE mk_phcer_applications SET state = ?, notice_start = coalesce(?, notice_start), "
            "notice_end = coalesce(?, notice_end), verified_t = coalesce(?, verified_t), "
            "verifier = coalesce(?, verifier), issued_txn = coalesce(?, issued_txn), "
            "rejected_reason = coalesce(?, rejected_reason), rejected_by = coalesce(?, rejected_by), "
            "rejected_at = coalesce(?, rejected_at), updated_at = ? "
            "WHERE application_id = ? AND state = ? RETURNING application_id",
            [changes["state"], changes.get("notice_start"), changes.get("notice_end"), changes.get("verified_t"),
             changes.get("verifier"), changes.get("issued_txn"), changes.get("rejected_reason"),
             changes.get("rejected_by"), changes.get("rejected_at"), datetime.now(UTC), application_id,
             expected_state],
        ).fetchall()
        if len(n) != 1:
            raise Conflict(f"application {application_id} is no longer '{expected_state}'")
        audit.append(store, actor=actor, action=f"markets.phcer.{action}", entity="mk_phcer_application",
                     entity_id=application_id, payload=changes)


def post_many(store: Store, movements: list[Movement], *, actor: str, record: dict[str, Any] | None = None,
              allocation_rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Several movements in one transaction (an allocation run): all are carried out or none.

    ``record`` (an allocation run's inputs and their provenance) is appended to the audit chain
    in the same transaction as ``markets.allocation.run``; ``allocation_rows`` (the run's rows with
    sector, activity, city and method) are kept in ``mk_allocations``.
    """
    out: list[dict[str, Any]] = []
    with store.transaction() as con:
        for m in movements:
            out += _post_in(store, con, m, actor=actor, compliance_year=None)
        if allocation_rows:
            record_allocations(store, con, allocation_rows, actor=actor)
        if record is not None:
            audit.append(store, actor=actor, action="markets.allocation.run", entity="allocation",
                         entity_id=str(record.get("reference", "")), payload=as_json(record))
    return out


# -- monitoring data the energy-use rights need -----------------------------------------------
def unit_energy_budgets(store: Store, year: int) -> pd.DataFrame:
    """Dual-control energy budgets of the key units for ``year`` with their enterprise and city."""
    return store.query(
        "SELECT u.uscc AS enterprise_id, u.city, b.unit_id, b.budget_tce FROM mon_budgets_current b "
        "JOIN mon_units_current u USING (unit_id) WHERE b.year = ? ORDER BY u.uscc, b.unit_id", [year])


def enterprise_energy_use(store: Store, year: int) -> pd.DataFrame:
    """Monitored energy use (tce) per enterprise in ``year`` (from the monitoring run's unit days)."""
    return store.query(
        "SELECT u.uscc AS enterprise_id, sum(d.tce) AS used_tce FROM mon_unit_day d "
        "JOIN mon_units_current u USING (unit_id) WHERE d.date >= ? AND d.date < ? GROUP BY u.uscc",
        [date(year, 1, 1), date(year + 1, 1, 1)])


def enterprise_outputs(store: Store) -> pd.DataFrame:
    """Product output of the key units per enterprise (the monitoring registry's current output rows).

    Columns ``enterprise_id`` (the unit's USCC), ``city``, ``unit_id``, ``product``, ``period_start``,
    ``period_end``, ``quantity``, ``unit``, ``batch_id``, ``source_file``, ``source_row`` -- the
    provenance the allocation records for each figure it takes.
    """
    return store.query(
        "SELECT u.uscc AS enterprise_id, u.city, o.unit_id, o.product, o.period_start, o.period_end, o.quantity, "
        "o.unit, o.batch_id, o.source_file, o.source_row FROM mon_output_current o "
        "JOIN mon_units_current u USING (unit_id) ORDER BY u.uscc, o.product, o.period_start, o.unit_id")


def journal_between(store: Store, debits: list[str], credit: str) -> pd.DataFrame:
    """Entries from any of ``debits`` into ``credit`` (e.g. an enterprise's surrenders of a year)."""
    df = store.query(
        "SELECT entry_id, unit_type, vintage, serial_start, serial_end, quantity, debit_account FROM mk_journal "
        "WHERE credit_account = ? ORDER BY entry_id", [credit])
    return df[df["debit_account"].isin(debits)].reset_index(drop=True)


def surrenders_by_owner(store: Store) -> pd.DataFrame:
    """Surrendered units per owner, compliance year (surrender account) and unit type."""
    return store.query(
        "SELECT a.owner, a.city, j.credit_account AS surrender_account, j.unit_type, sum(j.quantity) AS quantity "
        "FROM mk_journal j JOIN mk_accounts a ON a.account_id = j.debit_account "
        "JOIN mk_accounts s ON s.account_id = j.credit_account WHERE s.kind = 'surrender' "
        "GROUP BY a.owner, a.city, j.credit_account, j.unit_type ORDER BY a.owner, j.credit_account, j.unit_type"
    )


# -- offsets' origin and verified emissions -----------------------------------------------------
def record_offset_origin(store: Store, entries: list[dict[str, Any]], *, project_id: str, project_type: str,
                         origin_province: str, origin_pilot: bool = False, pre_cdm: bool = False) -> None:
    """Record where the offsets issued by ``entries`` come from (inside or after their issue)."""
    for e in entries:
        store.con.execute(
            "INSERT INTO mk_offset_lots (unit_type, vintage, serial_start, serial_end, project_id, project_type, "
            "origin_province, origin_pilot, pre_cdm, entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [e["unit_type"], e["vintage"], e["start"], e["end"], project_id, project_type, origin_province,
             origin_pilot, pre_cdm, e["entry_id"]],
        )


def offset_origins(store: Store, unit_type: str, vintage: int, start: int, end: int) -> pd.DataFrame:
    """The recorded origin lots overlapping serials ``start``..``end``."""
    return store.query(
        "SELECT serial_start, serial_end, project_id, project_type, origin_province, origin_pilot, pre_cdm "
        "FROM mk_offset_lots WHERE unit_type = ? AND vintage = ? AND serial_start <= ? AND serial_end >= ? "
        "ORDER BY serial_start", [unit_type, vintage, end, start])


def surrendered_offsets(store: Store, year_account: str, debits: list[str] | None = None) -> pd.DataFrame:
    """Offset entries (CCER, PHCER) into a compliance year's surrender account (of ``debits``)."""
    df = store.query(
        "SELECT entry_id, unit_type, vintage, serial_start, serial_end, quantity, debit_account FROM mk_journal "
        "WHERE credit_account = ? AND unit_type IN ('CCER', 'PHCER') ORDER BY entry_id", [year_account])
    if debits is not None:
        df = df[df["debit_account"].isin(debits)]
    return df.reset_index(drop=True)


def set_verified_emissions(store: Store, enterprise_id: str, year: int, verified_t: float, *, verifier: str) -> None:
    """The verifier's sign-off of an enterprise's emissions for a year (once; a change is a conflict)."""
    from carbonpeak.errors import Conflict

    with store.transaction() as con:
        row = con.execute("SELECT verified_t FROM mk_verified_emissions WHERE enterprise_id = ? AND year = ?",
                          [enterprise_id, year]).fetchone()
        if row is not None:
            if abs(float(row[0]) - verified_t) < 1e-9:
                return
            raise Conflict(f"{enterprise_id} {year} emissions were signed off as {row[0]} t")
        con.execute("INSERT INTO mk_verified_emissions (enterprise_id, year, verified_t, verifier, signed_off_at) "
                    "VALUES (?, ?, ?, ?, ?)", [enterprise_id, year, verified_t, verifier, datetime.now(UTC)])
        audit.append(store, actor=verifier, action="markets.emissions.sign_off", entity="enterprise",
                     entity_id=enterprise_id, payload={"year": year, "verified_t": verified_t,
                                                       "enterprise_id": enterprise_id})


def verified_emissions(store: Store, year: int | None = None) -> pd.DataFrame:
    df = store.query("SELECT enterprise_id, year, verified_t, verifier, signed_off_at FROM mk_verified_emissions "
                     "ORDER BY enterprise_id, year")
    return df if year is None else df[df["year"] == year].reset_index(drop=True)


# -- rule parameters set by the authority (the offset pool) -----------------------------------------
def set_run_parameter(store: Store, *, ruleset: str, name: str, year: int, value: float, unit: str, given: str,
                      source: str, actor: str) -> dict[str, Any]:
    """Record (or change) a rule parameter of a year; audited with the previous value."""
    with store.transaction() as con:
        row = con.execute("SELECT value, unit, source FROM mk_run_parameters WHERE ruleset = ? AND name = ? AND year = ?",
                          [ruleset, name, year]).fetchone()
        now = datetime.now(UTC)
        if row is None:
            con.execute("INSERT INTO mk_run_parameters (ruleset, name, year, value, unit, given, source, set_by, set_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [ruleset, name, year, value, unit, given, source, actor, now])
        else:
            con.execute("UPDATE mk_run_parameters SET value = ?, unit = ?, given = ?, source = ?, set_by = ?, set_at = ? "
                        "WHERE ruleset = ? AND name = ? AND year = ?",
                        [value, unit, given, source, actor, now, ruleset, name, year])
        previous = None if row is None else {"value": float(row[0]), "unit": str(row[1]), "source": str(row[2])}
        audit.append(store, actor=actor, action="markets.parameter.set", entity="mk_run_parameter",
                     entity_id=f"{ruleset}/{name}/{year}",
                     payload={"value": value, "unit": unit, "given": given, "source": source, "previous": previous})
    return {"ruleset": ruleset, "name": name, "year": year, "value": value, "unit": unit, "given": given,
            "source": source, "set_by": actor, "set_at": now, "previous": previous}


def run_parameters(store: Store, ruleset: str | None = None, year: int | None = None) -> pd.DataFrame:
    """Rule parameters set in the store (of a rule set and year when given)."""
    df = store.query("SELECT ruleset, name, year, value, unit, given, source, set_by, set_at FROM mk_run_parameters "
                     "ORDER BY ruleset, name, year")
    if ruleset is not None:
        df = df[df["ruleset"] == ruleset]
    if year is not None:
        df = df[df["year"] == year]
    return df.reset_index(drop=True)


# -- issued allocations and the cap path (revision 0910_markets_peak_link) -------------------------------
ALLOCATION_ROW_COLUMNS = ["year", "enterprise_id", "ruleset", "sector", "activity", "city", "method", "allocation_t",
                          "free_t", "paid_t", "issued", "unit_type", "reference"]


def record_allocations(store: Store, con: Any, rows: list[dict[str, Any]], *, actor: str) -> None:
    """Keep an issued allocation's rows (inside the issue's transaction); a year issued twice is refused.

    A row with ``true_up`` replaces the enterprise's row of the year (the ex-post true-up: its
    ``issued`` is the total after the correction).
    """
    now = datetime.now(UTC)
    for r in rows:
        got = con.execute("SELECT reference FROM mk_allocations WHERE year = ? AND enterprise_id = ? AND unit_type = ?",
                          [r["year"], r["enterprise_id"], r["unit_type"]]).fetchone()
        if r.get("true_up"):
            if got is None:
                raise LedgerError(f"{r['enterprise_id']} has no {r['year']} {r['unit_type']} allocation to true up")
            con.execute("DELETE FROM mk_allocations WHERE year = ? AND enterprise_id = ? AND unit_type = ?",
                        [r["year"], r["enterprise_id"], r["unit_type"]])
        elif got is not None:
            raise LedgerError(f"{r['enterprise_id']} already has its {r['year']} {r['unit_type']} allocation "
                              f"({got[0]}); a correction is a true-up (issue or withdraw), not a second allocation")
        con.execute(
            "INSERT INTO mk_allocations (year, enterprise_id, ruleset, sector, activity, city, method, allocation_t, "
            "free_t, paid_t, issued, unit_type, reference, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [r["year"], r["enterprise_id"], r["ruleset"], r["sector"], r["activity"], r["city"], r["method"],
             float(r["allocation_t"]), float(r["free_t"]), float(r["paid_t"]), int(r["issued"]), r["unit_type"],
             r["reference"], actor, now])


def allocations(store: Store, year: int | None = None) -> pd.DataFrame:
    """Issued allocations per enterprise (of ``year`` when given)."""
    df = store.query("SELECT year, enterprise_id, ruleset, sector, activity, city, method, allocation_t, free_t, "
                     "paid_t, issued, unit_type, reference FROM mk_allocations ORDER BY year, enterprise_id")
    return df if year is None else df[df["year"] == year].reset_index(drop=True)


def set_cap(store: Store, *, year: int, cap_t: float, given: str, source: str, actor: str) -> dict[str, Any]:
    """Record (or change) the cap of a year; audited with the previous value."""
    with store.transaction() as con:
        row = con.execute("SELECT cap_t, given, source FROM mk_caps WHERE year = ?", [year]).fetchone()
        now = datetime.now(UTC)
        if row is None:
            con.execute("INSERT INTO mk_caps (year, cap_t, given, source, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)",
                        [year, cap_t, given, source, actor, now])
        else:
            con.execute("UPDATE mk_caps SET cap_t = ?, given = ?, source = ?, set_by = ?, set_at = ? WHERE year = ?",
                        [cap_t, given, source, actor, now, year])
        previous = None if row is None else {"cap_t": float(row[0]), "given": str(row[1]), "source": str(row[2])}
        audit.append(store, actor=actor, action="markets.cap.set", entity="mk_cap", entity_id=str(year),
                     payload={"year": year, "cap_t": cap_t, "given": given, "source": source, "previous": previous})
    return {"year": year, "cap_t": cap_t, "given": given, "source": source, "set_by": actor, "set_at": now,
            "previous": previous}


def caps(store: Store) -> pd.DataFrame:
    """The cap path as set: year, cap_t, given, source, set_by, set_at."""
    return store.query("SELECT year, cap_t, given, source, set_by, set_at FROM mk_caps ORDER BY year")
