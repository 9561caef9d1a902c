"""Markets use cases, each once (issue 11 §3, §5, §6): the interfaces (CLI, API, pages) call these.

Scope comes from the principal, never from the request: an enterprise reads and moves only its
own accounts (a move from another's account is refused with 403 and changes nothing); a city
officer reads its city's enterprises; a verifier reads the enterprises assigned to it; the
province (admin, province_analyst) reads everything, and admin runs the registry operations
(allocate, issue, withdraw, cancel, PHCER issuance).

Account ids: ``<owner>:holding`` and ``<owner>:bank`` for an enterprise; ``GD:issuer`` and
``CN:issuer`` for the issuing authorities; ``GD:surrender:<year>`` for the compliance year's
surrenders; ``GD:retirement`` (voluntary 碳中和 claims), ``GD:cancellation``, ``GD:withdrawal``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from carbonpeak.errors import CarbonpeakError, CatalogError, NotFound, PermissionDenied
from carbonpeak.markets import energy_rights, phcer
from carbonpeak.markets.ledger import Movement, unit_types
from carbonpeak.store import markets as sm
from carbonpeak.store.access import PROVINCE_ROLES, allowed
from carbonpeak.store.duck import Store
from carbonpeak.store.users import Principal

AUTHORITY = "GD"
ALLOWANCES = ("GDEA", "CEA")
OFFSETS = ("CCER", "PHCER")
SYSTEM = Principal("system", "admin")


# -- accounts -------------------------------------------------------------------------------------
def holding(owner: str) -> str:
    return f"{owner}:holding"


def bank(owner: str) -> str:
    return f"{owner}:bank"


def issuer(unit_type: str) -> str:
    return f"{unit_types()[unit_type]['issuer']}:issuer"


def surrender_account(year: int) -> str:
    return f"{AUTHORITY}:surrender:{year}"


TERMINAL_ACCOUNTS = {"retire": f"{AUTHORITY}:retirement", "cancel": f"{AUTHORITY}:cancellation",
                     "withdraw": f"{AUTHORITY}:withdrawal"}


def setup(store: Store, *, actor: str = "system") -> None:
    """Open the authority accounts and record the shipped PHCER methodologies (idempotent)."""
    for party in sorted({str(u["issuer"]) for u in unit_types().values()}):
        sm.open_account(store, f"{party}:issuer", "issuer", party, name=f"{party} issuing account", actor=actor)
    for kind, acc in (("retirement", TERMINAL_ACCOUNTS["retire"]), ("cancellation", TERMINAL_ACCOUNTS["cancel"]),
                      ("withdrawal", TERMINAL_ACCOUNTS["withdraw"])):
        sm.open_account(store, acc, kind, AUTHORITY, actor=actor)
    for m in phcer.shipped_methodologies():
        sm.record_methodology(store, {
            "methodology_id": m.methodology_id, "version": m.version, "name_zh": m.name_zh, "name_en": m.name_en,
            "scope": m.scope, "formula": m.formula, "parameters": m.parameters, "source": m.source,
            "status": m.status, "stage": m.stage, "filed_on": m.filed_on}, actor=actor)


def open_enterprise(store: Store, enterprise_id: str, city: str | None, *, actor: str = "system") -> list[str]:
    """Open an enterprise's holding and banking accounts (idempotent)."""
    sm.open_account(store, holding(enterprise_id), "holding", enterprise_id, city=city, actor=actor)
    sm.open_account(store, bank(enterprise_id), "bank", enterprise_id, city=city, actor=actor)
    return [holding(enterprise_id), bank(enterprise_id)]


def _ensure_year(store: Store, year: int, actor: str) -> str:
    acc = surrender_account(year)
    sm.open_account(store, acc, "surrender", AUTHORITY, name=f"compliance year {year}", actor=actor)
    return acc


# -- scope ------------------------------------------------------------------------------------------
def _is_enterprise_account(kind: str) -> bool:
    return kind in ("holding", "bank")


def may_read(p: Principal, owner: str, city: str | None, kind: str) -> bool:
    if p.role in PROVINCE_ROLES:
        return True
    return _is_enterprise_account(kind) and allowed(p, city=city, enterprise_id=owner)


