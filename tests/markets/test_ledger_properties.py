"""Issue 11 §3 property tests: any sequence of ledger operations keeps the ledger's invariants.

Totals per unit type and vintage are conserved, no balance but the issuer's goes negative, no
serial is ever in two accounts, a surrendered or retired serial never moves again -- on the pure
model (:class:`carbonpeak.markets.ledger.Ledger`) and on the store, which must agree with the
model entry for entry.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonpeak.errors import CarbonpeakError
from carbonpeak.markets.ledger import (
    Account,
    DoubleSpend,
    Ledger,
    LedgerError,
    Movement,
    invariant_problems,
)

ACCOUNTS = [
    Account("ISS", "issuer", "GD"),
    Account("A", "holding", "ENT-A", "GD-GZ"),
    Account("A-BANK", "bank", "ENT-A", "GD-GZ"),
    Account("B", "holding", "ENT-B", "GD-SZ"),
    Account("SUR", "surrender", "GD"),
    Account("RET", "retirement", "GD"),
    Account("CAN", "cancellation", "GD"),
    Account("WD", "withdrawal", "GD"),
]
IDS = [a.account_id for a in ACCOUNTS]
KINDS = ["issue", "borrow", "transfer", "bank", "surrender", "retire", "cancel", "withdraw"]


@st.composite
def movements(draw: st.DrawFn) -> Movement:
    kind = draw(st.sampled_from(KINDS))
    ut = draw(st.sampled_from(["GDEA", "PHCER", "EUR"]))
    vintage = draw(st.sampled_from([2024, 2025]))
    debit, credit = draw(st.sampled_from(IDS)), draw(st.sampled_from(IDS))
    if draw(st.booleans()):
        start = draw(st.integers(1, 60))
        return Movement(kind, ut, vintage, debit, credit, start=start, end=start + draw(st.integers(0, 15)))
    return Movement(kind, ut, vintage, debit, credit, quantity=draw(st.integers(-1, 40)))


def _with_issues(ops: list[Movement]) -> list[Movement]:
    """Start with issues into both holdings so that most later moves have something to move."""
    seed = [Movement("issue", "GDEA", 2024, "ISS", "A", quantity=30), Movement("issue", "GDEA", 2024, "ISS", "B", quantity=30),
            Movement("issue", "PHCER", 2024, "ISS", "A", quantity=20), Movement("issue", "EUR", 2025, "ISS", "B", quantity=25)]
    return seed + ops


def _terminal_serials(ledger: Ledger) -> set[tuple[str, int, int]]:
    return {(b.unit_type, b.vintage, s) for b in ledger.blocks if ledger.accounts[b.account].kind in
            ("surrender", "retirement", "cancellation", "withdrawal") for s in range(b.start, b.end + 1)}


@given(st.lists(movements(), max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_sequence_keeps_the_invariants(ops: list[Movement]) -> None:
    led = Ledger()
    for a in ACCOUNTS:
        led.open(a)
    for m in _with_issues(ops):
        before = (list(led.blocks), list(led.journal), _terminal_serials(led))
        try:
            led.post(m)
        except (LedgerError, DoubleSpend):
            assert (led.blocks, led.journal) == (before[0], before[1]), "a refused movement changed the ledger"
            continue
        # a serial that was surrendered, retired, cancelled or withdrawn is still where it was
        assert before[2] <= _terminal_serials(led)
        assert invariant_problems(led.accounts, led.blocks, led.journal) == []
    bal = led.balances()
    for ut, v in {(k[1], k[2]) for k in bal}:
        assert sum(q for k, q in bal.items() if k[1:] == (ut, v)) == 0
    assert all(q >= 0 for k, q in bal.items() if k[0] != "ISS")


def test_invariant_checker_catches_each_kind_of_corruption() -> None:
    """The oracle itself can fail: each corruption is reported."""
    from carbonpeak.markets.ledger import Block, Entry

    led = Ledger()
    for a in ACCOUNTS:
        led.open(a)
    led.post(Movement("issue", "GDEA", 2024, "ISS", "A", quantity=10))
    led.post(Movement("surrender", "GDEA", 2024, "A", "SUR", start=1, end=2))
    acc = led.accounts
    assert invariant_problems(acc, led.blocks, led.journal) == []
    two = [*led.blocks, Block("GDEA", 2024, 5, 5, "B")]
    assert any("two accounts" in p for p in invariant_problems(acc, two, led.journal))
    moved_again = [*led.journal, Entry("transfer", "GDEA", 2024, 1, 1, "SUR", "B")]
    assert any("after a terminal" in p for p in invariant_problems(acc, led.blocks, moved_again))
    negative = [*led.journal, Entry("transfer", "GDEA", 2024, 50, 60, "B", "A")]
    assert any("negative" in p for p in invariant_problems(acc, led.blocks, negative))


def test_rules_refuse_what_they_must() -> None:
    led = Ledger()
    for a in ACCOUNTS:
        led.open(a)
    led.post(Movement("issue", "GDEA", 2024, "ISS", "A", quantity=10))
    led.post(Movement("retire", "GDEA", 2024, "A", "RET", start=1, end=3))
    with pytest.raises(LedgerError, match="may not debit"):
        led.post(Movement("transfer", "GDEA", 2024, "RET", "B", start=1, end=3))
    with pytest.raises(DoubleSpend):
        led.post(Movement("transfer", "GDEA", 2024, "A", "B", start=2, end=4))
    with pytest.raises(DoubleSpend):
        led.post(Movement("transfer", "GDEA", 2024, "A", "B", quantity=8))
    with pytest.raises(LedgerError, match="same owner"):
        led.post(Movement("bank", "GDEA", 2024, "B", "A-BANK", quantity=1))
    with pytest.raises(LedgerError, match="later vintage"):
        led.post(Movement("borrow", "GDEA", 2024, "ISS", "A", quantity=1), compliance_year=2024)
    # a split: serials 4..5 to B, the rest stays with A
    led.post(Movement("transfer", "GDEA", 2024, "A", "B", start=4, end=5))
    held = sorted((b.account, b.start, b.end) for b in led.blocks)
    assert held == [("A", 6, 10), ("B", 4, 5), ("RET", 1, 3)]


# -- the store agrees with the model -------------------------------------------------------------
@given(ops=st.lists(movements(), max_size=25))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_store_matches_the_model(ops: list[Movement], tmp_path_factory) -> None:
    from tests.stores import db_location

    from carbonpeak.store import Store, audit
    from carbonpeak.store import markets as sm

    s = Store(db_location(tmp_path_factory.mktemp("run") / "s.duckdb"))
    for a in ACCOUNTS:
        sm.open_account(s, a.account_id, a.kind, a.owner, city=a.city)
    led = Ledger()
    for a in ACCOUNTS:
        led.open(a)
    try:
        for m in _with_issues(ops):
            try:
                expected = led.post(m)
            except CarbonpeakError as exc:
                n = s.con.execute("SELECT count(*) FROM mk_journal").fetchone()[0]
                with pytest.raises(type(exc)):
                    sm.post(s, m, actor="prop")
                assert s.con.execute("SELECT count(*) FROM mk_journal").fetchone()[0] == n
                continue
            got = sm.post(s, m, actor="prop")
            assert [(e["start"], e["end"], e["debit"], e["credit"]) for e in got] == [
                (e.start, e.end, e.debit, e.credit) for e in expected]
        assert sm.check_integrity(s) == []
        held = s.query("SELECT account_id, unit_type, vintage, serial_start, serial_end FROM mk_blocks")
        assert sorted(map(tuple, held.itertuples(index=False, name=None))) == sorted(
            (b.account, b.unit_type, b.vintage, b.start, b.end) for b in led.blocks)
        for acc in IDS:
            model = {(k[1], k[2]): q for k, q in led.balances().items() if k[0] == acc and q}
            # the stored balance (mk_balances, written with each entry) and the journal's sum agree
            # with the model's journal
            for bal in (sm.balance(s, acc), sm.journal_balance(s, acc)):
                assert {(r.unit_type, int(r.vintage)): int(r.balance) for r in bal.itertuples()} == model
        # the life of every serial (span-class lookup) is exactly the model's entries covering it
        for ut, v in {(e.unit_type, e.vintage) for e in led.journal}:
            top = max(e.end for e in led.journal if (e.unit_type, e.vintage) == (ut, v))
            for serial in range(1, top + 2):
                want = [(e.debit, e.credit) for e in led.journal
                        if (e.unit_type, e.vintage) == (ut, v) and e.start <= serial <= e.end]
                if not want:
                    with pytest.raises(CarbonpeakError):
                        sm.serial_history(s, ut, v, serial)
                    continue
                h = sm.serial_history(s, ut, v, serial)
                assert list(zip(h["entries"]["debit_account"], h["entries"]["credit_account"], strict=True)) == want
                holder = [b.account for b in led.blocks if (b.unit_type, b.vintage) == (ut, v)
                          and b.start <= serial <= b.end]
                assert [h["holder"]] == holder
        assert audit.verify_chain(s).ok
    finally:
        s.close()


@given(st.integers(1, 2**62))
def test_span_class_bounds_the_entry(q: int) -> None:
    """An entry of quantity q is in class k with 2^(k-1) < q <= 2^k: the serial lookup's window."""
    from carbonpeak.store.markets import span_class

    k = span_class(q)
    assert q <= 2**k
    assert (k == 0 or 2 ** (k - 1) < q)


