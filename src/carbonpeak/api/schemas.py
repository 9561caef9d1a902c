"""Request and response models of the service (one module for every router).

Field types of single values (free text, ids, city codes, periods) are defined once in
:mod:`carbonpeak.api.inputs`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, model_validator

from carbonpeak.api.inputs import PERIOD_FORMATS, CityCode, EnterpriseId, SafeText


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PasswordIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    token: str
    expires_at: str
    user: dict[str, Any]


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=12, max_length=256)
    role: str = Field(max_length=32)
    city: CityCode | None = None
    enterprise_id: EnterpriseId | None = None
    #: each assigned enterprise id is validated on its own (no comma-joined lists)
    assigned: list[EnterpriseId] = Field(default_factory=list, max_length=1000)


class CreditIn(BaseModel):
    enterprise_id: EnterpriseId
    kind: str = Field(max_length=64)
    detail: SafeText
    period: str | None = Field(default=None, pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")


class ScenarioIn(BaseModel):
    scenario: str = Field(default="plan", pattern="^[a-z0-9_-]{1,64}$")


class MonteCarloIn(ScenarioIn):
    draws: int = Field(default=2000, ge=10, le=100_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class LeversIn(ScenarioIn):
    settings: dict[str, float] = Field(default_factory=dict, max_length=32)
    draws: int = Field(default=300, ge=10, le=2000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class ReportIn(BaseModel):
    year: int | None = Field(default=None, ge=2000, le=2100)
    lang: str = Field(default="zh", pattern="^(zh|en)$")
    pdf: bool = True


class ReviewIn(BaseModel):
    comment: SafeText
    outcome: str = Field(default="noted", pattern="^(noted|dismissed|confirmed_falsification)$")


class DeadlineIn(BaseModel):
    kind: str = Field(pattern="^(readings|output)$")
    period: str = Field(min_length=1, max_length=32)
    due: date

    @model_validator(mode="after")
    def _period_format(self) -> DeadlineIn:
        fmt = PERIOD_FORMATS[self.kind]
        if not fmt[0].fullmatch(self.period):
            raise ValueError(f"period must be {fmt[1]}")
        return self


class CompileIn(BaseModel):
    #: the GWP set; none means the setting (CARBONPEAK_GWP)
    gwp: str | None = Field(default=None, pattern="^(AR4|AR5|AR6)$")
    year: int | None = Field(default=None, ge=1990, le=2100)
    region: str | None = Field(default=None, max_length=8)
    uncertainty: str = Field(default="none", pattern="^(none|approach1|mc)$")
    draws: int = Field(default=10_000, ge=100, le=1_000_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
