"""Catalog items: every id that activity data, factors and results may name.

Items are defined in ``data/items/*.yaml`` (one file per area: ``fuels.yaml``,
``ippu.yaml``, ``agriculture.yaml``, ``lulucf.yaml``, ``waste.yaml``, ...), each file a
mapping ``items:`` of id → fields.  Required fields: ``name_zh``, ``name_en``, ``kind``.
Optional: ``unit`` (the unit its activity is usually reported in), ``group``, ``note``,
``source``.  An id may appear in one file only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from carbonpeak.catalog.loader import DATA_DIR, load_yaml
from carbonpeak.errors import CatalogError


@dataclass(frozen=True)
class Item:
    id: str
    name_zh: str
    name_en: str
    kind: str
    unit: str = ""
    group: str = ""
    note: str = ""
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    file: str = ""


@lru_cache(maxsize=1)
def get_items() -> dict[str, Item]:
    """All items of all item files, keyed by id."""
    out: dict[str, Item] = {}
    for f in sorted((DATA_DIR / "items").glob("*.yaml")):
        doc = load_yaml(f) or {}
        for iid, fields in (doc.get("items") or {}).items():
            if iid in out:
                raise CatalogError(f"item id '{iid}' defined twice: {out[iid].file} and {f.name}")
            if not isinstance(fields, dict) or not {"name_zh", "name_en", "kind"} <= fields.keys():
                raise CatalogError(f"{f.name}: item '{iid}' needs name_zh, name_en and kind")
            known = {"name_zh", "name_en", "kind", "unit", "group", "note", "source"}
            out[iid] = Item(
                id=iid,
                name_zh=str(fields["name_zh"]),
                name_en=str(fields["name_en"]),
                kind=str(fields["kind"]),
                unit=str(fields.get("unit", "")),
                group=str(fields.get("group", "")),
                note=str(fields.get("note", "")),
                source=str(fields.get("source", "")),
                extra={k: v for k, v in fields.items() if k not in known},
                file=f.name,
            )
    return out


def get_item(item_id: str) -> Item:
    try:
        return get_items()[item_id]
    except KeyError:
        raise CatalogError(f"unknown item '{item_id}'; see `carbonpeak factors list`") from None


def fuel_group(group: str) -> frozenset[str]:
    """The ids of the catalog items of one group (``coal``, ``oil``, ``gas`` ...); unknown groups raise."""
    ids = frozenset(k for k, it in get_items().items() if it.group == group)
    if not ids:
        raise CatalogError(f"no catalog items in group '{group}'")
    return ids
