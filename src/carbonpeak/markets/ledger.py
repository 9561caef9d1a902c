"""The registry ledger's rules, pure (issue 11 §3; no SQL here, the store persists).

Double entry: every movement is one journal entry that **debits** one account (the units leave
it) and **credits** another (the units arrive) for one contiguous serial block of one unit type
and vintage.  An issue or a borrow debits the issuer's account, whose balance is therefore the
negative of what it has issued: the sum over all accounts of each (unit type, vintage) is zero
after every entry, and the sum over the other accounts equals what was issued less nothing --
units are never created or lost by a transfer, surrender, retirement, cancellation or
withdrawal.

A serial block lives in exactly one account.  Moving part of a block splits it (the moved part
and the one or two remainders).  The accounts of kind ``surrender``, ``retirement``,
``cancellation`` and ``withdrawal`` are terminal: a block that reached one never moves again (no
double counting between compliance use and a voluntary 碳中和 claim; reference R3, after
hyperledger-labs/blockchain-carbon-accounting #564).

:class:`Ledger` is an in-memory model of the same rules, used by the property tests and as the
oracle the store is checked against; :func:`plan_movement` is what the store calls to decide
which blocks an entry takes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise
from typing import Any

from carbonpeak.catalog.loader import load_yaml
from carbonpeak.errors import CarbonpeakError, Conflict

ACCOUNT_KINDS = ("issuer", "holding", "bank", "surrender", "retirement", "cancellation", "withdrawal")
TERMINAL_KINDS = frozenset({"surrender", "retirement", "cancellation", "withdrawal"})

#: movement kind -> (account kinds it may debit, account kinds it may credit)
MOVEMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "issue": (frozenset({"issuer"}), frozenset({"holding"})),
    "borrow": (frozenset({"issuer"}), frozenset({"holding"})),
    "transfer": (frozenset({"holding", "bank"}), frozenset({"holding", "bank"})),
    "bank": (frozenset({"holding"}), frozenset({"bank"})),
    "surrender": (frozenset({"holding", "bank"}), frozenset({"surrender"})),
    "retire": (frozenset({"holding", "bank"}), frozenset({"retirement"})),
    "cancel": (frozenset({"holding", "bank"}), frozenset({"cancellation"})),
    "withdraw": (frozenset({"holding"}), frozenset({"withdrawal"})),
}
#: Movements that create new serials (debit the issuer).
CREATING = frozenset({"issue", "borrow"})


class LedgerError(CarbonpeakError):
    """A movement the ledger's rules refuse (HTTP 400)."""


class DoubleSpend(Conflict):
    """The serials asked for are not (or no longer) in the debited account (HTTP 409)."""


@cache
def unit_types() -> dict[str, dict[str, Any]]:
    """The unit types of the ledger (catalog ``markets/ledger_units.yaml``), by id."""
    data = load_yaml("markets/ledger_units.yaml")
    return {str(u["id"]): dict(u) for u in data["unit_types"]}


@dataclass(frozen=True)
class Account:
    account_id: str
    kind: str
    owner: str  # enterprise id, or the authority ("GD", "CN")
    city: str | None = None


@dataclass(frozen=True)
class Block:
    """Serials ``start``..``end`` (inclusive) of one unit type and vintage, held by ``account``."""

    unit_type: str
    vintage: int
    start: int
    end: int
    account: str

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1

    def label(self) -> str:
        return serial_label(self.unit_type, self.vintage, self.start, self.end, unit_types()[self.unit_type]["issuer"])


@dataclass(frozen=True)
class Movement:
    """A request: move ``quantity`` units (or exactly the serials ``start``..``end``)."""

    kind: str
    unit_type: str
    vintage: int
    debit: str
    credit: str
    quantity: int | None = None
    start: int | None = None
    end: int | None = None
    reference: str = ""

    @property
    def requested(self) -> int:
        if self.start is not None and self.end is not None:
            return self.end - self.start + 1
        return int(self.quantity or 0)


@dataclass(frozen=True)
class Entry:
    """One journal entry: one contiguous serial block from ``debit`` to ``credit``."""

    kind: str
    unit_type: str
    vintage: int
    start: int
    end: int
    debit: str
    credit: str
    reference: str = ""

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1


def serial_label(unit_type: str, vintage: int, start: int, end: int, party: str = "GD") -> str:
    """``<party>-<unit>-<vintage>-<start>-<end>`` (zero-padded to 10 digits)."""
    return f"{party}-{unit_type}-{vintage}-{start:010d}-{end:010d}"