def account_for_read(store: Store, p: Principal, account_id: str) -> sm.Account:
    """The account if ``p`` may read it; otherwise 404, as if it did not exist."""
    acc = sm.get_account(store, account_id)
    if not may_read(p, acc.owner, acc.city, acc.kind):
        raise NotFound(f"account {account_id}")
    return acc


def _require_mover(store: Store, p: Principal, account_id: str) -> sm.Account:
    """The debited account if ``p`` may move units out of it: its enterprise, or admin; else 403."""
    acc = sm.get_account(store, account_id)
    if p.role == "admin":
        return acc
    if p.role == "enterprise" and _is_enterprise_account(acc.kind) and acc.owner == p.enterprise_id:
        return acc
    raise PermissionDenied(f"{p.username} may not move units out of account {account_id}")


def _require_admin(p: Principal, what: str) -> None:
    if p.role != "admin":
        raise PermissionDenied(f"{what} is a registry operation of the province's administrator")


def visible_accounts(store: Store, p: Principal) -> pd.DataFrame:
    df = sm.accounts(store)
    keep = [may_read(p, o, c if isinstance(c, str) else None, k)
            for o, c, k in zip(df["owner"], df["city"], df["kind"], strict=True)]
    return df[pd.Series(keep, index=df.index, dtype=bool)].reset_index(drop=True)


# -- movements --------------------------------------------------------------------------------------
def _movement(kind: str, unit_type: str, vintage: int, debit: str, credit: str, quantity: int | None,
              start: int | None, end: int | None, reference: str) -> Movement:
    return Movement(kind, unit_type, int(vintage), debit, credit, quantity=quantity, start=start, end=end,
                    reference=reference)


def transfer(store: Store, p: Principal, *, from_account: str, to_account: str, unit_type: str, vintage: int,
             quantity: int | None = None, start: int | None = None, end: int | None = None,
             reference: str = "") -> list[dict[str, Any]]:
    """Move units between holding/banking accounts (an enterprise only out of its own)."""
    _require_mover(store, p, from_account)
    return sm.post(store, _movement("transfer", unit_type, vintage, from_account, to_account, quantity, start, end,
                                    reference), actor=p.username)


def bank_units(store: Store, p: Principal, *, enterprise_id: str, unit_type: str, vintage: int,
               quantity: int) -> list[dict[str, Any]]:
    _require_mover(store, p, holding(enterprise_id))
    return sm.post(store, _movement("bank", unit_type, vintage, holding(enterprise_id), bank(enterprise_id), quantity,
                                    None, None, ""), actor=p.username)


def retire(store: Store, p: Principal, *, from_account: str, unit_type: str, vintage: int, quantity: int | None = None,
           start: int | None = None, end: int | None = None, reference: str = "") -> list[dict[str, Any]]:
    """Retire units for a voluntary claim (碳中和): they can never move again, nor be surrendered."""
    _require_mover(store, p, from_account)
    return sm.post(store, _movement("retire", unit_type, vintage, from_account, TERMINAL_ACCOUNTS["retire"], quantity,
                                    start, end, reference), actor=p.username)


def registry_move(store: Store, p: Principal, *, kind: str, debit: str, credit: str | None, unit_type: str,
                  vintage: int, quantity: int | None = None, start: int | None = None, end: int | None = None,
                  reference: str = "", compliance_year: int | None = None) -> list[dict[str, Any]]:
    """The administrator's movements: issue, borrow, cancel, withdraw (and any other kind)."""
    _require_admin(p, kind)
    target = credit or TERMINAL_ACCOUNTS.get(kind)
    if target is None:
        raise NotFound(f"a {kind} needs a credit account")
    return sm.post(store, _movement(kind, unit_type, vintage, debit, target, quantity, start, end, reference),
                   actor=p.username, compliance_year=compliance_year)


