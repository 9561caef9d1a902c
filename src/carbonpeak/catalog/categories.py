"""The IPCC 2006 category tree (``data/categories.csv``): codes, parents, sectors, names.

Codes are IPCC 2006 codes (``1.A.2.f``) plus carbonpeak's memo codes under ``M`` (``M.ELEC``
net imported electricity, ``M.REF.*`` reference-approach flows).  ``sector`` separates LULUCF
(``3.B``, ``3.C.1``, ``3.D.1``) from agriculture inside IPCC 2006 sector 3 (AFOLU).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from carbonpeak.catalog.loader import load_csv
from carbonpeak.errors import CatalogError

SECTORS = ("energy", "ippu", "agriculture", "lulucf", "waste", "memo")


@dataclass(frozen=True)
class Category:
    code: str
    parent: str
    level: int
    sector: str
    name_en: str
    name_zh: str
    unit_dims: tuple[str, ...]
    source: str

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en


@lru_cache(maxsize=1)
def get_categories() -> dict[str, Category]:
    """All categories keyed by code, in file order."""
    df = load_csv("categories.csv")
    out: dict[str, Category] = {}
    for r in df.itertuples(index=False):
        if r.code in out:
            raise CatalogError(f"categories.csv: code '{r.code}' defined twice")
        if r.sector not in SECTORS:
            raise CatalogError(f"categories.csv: sector '{r.sector}' of {r.code} not in {', '.join(SECTORS)}")
        out[r.code] = Category(
            code=r.code,
            parent=r.parent,
            level=int(r.level),
            sector=r.sector,
            name_en=r.name_en,
            name_zh=r.name_zh,
            unit_dims=tuple(d for d in r.unit_dims.split("|") if d),
            source=r.source,
        )
    for c in out.values():
        if c.parent and c.parent not in out:
            raise CatalogError(f"categories.csv: parent '{c.parent}' of {c.code} is not a code")
    return out


def get_category(code: str) -> Category:
    try:
        return get_categories()[code]
    except KeyError:
        raise CatalogError(f"unknown IPCC category '{code}'; see docs/inventory.md") from None


@lru_cache(maxsize=4096)
def ancestors(code: str) -> tuple[str, ...]:
    """``code`` and its parents up to the sector root: ``1.A.1.a`` → (1.A.1.a, 1.A.1, 1.A, 1)."""
    cats = get_categories()
    out: list[str] = []
    cur = code
    while cur:
        out.append(cur)
        cur = cats[cur].parent if cur in cats else ""
    return tuple(out)


def sector_of(code: str) -> str:
    """The sector (``energy``, ``ippu``, ``agriculture``, ``lulucf``, ``waste``, ``memo``)."""
    return get_category(code).sector


def is_prefix(prefix: str, code: str) -> bool:
    """Whole-part prefix test: ``1.A`` is a prefix of ``1.A.2.f`` but not of ``1.AB``."""
    return code == prefix or code.startswith(prefix + ".")