def check_movement(m: Movement, debit: Account, credit: Account, *, compliance_year: int | None = None) -> None:
    """Refuse a movement whose kind, accounts, unit type, serials or quantity break a rule."""
    if m.kind not in MOVEMENTS:
        raise LedgerError(f"movement kind '{m.kind}' is not one of {', '.join(MOVEMENTS)}")
    if m.unit_type not in unit_types():
        raise LedgerError(f"unit type '{m.unit_type}' is not one of {', '.join(unit_types())}")
    if debit.account_id == credit.account_id:
        raise LedgerError("debit and credit account are the same")
    may_debit, may_credit = MOVEMENTS[m.kind]
    if debit.kind not in may_debit:
        raise LedgerError(
            f"a {m.kind} may not debit account {debit.account_id} of kind {debit.kind}"
            f" (only {', '.join(sorted(may_debit))})"
        )
    if credit.kind not in may_credit:
        raise LedgerError(
            f"a {m.kind} may not credit account {credit.account_id} of kind {credit.kind}"
            f" (only {', '.join(sorted(may_credit))})"
        )
    if m.kind == "bank" and debit.owner != credit.owner:
        raise LedgerError("banking moves units between two accounts of the same owner")
    if m.kind in CREATING and debit.owner != unit_types()[m.unit_type]["issuer"]:
        raise LedgerError(f"{m.unit_type} is issued by {unit_types()[m.unit_type]['issuer']}, not {debit.owner}")
    if m.kind == "borrow" and compliance_year is not None and m.vintage <= compliance_year:
        raise LedgerError(f"a borrow takes a later vintage than the compliance year {compliance_year}")
    if m.kind in CREATING and (m.start is not None or m.end is not None):
        raise LedgerError("new serials are numbered by the registry; give a quantity")
    if (m.start is None) != (m.end is None):
        raise LedgerError("give both the first and the last serial, or neither")
    if m.start is not None and m.end is not None and (m.start < 1 or m.end < m.start):
        raise LedgerError(f"serials {m.start}..{m.end} are not a range of positive numbers")
    if m.requested <= 0:
        raise LedgerError(f"quantity must be a positive whole number of units, got {m.requested}")


def plan_movement(m: Movement, held: list[Block], next_serial: int) -> list[Entry]:
    """The entries that carry out ``m`` given the blocks ``held`` by the debit account.

    Creating movements number ``next_serial`` onwards.  Otherwise the exact serials asked for
    must lie inside one held block each (a range may span adjacent held blocks); a quantity
    takes the lowest serials first.  Raises :class:`DoubleSpend` when the account does not hold
    them.
    """
    if m.kind in CREATING:
        return [Entry(m.kind, m.unit_type, m.vintage, next_serial, next_serial + m.requested - 1, m.debit, m.credit,
                      m.reference)]
    mine = sorted((b for b in held if b.account == m.debit and b.unit_type == m.unit_type
                   and b.vintage == m.vintage), key=lambda b: b.start)
    out: list[Entry] = []
    if m.start is not None and m.end is not None:
        cur = m.start
        for b in mine:
            if b.end < cur or b.start > m.end:
                continue
            if b.start > cur:
                break
            hi = min(b.end, m.end)
            out.append(Entry(m.kind, m.unit_type, m.vintage, cur, hi, m.debit, m.credit, m.reference))
            cur = hi + 1
            if cur > m.end:
                return out
        raise DoubleSpend(
            f"account {m.debit} does not hold {m.unit_type} {m.vintage} serials {m.start}..{m.end}"
            f" (serial {cur} is elsewhere: moved, surrendered or never issued)"
        )
    need = m.requested
    for b in mine:
        take = min(need, b.quantity)
        out.append(Entry(m.kind, m.unit_type, m.vintage, b.start, b.start + take - 1, m.debit, m.credit, m.reference))
        need -= take
        if need == 0:
            return out
    have = sum(b.quantity for b in mine)
    raise DoubleSpend(f"account {m.debit} holds {have} {m.unit_type} of vintage {m.vintage}, {m.requested} asked")


def split(block: Block, start: int, end: int, to_account: str) -> list[Block]:
    """``block`` after ``start``..``end`` of it moved to ``to_account``: the moved part and remainders."""
    if not (block.start <= start <= end <= block.end):
        raise LedgerError(f"serials {start}..{end} are not inside block {block.start}..{block.end}")
    parts = [replace(block, start=start, end=end, account=to_account)]
    if block.start < start:
        parts.append(replace(block, end=start - 1))
    if end < block.end:
        parts.append(replace(block, start=end + 1))
    return parts