def test_serial_history_finds_big_and_small_blocks(store) -> None:
    """A serial inside a huge issue block and later small moves: all entries, no others."""
    from carbonpeak.store import markets as sm

    for a in ACCOUNTS:
        sm.open_account(store, a.account_id, a.kind, a.owner, city=a.city)
    sm.post(store, Movement("issue", "GDEA", 2024, "ISS", "A", quantity=5_000_000), actor="t")
    sm.post(store, Movement("transfer", "GDEA", 2024, "A", "B", start=4_000_000, end=4_000_009), actor="t")
    sm.post(store, Movement("transfer", "GDEA", 2024, "B", "A", start=4_000_003, end=4_000_003), actor="t")
    sm.post(store, Movement("surrender", "GDEA", 2024, "A", "SUR", start=4_000_003, end=4_000_003), actor="t")
    h = sm.serial_history(store, "GDEA", 2024, 4_000_003)
    assert list(h["entries"]["credit_account"]) == ["A", "B", "A", "SUR"]
    assert (h["holder"], h["final"]) == ("SUR", True)
    h = sm.serial_history(store, "GDEA", 2024, 4_000_010)
    assert list(h["entries"]["credit_account"]) == ["A"]
    assert h["holder"] == "A"
    assert list(sm.serial_history(store, "GDEA", 2024, 1)["entries"]["credit_account"]) == ["A"]
    with pytest.raises(CarbonpeakError):
        sm.serial_history(store, "GDEA", 2024, 5_000_001)
    assert sm.check_integrity(store) == []