def allocate(store: Store, p: Principal, *, year: int, allocations: pd.DataFrame, unit_type: str = "GDEA",
             reference: str = "") -> dict[str, Any]:
    """Issue an allocation (columns enterprise_id, city, quantity) into holdings, all or nothing.

    The quantities are the free allocation computed by the allocation rules (mk-rules'
    allocation module, ``carbonpeak markets allocate``); whole units, rounded down.
    """
    _require_admin(p, "allocation")
    setup(store, actor=p.username)
    moves = []
    for ent, city, q in zip(allocations["enterprise_id"], allocations["city"], allocations["quantity"], strict=True):
        open_enterprise(store, str(ent), None if pd.isna(city) else str(city), actor=p.username)
        n = int(q)
        if n > 0:
            moves.append(Movement("issue", unit_type, year, issuer(unit_type), holding(str(ent)), quantity=n,
                                  reference=reference or f"allocation {year}"))
    entries = sm.post_many(store, moves, actor=p.username)
    return {"year": year, "unit_type": unit_type, "enterprises": len(moves),
            "issued": sum(e["quantity"] for e in entries), "entries": len(entries)}


def compute_allocation(requests: pd.DataFrame, ruleset_id: str, year: int,
                       params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Allocations by the rule set's methods (mk-rules' allocation engine) for a table of requests.

    Columns: enterprise_id, sector, [city, activity, base_emissions "2021:102000;2022:98000",
    output "clinker:1200000", coprocessed_waste_t].  Returns enterprise_id, city, method,
    allocation_t, free_t, paid_t, formula, and ``quantity`` = the free allowances in whole
    tonnes (rounded down) to issue.
    """
    from carbonpeak.catalog.markets import load_ruleset
    from carbonpeak.markets.allocation import AllocationRequest, allocate

    def pairs(text: Any, key: Any = str) -> dict[Any, float]:
        if text is None or (isinstance(text, float) and pd.isna(text)) or str(text).strip() == "":
            return {}
        out = {}
        for part in str(text).split(";"):
            k, _, v = part.partition(":")
            out[key(k.strip())] = float(v)
        return out

    rs = load_ruleset(ruleset_id)
    rows = []
    for r in requests.to_dict("records"):
        req = AllocationRequest(
            str(r["enterprise_id"]), str(r["sector"]), year, activity=str(r.get("activity") or "*"),
            output=pairs(r.get("output")), base_emissions=pairs(r.get("base_emissions"), int),
            coprocessed_waste_t=float(r.get("coprocessed_waste_t") or 0.0))
        a = allocate(req, rs, params)
        rows.append({"enterprise_id": a.enterprise_id, "city": r.get("city"), "sector": a.sector,
                     "method": a.method, "allocation_t": a.allocation_t, "free_t": a.free_t, "paid_t": a.paid_t,
                     "quantity": int(a.free_t // 1), "formula": a.formula})
    return pd.DataFrame(rows)


def surrender(store: Store, p: Principal, *, enterprise_id: str, year: int, unit_type: str, vintage: int,
              quantity: int | None = None, start: int | None = None, end: int | None = None,
              from_account: str | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Surrender units against the compliance year's obligation.

    Allowances go straight in.  Offsets (CCER, PHCER) pass the offset-eligibility rules of the
    compliance module first (:func:`carbonpeak.markets.compliance.check_surrender`: unit type and
    exclusions, the 10 % limit, the 70 % local share, the province-wide pool), checked on the
    very serials the surrender takes, together with the offsets this enterprise already
    surrendered for the year, inside the surrender's transaction.  Any refusal refuses the
    whole surrender and names the rule and the amount.
    """
    src = from_account or holding(enterprise_id)
    acc = _require_mover(store, p, src)
    if acc.owner != enterprise_id:
        raise PermissionDenied(f"account {src} is not {enterprise_id}'s")
    m = _movement("surrender", unit_type, vintage, src, surrender_account(year), quantity, start, end,
                  f"compliance {year}")
    _ensure_year(store, year, p.username)
    check = None
    if unit_type in OFFSETS:
        def check(entries: list[Any]) -> None:
            offset_check(store, enterprise_id=enterprise_id, year=year, entries=entries, params=params)
    entries = sm.post(store, m, actor=p.username, check=check)
    return {"enterprise_id": enterprise_id, "year": year, "unit_type": unit_type, "vintage": vintage,
            "surrendered": sum(e["quantity"] for e in entries), "entries": entries,
            "total_surrendered": surrendered(store, enterprise_id, year)}


