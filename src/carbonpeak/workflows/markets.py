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
             reference: str = "", record: dict[str, Any] | None = None,
             rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
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
    rec = None if record is None else {**record, "reference": reference or f"allocation {year}"}
    entries = sm.post_many(store, moves, actor=p.username, record=rec, allocation_rows=rows)
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


#: columns of the covered-entity list (who is allocated, under which sector); the figures come from the store
ENTITY_COLUMNS = ("enterprise_id", "sector", "city", "activity", "method", "output_unit", "coprocessed_waste_t")
#: the figures an explicit override file may give per enterprise (pair syntax, as in ``compute_allocation``)
OVERRIDE_COLUMNS = ("output", "base_emissions", "base_output")
PROVENANCE_COLUMNS = ["enterprise_id", "field", "year", "product", "value", "unit", "source"]


def _pairs(text: Any, key: Any, where: str) -> dict[Any, float]:
    from carbonpeak.errors import Problem, ValidationError

    if text is None or (isinstance(text, float) and pd.isna(text)) or str(text).strip() == "":
        return {}
    out = {}
    for part in str(text).split(";"):
        k, _, v = part.partition(":")
        try:
            out[key(k.strip())] = float(v)
        except ValueError:
            file, _, rest = where.rpartition("#")
            row, _, field = rest.partition(".")
            raise ValidationError([Problem(file, int(row), field, f"'{part}' is not KEY:NUMBER")]) from None
    return out


def allocation_inputs(store: Store, entities: pd.DataFrame, year: int, *, override: pd.DataFrame | None = None,
                      override_source: str = "override") -> tuple[list[Any], pd.DataFrame]:
    """The allocation requests of the covered ``entities`` with their figures taken from the store.

    * verified emissions of every year before ``year``: the verifier's sign-off
      (``mk_verified_emissions``; :func:`sign_off_emissions`);
    * output of ``year`` per product and the base years' output: the monitoring registry's
      product output of the enterprise's key units (``mon_output``, joined on the unit's USCC),
      each period inside one calendar year.

    ``override`` (``enterprise_id`` and any of ``output`` "clinker:1200000", ``base_emissions``
    "2021:102000;2022:98000", ``base_output`` "2021:1000;2022:1100", optional ``reason``) replaces
    the store's figure of that field for that enterprise; every figure used is listed in the
    returned provenance with where it came from (the override as ``override_source`` row n).
    """
    from carbonpeak.errors import Problem, ValidationError
    from carbonpeak.markets.allocation import AllocationRequest
    from carbonpeak.markets.units import to_quantity

    src = "entities"
    miss = [c for c in ("enterprise_id", "sector") if c not in entities.columns]
    retyped = [c for c in OVERRIDE_COLUMNS if c in entities.columns]
    if miss or retyped:
        raise ValidationError([Problem(src, None, c, "missing column") for c in miss]
                              + [Problem(src, None, c, "output and emissions come from the store (verified reports, "
                                         "monitoring output); give them in an explicit override file instead")
                                 for c in retyped])
    ids = [str(e) for e in entities["enterprise_id"]]
    dup = sorted({e for e in ids if ids.count(e) > 1})
    if dup:
        raise ValidationError([Problem(src, None, "enterprise_id", f"listed twice: {', '.join(dup)}")])
    prov: list[dict[str, Any]] = []
    # verified emissions (all years before the allocation year)
    ve = sm.verified_emissions(store)
    ve = ve[ve["enterprise_id"].isin(ids) & (ve["year"] < year)]
    emis: dict[str, dict[int, float]] = {}
    for r in ve.itertuples():
        emis.setdefault(str(r.enterprise_id), {})[int(r.year)] = float(r.verified_t)
        prov.append({"enterprise_id": str(r.enterprise_id), "field": "emissions", "year": int(r.year), "product": None,
                     "value": float(r.verified_t), "unit": "tCO2",
                     "source": f"verified report signed off by {r.verifier} at {pd.Timestamp(r.signed_off_at).isoformat()}"})
    # monitoring product output (the year and the base years)
    out = sm.enterprise_outputs(store)
    out = out[out["enterprise_id"].isin(ids)]
    cur: dict[str, dict[str, Any]] = {}
    base: dict[str, dict[int, Any]] = {}
    units: dict[str, set[str]] = {}
    problems: list[Problem] = []
    for r in out.itertuples():
        y0, y1 = pd.Timestamp(r.period_start).year, pd.Timestamp(r.period_end).year
        where = (str(r.source_file or f"batch {r.batch_id}"), None if pd.isna(r.source_row) else int(r.source_row))
        if y0 != y1:
            problems.append(Problem(where[0], where[1], "period_end", f"output of unit {r.unit_id} spans {y0}-{y1}: "
                                    "allocation needs output by calendar year"))
            continue
        if y0 > year:
            continue
        eid = str(r.enterprise_id)
        q = to_quantity(float(r.quantity), str(r.unit), f"{where[0]} row {where[1]} quantity")
        units.setdefault(eid, set()).add(str(r.unit))
        if y0 == year:
            cur.setdefault(eid, {})[str(r.product)] = cur.get(eid, {}).get(str(r.product), 0 * q) + q
        else:
            base.setdefault(eid, {})[y0] = base.get(eid, {}).get(y0, 0 * q) + q
        prov.append({"enterprise_id": eid, "field": "output" if y0 == year else "base_output", "year": int(y0),
                     "product": str(r.product), "value": float(r.quantity), "unit": str(r.unit),
                     "source": f"monitoring output of unit {r.unit_id}: batch {r.batch_id}, {where[0]}"
                               + (f" row {where[1]}" if where[1] is not None else "")})
    if problems:
        raise ValidationError(problems)
    # the explicit override: it replaces the store's figures of the fields it gives
    if override is not None:
        if "enterprise_id" not in override.columns or not any(c in override.columns for c in OVERRIDE_COLUMNS):
            raise ValidationError([Problem(override_source, None, "enterprise_id/" + "/".join(OVERRIDE_COLUMNS),
                                           "an override names the enterprise and at least one figure column")])
        for i, r in enumerate(override.to_dict("records")):
            eid, row = str(r["enterprise_id"]), i + 2
            if eid not in ids:
                raise ValidationError([Problem(override_source, row, "enterprise_id",
                                               f"'{eid}' is not in the covered-entity list")])
            reason = str(r.get("reason") or "").strip()
            tag = f"override {override_source} row {row}" + (f" ({reason})" if reason else "")
            for field in OVERRIDE_COLUMNS:
                if field not in override.columns:
                    continue
                vals = _pairs(r.get(field), str if field == "output" else int, f"{override_source}#{row}.{field}")
                if not vals:
                    continue
                prov[:] = [x for x in prov if not (x["enterprise_id"] == eid and (
                    x["field"] == field or (field == "base_emissions" and x["field"] == "emissions")))]
                if field == "output":
                    cur[eid] = dict(vals)
                elif field == "base_output":
                    base[eid] = {int(k): v for k, v in vals.items()}
                else:
                    emis[eid] = {int(k): v for k, v in vals.items()}
                for k, v in vals.items():
                    prov.append({"enterprise_id": eid, "field": "emissions" if field == "base_emissions" else field,
                                 "year": year if field == "output" else int(k),
                                 "product": str(k) if field == "output" else None, "value": float(v),
                                 "unit": "tCO2" if field == "base_emissions" else "given", "source": tag})
    reqs = []
    for r in entities.to_dict("records"):
        eid = str(r["enterprise_id"])
        ou = r.get("output_unit")
        ou = str(ou) if ou is not None and not (isinstance(ou, float) and pd.isna(ou)) and str(ou).strip() else None
        if ou is None:
            us = units.get(eid, set())
            ou = next(iter(us)) if len(us) == 1 else "1"
        method = r.get("method")
        method = str(method) if method is not None and not (isinstance(method, float) and pd.isna(method)) else None
        waste = r.get("coprocessed_waste_t")
        reqs.append(AllocationRequest(
            eid, str(r["sector"]), year, activity=str(r.get("activity") or "*") if not pd.isna(r.get("activity"))
            else "*", output=cur.get(eid, {}), output_unit=ou, base_emissions=emis.get(eid, {}),
            base_output=base.get(eid, {}), method=method or None,
            coprocessed_waste_t=0.0 if waste is None or pd.isna(waste) else float(waste)))
    return reqs, pd.DataFrame(prov, columns=PROVENANCE_COLUMNS)