@dataclass
class Ledger:
    """An in-memory ledger with the same rules as the store (the property tests' oracle)."""

    accounts: dict[str, Account] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    journal: list[Entry] = field(default_factory=list)

    def open(self, account: Account) -> None:
        if account.kind not in ACCOUNT_KINDS:
            raise LedgerError(f"account kind '{account.kind}' is not one of {', '.join(ACCOUNT_KINDS)}")
        self.accounts.setdefault(account.account_id, account)

    def next_serial(self, unit_type: str, vintage: int) -> int:
        ends = [e.end for e in self.journal if e.kind in CREATING and e.unit_type == unit_type and e.vintage == vintage]
        return max(ends, default=0) + 1

    def post(self, m: Movement, *, compliance_year: int | None = None) -> list[Entry]:
        try:
            debit, credit = self.accounts[m.debit], self.accounts[m.credit]
        except KeyError as exc:
            raise LedgerError(f"no account {exc.args[0]}") from None
        check_movement(m, debit, credit, compliance_year=compliance_year)
        entries = plan_movement(m, self.blocks, self.next_serial(m.unit_type, m.vintage))
        for e in entries:
            self._apply(e)
        self.journal.extend(entries)
        return entries

    def _apply(self, e: Entry) -> None:
        if e.kind in CREATING:
            self.blocks.append(Block(e.unit_type, e.vintage, e.start, e.end, e.credit))
            return
        for i, b in enumerate(self.blocks):
            if (b.account == e.debit and b.unit_type == e.unit_type and b.vintage == e.vintage
                    and b.start <= e.start and e.end <= b.end):
                del self.blocks[i]
                self.blocks.extend(split(b, e.start, e.end, e.credit))
                return
        raise DoubleSpend(f"{e.debit} does not hold {e.start}..{e.end}")  # pragma: no cover - planned above

    def balances(self) -> dict[tuple[str, str, int], int]:
        """(account, unit type, vintage) -> balance, derived from the journal alone."""
        return journal_balances(self.journal)


def journal_balances(journal: list[Entry]) -> dict[tuple[str, str, int], int]:
    """Balances derived from the journal: credits minus debits per (account, unit type, vintage)."""
    bal: dict[tuple[str, str, int], int] = defaultdict(int)
    for e in journal:
        bal[(e.credit, e.unit_type, e.vintage)] += e.quantity
        bal[(e.debit, e.unit_type, e.vintage)] -= e.quantity
    return dict(bal)


def invariant_problems(accounts: dict[str, Account], blocks: list[Block], journal: list[Entry]) -> list[str]:
    """Every broken ledger invariant, as sentences (empty when the ledger is sound).

    Checks: the total of each (unit type, vintage) over all accounts is zero; no account but an
    issuer has a negative balance; the blocks held (the derived cache) equal the journal's
    balances; no serial is in two blocks; no entry debits a serial after it reached a terminal
    account.
    """
    problems: list[str] = []
    bal = journal_balances(journal)
    totals: dict[tuple[str, int], int] = defaultdict(int)
    for (acc, ut, v), q in bal.items():
        totals[(ut, v)] += q
        if q < 0 and accounts[acc].kind != "issuer":
            problems.append(f"account {acc} has a negative balance {q} of {ut} {v}")
    problems += [f"{ut} {v} does not sum to zero over all accounts ({t})" for (ut, v), t in totals.items() if t]
    held: dict[tuple[str, str, int], int] = defaultdict(int)
    for b in blocks:
        held[(b.account, b.unit_type, b.vintage)] += b.quantity
    for key in set(held) | {k for k, q in bal.items() if accounts[k[0]].kind != "issuer"}:
        if held.get(key, 0) != bal.get(key, 0):
            problems.append(f"blocks of {key} hold {held.get(key, 0)}, the journal says {bal.get(key, 0)}")
    by_type: dict[tuple[str, int], list[Block]] = defaultdict(list)
    for b in blocks:
        by_type[(b.unit_type, b.vintage)].append(b)
    for (ut, v), bs in by_type.items():
        bs.sort(key=lambda b: b.start)
        for a, b in pairwise(bs):
            if b.start <= a.end:
                problems.append(f"{ut} {v} serial {b.start} is in two accounts ({a.account}, {b.account})")
    spent: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for e in journal:
        for s, t in spent[(e.unit_type, e.vintage)]:
            if e.kind not in CREATING and e.start <= t and s <= e.end:
                problems.append(f"{e.unit_type} {e.vintage} serials {e.start}..{e.end} moved after a terminal entry")
        if accounts[e.credit].kind in TERMINAL_KINDS:
            spent[(e.unit_type, e.vintage)].append((e.start, e.end))
    return problems
