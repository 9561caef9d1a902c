"""Regions of Guangdong: the province ``GD`` and its 21 prefecture-level cities ``GD-xx``.

Data: ``data/regions.yaml`` (codes, GB/T 2260 division codes, names, "一核一带一区" group and
a default action-50 peak tier with its rationale).  The tiers are carbonpeak's own estimate
(the plan does not name the cities of each tier); users override them with
``load_regions(tier_overrides={"GD-ZJ": "growing"})`` or a YAML/CSV file of their own
(:func:`read_tier_overrides`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from carbonpeak.catalog.loader import load_csv, load_yaml
from carbonpeak.errors import CatalogError

GROUPS = ("prd_core", "east_wing", "west_wing", "north_eco")
GROUP_NAMES = {
    "prd_core": ("珠三角核心区", "Pearl River Delta core"),
    "east_wing": ("沿海经济带东翼", "Coastal belt, east wing"),
    "west_wing": ("沿海经济带西翼", "Coastal belt, west wing"),
    "north_eco": ("北部生态发展区", "Northern ecological area"),
}
TIERS = ("leading", "growing", "lagging")
TIER_NAMES = {
    "leading": ("率先达峰", "leading"),
    "growing": ("同步达峰", "growing"),
    "lagging": ("尽快进入平台期", "lagging"),
}
PROVINCE = "GD"


@dataclass(frozen=True)
class Region:
    code: str
    adcode: str
    name_zh: str
    name_en: str
    level: str  # "province" | "city"
    group: str = ""
    tier: str = ""
    tier_status: str = ""
    tier_rationale: str = ""

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en


def _check_tier(code: str, tier: str, where: str) -> None:
    if tier not in TIERS:
        raise CatalogError(f"{where}: tier '{tier}' of {code} must be one of {', '.join(TIERS)}")


def load_regions(
    tier_overrides: Mapping[str, str] | None = None, path: str | Path | None = None
) -> dict[str, Region]:
    """All regions keyed by code, the province first then the cities in file order.

    ``tier_overrides`` maps city code → tier and replaces the default tier (``tier_status``
    becomes ``user``).
    """
    doc = load_yaml(path or "regions.yaml") or {}
    where = str(path or "regions.yaml")
    prov = doc.get("province") or {}
    try:
        out: dict[str, Region] = {
            prov["code"]: Region(
                code=prov["code"], adcode=str(prov["adcode"]), name_zh=prov["name_zh"],
                name_en=prov["name_en"], level="province",
            )
        }
    except KeyError as exc:
        raise CatalogError(f"{where}: province entry lacks {exc}") from None
    for i, c in enumerate(doc.get("cities") or []):
        missing = {"code", "adcode", "name_zh", "name_en", "group", "tier"} - set(c)
        if missing:
            raise CatalogError(f"{where}: city #{i + 1} lacks {', '.join(sorted(missing))}")
        if c["code"] in out:
            raise CatalogError(f"{where}: region code {c['code']} defined twice")
        if c["group"] not in GROUPS:
            raise CatalogError(f"{where}: group '{c['group']}' of {c['code']} not in {', '.join(GROUPS)}")
        _check_tier(c["code"], c["tier"], where)
        out[c["code"]] = Region(
            code=c["code"], adcode=str(c["adcode"]), name_zh=c["name_zh"], name_en=c["name_en"],
            level="city", group=c["group"], tier=c["tier"], tier_status=c.get("tier_status", ""),
            tier_rationale=str(c.get("tier_rationale", "")).strip(),
        )
    for code, tier in (tier_overrides or {}).items():
        if code not in out or out[code].level != "city":
            raise CatalogError(f"tier override: unknown city code '{code}'")
        _check_tier(code, tier, "tier override")
        out[code] = replace(out[code], tier=tier, tier_status="user", tier_rationale="set by the user")
    return out


def cities(tier_overrides: Mapping[str, str] | None = None) -> list[Region]:
    """The 21 prefecture-level cities."""
    return [r for r in load_regions(tier_overrides).values() if r.level == "city"]


def get_region(code: str) -> Region:
    regions = load_regions()
    try:
        return regions[code]
    except KeyError:
        raise CatalogError(f"unknown region '{code}' (known: {', '.join(regions)})") from None


def read_tier_overrides(path: str | Path) -> dict[str, str]:
    """Read user tiers from a CSV (columns ``code, tier``) or YAML (mapping code → tier) file."""
    p = Path(path)
    if not p.exists():
        raise CatalogError(f"tier file not found: {p}")
    if p.suffix.lower() in (".yaml", ".yml"):
        doc = load_yaml(p) or {}
        if not isinstance(doc, dict):
            raise CatalogError(f"{p}: expected a mapping of city code to tier")
        return {str(k): str(v) for k, v in doc.items()}
    df = load_csv(p)
    if not {"code", "tier"} <= set(df.columns):
        raise CatalogError(f"{p}: needs columns code, tier")
    return dict(zip(df["code"], df["tier"], strict=True))