def allocate_from_store(store: Store, p: Principal, *, entities: pd.DataFrame, ruleset_id: str, year: int,
                        params: dict[str, Any] | None = None, override: pd.DataFrame | None = None,
                        override_source: str = "override", issue: bool = False,
                        unit_type: str = "GDEA") -> dict[str, Any]:
    """Allocate to the covered ``entities`` with output and emissions from the store (issue 11 §2).

    Province roles compute; issuing (``issue``) is the administrator's.  Returns ``allocation``
    (one row per enterprise: method, allocation_t, free_t, paid_t, quantity, formula) and
    ``provenance`` (every figure used and where it came from, see :func:`allocation_inputs`).
    An issued allocation records its provenance in the audit chain (``markets.allocation.run``),
    with the override file named, so that the figures behind each issue can be traced.
    """
    from carbonpeak.catalog.markets import load_ruleset
    from carbonpeak.markets.allocation import allocate as allocate_one

    if p.role not in PROVINCE_ROLES:
        raise PermissionDenied("allocation runs are the province's")
    if issue:
        _require_admin(p, "allocation")
    rs = load_ruleset(ruleset_id)
    reqs, prov = allocation_inputs(store, entities, year, override=override, override_source=override_source)
    city = {str(e): (None if c is None or (isinstance(c, float) and pd.isna(c)) else str(c))
            for e, c in zip(entities["enterprise_id"],
                            entities["city"] if "city" in entities.columns else [None] * len(entities), strict=True)}
    rows = []
    for req in reqs:
        a = allocate_one(req, rs, params)
        rows.append({"enterprise_id": a.enterprise_id, "city": city.get(a.enterprise_id), "sector": a.sector,
                     "activity": a.activity, "method": a.method, "allocation_t": a.allocation_t, "free_t": a.free_t,
                     "paid_t": a.paid_t, "quantity": int(a.free_t // 1), "formula": a.formula})
    alloc = pd.DataFrame(rows, columns=["enterprise_id", "city", "sector", "activity", "method", "allocation_t",
                                        "free_t", "paid_t", "quantity", "formula"])
    out: dict[str, Any] = {"ruleset": rs.id, "year": year, "allocation": alloc, "provenance": prov,
                           "override": override_source if override is not None else None, "issued": None}
    if issue:
        ref = f"{rs.id} {year}"
        out["issued"] = allocate(store, p, year=year, allocations=alloc, unit_type=unit_type, reference=ref, record={
            "ruleset": rs.id, "year": year, "unit_type": unit_type,
            "params": {str(k): str(v) for k, v in (params or {}).items()}, "override": out["override"],
            "allocation": [{k: r[k] for k in ("enterprise_id", "method", "allocation_t", "free_t", "quantity")}
                           for r in rows],
            "provenance": prov.to_dict("records")}, rows=[
            {"year": year, "enterprise_id": r["enterprise_id"], "ruleset": rs.id, "sector": r["sector"],
             "activity": r["activity"], "city": r["city"], "method": r["method"], "allocation_t": r["allocation_t"],
             "free_t": r["free_t"], "paid_t": r["paid_t"], "issued": r["quantity"], "unit_type": unit_type,
             "reference": ref} for r in rows])
    return out


def true_up_from_store(store: Store, p: Principal, *, entities: pd.DataFrame, ruleset_id: str, year: int,
                       params: dict[str, Any] | None = None, override: pd.DataFrame | None = None,
                       override_source: str = "override", unit_type: str = "GDEA") -> dict[str, Any]:
    """Ex-post true-up (多退少补) of an issued allocation, with the year's actual figures from the store.

    The allocation is computed again as :func:`allocate_from_store` does (the year's output is now
    the monitored actual); per enterprise ``ΔA = free(actual) − issued`` whole units
    (:func:`carbonpeak.markets.allocation.true_up`): positive ΔA is issued into its holding, negative
    ΔA withdrawn from it (to ``GD:withdrawal``; refused, with nothing changed, if the holding is
    short).  ``mk_allocations`` then holds the trued-up allocation; the run (deltas and
    provenance) is appended to the audit chain as ``markets.allocation.run`` in the same
    transaction.  Admin only.
    """
    from carbonpeak.markets.allocation import true_up

    _require_admin(p, "the allocation true-up")
    res = allocate_from_store(store, p, entities=entities, ruleset_id=ruleset_id, year=year, params=params,
                              override=override, override_source=override_source, unit_type=unit_type)
    alloc = res["allocation"]
    issued = sm.allocations(store, year)
    issued = issued[issued["unit_type"] == unit_type].set_index("enterprise_id")
    missing = [e for e in alloc["enterprise_id"] if e not in issued.index]
    if missing:
        raise NotFound(f"the {year} {unit_type} allocation of {', '.join(map(str, missing))} (issue it first)")
    ref = f"{res['ruleset']} {year} true-up"
    moves, rows, deltas = [], [], []
    for r in alloc.to_dict("records"):
        before = int(issued.loc[r["enterprise_id"], "issued"])
        tu = true_up(float(before), float(r["quantity"]))
        d = int(tu.delta_t)
        deltas.append({"enterprise_id": r["enterprise_id"], "issued_before": before, "final": int(r["quantity"]),
                       "delta": d, "action": tu.action})
        if d > 0:
            moves.append(Movement("issue", unit_type, year, issuer(unit_type), holding(str(r["enterprise_id"])),
                                  quantity=d, reference=ref))
        elif d < 0:
            moves.append(Movement("withdraw", unit_type, year, holding(str(r["enterprise_id"])),
                                  TERMINAL_ACCOUNTS["withdraw"], quantity=-d, reference=ref))
        rows.append({"year": year, "enterprise_id": r["enterprise_id"], "ruleset": res["ruleset"],
                     "sector": r["sector"], "activity": r["activity"], "city": r["city"], "method": r["method"],
                     "allocation_t": r["allocation_t"], "free_t": r["free_t"], "paid_t": r["paid_t"],
                     "issued": r["quantity"], "unit_type": unit_type, "reference": ref, "true_up": True})
    setup(store, actor=p.username)
    entries = sm.post_many(store, moves, actor=p.username, allocation_rows=rows, record={
        "reference": ref, "ruleset": res["ruleset"], "year": year, "unit_type": unit_type, "true_up": deltas,
        "params": {str(k): str(v) for k, v in (params or {}).items()}, "override": res["override"],
        "provenance": res["provenance"].to_dict("records")})
    return {**res, "true_up": pd.DataFrame(deltas, columns=["enterprise_id", "issued_before", "final", "delta",
                                                             "action"]),
            "entries": len(entries)}


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
    # rule parameters the authority set in the store (the offset pool); an explicit run parameter wins
    params = {**stored_parameters(store, rs.id, year), **(params or {})}
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


def _gd_ruleset(year: int) -> Any:
    from carbonpeak.catalog.markets import ruleset_for

    return ruleset_for("guangdong_ets", year if _has_ruleset(year) else 2024)


def stored_parameters(store: Store, ruleset: str, year: int) -> dict[str, Any]:
    """The rule parameters set in the store for a rule set and year, as run parameters (strings with units)."""
    df = sm.run_parameters(store, ruleset, year)
    return {str(n): f"{float(v)!r} {u}" for n, v, u in zip(df["name"], df["value"], df["unit"], strict=True)}


#: the rules the administrator may set in the store (the catalog publishes no value for them)
SETTABLE_PARAMETERS = ("offsets.pool",)


def offset_pool(store: Store, p: Principal, year: int) -> dict[str, Any]:
    """The province-wide offset pool of a compliance year: the rule (catalog or set), used and remaining."""
    if p.role not in (*PROVINCE_ROLES, "city_officer"):
        raise PermissionDenied("the offset pool is shown to province and city roles")
    rs = _gd_ruleset(year)
    used_df = sm.surrendered_offsets(store, surrender_account(year))
    used = float(used_df["quantity"].sum()) if len(used_df) else 0.0
    out: dict[str, Any] = {"year": year, "ruleset": rs.id, "unit": "tCO2", "used_t": used, "pool_t": None,
                           "remaining_t": None, "origin": None, "source": None, "set_by": None, "set_at": None}
    stored = sm.run_parameters(store, rs.id, year)
    stored = stored[stored["name"] == "offsets.pool"]
    if len(stored):
        r = stored.iloc[0]
        out.update(pool_t=float(r["value"]), origin="set in the store", source=str(r["source"]),
                   set_by=str(r["set_by"]), set_at=r["set_at"], given=str(r["given"]))
    elif rs.has("offsets.pool", year=year):
        row = rs.find("offsets.pool", year=year)
        out["source"] = rs.source_of("offsets.pool", year=year)
        if row.value is None:
            out["origin"] = "required parameter (not published): set it"
        else:
            out.update(pool_t=float(rs.param("offsets.pool", year=year, unit="tCO2")), origin="rule set")
    else:
        out["origin"] = f"rule set {rs.id} has no pool rule for {year}"
    if out["pool_t"] is not None:
        out["remaining_t"] = max(0.0, float(out["pool_t"]) - used)
    return out


def set_offset_pool(store: Store, p: Principal, *, year: int, value: float | str, unit: str = "tCO2",
                    source: str) -> dict[str, Any]:
    """Set the province-wide offset pool of a compliance year (admin; the CLI and the API call this).

    ``value`` must be a finite, non-negative amount in a unit of mass of CO2 (``tCO2``, ``t``,
    ``Mt``, ``万t`` ...), not below the offsets already surrendered for the year; ``source`` names
    the document the figure comes from.  Audited with the previous value.
    """
    import math

    import pint

    from carbonpeak.catalog.units import Q_, parse_unit
    from carbonpeak.errors import UnitError

    _require_admin(p, "setting the offset pool")
    if not str(source or "").strip():
        raise OffsetRefused("source: name the document the pool comes from (e.g. the year's allocation plan)")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OffsetRefused(f"value: a number is needed, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise OffsetRefused(f"value: the pool must be a finite amount >= 0, got {value!r}")
    try:
        u = parse_unit(unit)
        tonnes = float((Q_(v, u.units) * u.magnitude).to("t").magnitude)
    except (UnitError, pint.errors.DimensionalityError) as exc:
        raise UnitError(f"unit: '{unit}' is not a mass of CO2 (tCO2, t, kt, Mt, 万t): {exc}") from None
    if not math.isfinite(tonnes):
        raise OffsetRefused(f"value: {value} {unit} is not a finite amount")
    rs = _gd_ruleset(year)
    now = offset_pool(store, SYSTEM, year)
    if tonnes + 1e-9 < now["used_t"]:
        raise OffsetRefused(f"the {year} pool cannot be {tonnes:,.0f} t: {now['used_t']:,.0f} t of offsets were "
                            "already surrendered for that year")
    rec = sm.set_run_parameter(store, ruleset=rs.id, name="offsets.pool", year=year, value=tonnes, unit="tCO2",
                               given=f"{value} {unit}", source=str(source).strip(), actor=p.username)
    return {**offset_pool(store, p, year), "previous": rec["previous"]}


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
    from carbonpeak.markets.compliance import compliance_status, guangdong_penalty, obligation

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
                               "shortfall_t": None, "deadline": None, "status": "awaiting_sign_off",
                               "penalty_deduction_t": None, "penalty_fine_cny": None, "penalty_rule": None}
        if ent in ve.index:
            ob = obligation(str(ent), year, float(ve[ent]), rs)
            stt = compliance_status(ob, allow, offs, rs, as_of or dt.date.today())
            row.update(verified_t=float(ve[ent]), obligation_t=ob.obligation_t, shortfall_t=stt.shortfall_t,
                       deadline=stt.deadline, status=stt.status)
            if stt.status == "non_compliant":
                # Decree 197: if the order to surrender is refused, 2 × the shortfall comes off next
                # year's allocation and the fine is imposed (shown as what applies on refusal)
                pen = guangdong_penalty(stt.shortfall_t, rs, refused_order=True)
                row.update(penalty_deduction_t=pen.deduction_next_year_t, penalty_fine_cny=pen.fine_cny,
                           penalty_rule=pen.rule)
        rows.append(row)
    return pd.DataFrame(rows, columns=["enterprise_id", "city", "year", "verified_t", "obligation_t",
                                       "surrendered_allowances_t", "surrendered_offsets_t", "shortfall_t", "deadline",
                                       "status", "penalty_deduction_t", "penalty_fine_cny", "penalty_rule"])


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
                project: str, owner: str, city: str | None, vintage: int, inputs: dict[str, Any],
                resubmission_of: str | None = None, forest: dict[str, Any] | None = None) -> dict[str, Any]:
    """A project owner's application under a filed methodology; the claim is computed by its formula.

    ``resubmission_of`` names a rejected application of the same owner that this one replaces
    (a rejected application is final; its resubmission is a new application, through the whole
    procedure again).
    """
    if p.role == "enterprise" and owner != p.enterprise_id:
        raise PermissionDenied("an enterprise applies for its own projects only")
    if p.role not in ("enterprise", *PROVINCE_ROLES):
        raise PermissionDenied("applications are made by project owners")
    if resubmission_of is not None:
        old = sm.get_application(store, resubmission_of)
        if old["owner"] != owner:
            raise NotFound(f"application {resubmission_of}")
        if old["state"] != "rejected":
            raise phcer.PhcerError(f"application {resubmission_of} is '{old['state']}': only a rejected "
                                   "application is resubmitted")
    m = sm.get_methodology(store, methodology_id, version)
    if m["stage"] != "filed":
        raise phcer.PhcerError(f"methodology {methodology_id} {version} is '{m['stage']}', not filed: "
                               "applications need a filed methodology")
    detail = None
    if str(m["formula"]) in phcer.ENGINE_FORMULAS:
        # the project's removals come from the sink engine, never typed in
        if "R_project" in inputs:
            raise phcer.PhcerError("R_project is computed from the project's forest data (give 'forest'), "
                                   "not an input")
        if not forest:
            raise phcer.PhcerError(f"methodology {methodology_id} {version} needs the project's forest data "
                                   "(forest_type, area_ha, start_year, end_year, and volumes or increment)")
        detail = forest_project_removals(forest)
        inputs = {**inputs, "R_project": detail["R_project"]}
    claimed = phcer.reduction(str(m["formula"]), inputs)
    sm.create_application(store, {"application_id": application_id, "methodology_id": methodology_id,
                                  "version": version, "project": project, "owner": owner, "city": city,
                                  "vintage": vintage,
                                  "inputs": inputs if detail is None else {**inputs, "forest": detail},
                                  "claimed_t": claimed, "resubmission_of": resubmission_of}, actor=p.username)
    out: dict[str, Any] = {"application_id": application_id, "claimed_t": claimed, "state": "applied",
                           "resubmission_of": resubmission_of}
    if detail is not None:
        out["forest"] = detail
    return out


# -- coverage screening and the link to the peak plan (issue 11 §2) ------------------------------------------
def screen_coverage(enterprises: pd.DataFrame, ruleset_id: str, *, widen: bool = False) -> dict[str, Any]:
    """Coverage of a table of enterprise-years under a rule set, and (``widen``) the plan's widening.

    Columns: enterprise_id, sector, year and at least one of emissions_tco2, energy_tce, racks
    (optional city, name, applied, verified).  Returns the decisions (covered, status, basis), the
    covered entities and emissions by sector and city, and with ``widen`` the entities the plan's
    widening (ceramics, textiles, data centres, public buildings, transport) brings under the cap.
    """
    from carbonpeak.catalog.markets import load_ruleset
    from carbonpeak.markets.coverage import covered_emissions, records_from_frame, screen, widening

    rs = load_ruleset(ruleset_id)
    decisions = screen(records_from_frame(enterprises), rs)
    out: dict[str, Any] = {
        "ruleset": rs.id,
        "decisions": pd.DataFrame([d.to_dict() for d in decisions],
                                  columns=["enterprise_id", "sector", "year", "city", "covered", "status", "basis",
                                           "emissions_tco2"]),
        "by_sector": covered_emissions(decisions, "sector"), "by_city": covered_emissions(decisions, "city")}
    if widen:
        w = widening(enterprises, rs)
        out["widening"] = {"entities": w.entities, "by_sector": w.by_sector, "emissions_tco2": w.emissions_tco2}
    return out


def coverage_from_store(store: Store, p: Principal, *, enterprises: pd.DataFrame, year: int,
                        ruleset_id: str = "guangdong-2024", widen: bool = False) -> dict[str, Any]:
    """Coverage screening of ``enterprises`` for ``year`` with their figures from the store (province).

    ``enterprises``: ``enterprise_id, sector`` and optional ``city, name, applied, racks`` (standard
    racks of a data centre: not in the store).  Verified emissions are the verifier's sign-off of
    ``year`` (``verified`` = signed off); energy use is the monitoring run's tce of the enterprise's
    key units in ``year``.  Emissions or energy figures in ``enterprises`` are refused (they come
    from the store).  Each decision row says where its figures came from (``data_source``).
    """
    from carbonpeak.errors import Problem, ValidationError

    if p.role not in PROVINCE_ROLES:
        raise PermissionDenied("coverage screening is the province's")
    retyped = [c for c in ("emissions_tco2", "energy_tce", "verified") if c in enterprises.columns]
    miss = [c for c in ("enterprise_id", "sector") if c not in enterprises.columns]
    if retyped or miss:
        raise ValidationError([Problem("enterprises", None, c, "missing column") for c in miss]
                              + [Problem("enterprises", None, c, "comes from the store (sign-offs, monitoring)")
                                 for c in retyped])
    ve = sm.verified_emissions(store, year).set_index("enterprise_id")["verified_t"]
    used = sm.enterprise_energy_use(store, year).set_index("enterprise_id")["used_tce"]
    df = enterprises.copy()
    df["year"] = year
    df["emissions_tco2"] = [float(ve[e]) if e in ve.index else None for e in df["enterprise_id"]]
    df["energy_tce"] = [float(used[e]) if e in used.index and pd.notna(used[e]) else None
                        for e in df["enterprise_id"]]
    df["verified"] = [e in ve.index for e in df["enterprise_id"]]
    src = [", ".join(x for x in (f"sign-off {year}" if v else "", f"monitoring {year}" if pd.notna(u) else "")
                     if x) or "no data in the store" for v, u in zip(df["verified"], df["energy_tce"], strict=True)]
    # an enterprise without a sign-off is screened on its monitored energy use (the widening's candidates
    # are not yet in the ETS): verification is required only where the emissions decide
    res = screen_coverage(df.assign(verified=[bool(v) or pd.notna(u)
                                              for v, u in zip(df["verified"], df["energy_tce"], strict=True)]),
                          ruleset_id, widen=widen)
    res["decisions"] = res["decisions"].assign(energy_tce=df["energy_tce"].to_numpy(),
                                               data_source=src)
    res["year"] = year
    return res


def peak_link(cap: pd.DataFrame, projection: pd.DataFrame, *, filters: dict[str, Any] | None = None,
              peak_by: int | None = None) -> dict[str, Any]:
    """The cap path against the provincial peak projection (plan action 36: 分配方案与全省碳达峰工作的衔接).

    ``cap``: year, value (and unit, default tCO2) -- the cap of each year; ``projection``: a scenario
    run in IAMC long form (``carbonpeak scenarios`` export: variable ``Emissions|CO2``, unit,
    year, value; ``filters`` picks one scenario/region).  Returns whether the cap path is
    consistent with peaking by ``peak_by`` (the plan's 2030), the reasons, and per year the cap,
    the projection, the uncovered rest and the share under the cap.
    """
    from carbonpeak.markets.peak_link import peak_consistency, series_tco2

    c = series_tco2(cap, variable=None)
    pr = series_tco2(projection, filters=filters)
    res = peak_consistency(c, pr, peak_by)
    return {"consistent": res.consistent, "reasons": list(res.reasons), "cap_peak_year": res.cap_peak_year,
            "projection_peak_year": res.projection_peak_year, "uncovered_peak_year": res.uncovered_peak_year,
            "table": res.table}


# -- forest sink PHCER: the project's removals from the accounting sink engine ----------------------------
FOREST_CATEGORY = "3.B.1.a"  # forest land remaining forest land (IPCC 2006 Vol 4 Ch 4)


def forest_project_removals(forest: dict[str, Any]) -> dict[str, Any]:
    """R_project (t CO2 removed over the monitoring period) of a forest project, from the sink engine.

    ``forest``: ``forest_type`` (an item of ``catalog/data/items/lulucf.yaml`` of kind
    ``forest_type``), ``area_ha``, ``start_year`` < ``end_year`` (the monitoring period),
    ``region`` (for region-specific factors; default ``GD``) and either

    * ``volume_start_m3_ha`` and ``volume_end_m3_ha`` -- standing volume per hectare measured on the
      project's sample plots at the start and the end: stock-difference, IPCC 2006 Vol 4 Eq 2.8,
      C = V × SVD × BEF × (1 + R) × CF on ``V = volume × area``; or
    * ``increment_m3_ha_yr`` with ``increment_source`` (no default increment is published in the
      catalog: a required parameter of the project) and optionally ``harvest_m3_yr`` -- gain-loss,
      Eq 2.9-2.12, each year of the period.

    SVD, BEF, R and CF come from the factor catalog with their source and status (listed in the
    result).  The activity goes through :func:`carbonpeak.accounting.engine.compile_inventory`
    and :func:`carbonpeak.accounting.sinks.sink_account`, the same engine as the provincial
    inventory's forest sink.
    """
    import math

    from carbonpeak.accounting.engine import compile_inventory
    from carbonpeak.accounting.sinks import sink_account
    from carbonpeak.catalog.factors import FactorSet, FactorValue
    from carbonpeak.catalog.items import get_items

    def num(name: str, lo: float = 0.0, required: bool = True) -> float | None:
        v = forest.get(name)
        if v is None or v == "":
            if required:
                raise phcer.PhcerError(f"forest project: '{name}' is required")
            return None
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise phcer.PhcerError(f"forest project: '{name}' must be a number, got {v!r}") from None
        if not math.isfinite(x) or x < lo:
            raise phcer.PhcerError(f"forest project: '{name}' = {v!r} must be a finite number >= {lo}")
        return x

    ftype = str(forest.get("forest_type") or "")
    item = get_items().get(ftype)
    if item is None or item.kind != "forest_type":
        kinds = sorted(k for k, v in get_items().items() if v.kind == "forest_type")
        raise phcer.PhcerError(f"forest project: forest_type '{ftype}' is not one of {', '.join(kinds)}")
    area = num("area_ha")
    if not area:
        raise phcer.PhcerError("forest project: 'area_ha' must be > 0")
    y0, y1 = int(num("start_year", 1900) or 0), int(num("end_year", 1900) or 0)
    if y1 <= y0:
        raise phcer.PhcerError(f"forest project: end_year {y1} must be after start_year {y0}")
    region = str(forest.get("region") or "GD")
    extra: list[FactorValue] = []
    v0, v1 = num("volume_start_m3_ha", required=False), num("volume_end_m3_ha", required=False)
    inc = num("increment_m3_ha_yr", required=False)
    if v0 is not None and v1 is not None:
        method = "stock_difference"
        rows = [(y0, v0 * area, "m3", ftype), (y1, v1 * area, "m3", ftype)]
    elif inc is not None:
        method = "gain_loss"
        src = str(forest.get("increment_source") or "").strip()
        if not src:
            raise phcer.PhcerError("forest project: 'increment_source' must name where the volume increment comes "
                                   "from (sample plots, yield table); the catalog publishes none")
        extra.append(FactorValue(item=ftype, parameter="volume_increment", value=inc, unit="m3/ha/yr", source=src,
                                 status="unverified", category="3.B", origin="forest project (run parameter)"))
        harvest = num("harvest_m3_yr", required=False) or 0.0
        rows = [(y, area, "ha", ftype) for y in range(y0 + 1, y1 + 1)]
        rows += [(y, harvest, "m3", f"harvest_{ftype}") for y in range(y0 + 1, y1 + 1) if harvest > 0]
    else:
        raise phcer.PhcerError("forest project: give volume_start_m3_ha and volume_end_m3_ha (stock-difference) "
                               "or increment_m3_ha_yr (gain-loss)")
    activity = pd.DataFrame({"year": [r[0] for r in rows], "region": region, "category": FOREST_CATEGORY,
                             "item": [r[3] for r in rows], "amount": [r[1] for r in rows],
                             "unit": [r[2] for r in rows]})
    base = FactorSet.default()
    fs = FactorSet([base.rows(), extra]) if extra else base
    inv = compile_inventory(activity, fs)
    acc = sink_account(inv.results)
    acc = acc[(acc["year"] > y0) & (acc["year"] <= y1)]
    removals = float(acc["removals_tco2"].sum())
    factors = []
    for par in ("svd", "bef", "r", "cf", *(("volume_increment",) if method == "gain_loss" else ())):
        fv = fs.get(ftype, par, category=FOREST_CATEGORY, region=region, year=y1)
        factors.append({"parameter": par, "value": fv.value, "unit": fv.unit, "source": fv.source,
                        "status": fv.status})
    return {"R_project": removals, "method": method, "forest_type": ftype, "area_ha": area, "start_year": y0,
            "end_year": y1, "region": region,
            "by_year": {int(y): float(v) for y, v in acc.groupby("year")["removals_tco2"].sum().items()},
            "factors": factors,
            "formula": ("R_project = Σ_y −ΔC_y × 44/12; stock-difference ΔC = (C_t2 − C_t1)/(t2 − t1), "
                        "C = V × SVD × BEF × (1 + R) × CF (IPCC 2006 Vol 4 Eq 2.8)" if method == "stock_difference"
                        else "R_project = Σ_y (A × Iv − H) × SVD × BEF × (1 + R) × CF × 44/12 (IPCC 2006 Vol 4 "
                             "Eq 2.9-2.12)")}


#: who may reject an application: the province's reviewers (the DEE that issues PHCER)
REJECTING_ROLES = PROVINCE_ROLES


def reject_phcer(store: Store, p: Principal, *, application_id: str, reason: str) -> dict[str, Any]:
    """Reject an application before issuance, stating the reason (province reviewers); final, audited.

    Any state before issuance (applied, under notice, verified) may be rejected; an issued or
    rejected application may not.  The reason, the reviewer and the time are kept with the
    application and in the audit chain; the owner sees them on its pages and may resubmit as a
    new application (``apply_phcer(..., resubmission_of=...)``).
    """
    if p.role not in REJECTING_ROLES:
        raise PermissionDenied("applications are rejected by the province's reviewers")
    a = sm.get_application(store, application_id)
    why = phcer.check_reason(reason)
    new = phcer.check_step(str(a["state"]), "reject")
    at = dt.datetime.now(dt.UTC)
    sm.update_application(store, application_id, str(a["state"]),
                          {"state": new, "rejected_reason": why, "rejected_by": p.username, "rejected_at": at},
                          actor=p.username, action="reject")
    return {"application_id": application_id, "state": new, "previous_state": str(a["state"]), "reason": why,
            "rejected_by": p.username, "rejected_at": at}


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
    year's obligations by status, offsets surrendered, the ledger check, and (when caps or
    allocations from the store exist) the link to the peak plan: the verdict on the cap path,
    the share under the cap, surplus/deficit by sector and city and the balance values.
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
    out["peak_link"] = None
    if year is not None and (len(sm.caps(store)) or len(sm.allocations(store))):
        v = peak_link_view(store, SYSTEM, year=year)
        out["peak_link"] = {
            "year": year, "consistent": v["consistent"], "reasons": v["reasons"], "peak_by": v["peak_by"],
            "cap_basis": v["cap_basis"], "scenario": v["scenario"], "projection_peak_year": v["projection_peak_year"],
            "cap_peak_year": v["cap_peak_year"], "covered": v["covered"],
            "by_sector": sm.as_json(v["by_sector"]), "by_city": sm.as_json(v["by_city"]),
            "balance_values": sm.as_json(v["balance_values"])}
    return out


# -- the link to the peak plan from the store (issue 11 §2; plan action 36) ----------------------------------
def set_cap(store: Store, p: Principal, *, year: int, value: float | str, unit: str = "tCO2",
            source: str) -> dict[str, Any]:
    """Set the cap of a year as the authority published it (admin): an amount of CO2 and its document."""
    import math

    import pint

    from carbonpeak.catalog.units import Q_, parse_unit
    from carbonpeak.errors import UnitError

    _require_admin(p, "setting the cap")
    if not str(source or "").strip():
        raise OffsetRefused("source: name the document the cap comes from (e.g. the year's allocation plan)")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OffsetRefused(f"value: a number is needed, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise OffsetRefused(f"value: the cap must be a finite amount > 0, got {value!r}")
    try:
        u = parse_unit(unit)
        tonnes = float((Q_(v, u.units) * u.magnitude).to("t").magnitude)
    except (UnitError, pint.errors.DimensionalityError) as exc:
        raise UnitError(f"unit: '{unit}' is not a mass of CO2 (tCO2, t, Mt, 万t, 亿t): {exc}") from None
    return sm.set_cap(store, year=year, cap_t=tonnes, given=f"{v:g} {unit}", source=str(source).strip(),
                      actor=p.username)


def caps(store: Store, p: Principal) -> pd.DataFrame:
    """The cap path as set (province and city roles)."""
    if p.role not in (*PROVINCE_ROLES, "city_officer"):
        raise PermissionDenied("the cap path is shown to province and city roles")
    return sm.caps(store)


def _year_output(store: Store, year: int) -> pd.DataFrame:
    """Monitoring product output of ``year`` per enterprise and product (periods inside the year)."""
    out = sm.enterprise_outputs(store)
    if out.empty:
        return pd.DataFrame(columns=["enterprise_id", "product", "unit", "output"])
    ys = pd.to_datetime(out["period_start"]).dt.year
    ye = pd.to_datetime(out["period_end"]).dt.year
    out = out[(ys == year) & (ye == year)]
    return out.groupby(["enterprise_id", "product", "unit"], as_index=False)["quantity"].sum().rename(
        columns={"quantity": "output"})


def _balance_values(store: Store, ents: pd.DataFrame, year: int) -> pd.DataFrame:
    """平衡值 per class (sector / product) of the allocated enterprises with one product in ``year``."""
    from carbonpeak.markets.peak_link import balance_value
    from carbonpeak.markets.units import magnitude

    cols = ["class", "sector", "product", "unit", "entities", "output", "emissions_t", "balance_value",
            "benchmark", "benchmark_vs_balance"]
    out = _year_output(store, year)
    e = ents.dropna(subset=["emissions_t"])
    f = e.merge(out, on="enterprise_id", how="inner")
    one = f.groupby("enterprise_id")["product"].transform("nunique") == 1
    f = f[one]
    if f.empty:
        return pd.DataFrame(columns=cols)
    f = f.assign(**{"class": f["sector"] + "/" + f["product"]})
    bv = balance_value(f[["class", "output", "emissions_t"]], by="class")
    meta = f.groupby("class").agg(sector=("sector", "first"), product=("product", "first"), unit=("unit", "first"),
                                  entities=("enterprise_id", "nunique"), output=("output", "sum")).reset_index()
    g = meta.merge(bv[["class", "emissions_t", "balance_value"]], on="class")
    rs = _gd_ruleset(year)
    bench = []
    for sec, prod, unit in zip(g["sector"], g["product"], g["unit"], strict=True):
        try:
            q = rs.quantity("allocation.benchmark.value", sec, prod, year, {})
            bench.append(magnitude(q, f"tCO2/{unit}", "benchmark"))
        except (CarbonpeakError, CatalogError, ValueError):
            bench.append(float("nan"))   # not published for the class (a required run parameter) or not comparable
    g["benchmark"] = bench
    g["benchmark_vs_balance"] = g["benchmark"] / g["balance_value"] - 1
    return g[cols]


def cap_share_table(cap: dict[int, float], projection: dict[int, float]) -> pd.DataFrame:
    """``year, cap_t, projection_t, uncovered_t, share`` for the years of both series."""
    years = sorted(set(cap) & set(projection))
    t = pd.DataFrame({"year": years, "cap_t": [cap[y] for y in years], "projection_t": [projection[y] for y in years]})
    t["uncovered_t"] = t["projection_t"] - t["cap_t"]
    t["share"] = t["cap_t"] / t["projection_t"]
    return t


def peak_link_view(store: Store, p: Principal, *, year: int, scenario: str | None = None,
                   peak_by: int | None = None) -> dict[str, Any]:
    """The cap against the province's peak work, from the store (issue 11 §2, plan action 36).

    For the province (admin, province_analyst): the cap path (``mk_caps`` as set by the
    authority; where no cap is set, the allocation issued per year, labelled so) against the peak
    projection of ``scenario`` (the deterministic run on the store's observed history): the share of
    provincial emissions under the cap, whether the cap path is consistent with peaking by
    ``peak_by`` (the plan's 2030) and why not; and for ``year`` the covered entities' allocation
    against their verified emissions, the surplus/deficit by sector and by city, and the balance
    value 平衡值 per class.  A city officer sees its own city's covered entities and their
    surplus/deficit only.  Other roles: 403.
    """
    from carbonpeak.markets.peak_link import peak_consistency, plan_peak_year, surplus_deficit
    from carbonpeak.workflows import projections
    from carbonpeak.workflows.settings import resolve

    if p.role not in (*PROVINCE_ROLES, "city_officer"):
        raise PermissionDenied("the link to the peak plan is shown to province and city roles")
    province = p.role in PROVINCE_ROLES
    alloc = sm.allocations(store)
    alloc = alloc[alloc["unit_type"].isin(ALLOWANCES)]
    ve = sm.verified_emissions(store)
    ents = alloc[alloc["year"] == year][["enterprise_id", "city", "sector", "activity", "method", "allocation_t",
                                         "free_t", "issued"]]
    ents = ents.merge(ve[ve["year"] == year][["enterprise_id", "verified_t"]], on="enterprise_id", how="left").rename(
        columns={"verified_t": "emissions_t"})
    if not province:
        ents = ents[ents["city"] == p.city]
    ents = ents.reset_index(drop=True)
    ents["balance_t"] = ents["allocation_t"] - ents["emissions_t"]
    signed = ents.dropna(subset=["emissions_t"]).assign(year=year)
    out: dict[str, Any] = {
        "scope": "province" if province else p.city, "year": year, "entities": ents,
        "awaiting_sign_off": int(ents["emissions_t"].isna().sum()),
        "by_sector": surplus_deficit(signed, ("sector",)), "by_city": surplus_deficit(signed, ("city",)),
        "balance_values": _balance_values(store, ents, year)}
    if not province:
        return out
    sc = resolve(scenario=scenario).scenario
    run = projections.run(store, sc)
    proj = {int(y): float(v) for y, v in run["trajectory"].items()}
    cp = sm.caps(store)
    if len(cp):
        cap = {int(y): float(v) for y, v in zip(cp["year"], cp["cap_t"], strict=True)}
        basis, sources = "cap", [{"year": int(y), "given": str(g), "source": str(s)}
                                 for y, g, s in zip(cp["year"], cp["given"], cp["source"], strict=True)]
    else:
        cap = {int(y): float(v) for y, v in alloc.groupby("year")["allocation_t"].sum().items()}
        basis, sources = "allocation_issued", []
    pb = peak_by or plan_peak_year()
    out.update(scenario=sc, peak_by=pb, cap_basis=basis if cap else None, cap_sources=sources,
               projection_peak_year=run.get("peak_year"), projection_data=run.get("data"))
    yr_prov = proj.get(year)
    tot_e = float(signed["emissions_t"].sum()) if len(signed) else 0.0
    out["covered"] = {"entities": len(ents), "allocation_t": float(ents["allocation_t"].sum()),
                      "verified_t": tot_e, "province_t": yr_prov, "cap_t": cap.get(year),
                      "cap_share": (cap[year] / yr_prov) if year in cap and yr_prov else None,
                      "verified_share": (tot_e / yr_prov) if yr_prov and len(signed) else None}
    if cap and max(cap) < pb:
        out.update(consistent=None, reasons=[f"the cap path ends in {max(cap)}, before {pb}: set the caps up to "
                                             f"{pb} to judge it against the peak"],
                   cap_peak_year=None, uncovered_peak_year=None,
                   path=cap_share_table(cap, proj))
    elif cap and set(cap) & set(proj):
        res = peak_consistency(cap, proj, pb)
        out.update(consistent=res.consistent, reasons=list(res.reasons), cap_peak_year=res.cap_peak_year,
                   uncovered_peak_year=res.uncovered_peak_year, path=res.table)
    else:
        out.update(consistent=None, reasons=["no cap path in the store (set the caps, or issue an allocation) "
                                             "for a year of the projection"],
                   cap_peak_year=None, uncovered_peak_year=None,
                   path=pd.DataFrame(columns=["year", "cap_t", "projection_t", "uncovered_t", "share"]))
    return out
