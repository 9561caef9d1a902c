"""The compiled inventory: results by year × region × category × item × gas, and what they answer.

:class:`Inventory` is what :func:`carbonpeak.accounting.engine.compile_inventory` returns: totals,
the JSON summary, notation keys, the change between years, the reference-approach check,
``explain`` of one figure and the sinks report.  Compiling (dispatching activity rows to the
registered methods, checking their output, applying a GWP set) is the engine's; this module only
reads the results.  Pure functions: no file or database access here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.deferred import Collector
from carbonpeak.catalog.categories import ancestors, get_categories, is_prefix
from carbonpeak.catalog.gwp import DEFAULT_GWP, gwp_for, gwp_gas, gwp_sources, gwp_values
from carbonpeak.i18n import DECLARED, Msg, declare

#: IPCC 2006 Vol 2 Ch 6 §6.8: differences between the reference and the sectoral approach of
#: more than this (in %) should be explained.
REFERENCE_TOLERANCE_PCT = 5.0

#: the summary's warnings (message keys; texts in catalog/data/messages/warnings.yaml)
declare({
    "warning.province_and_cities": {},
    "warning.incomplete_total": {"region": str, "year": int, "keys": list},
    "warning.reference_check": {"difference": float, "region": str, "year": int},
    "warning.reference_check_na": {"region": str, "year": int},
})


class Inventory:
    """A compiled inventory: ``results`` has :data:`RESULT_COLUMNS` plus ``co2e_t``.

    Treat ``results`` as read-only: the query methods cache a compact categorical copy of it.
    The ``explain`` texts of a compiled inventory are rendered on the first read of ``results``
    (see :mod:`carbonpeak.accounting.deferred`); totals, summaries and ``explain()`` do not need
    them all.
    """

    def __init__(
        self,
        results: pd.DataFrame,
        gwp: str = DEFAULT_GWP,
        factor_files: list[str] | None = None,
        options: dict[str, Any] | None = None,
        warnings: list[dict[str, Any]] | None = None,
        notation_keys: pd.DataFrame | None = None,
    ) -> None:
        self._frame = results
        self._declared_keys = notation_keys
        #: data warnings raised by the methods (see ``MethodContext.warn``)
        self.warnings: list[dict[str, Any]] = [dict(w) for w in (warnings or [])]
        self._deferred: tuple[np.ndarray, Collector] | None = None
        self.gwp = gwp
        self.factor_files = list(factor_files) if factor_files is not None else []
        self.options = dict(options) if options is not None else {}

    def __repr__(self) -> str:
        f = self._frame
        years = sorted({int(y) for y in f["year"].unique()}) if len(f) else []
        span = "" if not years else (f", years={years[0]}" if len(years) == 1 else f", years={years[0]}–{years[-1]}")
        regions = f["region"].nunique() if len(f) else 0
        return (f"Inventory(rows={len(f)}, gwp={self.gwp!r}{span}, regions={regions}, "
                f"factor_files={self.factor_files!r})")  # fmt: skip

    def _repr_html_(self) -> str:
        """Jupyter: the header line and the territorial totals (Mt CO2e) by sector × year."""
        import html

        head = f"<h4>{html.escape(repr(self))}</h4>"
        if not len(self._frame):
            return head + "<p>no result rows</p>"
        t = self.totals(by=("sector", "year"))
        table = t.pivot_table(index="sector", columns="year", values="co2e_t", aggfunc="sum") / 1e6
        table.columns = [str(c) for c in table.columns]
        note = "<p>territorial totals, Mt CO2e (" + html.escape(self.gwp) + "); all regions of the inventory</p>"
        return head + note + table.to_html(border=0, float_format=lambda v: f"{v:,.2f}", na_rep="–")

    @property
    def results(self) -> pd.DataFrame:
        """All result rows (:data:`RESULT_COLUMNS` plus ``co2e_t``), explain texts included."""
        if self._deferred is not None:
            ids, sink = self._deferred
            texts = self._frame["explain"].to_numpy(dtype=object).copy()
            hit = np.flatnonzero(ids >= 0)
            rendered = sink.render(ids[hit])
            texts[hit] = np.array(rendered, dtype=object) if rendered else texts[hit]
            frame = self._frame.copy(deep=False)
            frame["explain"] = pd.Series(texts, index=frame.index, dtype=object)
            self._frame = frame
            self._deferred = None
        return self._frame

    @results.setter
    def results(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._deferred = None
        self.__dict__.pop("_lean", None)

    def _explain_texts(self, mask: np.ndarray) -> list[str]:
        """The explain texts of the rows selected by ``mask``, rendering only those."""
        col = self._frame["explain"].to_numpy(dtype=object)[mask]
        if self._deferred is None:
            return list(col)
        ids, sink = self._deferred
        sel = ids[mask]
        out = list(col)
        hit = np.flatnonzero(sel >= 0)
        for p, t in zip(hit.tolist(), sink.render(sel[hit]), strict=True):
            out[p] = t
        return out

    @cached_property
    def _lean(self) -> pd.DataFrame:
        """Key columns as categoricals (fast masks and group-bys), plus sector; no explain text."""
        r = self._frame
        cats = get_categories()
        category = _categorical(r["category"].to_numpy(dtype=object))
        sector_of = [cats[c].sector if c in cats else "" for c in category.categories]
        sectors = sorted(set(sector_of))
        rank = np.array([sectors.index(x) for x in sector_of], dtype=np.int64)
        sector = pd.Categorical.from_codes(
            rank[category.codes] if len(rank) else np.zeros(0, dtype=np.int64),
            categories=pd.Index(np.array(sectors, dtype=object)),
            validate=False,
        )
        return pd.DataFrame(
            {
                "year": r["year"].to_numpy(),
                "region": _categorical(r["region"].to_numpy(dtype=object)),
                "category": category,
                "item": _categorical(r["item"].to_numpy(dtype=object)),
                "gas": _categorical(r["gas"].to_numpy(dtype=object)),
                "scope": _categorical(r["scope"].to_numpy(dtype=object)),
                "sector": sector,
                "mass_t": r["mass_t"].to_numpy(dtype=float),
                "co2e_t": r["co2e_t"].to_numpy(dtype=float),
            }
        )

    def _mask(self, year: int | None = None, region: str | None = None) -> np.ndarray:
        lean = self._lean
        m = np.ones(len(lean), dtype=bool)
        if year is not None:
            m &= lean["year"].to_numpy() == int(year)
        if region is not None:
            m &= (lean["region"] == region).to_numpy()
        return m

    # -- selection ---------------------------------------------------------------------------
    def select(
        self, year: int | None = None, region: str | None = None, *, explain: bool = True
    ) -> pd.DataFrame:
        """Result rows of one year and/or region; ``explain=False`` leaves out the explain texts
        (and does not build them), for callers that only need the figures."""
        if not explain:
            frame = self._frame if year is None and region is None else self._frame[self._mask(year, region)]
            return frame.drop(columns=["explain"])
        if year is None and region is None:
            return self.results
        return self.results[self._mask(year, region)]

    def export(self, year: int | None = None, region: str | None = None) -> pd.DataFrame:
        """Result rows for export (no explain text) plus one row per notation key.

        Column ``notation`` is blank on estimated rows; a notation-key row (``NE``, ``NO``, ...)
        has the key there and ``mass_t``/``co2e_t`` empty, so a missing figure is never exported
        as 0."""
        sel = self.select(year, region, explain=False).assign(notation="")
        keys = self.notation_keys(year, region)
        if keys.empty:
            return sel
        extra = pd.DataFrame(
            {
                "year": keys["year"].astype("int64"),
                "region": keys["region"],
                "category": keys["category"],
                "item": "",
                "gas": keys["gas"],
                "mass_t": np.nan,
                "scope": "territorial",
                "co2e_t": np.nan,
                "notation": keys["key"],
            }
        )
        out = pd.concat([sel, extra], ignore_index=True)
        out.attrs = dict(sel.attrs)
        return out

    @property
    def territorial(self) -> pd.DataFrame:
        """Rows counted in the totals (what uncertainty and key-category analysis work on)."""
        return self.results[(self._lean["scope"] == "territorial").to_numpy()]

    def totals(
        self,
        by: Sequence[str] = ("year", "region"),
        scope: str = "territorial",
        include_lulucf: bool = True,
    ) -> pd.DataFrame:
        """co2e_t (and mass_t when grouped by gas) summed by the given columns.

        ``by`` may name ``year``, ``region``, ``category``, ``item``, ``gas``, ``scope``, ``sector``.
        Territorial totals carry ``notation``: ``"NE"`` (or ``"C"``) when a category inside the
        group is not estimated, so the figure is incomplete (a wholly missing group gets a row
        with ``co2e_t`` NaN); blank when complete.
        """
        lean = self._lean
        m = (lean["scope"] == scope).to_numpy().copy()
        if not include_lulucf:
            m &= (lean["sector"] != "lulucf").to_numpy()
        r = lean[m]
        by = list(by)
        cols = ["co2e_t"] + (["mass_t"] if "gas" in by else [])
        if not by:
            return pd.DataFrame({c: [float(r[c].sum())] for c in cols})
        out = r.groupby(by, sort=True, as_index=False, observed=True)[cols].sum()
        for c in by:
            if isinstance(out[c].dtype, pd.CategoricalDtype):
                out[c] = out[c].astype(object)
        if scope == "territorial":
            out = self._flag_incomplete(out, by, include_lulucf)
        return out

    def _flag_incomplete(self, out: pd.DataFrame, by: list[str], include_lulucf: bool) -> pd.DataFrame:
        """Add ``notation``: the incomplete keys (NE, C) inside each group, blank when complete.

        Groups that are wholly not estimated get a row of their own (co2e_t NaN), so a missing
        figure never reads as zero."""
        from carbonpeak.accounting.notation import INCOMPLETE_KEYS

        out = out.assign(notation="")
        known = {"year", "region", "category", "gas", "sector"}
        if not set(by) <= known:
            return out
        keys = self._notation
        keys = keys[keys["key"].isin(INCOMPLETE_KEYS)]
        if keys.empty:
            return out
        cats = get_categories()
        keys = keys.assign(sector=keys["category"].map(lambda c: cats[c].sector if c in cats else ""))
        if not include_lulucf:
            keys = keys[keys["sector"] != "lulucf"]
        if keys.empty:
            return out
        flag = keys.groupby(by, sort=True)["key"].agg(lambda k: ",".join(sorted(set(k)))).reset_index()
        flag = flag.rename(columns={"key": "_flag"})
        merged = out.merge(flag, on=by, how="outer")
        merged["notation"] = merged["_flag"].fillna("")
        return merged.drop(columns=["_flag"]).sort_values(by).reset_index(drop=True)

    # -- the JSON contract -------------------------------------------------------------------
    def summary(self, year: int | None = None, region: str | None = None) -> dict[str, Any]:
        """The inventory summary (keys documented in docs/inventory.md)."""
        return self._summaries(year, region, by_year=False)[year]

    def summary_by_year(self, region: str | None = None) -> dict[int, dict[str, Any]]:
        """``{year: self.summary(year=year, region=region)}`` for every year of the inventory
        (of ``region``), computed in one grouped pass over the rows instead of one pass a year."""
        return self._summaries(None, region, by_year=True)

    def _summaries(
        self, year: int | None, region: str | None, *, by_year: bool
    ) -> dict[Any, dict[str, Any]]:
        """The summaries of the selected rows: one keyed ``year`` (``by_year=False``), or one per
        year present.  Every figure is the same as a pass over that year's rows alone: a year's
        rows keep their order (stable sort) and the group sums run on the same rows in the same
        order (pandas' group sums, NumPy's pairwise sums of the contiguous slices)."""
        sel = self._lean[self._mask(year, region)]
        n = len(sel)
        years_all = sel["year"].to_numpy()
        if by_year:
            order = np.argsort(years_all, kind="stable")
            sel = sel.iloc[order]
            ys = sel["year"].to_numpy()
            keys_y = [int(y) for y in np.unique(ys)]
            bounds = [*np.searchsorted(ys, keys_y, side="left").tolist(), n]
            spans = {y: (bounds[i], bounds[i + 1]) for i, y in enumerate(keys_y)}
            group = pd.Categorical.from_codes(
                np.repeat(np.arange(len(keys_y)), np.diff(bounds)), categories=keys_y
            ) if keys_y else pd.Categorical([], categories=[0])
        else:
            spans = {year: (0, n)}
            group = pd.Categorical.from_codes(np.zeros(n, dtype=np.int64), categories=[year if year is not None else -1])
        key_of = dict(enumerate(spans))
        sel = sel.assign(_g=group)
        is_terr = (sel["scope"] == "territorial").to_numpy()
        terr = sel[is_terr]
        t_pos = np.flatnonzero(is_terr)
        t_co2e = terr["co2e_t"].to_numpy()
        t_lulucf = (terr["sector"] == "lulucf").to_numpy()

        def per_group(frame: pd.DataFrame, keys: list[str], cols: list[str]) -> dict[int, dict[Any, Any]]:
            """``{group: {key labels: sums of cols}}`` of ``frame`` grouped by the summary group and
            ``keys`` (pandas' group sums over one integer key: the same sums, in the same order,
            as grouping by the categoricals, at half the cost; rows with a missing key left out)."""
            code = frame["_g"].cat.codes.to_numpy().astype(np.int64)
            ok = code >= 0
            labels = []
            for k in keys:
                c = frame[k].cat.codes.to_numpy()
                ok &= c >= 0
                labels.append(np.asarray(frame[k].cat.categories.to_numpy(), dtype=object))
                code = code * len(labels[-1]) + c
            values = pd.DataFrame({c: frame[c].to_numpy()[ok] for c in cols})
            res = values.groupby(code[ok], sort=True).sum()
            rest = res.index.to_numpy()
            decoded = []
            for lab in reversed(labels):
                rest, r = np.divmod(rest, len(lab))
                decoded.append(lab[r])
            names = list(zip(*reversed(decoded), strict=True)) if decoded else []
            sums = res.to_numpy()
            out: dict[int, dict[Any, Any]] = {}
            for g, name, row in zip(rest.tolist(), names, sums, strict=True):
                out.setdefault(g, {})[name[0] if len(keys) == 1 else name] = (
                    float(row[0]) if len(cols) == 1 else tuple(float(v) for v in row)
                )
            return out

        cat_leaf = per_group(terr, ["category"], ["co2e_t"])
        sec = per_group(terr, ["sector"], ["co2e_t"])
        gas_mass = per_group(terr, ["gas"], ["mass_t"])
        gas_co2e = per_group(terr, ["gas"], ["co2e_t"])
        scope_gas_all = per_group(sel, ["scope", "gas"], ["mass_t", "co2e_t"])
        order = {c: i for i, c in enumerate(get_categories())}
        ref_all = self.reference_check(year, region)
        region_cats = np.asarray(sel["region"].cat.categories.to_numpy(), dtype=object)
        region_codes = sel["region"].cat.codes.to_numpy()
        keys_all = self.notation_keys(year, region)
        from carbonpeak.accounting.notation import INCOMPLETE_KEYS, describe

        # the incomplete-total warning of each (year, region), built once for all the summaries
        described: dict[tuple[int, str], Msg] = {}
        incomplete_all = keys_all[keys_all["key"].isin(INCOMPLETE_KEYS)]
        for (y, reg), grp in incomplete_all.groupby(["year", "region"], sort=True):
            described[(int(y), str(reg))] = Msg(
                "warning.incomplete_total", region=str(reg), year=int(y), keys=describe(grp)
            )

        out: dict[Any, dict[str, Any]] = {}
        for gi, gkey in key_of.items():
            lo, hi = spans[gkey]
            gyear = gkey if by_year else year
            tlo, thi = np.searchsorted(t_pos, [lo, hi]).tolist()
            co2e = t_co2e[tlo:thi]
            total = float(co2e.sum())
            lulucf_mask = t_lulucf[tlo:thi]
            lulucf = float(co2e[lulucf_mask].sum())
            removals = float(co2e[lulucf_mask & (co2e < 0)].sum())
            by_category: dict[str, float] = {}
            for code, v in cat_leaf.get(gi, {}).items():
                for a in ancestors(str(code)):
                    by_category[a] = by_category.get(a, 0.0) + v
            by_category = dict(sorted(by_category.items(), key=lambda kv: order.get(kv[0], 1 << 30)))

            def as_dict(parts: dict[int, dict[Any, Any]], g: int = gi) -> dict[str, float]:
                return {str(k): v for k, v in parts.get(g, {}).items()}

            scope_gas = scope_gas_all.get(gi, {})

            def scope_sum(
                sc: str, col: str = "mass_t", gas: str | None = "CO2", sg: dict[Any, Any] = scope_gas
            ) -> float:
                j = 0 if col == "mass_t" else 1
                part = [(g, v[j]) for (s, g), v in sg.items() if s == sc]  # in the gases' order
                if not part:
                    return 0.0
                if gas is None:
                    return float(np.array([v for _, v in part], dtype=float).sum())
                return dict(part).get(gas, 0.0)

            elec = scope_sum("memo_imported_electricity", "co2e_t", None)
            ref_check = ref_all if not by_year else [r for r in ref_all if r["year"] == gyear]
            ref_total = float(sum(r["reference_co2_t"] for r in ref_check))
            sect_total = float(sum(r["sectoral_co2_t"] for r in ref_check))
            memo = {
                "imported_electricity_co2_t": scope_sum("memo_imported_electricity"),
                "international_bunkers_co2_t": scope_sum("memo_international_bunkers"),
                "international_bunkers_co2e_t": scope_sum("memo_international_bunkers", "co2e_t", None),
                "biomass_co2_t": scope_sum("memo_biomass_co2"),
                "reference_approach_co2_t": ref_total if ref_check else None,
                "sectoral_approach_co2_t": sect_total if ref_check else None,
                "reference_vs_sectoral_difference_pct": (
                    (ref_total - sect_total) / sect_total * 100.0 if ref_check and sect_total else None
                ),
                "reference_check": ref_check,
            }
            regions = sorted(str(r) for r in region_cats[np.unique(region_codes[lo:hi])])
            warnings: list[str] = []  # Msg objects (message key + parameters); each str is the English text
            if "GD" in regions and any(r.startswith("GD-") for r in regions):
                warnings.append(Msg("warning.province_and_cities"))
            data_warnings = self.data_warnings(gyear, region)
            warnings.extend(
                Msg.of(w) if w.get("message_key") in DECLARED else w["message"]
                for w in data_warnings
            )
            keys = (
                keys_all if not by_year
                else keys_all[(keys_all["year"] == int(gyear)).to_numpy()].reset_index(drop=True)
            )
            incomplete = keys[keys["key"].isin(INCOMPLETE_KEYS)]
            warnings.extend(m for (y, _reg), m in described.items() if not by_year or y == gyear)
            for chk in ref_check:
                if chk["flag"]:
                    if chk["difference_pct"] is None:
                        warnings.append(Msg("warning.reference_check_na", region=str(chk["region"]),
                                            year=int(chk["year"])))
                    else:
                        warnings.append(Msg("warning.reference_check", difference=float(chk["difference_pct"]),
                                            region=str(chk["region"]), year=int(chk["year"])))
            out[gkey] = {
                "gwp": self.gwp,
                "years": sorted(int(y) for y in np.unique(years_all)) if not by_year else [int(gyear)],
                "regions": regions,
                "warnings": warnings,
                "data_warnings": data_warnings,
                "total_co2e_t": total,
                "total_flag": (
                    ",".join(sorted(set(incomplete["key"]))) if len(incomplete) else None
                ),
                "complete": not len(incomplete),
                "notation_keys": keys.to_dict("records"),
                "total_excluding_lulucf_co2e_t": total - lulucf,
                "lulucf_co2e_t": lulucf,
                "removals_co2e_t": removals,
                "consumption_based_co2e_t": total + elec,
                "by_sector": as_dict(sec),
                "by_category": by_category,
                "by_gas": as_dict(gas_mass),
                "by_gas_co2e_t": as_dict(gas_co2e),
                "memo": memo,
                "factor_overrides": self.factor_overrides(
                    None
                    if (gyear is None and region is None) or not self.factor_files
                    else self.select(gyear, region)
                ),
                "rows": hi - lo,
            }
        return out

    @cached_property
    def _notation(self) -> pd.DataFrame:
        from carbonpeak.accounting import notation as nk

        lean = self._lean
        terr = lean[(lean["scope"] == "territorial").to_numpy()]
        decl = self._declared_keys if self._declared_keys is not None else nk.empty()
        return nk.combine(nk.infer_not_estimated(terr), decl)

    def notation_keys(self, year: int | None = None, region: str | None = None) -> pd.DataFrame:
        """IPCC notation keys (NE, NO, NA, IE, C) of the inventory: inferred ``NE`` for
        categories missing in a year that other years estimate, and the declared keys
        (:mod:`carbonpeak.accounting.notation`).  Columns ``year, region, category, gas, key,
        source, note``."""
        k = self._notation
        m = np.ones(len(k), dtype=bool)
        if year is not None:
            m &= (k["year"] == int(year)).to_numpy()
        if region is not None:
            m &= (k["region"] == region).to_numpy()
        return k[m].reset_index(drop=True)

    def change(self, base_year: int, year: int, region: str | None = None) -> dict[str, Any]:
        """Change of the territorial total from ``base_year`` to ``year``, over comparable categories.

        A (region, category, gas) that is not estimated (NE/C) in either year is left out of
        both years (and listed in ``excluded``) so that a missing figure does not invent a
        change; ``complete`` says whether nothing had to be left out.
        """
        from carbonpeak.accounting.notation import INCOMPLETE_KEYS

        lean = self._lean
        terr = lean[(lean["scope"] == "territorial").to_numpy()]
        if region is not None:
            terr = terr[(terr["region"] == region).to_numpy()]
        keys = self.notation_keys(region=region)
        bad = keys[keys["key"].isin(INCOMPLETE_KEYS) & keys["year"].isin([int(base_year), int(year)])]
        excl = {(r.region, r.category, r.gas) for r in bad.itertuples(index=False)}
        excl_cats = {(r.region, r.category) for r in bad.itertuples(index=False) if not r.gas}

        def total(y: int, comparable: bool) -> float:
            t = terr[terr["year"].to_numpy() == int(y)]
            if comparable and (excl or excl_cats):
                tri = zip(t["region"].astype(str), t["category"].astype(str), t["gas"].astype(str), strict=True)
                keep = np.array(
                    [(a, b, c) not in excl and (a, b) not in excl_cats for a, b, c in tri], dtype=bool
                )
                t = t[keep]
            return float(t["co2e_t"].sum())

        b0, b1 = total(base_year, True), total(year, True)
        return {
            "base_year": int(base_year),
            "year": int(year),
            "region": region,
            "base_co2e_t": b0,
            "co2e_t": b1,
            "change_co2e_t": b1 - b0,
            "change_pct": (b1 - b0) / abs(b0) * 100.0 if b0 else None,
            "complete": not len(bad),
            "excluded": bad.to_dict("records"),
            "reported_base_co2e_t": total(base_year, False),
            "reported_co2e_t": total(year, False),
        }

    def data_warnings(self, year: int | None = None, region: str | None = None) -> list[dict[str, Any]]:
        """The methods' data warnings (structured) for one year and/or region."""
        return [
            dict(w)
            for w in self.warnings
            if (year is None or w.get("year") in (None, int(year)))
            and (region is None or w.get("region") in (None, region))
        ]

    def reference_check(self, year: int | None = None, region: str | None = None) -> list[dict[str, Any]]:
        """Reference vs sectoral approach CO2 per (year, region) that has reference data.

        IPCC 2006 Vol 2 Ch 6 §6.8: sectoral = fuel-combustion CO2 (1.A, territorial, without
        biomass and bunkers); differences beyond ±5 % are flagged for explanation.
        """
        sel = self._lean[self._mask(year, region)]
        co2 = sel[(sel["gas"] == "CO2").to_numpy()]
        ref = co2[(co2["scope"] == "memo_reference_approach").to_numpy()]
        if ref.empty:
            return []
        ref_by = ref.groupby(["year", "region"], observed=True)["mass_t"].sum()
        cat = co2["category"]
        in_1a = cat.map({c: is_prefix("1.A", str(c)) for c in cat.cat.categories}).to_numpy(dtype=bool)
        comb = co2[(co2["scope"] == "territorial").to_numpy() & in_1a]
        sect_by = comb.groupby(["year", "region"], observed=True)["mass_t"].sum()
        out: list[dict[str, Any]] = []
        for (y, reg), rv in ref_by.items():
            sv = float(sect_by.get((y, reg), 0.0))
            diff = (float(rv) - sv) / sv * 100.0 if sv else None
            out.append(
                {
                    "year": int(y),
                    "region": str(reg),
                    "reference_co2_t": float(rv),
                    "sectoral_co2_t": sv,
                    "difference_pct": diff,
                    "flag": diff is None or abs(diff) > REFERENCE_TOLERANCE_PCT,
                }
            )
        return out

    def factor_overrides(self, rows: pd.DataFrame | None = None) -> dict[str, Any]:
        """User-override factors used by ``rows`` (default: all results), one entry per factor."""
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        # without override files no factor can be overridden (and no explain text is needed)
        r = (self.results if rows is None else rows) if self.factor_files else self._frame.iloc[:0]
        if len(r) and self.factor_files:
            hit = r["explain"].str.contains('"overridden": true', regex=False)
            for text in r.loc[hit, "explain"].unique():
                for f in _factors_in(json.loads(text)):
                    if f.get("overridden"):
                        seen.setdefault(_factor_key(f), f)
        return {"files": list(self.factor_files), "used": list(seen.values())}

    def explain(
        self,
        category: str,
        year: int | None = None,
        region: str | None = None,
        gas: str | None = None,
        item: str | None = None,
    ) -> dict[str, Any]:
        """The rows and factors behind the figure of ``category`` (and its sub-categories)."""
        lean = self._lean
        cat = lean["category"]
        m = self._mask(year, region) & cat.map(
            {c: is_prefix(category, str(c)) for c in cat.cat.categories}
        ).to_numpy(dtype=bool)
        if gas:
            m &= (lean["gas"] == gas).to_numpy()
        if item:
            m &= (lean["item"] == item).to_numpy()
        rows = self._frame[m]
        texts = self._explain_texts(m)
        cats = get_categories()
        factors: dict[tuple[Any, ...], dict[str, Any]] = {}
        out_rows: list[dict[str, Any]] = []
        for r, text in zip(rows.itertuples(index=False), texts, strict=True):
            ex = json.loads(text) if text else {}
            for f in _factors_in(ex):
                factors.setdefault(_factor_key(f, "region", "year_from"), f)
            out_rows.append(
                {
                    "year": int(r.year),
                    "region": r.region,
                    "category": r.category,
                    "item": r.item,
                    "gas": r.gas,
                    "scope": r.scope,
                    "mass_t": float(r.mass_t),
                    "co2e_t": float(r.co2e_t),
                    "factor_key": r.factor_key,
                    "gwp": self._gwp_record(str(r.gas), str(r.category), str(r.item)),
                    "explain": ex,
                }
            )
        terr = rows[rows["scope"] == "territorial"]
        return {
            "category": category,
            "name_en": cats[category].name_en if category in cats else None,
            "name_zh": cats[category].name_zh if category in cats else None,
            "year": year,
            "region": region,
            "gas": gas,
            "item": item,
            "gwp": self.gwp,
            "total_co2e_t": float(terr["co2e_t"].sum()),
            "mass_t_by_gas": {str(k): float(v) for k, v in terr.groupby("gas")["mass_t"].sum().items()},
            "memo_co2e_t": {
                str(k): float(v)
                for k, v in rows[rows["scope"] != "territorial"].groupby("scope")["co2e_t"].sum().items()
            },
            "overridden": any(f.get("overridden") for f in factors.values()),
            "factors": list(factors.values()),
            "rows": out_rows,
        }

    def _gwp_record(self, gas: str, category: str, item: str) -> dict[str, Any]:
        """Which GWP-100 the row was weighted with, and why (fossil or non-fossil CH4)."""
        value, key = gwp_for(gas, category, item, self.gwp)
        rec: dict[str, Any] = {"set": self.gwp, "gas": key, "value": value}
        src = gwp_sources(self.gwp)
        rec["source"] = src.get(key, src.get(gas, ""))
        if gas == "CH4":
            fossil = gwp_gas(gas, category, item) == "CH4_fossil"
            rec["ch4_origin"] = "fossil" if fossil else "non-fossil"
            if fossil and key not in gwp_values(self.gwp):
                rec["note"] = f"{self.gwp} has one CH4 value; fossil CH4 weighted with it"
            elif fossil:
                rec["note"] = "fossil CH4 (IPCC AR6 WG1 Table 7.15: 29.8, includes the CO2 from its oxidation)"
        return rec

    def sinks(self, year: int | None = None, region: str | None = None) -> pd.DataFrame:
        """Removals on their own: territorial LULUCF rows with negative mass."""
        lean = self._lean
        m = (
            self._mask(year, region)
            & (lean["scope"] == "territorial").to_numpy()
            & (lean["sector"] == "lulucf").to_numpy()
            & (lean["mass_t"].to_numpy() < 0)
        )
        cols = ["year", "region", "category", "item", "gas", "mass_t", "co2e_t"]
        lul = self._frame.loc[m, cols]
        return (
            lul.groupby(cols[:5], as_index=False)[["mass_t", "co2e_t"]]
            .sum()
            .sort_values(cols[:5])
            .reset_index(drop=True)
        )


def _categorical(values: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(values)`` of an object array of text (sorted categories), built from one
    hash pass (``pd.factorize``) and a sort of the distinct values: a third of the constructor's
    time on the engine's 260,000 result rows."""
    codes, uniques = pd.factorize(values)
    if (codes < 0).any():  # missing values: the constructor's own handling
        return pd.Categorical(values)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return pd.Categorical.from_codes(
        rank[codes], categories=pd.Index(np.asarray(uniques, dtype=object)[order]), validate=False
    )


def _factor_key(f: dict[str, Any], *more: str) -> tuple[Any, ...]:
    """What tells one factor record from another (origin, item, parameter, gas, category, and ``more``)."""
    return tuple(f.get(k) for k in ("origin", "item", "parameter", "gas", "category", *more))


def _factors_in(obj: Any) -> Iterable[dict[str, Any]]:
    """Every factor record (a dict with ``parameter`` and ``source``) inside an explain record."""
    if isinstance(obj, dict):
        if "parameter" in obj and "source" in obj and "value" in obj:
            yield obj
        else:
            for v in obj.values():
                yield from _factors_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _factors_in(v)
