"""Redistricting: township merges and village consolidation.

Each operation returns the new :class:`~qzfp.register.Register` and a :class:`Mapping` from
the old to the new row order, so that anything computed on the old register (projected
populations, age structures, posts) can be summed onto the new one exactly with
:meth:`Mapping.aggregate`.

Codes stay stable and traceable: a merged unit keeps the code (and name) of the unit that
absorbs the others, or takes the new code given in a plan, and its ``merged_from`` column
lists every code absorbed so far (``;``-separated).

The 2006 township adjustment of the Quzhou report is reproducible from the shipped data::

    from qzfp.register import example_plan_path, load_register
    from qzfp.register.redistricting import merge_townships
    before = load_register(view="pre2006")                  # 139 units, mean ≈ 17,755
    after, mapping = merge_townships(before, example_plan_path("pre2006", "2006"))
    # after equals load_register(view="2006"): 106 units, mean ≈ 23,283, largest 60,000
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from qzfp.errors import Label, Problem, RegisterError
from qzfp.register.files import csv_rows
from qzfp.register.schema import OptionalCode, TableSchema, Text, validate_frame
from qzfp.register.tables import Register, township_kind_from_name
from qzfp.register.validate import read_table

__all__ = ["Mapping", "consolidate_villages", "merge_to_target", "merge_townships"]

PLAN_ALIASES = {
    "old_code": ["old_code", "原代码", "原乡镇代码", "旧代码"],
    "new_code": ["new_code", "新代码", "新乡镇代码"],
    "new_name_zh": ["new_name_zh", "新名称", "新乡镇名称"],
    "new_name_en": ["new_name_en", "新英文名", "新英文名称"],
}


class MergePlanTable(TableSchema):
    """A township merge plan (an empty code is said by :func:`merge_townships`)."""

    old_code: list[OptionalCode]
    new_code: list[OptionalCode]
    new_name_zh: list[Text] | None = None
    new_name_en: list[Text] | None = None


@dataclass(frozen=True, eq=False)
class Mapping:
    """Old → new row indices of a redistricting step.

    Attributes
    ----------
    township : np.ndarray
        (S_old,) index of each old township in the new register's townships.
    village : np.ndarray
        (V_old,) index of each old village in the new register's villages.
    n_townships, n_villages : int
        Number of townships and villages of the new register.
    notes : tuple of str
        What could not be done as asked (e.g. villages that could not be merged).
    """

    township: np.ndarray
    village: np.ndarray
    n_townships: int
    n_villages: int
    notes: tuple[str, ...] = ()
    _plan: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for level, idx, n in (("township", self.township, self.n_townships),
                              ("village", self.village, self.n_villages)):
            order = np.argsort(idx, kind="stable")
            sorted_idx = idx[order]
            starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
            if len(idx) and not np.array_equal(sorted_idx[starts], np.arange(n)):
                raise ValueError(f"{level} mapping does not cover every new unit")
            self._plan[level] = (order, starts)

    def aggregate(self, array: np.ndarray, axis: int = -1, level: str | None = None
                  ) -> np.ndarray:
        """Sum an array over the old units that form each new unit.

        Parameters
        ----------
        array : np.ndarray
            Any array whose ``axis`` runs over the old townships (S_old) or villages (V_old).
        axis : int
            The axis to aggregate.
        level : {"township", "village"}, optional
            Which level ``axis`` is; inferred from its length when omitted.

        Returns
        -------
        np.ndarray
            Same shape and dtype except that ``axis`` has the new length; sums are exact
            for integer arrays.
        """
        array = np.asarray(array)
        size = array.shape[axis]
        if level is None:
            fits = [lv for lv, idx in (("township", self.township), ("village", self.village))
                    if len(idx) == size]
            if len(fits) != 1:
                raise ValueError(f"cannot tell whether axis {axis} (length {size}) runs over "
                                 f"townships ({len(self.township)}) or villages "
                                 f"({len(self.village)}); pass level=")
            level = fits[0]
        idx = self.township if level == "township" else self.village
        if size != len(idx):
            raise ValueError(f"axis {axis} has length {size}, expected {len(idx)} {level}s")
        order, starts = self._plan[level]
        return np.add.reduceat(np.take(array, order, axis=axis), starts, axis=axis)


def _hash(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
    return h.hexdigest()


def _join_codes(*groups: object) -> str:
    codes: set[str] = set()
    for g in groups:
        for item in ([g] if isinstance(g, str) else g):
            codes.update(c for c in str(item).split(";") if c)
    return ";".join(sorted(codes))


def _read_plan(plan: pd.DataFrame | str | Path) -> tuple[pd.DataFrame, str, bytes]:
    problems: list[Problem] = []
    if isinstance(plan, pd.DataFrame):
        where = "plan"
        df = plan.copy()
        missing = [c for c in ("old_code", "new_code") if c not in df]
        extra = [c for c in df.columns if c not in PLAN_ALIASES]
        if missing or extra:
            raise RegisterError(Problem(where, "plan.bad_columns", missing=missing, extra=extra))
        df = df.fillna("").astype(str).apply(lambda s: s.str.strip())
        df["_row"] = np.arange(len(df)) + 2
        raw = df.to_csv(index=False).encode()
    else:
        path = Path(plan)
        where = str(path)
        if not path.is_file():
            raise RegisterError(Problem(where, "plan.file_not_found"))
        df = read_table(csv_rows(path, problems), "plan", where, problems,
                        aliases=PLAN_ALIASES, required=["old_code", "new_code"])
        if df is not None:
            validate_frame(MergePlanTable, df, where, problems)
        if df is None or problems:
            raise RegisterError(problems)
        raw = path.read_bytes()  # within the bounds of csv_rows
    for col in ("new_name_zh", "new_name_en"):
        if col not in df:
            df[col] = ""
    return df, where, raw


def merge_townships(register: Register, plan: pd.DataFrame | str | Path
                    ) -> tuple[Register, Mapping]:
    """Merge townships by an explicit plan.

    Parameters
    ----------
    register : Register
    plan : pd.DataFrame or path of a CSV
        Columns ``old_code, new_code`` and optionally ``new_name_zh, new_name_en``.  A
        ``new_code`` that exists in the register absorbs the others (it keeps its name);
        a new code needs ``new_name_zh``.  Townships not in the plan are unchanged.

    Returns
    -------
    (Register, Mapping)

    Raises
    ------
    RegisterError
        Unknown or duplicate old codes, empty codes, a merge across counties, a new code
        without a name, or a new code that is itself merged elsewhere.
    """
    df, where, raw = _read_plan(plan)
    t = register.townships
    county_of = t.set_index("township_code")["county_code"]
    problems: list[Problem] = []
    loc = [f"{where}:{r}" for r in df["_row"]]
    for i, (old, new) in enumerate(zip(df["old_code"], df["new_code"], strict=True)):
        if old == "":
            problems.append(Problem(loc[i], "table.empty_cell", column="old_code"))
        elif old not in county_of.index:
            problems.append(Problem(loc[i], "plan.not_a_township", code=old))
        if new == "":
            problems.append(Problem(loc[i], "table.empty_cell", column="new_code"))
    dup = df["old_code"].duplicated() & (df["old_code"] != "")
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(Problem(loc[i], "plan.duplicate_old_code", code=df["old_code"].iat[i]))
    target_of = dict(zip(df["old_code"], df["new_code"], strict=True))
    for i, new in enumerate(df["new_code"]):
        if new in target_of and target_of[new] != new:
            problems.append(Problem(loc[i], "plan.chained_merge", code=new, target=target_of[new]))
    if problems:
        raise RegisterError(problems)

    mapping = pd.Series(t["township_code"].to_numpy(), index=t["township_code"])
    mapping[df["old_code"].to_numpy()] = df["new_code"].to_numpy()
    groups = pd.DataFrame({"old": mapping.index, "new": mapping.to_numpy(),
                           "county": county_of[mapping.index].to_numpy()})
    counties_per_new = groups.groupby("new")["county"].nunique()
    for new in counties_per_new.index[counties_per_new > 1]:
        members = groups[groups["new"] == new]
        i = int(np.flatnonzero((df["new_code"] == new).to_numpy())[0])
        problems.append(Problem(loc[i], "plan.across_counties", code=new,
                                counties=", ".join(sorted(set(members.county)))))
    pop = pd.Series(register.township_population(), index=t["township_code"])
    new_rows = []
    for new, sub in df[~df["new_code"].isin(county_of.index)].groupby("new_code", sort=True):
        names = sorted(set(sub["new_name_zh"]) - {""})
        first = f"{where}:{sub['_row'].iat[0]}"
        if len(names) != 1:
            problems.append(Problem(first, "plan.needs_one_name", code=new,
                                    found=names or Label("noun.none")))
            continue
        members = t.set_index("township_code").loc[sub["old_code"]]
        kind = township_kind_from_name(names[0]) or members.loc[
            pop[sub["old_code"]].idxmax(), "kind"]
        en = sorted(set(sub["new_name_en"]) - {""})
        new_rows.append(dict(township_code=new, county_code=members["county_code"].iat[0],
                             name_zh=names[0], name_en=en[0] if en else names[0], kind=kind,
                             urban=kind == "subdistrict",
                             synthetic=bool(members["synthetic"].all()), merged_from=""))
    if problems:
        raise RegisterError(problems)

    kept = t[t["township_code"].isin(set(mapping.to_numpy()))].copy()
    new_t = pd.concat([kept, pd.DataFrame(new_rows, columns=t.columns)], ignore_index=True)
    merged_from = t.set_index("township_code")["merged_from"]
    absorbed = groups[groups["old"] != groups["new"]].groupby("new")["old"].apply(list)
    new_t["merged_from"] = [
        _join_codes(merged_from.get(code, ""), absorbed.get(code, []),
                    [merged_from[o] for o in absorbed.get(code, [])])
        for code in new_t["township_code"]]
    villages = register.villages.copy()
    villages["township_code"] = mapping[villages["township_code"]].to_numpy()
    new_reg = Register.from_tables(
        register.counties, new_t, villages,
        source=f"{register.source} + township merge plan {where}",
        sha256=_hash(register.sha256, raw), year=register.year)
    town_index = pd.Index(new_reg.townships["township_code"]).get_indexer(mapping.to_numpy())
    village_index = pd.Index(new_reg.villages["village_code"]).get_indexer(
        register.villages["village_code"])
    return new_reg, Mapping(town_index.astype(np.int64), village_index.astype(np.int64),
                            new_reg.n_townships, new_reg.n_villages)


def merge_to_target(register: Register, target_mean: float) -> tuple[Register, Mapping]:
    """Merge townships within each county until the county's mean reaches a target.

    In each county, repeatedly the smallest township merges with its smallest neighbour
    (another township of the same county, of the same kind if there is one); the merged
    unit keeps the code and name of the larger partner (ties: the lower code).  A county
    whose mean already reaches the target is unchanged.  Deterministic.

    Parameters
    ----------
    register : Register
    target_mean : float
        Target mean population per township [person], > 0.

    Returns
    -------
    (Register, Mapping)
        Each county ends with ``max(1, floor(population / target_mean))`` townships, or as
        many as it had if that was fewer.
    """
    if not np.isfinite(target_mean) or target_mean <= 0:
        raise RegisterError(Problem("merge_target", "plan.bad_target", value=target_mean))
    t = register.townships
    pop = register.township_population().astype(np.int64)
    codes = t["township_code"].to_numpy()
    kinds = t["kind"].to_numpy()
    final = codes.copy()
    for c in range(register.n_counties):
        alive = list(np.flatnonzero(register.township_county == c))
        p = {i: int(pop[i]) for i in alive}
        total = sum(p.values())
        while len(alive) > 1 and total / len(alive) < target_mean:
            small = min(alive, key=lambda i: (p[i], codes[i]))
            others = [i for i in alive if i != small]
            same = [i for i in others if kinds[i] == kinds[small]]
            partner = min(same or others, key=lambda i: (p[i], codes[i]))
            big, absorbed = sorted((small, partner), key=lambda i: (-p[i], codes[i]))
            p[big] += p.pop(absorbed)
            alive.remove(absorbed)
            final[final == codes[absorbed]] = codes[big]
    changed = final != codes
    plan = pd.DataFrame({"old_code": codes[changed], "new_code": final[changed]})
    new_reg, mapping = merge_townships(register, plan)
    new_reg = Register.from_tables(
        new_reg.counties, new_reg.townships, new_reg.villages,
        source=f"{register.source} + merged to a mean of {target_mean:g} per township",
        sha256=_hash(register.sha256, f"merge_to_target:{target_mean!r}"), year=register.year)
    return new_reg, mapping


def consolidate_villages(register: Register, below: int) -> tuple[Register, Mapping]:
    """Merge villages under a size into a larger village of the same township.

    Each village with fewer than ``below`` people joins the smallest village of its
    township that has at least ``below`` people, preferring one of the same kind
    (village/community).  In a township where no village reaches ``below``, all its
    villages are combined into its largest one; a township with a single small village
    cannot merge it.  Both cases are listed in ``Mapping.notes``.  The absorbing village
    keeps its code and name; ``merged_from`` lists the absorbed codes.

    Parameters
    ----------
    register : Register
    below : int
        Population threshold [person], ≥ 0 (0 changes nothing).

    Returns
    -------
    (Register, Mapping)
    """
    if not float(below).is_integer() or below < 0:
        raise RegisterError(Problem("village_merge_below", "plan.bad_threshold", value=below))
    v = register.villages.copy()
    v["_i"] = np.arange(len(v))
    small = v["population"] < below
    by_size = v.sort_values(["population", "village_code"])
    big = by_size[~small[by_size["_i"]].to_numpy()]
    same_kind = big.drop_duplicates(["township_code", "kind"]).set_index(
        ["township_code", "kind"])["village_code"]
    any_kind = big.drop_duplicates("township_code").set_index("township_code")["village_code"]
    largest = v.sort_values(["population", "village_code"], ascending=[False, True]) \
        .drop_duplicates("township_code").set_index("township_code")["village_code"]
    key = pd.MultiIndex.from_arrays([v["township_code"], v["kind"]])
    target = pd.Series(same_kind.reindex(key).to_numpy(), index=v.index)
    target = target.fillna(v["township_code"].map(any_kind))
    no_big = target.isna()
    target = target.fillna(v["township_code"].map(largest))
    target = target.where(small, v["village_code"])

    notes = []
    t_pop = v.groupby("township_code")["population"].sum()
    t_n = v.groupby("township_code").size()
    for tc in sorted(set(v.loc[no_big & small, "township_code"])):
        keep = largest[tc]
        if t_n[tc] == 1:
            notes.append(f'village "{keep}" ({t_pop[tc]} people) could not be merged: it is '
                         f'the only village of township "{tc}"')
        else:
            notes.append(f'township "{tc}": no village has {below} or more people; its '
                         f'{t_n[tc]} villages were combined into "{keep}" ({t_pop[tc]} people)')

    v["_target"] = target.to_numpy()
    kept = v[v["village_code"] == v["_target"]].set_index("village_code")
    sums = v.groupby("_target")[["population", "in_migrants"]].sum()
    absorbed = v[v["village_code"] != v["_target"]].groupby("_target")["village_code"].apply(
        list)
    old_from = v.set_index("village_code")["merged_from"]
    kept["population"] = sums["population"].reindex(kept.index).to_numpy()
    kept["in_migrants"] = sums["in_migrants"].reindex(kept.index).to_numpy()
    touched = kept.index.isin(absorbed.index)
    kept.loc[touched, "merged_from"] = [
        _join_codes(old_from[c], absorbed[c], [old_from[o] for o in absorbed[c]])
        for c in kept.index[touched]]
    new_v = kept.reset_index().drop(columns=["_i", "_target"])
    new_reg = Register.from_tables(
        register.counties, register.townships, new_v,
        source=f"{register.source} + villages under {below} consolidated",
        sha256=_hash(register.sha256, f"consolidate_villages:{below!r}"), year=register.year)
    village_index = pd.Index(new_reg.villages["village_code"]).get_indexer(v["_target"])
    return new_reg, Mapping(np.arange(register.n_townships, dtype=np.int64),
                            village_index.astype(np.int64), new_reg.n_townships,
                            new_reg.n_villages, notes=tuple(notes))
