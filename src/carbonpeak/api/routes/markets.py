"""Markets (issue 11 §6): the registry ledger, surrender, PHCER and energy-use rights.

Scope comes from the principal (:mod:`carbonpeak.workflows.markets`): an account outside the
caller's scope answers 404 to a read; a move out of an account the caller does not own answers
403 and changes nothing; a concurrent move of serials already gone answers 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field, model_validator

from carbonpeak.api.deps import PrincipalDep, StateDep
from carbonpeak.api.inputs import CityCode, EnterpriseId, SafeText
from carbonpeak.jsonutil import frame_records, json_safe
from carbonpeak.workflows import markets as wm

router = APIRouter(tags=["markets"])

AccountId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,119}$")]
UnitType = Annotated[str, Field(pattern=r"^(GDEA|CEA|CCER|PHCER|EUR)$")]
Vintage = Annotated[int, Field(ge=2000, le=2100)]
Serial = Annotated[int, Field(ge=1, le=10**15)]
AccountPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,119}$")]
AppPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class _Units(BaseModel):
    unit_type: UnitType
    vintage: Vintage
    quantity: Annotated[int, Field(ge=1, le=10**12)] | None = None
    serial_start: Serial | None = None
    serial_end: Serial | None = None

    @model_validator(mode="after")
    def _one_of(self) -> _Units:
        if (self.quantity is None) == (self.serial_start is None or self.serial_end is None):
            raise ValueError("give either quantity, or serial_start and serial_end")
        return self


class TransferIn(_Units):
    from_account: AccountId
    to_account: AccountId
    reference: Annotated[str, Field(max_length=200)] = ""


class SurrenderIn(_Units):
    year: Vintage
    enterprise_id: EnterpriseId | None = None  # default: the caller's enterprise
    from_account: AccountId | None = None


class RetireIn(_Units):
    from_account: AccountId
    reference: SafeText


class AllocationRow(BaseModel):
    enterprise_id: EnterpriseId
    city: CityCode | None = None
    quantity: Annotated[int, Field(ge=0, le=10**12)]


class AllocateIn(BaseModel):
    year: Vintage
    unit_type: UnitType = "GDEA"
    allocations: list[AllocationRow] = Field(min_length=1, max_length=100_000)


class EnergyRightsIn(BaseModel):
    year: Vintage
    city_caps: dict[CityCode, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)


class ForestIn(BaseModel):
    """A forest project's data: the sink engine computes its removals (methodology gd_forest_sink)."""

    forest_type: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]
    area_ha: Annotated[float, Field(gt=0, le=1e8, allow_inf_nan=False)]
    start_year: Vintage
    end_year: Vintage
    region: Annotated[str, Field(pattern=r"^GD(-[A-Z]{2})?$")] = "GD"
    volume_start_m3_ha: Annotated[float, Field(ge=0, le=1e4, allow_inf_nan=False)] | None = None
    volume_end_m3_ha: Annotated[float, Field(ge=0, le=1e4, allow_inf_nan=False)] | None = None
    increment_m3_ha_yr: Annotated[float, Field(ge=0, le=1e3, allow_inf_nan=False)] | None = None
    increment_source: Annotated[str, Field(max_length=300)] | None = None
    harvest_m3_yr: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None


class ApplicationIn(BaseModel):
    application_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    methodology_id: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]
    version: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")]
    project: SafeText
    owner: EnterpriseId | None = None
    city: CityCode | None = None
    vintage: Vintage
    inputs: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")], float]
    resubmission_of: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] | None = None
    forest: ForestIn | None = None


class RejectIn(BaseModel):
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class NoticeIn(BaseModel):
    start: dt.date
    days: Annotated[int, Field(ge=7, le=60)] = 7
    holidays: list[dt.date] | None = None


class SignOffIn(BaseModel):
    enterprise_id: EnterpriseId
    year: Vintage
    verified_t: Annotated[float, Field(ge=0, le=1e12)]


class VerifyIn(BaseModel):
    verified_t: Annotated[float, Field(ge=0, le=1e12)]


class OffsetPoolIn(BaseModel):
    year: Vintage
    value: Annotated[float, Field(ge=0, allow_inf_nan=False, le=1e12)]
    unit: Annotated[str, Field(pattern=r"^(tCO2|t|kt|Mt|万t|万吨)$")] = "tCO2"
    source: Annotated[str, Field(min_length=3, max_length=300)]