def surrendered(store: Store, enterprise_id: str, year: int) -> dict[str, int]:
    """What ``enterprise_id`` has surrendered for ``year``, by unit type."""
    df = sm.journal_between(store, [holding(enterprise_id), bank(enterprise_id)], surrender_account(year))
    return {str(k): int(v) for k, v in df.groupby("unit_type")["quantity"].sum().items()} if len(df) else {}


def _lots(store: Store, unit_type: str, vintage: int, start: int, end: int, tag: str) -> list[Any]:
    """Offset lots (compliance.OffsetLot) for serials start..end, from their recorded origin."""
    from carbonpeak.markets.compliance import OffsetLot

    origins = sm.offset_origins(store, unit_type, vintage, start, end)
    lots, cur = [], start
    for o in origins.itertuples():
        lo, hi = max(start, int(o.serial_start)), min(end, int(o.serial_end))
        if lo > cur:
            break
        lots.append(OffsetLot(f"{tag}{unit_type}-{vintage}-{lo}-{hi}", unit_type, float(hi - lo + 1), vintage,
                              project_type=str(o.project_type), origin_province=str(o.origin_province),
                              origin_pilot=bool(o.origin_pilot), pre_cdm=bool(o.pre_cdm)))
        cur = hi + 1
    if cur <= end:
        raise NotFound(f"the origin of {unit_type} {vintage} serials {cur}..{end} (recorded at issuance)")
    return lots


