"""The bundled demo in the store: load it on purpose, and say wherever it is shown that it is demo data.

Nothing falls back to the bundled files any more: an empty store is an empty platform (every
interface says "no data yet; load data or run the demo"), and demo figures appear only after
``carbonpeak demo load`` imported the bundled files through the ordinary import path — one
audited, idempotent batch per kind with the submitter ``demo``
(:data:`carbonpeak.store.demo.DEMO_SUBMITTER`).  :func:`data_status` then tells every page,
export and report whether the store holds demo data, only demo data, or demo data beside the
operator's own (and which figures, by region and year, rest on demo rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from carbonpeak.errors import NotFound
from carbonpeak.i18n import LANGS, t
from carbonpeak.store.demo import DEMO_SUBMITTER, batch_origins, region_year_origins
from carbonpeak.store.duck import ImportResult, Store

#: The bundled files ``demo load`` imports: the province and the 21 cities' activity data (one
#: batch, as `carbonpeak demo` compiles them) and the indicator observations (one batch).
#: ``activity_history`` stays out, as in `carbonpeak demo` (docs/demo-data.md).
DEMO_ACTIVITY = ("activity", "activity_cities")
DEMO_OBSERVATIONS = ("observations",)


class NoData(NotFound):
    """The store holds no inventory data yet (HTTP 404 with the "load data or run the demo" hint)."""

    def __init__(self, what: str = "") -> None:
        super().__init__((f"{what}: " if what else "") + t("data.empty", "en"))


def load_demo(store: Store) -> list[ImportResult]:
    """Import the bundled demo files into ``store`` (idempotent: a second load writes nothing)."""
    from carbonpeak.demo import demo_files
    from carbonpeak.workflows.inventory import import_activity, import_observations

    act = [f for kind in DEMO_ACTIVITY for f in demo_files(kind)]
    obs = [f for kind in DEMO_OBSERVATIONS for f in demo_files(kind)]
    return [
        import_activity(
            store, [(p, f"demo/{p.parent.name}/{p.name}") for p in act], submitter=DEMO_SUBMITTER, demo=True
        ),
        import_observations(
            store, [(p, f"demo/{p.parent.name}/{p.name}") for p in obs], submitter=DEMO_SUBMITTER, demo=True
        ),
    ]


def _spans(years: list[int]) -> str:
    """``[2015, 2016, 2017, 2019]`` → ``2015–2017, 2019``."""
    out: list[str] = []
    ys = sorted(set(years))
    start = prev = ys[0]
    for y in [*ys[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if y is not None:
            start = prev = y
    return ", ".join(out)


@dataclass(frozen=True)
class DataStatus:
    """What the store's inventory data are: ``empty``, ``demo`` (demo only), ``mixed`` or ``own``."""

    state: str
    demo_kinds: tuple[str, ...] = ()
    #: (year, region) pairs whose current activity or observation rows are (partly) demo rows.
    demo_region_years: frozenset[tuple[int, str]] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return self.state == "empty"

    @property
    def demo(self) -> bool:
        return self.state in ("demo", "mixed")

    def is_demo(self, year: Any, region: Any) -> bool:
        """Whether the figure of ``region`` in ``year`` rests on demo data."""
        if self.state == "demo":
            return True
        try:
            return (int(year), str(region)) in self.demo_region_years
        except (TypeError, ValueError):
            return False

    def which(self) -> str:
        """The demo figures by region, e.g. ``GD 2005–2024; GD-GZ 2015–2019``."""
        by: dict[str, list[int]] = {}
        for y, r in self.demo_region_years:
            by.setdefault(r, []).append(y)
        return "; ".join(f"{r} {_spans(ys)}" for r, ys in sorted(by.items()))

    def message(self, lang: str) -> str | None:
        """The sentence every interface shows (``None`` for a store of own data only)."""
        if self.state == "empty":
            return t("data.empty", lang)
        if self.state == "demo":
            return t("data.demo", lang)
        if self.state == "mixed":
            return t("data.mixed", lang, which=self.which() or t("data.demo_files", lang))
        return None

    def to_dict(self) -> dict[str, Any]:
        """The ``data`` metadata of API answers and JSON exports."""
        by: dict[str, list[int]] = {}
        for y, r in self.demo_region_years:
            by.setdefault(r, []).append(y)
        return {
            "state": self.state,
            "demo": self.demo,
            "demo_kinds": list(self.demo_kinds),
            "demo_figures": [{"region": r, "years": sorted(ys)} for r, ys in sorted(by.items())],
            "message": {la: self.message(la) for la in LANGS} if self.state != "own" else None,
        }

    def label_frame(self, df: pd.DataFrame, year: str = "year", region: str = "region") -> pd.DataFrame:
        """``df`` with a ``demo`` column (the row's figure rests on demo data) for exports."""
        out = df.copy()
        if year in out.columns and region in out.columns:
            out["demo"] = [self.is_demo(y, r) for y, r in zip(out[year], out[region], strict=True)]
        else:
            out["demo"] = self.state == "demo"
        return out


def data_status(store: Store) -> DataStatus:
    """The store's :class:`DataStatus` (cached until the data change)."""
    from carbonpeak.workflows.inventory import cached

    def build() -> DataStatus:
        orig = batch_origins(store)
        if orig.empty:
            return DataStatus("empty")
        kinds = tuple(sorted(set(orig.loc[orig["demo"], "kind"])))
        if not kinds:
            return DataStatus("own")
        state = "demo" if orig["demo"].all() else "mixed"
        pairs: set[tuple[int, str]] = set()
        for df in region_year_origins(store).values():
            if len(df):
                sub = df[df["demo"]]
                pairs |= {(int(y), str(r)) for y, r in zip(sub["year"], sub["region"], strict=True)}
        if state == "mixed" and not pairs:  # every demo row was replaced by own data
            return DataStatus("own")
        return DataStatus(state, kinds, frozenset(pairs))

    return cached(store, ("data_status",), build)  # type: ignore[no-any-return]


def files_status(paths: list[Any]) -> DataStatus:
    """The status of data read from files: ``demo`` when every file is one of the bundled demo files,
    ``mixed`` (naming no figures) when some are, else ``own``."""
    from pathlib import Path

    from carbonpeak.demo import DEMO_DIR

    root = DEMO_DIR.resolve()
    demo = [Path(p).resolve().is_relative_to(root) for p in paths]
    if demo and all(demo):
        return DataStatus("demo", ("files",))
    return DataStatus("mixed", ("files",)) if any(demo) else DataStatus("own")


def combine(a: DataStatus, b: DataStatus) -> DataStatus:
    """The status of two sources used together (e.g. activity files beside stored observations)."""
    if a.empty:
        return b
    if b.empty or a == b:
        return a
    if a.state == b.state == "own":
        return a
    state = "demo" if a.state == b.state == "demo" else "mixed"
    return DataStatus(state, tuple(sorted({*a.demo_kinds, *b.demo_kinds})), a.demo_region_years | b.demo_region_years)


def require_data(store: Store, what: str = "") -> DataStatus:
    """The store's status; raises :class:`NoData` when it holds no inventory data at all."""
    st = data_status(store)
    if st.empty:
        raise NoData(what)
    return st