class CapIn(BaseModel):
    year: Vintage
    value: Annotated[float, Field(gt=0, allow_inf_nan=False, le=1e12)]
    unit: Annotated[str, Field(pattern=r"^(tCO2|t|kt|Mt|万t|万吨|亿t|亿吨)$")] = "tCO2"
    source: Annotated[str, Field(min_length=3, max_length=300)]


_Pairs = Annotated[str, Field(max_length=2000, pattern=r"^[A-Za-z0-9_:.;\- ]*$")]


class EntityIn(BaseModel):
    enterprise_id: EnterpriseId
    sector: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    city: CityCode | None = None
    activity: Annotated[str, Field(pattern=r"^(\*|[a-z][a-z0-9_]{0,39})$")] = "*"
    method: Annotated[str, Field(pattern=r"^(benchmark|intensity|history|power_benchmark)$")] | None = None
    output_unit: Annotated[str, Field(max_length=20, pattern=r"^[A-Za-z0-9/^ ]+$")] | None = None
    coprocessed_waste_t: Annotated[float, Field(ge=0, le=1e12)] = 0.0


class OverrideIn(BaseModel):
    enterprise_id: EnterpriseId
    output: _Pairs = ""
    base_emissions: _Pairs = ""
    base_output: _Pairs = ""
    reason: Annotated[str, Field(min_length=3, max_length=300)]


class CoverageEntityIn(BaseModel):
    enterprise_id: EnterpriseId
    sector: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    city: CityCode | None = None
    name: Annotated[str, Field(max_length=200)] | None = None
    applied: bool = False
    racks: Annotated[float, Field(ge=0, le=1e9)] | None = None


class CoverageIn(BaseModel):
    year: Vintage
    ruleset: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")] = "guangdong-2024"
    widening: bool = False
    enterprises: Annotated[list[CoverageEntityIn], Field(min_length=1, max_length=20000)]


class AllocationRunIn(BaseModel):
    ruleset: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    year: Vintage
    entities: Annotated[list[EntityIn], Field(min_length=1, max_length=5000)]
    override: Annotated[list[OverrideIn], Field(max_length=5000)] | None = None
    override_source: Annotated[str, Field(min_length=3, max_length=200)] = "API request"
    params: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:\[\]*-]{1,120}$")],
                 float | Annotated[str, Field(max_length=60)]] = {}
    issue: bool = False
    unit_type: Annotated[str, Field(pattern=r"^(GDEA|CEA)$")] = "GDEA"


def _units(body: _Units) -> dict[str, Any]:
    return {"unit_type": body.unit_type, "vintage": body.vintage, "quantity": body.quantity,
            "start": body.serial_start, "end": body.serial_end}


def _entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return json_safe(entries)  # type: ignore[no-any-return]


def _out(data: Any) -> Any:
    """Frames (timestamps as ISO text), dates and numpy values of a workflow result as JSON."""
    from carbonpeak.store.markets import as_json

    return json_safe(as_json(data))


# -- reads ------------------------------------------------------------------------------------------
@router.get("/api/markets/accounts")
def accounts(p: PrincipalDep, state: StateDep) -> list[dict[str, Any]]:
    """The accounts the caller may see (an enterprise: its own; a city officer: its city's)."""
    return frame_records(wm.visible_accounts(state.store, p))