def offset_check(store: Store, *, enterprise_id: str, year: int, entries: list[Any],
                 params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Offset eligibility of a planned surrender; raises :class:`OffsetRefused` naming each refused rule."""
    from carbonpeak.catalog.markets import ruleset_for
    from carbonpeak.markets.compliance import check_surrender, obligation

    ve = sm.verified_emissions(store, year)
    row = ve[ve["enterprise_id"] == enterprise_id]
    if row.empty:
        raise OffsetRefused(f"{enterprise_id} has no verified emissions for {year}: the verifier signs them off "
                            "before offsets can be surrendered (the limits depend on them)")
    emissions = float(row["verified_t"].iloc[0])
    rs = ruleset_for("guangdong_ets", year) if _has_ruleset(year) else ruleset_for("guangdong_ets", 2024)
    ob = obligation(enterprise_id, year, emissions, rs, params=params)
    prior = sm.surrendered_offsets(store, surrender_account(year), [holding(enterprise_id), bank(enterprise_id)])
    lots = [lot for r in prior.itertuples()
            for lot in _lots(store, str(r.unit_type), int(r.vintage), int(r.serial_start), int(r.serial_end), "prior:")]
    new = [lot for e in entries for lot in _lots(store, e.unit_type, e.vintage, e.start, e.end, "")]
    all_year = sm.surrendered_offsets(store, surrender_account(year))
    pool_used = float(all_year["quantity"].sum()) if len(all_year) else 0.0
    pool_remaining = None
    if rs.has("offsets.pool", year=year) or (params and "offsets.pool" in params):
        pool = float(rs.param("offsets.pool", year=year, overrides=params, unit="tCO2"))
        pool_remaining = max(0.0, pool - pool_used + sum(x.amount_t for x in lots))
    res = check_surrender([*lots, *new], rs, year=year, obligation_t=ob.obligation_t,
                          last_year_emissions_t=emissions, pool_remaining_t=pool_remaining, params=params)
    if res.refusals:
        from carbonpeak.i18n import Msg

        items = [Msg("markets.refused_item", rule=r.rule, refused=float(r.refused_t), detail=r.detail)
                 for r in res.refusals]
        msg = Msg("markets.refused", enterprise=str(enterprise_id), year=int(year), items=items)
        raise OffsetRefused(msg)
    return res.to_dict()


def _has_ruleset(year: int) -> bool:
    from carbonpeak.catalog.markets import ruleset_for

    try:
        ruleset_for("guangdong_ets", year)
    except CatalogError:
        return False
    return True


class OffsetRefused(CarbonpeakError):
    """Offsets refused at surrender by an eligibility rule (HTTP 400; nothing was surrendered)."""


def sign_off_emissions(store: Store, p: Principal, *, enterprise_id: str, year: int, verified_t: float) -> dict[str, Any]:
    """The assigned verifier (or admin) signs off an enterprise's verified emissions for a year."""
    if not (p.role == "admin" or (p.role == "verifier" and enterprise_id in p.assigned)):
        raise PermissionDenied("emissions are signed off by the verifier assigned to the enterprise")
    if verified_t < 0:
        raise OffsetRefused("verified emissions must be ≥ 0")
    sm.set_verified_emissions(store, enterprise_id, year, verified_t, verifier=p.username)
    return {"enterprise_id": enterprise_id, "year": year, "verified_t": verified_t, "verifier": p.username}


def obligations(store: Store, p: Principal, year: int, as_of: dt.date | None = None) -> pd.DataFrame:
    """Per enterprise in scope: verified emissions, obligation, surrendered, shortfall and status.

    A verifier sees the enterprises assigned to it (the emissions it must sign off: those with
    no sign-off yet are listed with ``verified_t`` empty).
    """
    from carbonpeak.catalog.markets import ruleset_for
    from carbonpeak.markets.compliance import compliance_status, obligation

    accs = sm.accounts(store)
    ents = accs[accs["kind"] == "holding"][["owner", "city"]].drop_duplicates().rename(columns={"owner": "enterprise_id"})
    if p.role == "verifier":
        ents = pd.concat([ents, pd.DataFrame({"enterprise_id": list(p.assigned), "city": None})]).drop_duplicates(
            "enterprise_id")
    keep = [p.role in PROVINCE_ROLES or allowed(p, city=c if isinstance(c, str) else None, enterprise_id=e)
            for e, c in zip(ents["enterprise_id"], ents["city"], strict=True)]
    ents = ents[pd.Series(keep, index=ents.index, dtype=bool)]
    ve = sm.verified_emissions(store, year).set_index("enterprise_id")["verified_t"]
    rs = ruleset_for("guangdong_ets", year if _has_ruleset(year) else 2024)
    rows = []
    for ent, city in zip(ents["enterprise_id"], ents["city"], strict=True):
        done = surrendered(store, str(ent), year)
        allow = float(sum(v for k, v in done.items() if k in ALLOWANCES))
        offs = float(sum(v for k, v in done.items() if k in OFFSETS))
        row: dict[str, Any] = {"enterprise_id": ent, "city": city, "year": year, "verified_t": None,
                               "obligation_t": None, "surrendered_allowances_t": allow, "surrendered_offsets_t": offs,
                               "shortfall_t": None, "deadline": None, "status": "awaiting_sign_off"}
        if ent in ve.index:
            ob = obligation(str(ent), year, float(ve[ent]), rs)
            stt = compliance_status(ob, allow, offs, rs, as_of or dt.date.today())
            row.update(verified_t=float(ve[ent]), obligation_t=ob.obligation_t, shortfall_t=stt.shortfall_t,
                       deadline=stt.deadline, status=stt.status)
        rows.append(row)
    return pd.DataFrame(rows, columns=["enterprise_id", "city", "year", "verified_t", "obligation_t",
                                       "surrendered_allowances_t", "surrendered_offsets_t", "shortfall_t", "deadline",
                                       "status"])


def issue_offsets(store: Store, p: Principal, *, unit_type: str, vintage: int, quantity: int, owner: str,
                  city: str | None, project_id: str, project_type: str, origin_province: str,
                  origin_pilot: bool = False, pre_cdm: bool = False) -> list[dict[str, Any]]:
    """Record offsets issued elsewhere (CCER by the national registry) into an owner's holding, with origin."""
    _require_admin(p, "offset issuance")
    if unit_type not in OFFSETS:
        raise OffsetRefused(f"{unit_type} is not an offset unit ({', '.join(OFFSETS)})")
    setup(store, actor=p.username)
    open_enterprise(store, owner, city, actor=p.username)
    origin = {"project_id": project_id, "project_type": project_type, "origin_province": origin_province,
              "origin_pilot": origin_pilot, "pre_cdm": pre_cdm}
    return sm.post(store, Movement("issue", unit_type, vintage, issuer(unit_type), holding(owner),
                                   quantity=quantity, reference=f"project {project_id}"), actor=p.username,
                   origin=origin)


# -- statements and views ----------------------------------------------------------------------------
def statement(store: Store, p: Principal, account_id: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    account_for_read(store, p, account_id)
    t0 = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    t1 = dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
    return sm.statement(store, account_id, t0, t1)


def balance(store: Store, p: Principal, account_id: str) -> pd.DataFrame:
    account_for_read(store, p, account_id)
    return sm.balance(store, account_id)


def serial_history(store: Store, p: Principal, unit_type: str, vintage: int, serial: int) -> dict[str, Any]:
    """The life of a serial; outside the province only for an enterprise whose accounts it passed through."""
    h = sm.serial_history(store, unit_type, vintage, serial)
    if p.role not in PROVINCE_ROLES:
        mine = set(visible_accounts(store, p)["account_id"])
        touched = set(h["entries"]["debit_account"]) | set(h["entries"]["credit_account"])
        if not (mine & touched):
            raise NotFound(f"{unit_type} {vintage} serial {serial}")
    return h


def positions(store: Store, p: Principal, year: int | None = None) -> pd.DataFrame:
    """Per enterprise: allowances, offsets and energy-use rights held, side by side (scoped).

    Columns enterprise_id, city, GDEA, CEA, CCER, PHCER (t), EUR (tce), and with ``year``
    energy_used_tce (monitoring) and eur_surplus_tce.
    """
    pos = sm.positions(store)
    pos = pos[pos["kind"].isin(["holding", "bank"])]
    keep = [allowed(p, city=c if isinstance(c, str) else None, enterprise_id=o) or p.role in PROVINCE_ROLES
            for o, c in zip(pos["owner"], pos["city"], strict=True)]
    pos = pos[pd.Series(keep, index=pos.index, dtype=bool)]  # (a plain empty list would select columns)
    if pos.empty:  # an empty ledger (or nothing in scope): no positions, same columns
        wide = pd.DataFrame(columns=["enterprise_id", "city"])
    else:
        wide = (pos.pivot_table(index=["owner", "city"], columns="unit_type", values="quantity", aggfunc="sum",
                                fill_value=0).reset_index().rename(columns={"owner": "enterprise_id"}))
        wide.columns.name = None
    for ut in unit_types():
        if ut not in wide:
            wide[ut] = 0
    wide = wide[["enterprise_id", "city", *unit_types()]]
    if year is not None:
        used = sm.enterprise_energy_use(store, year)
        wide = wide.merge(used, on="enterprise_id", how="left")
        wide["eur_surplus_tce"] = wide["EUR"] - wide["used_tce"].fillna(0.0)
        wide = wide.rename(columns={"used_tce": "energy_used_tce"})
    return wide.reset_index(drop=True)


def overview(store: Store, p: Principal) -> dict[str, Any]:
    """The market in numbers: per unit type and vintage, units by where they are (scoped to a city)."""
    if p.role not in (*PROVINCE_ROLES, "city_officer"):
        raise PermissionDenied("the market overview is for province and city roles")
    tot = sm.totals(store)
    out: dict[str, Any] = {"scope": "province" if p.role in PROVINCE_ROLES else p.city}
    if p.role in PROVINCE_ROLES:
        out["totals"] = tot
    out["positions"] = positions(store, p)
    out["surrendered"] = sm.surrenders_by_owner(store)
    if p.role == "city_officer":
        owners = set(out["positions"]["enterprise_id"])
        out["surrendered"] = out["surrendered"][out["surrendered"]["owner"].isin(owners)].reset_index(drop=True)
    out["integrity"] = sm.check_integrity(store) if p.role in PROVINCE_ROLES else None
    return out


def check(store: Store) -> list[str]:
    """The ledger's invariants, checked over the whole journal (empty when sound)."""
    return sm.check_integrity(store)


# -- energy-use rights --------------------------------------------------------------------------------
def allocate_energy_rights(store: Store, p: Principal, *, year: int,
                           city_caps: dict[str, float] | None = None) -> dict[str, Any]:
    """Issue energy-use rights (EUR, tce) for ``year`` from the key units' dual-control budgets."""
    _require_admin(p, "energy-use rights allocation")
    budgets = sm.unit_energy_budgets(store, year)
    if budgets.empty:
        raise NotFound(f"energy budgets of {year} (import the monitoring registry's budgets.csv first)")
    alloc = energy_rights.allocate(budgets, city_caps)
    res = allocate(store, p, year=year, unit_type="EUR",
                   allocations=alloc.rename(columns={"rights_tce": "quantity"})[["enterprise_id", "city", "quantity"]],
                   reference=f"energy-use rights {year}")
    return {**res, "allocation": alloc}


# -- PHCER ------------------------------------------------------------------------------------------------
def file_methodology(store: Store, p: Principal, *, methodology_id: str, version: str, stage: str,
                     on: dt.date | None = None) -> dict[str, Any]:
    """Move a methodology version along the filing pipeline (province roles)."""
    if p.role not in PROVINCE_ROLES:
        raise PermissionDenied("methodology filing is done by the province")
    m = sm.get_methodology(store, methodology_id, version)
    phcer.check_stage_change(str(m["stage"]), stage)
    sm.set_methodology_stage(store, methodology_id, version, stage, on=on if stage == "filed" else None,
                             actor=p.username)
    return {"methodology_id": methodology_id, "version": version, "stage": stage}


def apply_phcer(store: Store, p: Principal, *, application_id: str, methodology_id: str, version: str,
                project: str, owner: str, city: str | None, vintage: int, inputs: dict[str, Any]) -> dict[str, Any]:
    """A project owner's application under a filed methodology; the claim is computed by its formula."""
    if p.role == "enterprise" and owner != p.enterprise_id:
        raise PermissionDenied("an enterprise applies for its own projects only")
    if p.role not in ("enterprise", *PROVINCE_ROLES):
        raise PermissionDenied("applications are made by project owners")
    m = sm.get_methodology(store, methodology_id, version)
    if m["stage"] != "filed":
        raise phcer.PhcerError(f"methodology {methodology_id} {version} is '{m['stage']}', not filed: "
                               "applications need a filed methodology")
    claimed = phcer.reduction(str(m["formula"]), inputs)
    sm.create_application(store, {"application_id": application_id, "methodology_id": methodology_id,
                                  "version": version, "project": project, "owner": owner, "city": city,
                                  "vintage": vintage, "inputs": inputs, "claimed_t": claimed}, actor=p.username)
    return {"application_id": application_id, "claimed_t": claimed, "state": "applied"}


def notice_phcer(store: Store, p: Principal, *, application_id: str, start: dt.date, days: int = 7,
                 holidays: list[dt.date] | None = None) -> dict[str, Any]:
    """Start the public notice (≥ 7 working days) of an application (province or its city)."""
    a = sm.get_application(store, application_id)
    if not (p.role in PROVINCE_ROLES or (p.role == "city_officer" and a["city"] == p.city)):
        raise PermissionDenied("the notice is published by the province or the project's city")
    new = phcer.check_step(str(a["state"]), "notice")
    end = phcer.notice_end(start, days, holidays=holidays)
    sm.update_application(store, application_id, str(a["state"]), {"state": new, "notice_start": start,
                                                                   "notice_end": end}, actor=p.username, action="notice")
    return {"application_id": application_id, "state": new, "notice_start": start, "notice_end": end}


def verify_phcer(store: Store, p: Principal, *, application_id: str, verified_t: float,
                 today: dt.date | None = None) -> dict[str, Any]:
    """The verifier's finding after the notice: the verified reduction (≤ the claim)."""
    a = sm.get_application(store, application_id)
    if not (p.role == "admin" or (p.role == "verifier" and a["owner"] in p.assigned)):
        raise PermissionDenied("verification is done by the verifier assigned to the project owner")
    ends = None if a["notice_end"] is None else pd.Timestamp(a["notice_end"]).date()
    new = phcer.check_step(str(a["state"]), "verify", today=today or dt.date.today(), notice_end_on=ends)
    if verified_t > float(a["claimed_t"]) + 1e-9:
        raise phcer.PhcerError(f"verified {verified_t} t exceeds the claim {a['claimed_t']} t")
    tonnes = phcer.issuable_tonnes(verified_t)
    sm.update_application(store, application_id, str(a["state"]), {"state": new, "verified_t": tonnes,
                                                                   "verifier": p.username}, actor=p.username,
                          action="verify")
    return {"application_id": application_id, "state": new, "verified_t": tonnes}


def issue_phcer(store: Store, p: Principal, *, application_id: str) -> dict[str, Any]:
    """Issue a verified application's PHCER into the owner's holding account."""
    _require_admin(p, "PHCER issuance")
    a = sm.get_application(store, application_id)
    phcer.check_step(str(a["state"]), "issue")
    setup(store, actor=p.username)
    open_enterprise(store, str(a["owner"]), a["city"], actor=p.username)
    if int(a["verified_t"]) <= 0:
        raise phcer.PhcerError("nothing to issue: the verified reduction is 0 t")
    m = Movement("issue", "PHCER", int(a["vintage"]), issuer("PHCER"), holding(str(a["owner"])),
                 quantity=int(a["verified_t"]), reference=f"PHCER {application_id}")
    entries = sm.issue_application(store, application_id, m, actor=p.username,
                                   origin={"project_id": application_id, "project_type": str(a["methodology_id"]),
                                           "origin_province": "guangdong"})
    return {"application_id": application_id, "state": "issued", "issued": int(a["verified_t"]),
            "serials": [e["serials"] for e in entries]}


def phcer_applications(store: Store, p: Principal) -> pd.DataFrame:
    df = sm.applications(store)
    keep = [p.role in PROVINCE_ROLES or allowed(p, city=c if isinstance(c, str) else None, enterprise_id=o)
            for o, c in zip(df["owner"], df["city"], strict=True)]
    return df[pd.Series(keep, index=df.index, dtype=bool)].reset_index(drop=True)


def report_section(store: Store, year: int | None) -> dict[str, Any] | None:
    """The markets section of the annual assessment report (None when the ledger is empty).

    Units by type (issued, held by enterprises, surrendered, retired/cancelled/withdrawn), the
    year's obligations by status, offsets surrendered, and the ledger check.
    """
    tot = sm.totals(store)
    if tot.empty:
        return None
    by = tot.pivot_table(index="unit_type", columns="kind", values="quantity", aggfunc="sum", fill_value=0)
    units = []
    for ut in by.index:
        row = by.loc[ut]
        units.append({"unit_type": ut, "unit": unit_types()[ut]["unit"],
                      "issued": int(row.sum()),
                      "held": int(row.get("holding", 0) + row.get("bank", 0)),
                      "surrendered": int(row.get("surrender", 0)),
                      "retired": int(row.get("retirement", 0) + row.get("cancellation", 0) + row.get("withdrawal", 0))})
    out: dict[str, Any] = {"units": units, "integrity_ok": not sm.check_integrity(store), "year": year,
                           "obligations": None}
    if year is not None:
        ob = obligations(store, SYSTEM, year)
        if len(ob):
            out["obligations"] = {"enterprises": len(ob), "status": ob["status"].value_counts().to_dict(),
                                  "verified_t": float(ob["verified_t"].fillna(0).sum()),
                                  "surrendered_allowances_t": float(ob["surrendered_allowances_t"].sum()),
                                  "surrendered_offsets_t": float(ob["surrendered_offsets_t"].sum()),
                                  "shortfall_t": float(ob["shortfall_t"].fillna(0).sum())}
    return out