def test_store_integrity_check_detects_tampering(store) -> None:
    from carbonpeak.store import markets as sm

    for a in ACCOUNTS:
        sm.open_account(store, a.account_id, a.kind, a.owner, city=a.city)
    sm.post(store, Movement("issue", "GDEA", 2024, "ISS", "A", quantity=10), actor="t")
    sm.post(store, Movement("surrender", "GDEA", 2024, "A", "SUR", quantity=4), actor="t")
    assert sm.check_integrity(store) == []
    store.con.execute("UPDATE mk_blocks SET account_id = 'B' WHERE account_id = 'SUR'")
    problems = sm.check_integrity(store)
    assert any("journal balance" in p for p in problems)
    store.con.execute("INSERT INTO mk_blocks VALUES ('GDEA', 2024, 3, 3, 'B', 0)")
    assert any("two blocks" in p for p in sm.check_integrity(store))
    # a stored balance that is not the journal's sum
    store.con.execute("UPDATE mk_balances SET balance = balance + 1 WHERE account_id = 'A'")
    assert any("stored balance" in p for p in sm.check_integrity(store))
    store.con.execute("UPDATE mk_journal SET span_class = 0")
    assert any("span class" in p for p in sm.check_integrity(store))


def test_bulk_import_rebuilds_blocks_and_refuses_an_invalid_journal(store) -> None:
    import pandas as pd

    from carbonpeak.store import audit
    from carbonpeak.store import markets as sm

    for a in ACCOUNTS:
        sm.open_account(store, a.account_id, a.kind, a.owner, city=a.city)
    ok = pd.DataFrame({"kind": ["issue", "transfer", "surrender"], "unit_type": "GDEA", "vintage": 2024,
                       "serial_start": [1, 5, 7], "serial_end": [10, 8, 7],
                       "debit_account": ["ISS", "A", "B"], "credit_account": ["A", "B", "SUR"]})
    assert sm.import_journal(store, ok, actor="t") == 3
    held = store.query("SELECT account_id, serial_start, serial_end FROM mk_blocks ORDER BY serial_start")
    assert list(held.itertuples(index=False, name=None)) == [("A", 1, 4), ("B", 5, 6), ("SUR", 7, 7), ("B", 8, 8),
                                                            ("A", 9, 10)]
    assert audit.verify_chain(store).ok
    n = store.query("SELECT count(*) n FROM mk_journal")["n"][0]
    # B moves serial 1, which A holds: the journal balances no longer match the blocks -> refused whole
    bad = pd.DataFrame({"kind": ["transfer"], "unit_type": "GDEA", "vintage": 2024, "serial_start": [1],
                        "serial_end": [1], "debit_account": ["B"], "credit_account": ["A"]})
    with pytest.raises(LedgerError, match="nothing was imported"):
        sm.import_journal(store, bad, actor="t")
    assert store.query("SELECT count(*) n FROM mk_journal")["n"][0] == n
    assert sm.check_integrity(store) == []