@router.get("/api/markets/accounts/{account_id}")
def account(account_id: AccountPath, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Balance (derived from the journal) and the serial blocks held."""
    from carbonpeak.store import markets as sm

    acc = wm.account_for_read(state.store, p, account_id)
    return {"account_id": acc.account_id, "kind": acc.kind, "owner": acc.owner, "city": acc.city,
            "balance": frame_records(sm.balance(state.store, account_id)),
            "blocks": frame_records(sm.holdings(state.store, account_id))}


@router.get("/api/markets/accounts/{account_id}/statement")
def statement(
    account_id: AccountPath, p: PrincipalDep, state: StateDep,
    start: Annotated[dt.date, Query()], end: Annotated[dt.date, Query()],
) -> dict[str, Any]:
    """Opening balance, the entries from ``start`` to ``end`` (inclusive) and the closing balance."""
    return _out(wm.statement(state.store, p, account_id, start, end))


@router.get("/api/markets/serials/{unit_type}/{vintage}/{serial}")
def serial(
    unit_type: Annotated[str, Path(pattern=r"^(GDEA|CEA|CCER|PHCER|EUR)$")],
    vintage: Annotated[int, Path(ge=2000, le=2100)],
    serial: Annotated[int, Path(ge=1, le=10**15)],
    p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """The life of one serial: every entry that moved it and where it is now."""
    return _out(wm.serial_history(state.store, p, unit_type, vintage, serial))


@router.get("/api/markets/positions")
def positions(
    p: PrincipalDep, state: StateDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> list[dict[str, Any]]:
    """Allowances, offsets and energy-use rights per enterprise, side by side (scoped)."""
    return frame_records(wm.positions(state.store, p, year))


@router.get("/api/markets/overview")
def overview(p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """The market: units by type, vintage and where they are; surrenders; the ledger check (province)."""
    return _out(wm.overview(state.store, p))


@router.get("/api/markets/obligations")
def obligations(p: PrincipalDep, state: StateDep, year: Annotated[int, Query(ge=2000, le=2100)]) -> list[dict[str, Any]]:
    """Per enterprise in scope: verified emissions, obligation, surrendered, shortfall, status (a
    verifier: the enterprises whose emissions it signs off)."""
    return frame_records(wm.obligations(state.store, p, year))


@router.post("/api/markets/emissions/sign-off", status_code=201)
def sign_off(body: SignOffIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """The assigned verifier signs off an enterprise's verified emissions of a year."""
    return _out(wm.sign_off_emissions(state.store, p, enterprise_id=body.enterprise_id, year=body.year,
                                      verified_t=body.verified_t))


@router.get("/api/markets/offset-pool")
def offset_pool(p: PrincipalDep, state: StateDep, year: Annotated[int, Query(ge=2000, le=2100)]) -> dict[str, Any]:
    """The province-wide offset pool of a compliance year: the rule, where it comes from, used and remaining."""
    return _out(wm.offset_pool(state.store, p, year))


@router.put("/api/markets/offset-pool")
def set_offset_pool(body: OffsetPoolIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Set the offset pool of a year (admin; the rule set does not publish it); audited."""
    return _out(wm.set_offset_pool(state.store, p, year=body.year, value=body.value, unit=body.unit,
                                   source=body.source))


@router.get("/api/markets/peak-link")
def peak_link(p: PrincipalDep, state: StateDep, year: Annotated[int, Query(ge=2000, le=2100)],
              scenario: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,40}$")] = None) -> dict[str, Any]:
    """The cap against the peak plan (province: cap path vs projection, share under the cap, surplus/deficit
    by sector and city, balance value per class; a city officer: its city's covered entities)."""
    from carbonpeak.errors import NotFound
    from carbonpeak.workflows import projections

    if scenario is not None and scenario not in projections.scenarios():
        raise NotFound(f"scenario {scenario}")
    return _out(wm.peak_link_view(state.store, p, year=year, scenario=scenario))


@router.get("/api/markets/caps")
def caps(p: PrincipalDep, state: StateDep) -> list[dict[str, Any]]:
    """The cap path as the authority set it (year, cap_t, the value as given, its source)."""
    return _out(wm.caps(state.store, p))  # type: ignore[no-any-return]


@router.put("/api/markets/caps")
def set_cap(body: CapIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Set the cap of a year with the document it comes from (admin); audited with the previous value."""
    return _out(wm.set_cap(state.store, p, year=body.year, value=body.value, unit=body.unit, source=body.source))


@router.post("/api/markets/coverage")
def coverage(body: CoverageIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Coverage screening with verified emissions and monitored energy use from the store (province);
    with ``widening`` also what the plan's widening brings under the cap."""
    ents = pd.DataFrame([e.model_dump() for e in body.enterprises])
    return _out(wm.coverage_from_store(state.store, p, enterprises=ents, year=body.year, ruleset_id=body.ruleset,
                                       widen=body.widening))


@router.post("/api/markets/allocation")
def allocation_run(body: AllocationRunIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Allocate to the covered entities with output and emissions from the store (province; issuing: admin).

    ``override`` replaces the store's figures of an enterprise (recorded in the provenance with its
    reason); with ``issue`` the free allocation goes into the ledger and the run into the audit chain.
    """
    ents = pd.DataFrame([e.model_dump() for e in body.entities])
    ov = None if not body.override else pd.DataFrame([o.model_dump() for o in body.override])
    return _out(wm.allocate_from_store(state.store, p, entities=ents, ruleset_id=body.ruleset, year=body.year,
                                       params=dict(body.params) or None, override=ov,
                                       override_source=body.override_source, issue=body.issue,
                                       unit_type=body.unit_type))


@router.get("/api/markets/phcer/methodologies")
def methodologies(p: PrincipalDep, state: StateDep) -> list[dict[str, Any]]:
    """The PHCER methodology register (each version with formula, parameters, source and status)."""
    from carbonpeak.store import markets as sm

    return frame_records(sm.methodologies(state.store))


@router.get("/api/markets/phcer/applications")
def applications(p: PrincipalDep, state: StateDep) -> list[dict[str, Any]]:
    return frame_records(wm.phcer_applications(state.store, p))


# -- moves ------------------------------------------------------------------------------------------
@router.post("/api/markets/transfer", status_code=201)
def transfer(body: TransferIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Transfer units out of an account the caller owns (403 otherwise, 409 if the serials are gone)."""
    e = wm.transfer(state.store, p, from_account=body.from_account, to_account=body.to_account,
                    reference=body.reference, **_units(body))
    return {"entries": _entries(e), "quantity": sum(x["quantity"] for x in e)}


@router.post("/api/markets/surrender", status_code=201)
def surrender(body: SurrenderIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Surrender allowances or eligible offsets against a compliance year (the caller's enterprise)."""
    ent = body.enterprise_id or p.enterprise_id
    if not ent:
        from carbonpeak.errors import CarbonpeakError

        raise CarbonpeakError("enterprise_id: say whose obligation this surrender is for")
    return _out(wm.surrender(state.store, p, enterprise_id=ent, year=body.year,
                                  from_account=body.from_account, **_units(body)))


@router.post("/api/markets/retire", status_code=201)
def retire(body: RetireIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Retire units for a voluntary claim (碳中和); retired serials never move again."""
    e = wm.retire(state.store, p, from_account=body.from_account, reference=body.reference, **_units(body))
    return {"entries": _entries(e), "quantity": sum(x["quantity"] for x in e)}


@router.post("/api/markets/allocate", status_code=201)
def allocate(body: AllocateIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Issue an allocation into the enterprises' holding accounts, all or nothing (admin)."""
    df = pd.DataFrame([r.model_dump() for r in body.allocations], columns=["enterprise_id", "city", "quantity"])
    return _out(wm.allocate(state.store, p, year=body.year, allocations=df,
                                 unit_type=body.unit_type))


@router.post("/api/markets/energy-rights/allocate", status_code=201)
def energy_rights(body: EnergyRightsIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Issue energy-use rights (tce) from the key units' dual-control budgets (admin)."""
    return _out(wm.allocate_energy_rights(state.store, p, year=body.year,
                                               city_caps=dict(body.city_caps)))


@router.post("/api/markets/phcer/applications", status_code=201)
def apply(body: ApplicationIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Apply for PHCER under a filed methodology (a project owner for itself)."""
    owner = body.owner or p.enterprise_id
    if not owner:
        from carbonpeak.errors import CarbonpeakError

        raise CarbonpeakError("owner: say whose project this is")
    return _out(wm.apply_phcer(state.store, p, application_id=body.application_id,
                                    methodology_id=body.methodology_id, version=body.version, project=body.project,
                                    owner=owner, city=body.city, vintage=body.vintage, inputs=body.inputs,
                                    resubmission_of=body.resubmission_of,
                                    forest=body.forest.model_dump(exclude_none=True) if body.forest else None))


@router.post("/api/markets/phcer/applications/{application_id}/notice")
def notice(application_id: AppPath, body: NoticeIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Start the public notice (≥ 7 working days)."""
    return _out(wm.notice_phcer(state.store, p, application_id=application_id,
                                     start=body.start, days=body.days, holidays=body.holidays))


@router.post("/api/markets/phcer/applications/{application_id}/verify")
def verify(application_id: AppPath, body: VerifyIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """The assigned verifier's verified reduction, after the notice has ended."""
    return _out(wm.verify_phcer(state.store, p, application_id=application_id,
                                     verified_t=body.verified_t))


@router.post("/api/markets/phcer/applications/{application_id}/issue", status_code=201)
def issue(application_id: AppPath, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Issue a verified application's PHCER into the owner's holding account (admin)."""
    return _out(wm.issue_phcer(state.store, p, application_id=application_id))


@router.post("/api/markets/phcer/applications/{application_id}/reject")
def reject(application_id: AppPath, body: RejectIn, p: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Reject an application before issuance, with its reason (the province's reviewers); final."""
    return _out(wm.reject_phcer(state.store, p, application_id=application_id, reason=body.reason))
