"""The pipeline: register + scenario → population → staffing → workload → budget.

:func:`simulate` is the only place that chains the engines.  Each engine is a
pure function of arrays with a leading parameter-set axis N (see
:mod:`qzfp.rules.paramarrays`); :func:`run_arrays` runs the chain for any N (a
scenario, a sweep grid, a sensitivity set), and :class:`Results` turns the N = 1
case into the tidy tables that notebooks and reports show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Label, Problem, QzfpError, RegisterError, ScenarioError
from ..register import Register, load_register
from ..register.redistricting import consolidate_villages, merge_to_target, merge_townships
from ..register.sources import resolve_path, scenario_census, scenario_census_check
from ..rules.paramarrays import ParamArrays
from ..rules.scenario import Scenario, load_scenario, validate_scenario_file
from .arrays import unit_sum, unit_sums
from .backtest import check_against_census, fitted_rates
from .budget import BudgetResult, budget, budget_table, totals_table
from .engine import village_values
from .projection import PopulationResult, project
from .staffing import (
    StaffingResult,
    city_staffing_ratios,
    posts_table,
    staffing,
    staffing_ratios,
    village_table,
)
from .workload import WisnResult, wisn
from .workload_tables import components_table, wisn_table

DEMOGRAPHY_PREFIX = "demography."


def prepare_register(scenario: Scenario, register: Register | None = None, *,
                     check_size: bool = True) -> Register:
    """The register a scenario is computed on.

    Loads the scenario's ``register`` (the packaged example when empty) unless one
    is given, then applies, in this order, the scenario's ``township_plan`` (an
    explicit merge plan CSV), ``merge_target`` (automatic township merger to a
    mean population per county [person]) and ``village_merge_below``
    (consolidation of villages under a size [person]).

    Parameters
    ----------
    scenario : Scenario
    register : Register, optional
        Use this register instead of the scenario's ``register`` key.
    check_size : bool
        Refuse a run over :data:`MAX_VILLAGE_YEARS` (default); :func:`simulate` given a
        Register object of its caller's skips it (a program that builds a country-size
        register in memory takes the memory it needs).

    Returns
    -------
    Register
    """
    p = scenario.params
    if register is None:
        try:
            register = _load_register_cached(p.get("register") or "", scenario.path)
        except RegisterError as exc:  # name the scenario key that led to the register too
            where = scenario.key_location("register")
            raise RegisterError([q.at(f"{where}: {q.location}" if q.location else where)
                                 for q in exc.problems]) from None
    if p.get("township_plan"):
        plan = resolve_path(p["township_plan"], scenario.path)
        if not plan.is_file():
            raise RegisterError(Problem(scenario.key_location("township_plan"), "plan.does_not_exist",
                                        path=str(plan)))
        try:
            register, _ = merge_townships(register, plan)
        except RegisterError as exc:
            where = scenario.key_location("township_plan")
            raise RegisterError([q.at(f"{where}: {q.location}" if q.location else where)
                                 for q in exc.problems]) from None
    if int(p.get("merge_target") or 0) > 0:
        register, _ = merge_to_target(register, int(p["merge_target"]))
    if int(p.get("village_merge_below") or 0) > 0:
        register, _ = consolidate_villages(register, int(p["village_merge_below"]))
    if p.get("census") or p.get("census_date"):
        register = dataclasses.replace(register, census=scenario_census(scenario, register.counties["county_code"]))
    if p.get("census_check"):
        scenario_census_check(scenario)  # checked before anything runs, as the base's table
    if check_size:
        check_run_size(scenario, register)
    return register


#: Largest run [village-year]: villages × modelled years.  Memory bound: a run holds about
#: 0.5 kB per village-year (measured: 0.9 GB peak for 100,800 villages over 16 years,
#: see benchmarks/README.md) in each of up to three processes (two notebook kernels and the
#: data files), so this keeps a run near 0.5 GB a process.  The example register over the
#: longest horizon (2,800 villages × 101 years) needs 282,800.
MAX_VILLAGE_YEARS = 1_000_000


def check_run_size(scenario: Scenario, register: Register) -> None:
    """Refuse, before anything runs, a scenario whose register × years exceeds the bound.

    Raises
    ------
    ScenarioError
        At ``file:horizon`` with the size, the limit and the longest horizon that fits.
    """
    n_years = len(scenario.years)
    size = register.n_villages * n_years
    if size <= MAX_VILLAGE_YEARS:
        return
    fits = MAX_VILLAGE_YEARS // max(1, register.n_villages) - 1
    hint = (Label("hint.shorten_horizon", years=fits) if fits >= 0
            else Label("hint.split_register"))
    raise ScenarioError(Problem(scenario.key_location("horizon"), "run.too_large",
                                villages=register.n_villages, years=n_years, size=size,
                                max=MAX_VILLAGE_YEARS, hint=hint))


REGISTER_CACHE_SIZE = 8
"""Registers kept by :func:`prepare_register` [registers] (least recently used dropped)."""

_REGISTER_CACHE: OrderedDict[tuple, Register] = OrderedDict()


def _register_files(path: Path) -> list[Path]:
    """The files a register at ``path`` is read from (a folder: its three CSV files)."""
    if path.is_dir():
        return [path / f"{name}.csv" for name in ("counties", "townships", "villages")]
    return [path]


def register_content_hash(raw: str, scenario_path: Path | None = None) -> str:
    """SHA-256 of the content of the register files a scenario's ``register`` names.

    The key of every cache of registers and of results computed on them: a file
    rewritten in place (in JupyterLab, the explorer) changes the key even when the
    folder's modification time does not.  ``""`` names the packaged example.  A file is read
    and hashed again unless its stamp (inode, size, modification and change times) is one
    already hashed more than :data:`STAMP_TRUSTED_AFTER_NS` after its last write.

    Raises
    ------
    RegisterError
        The register file or folder does not exist.
    """
    if not raw:
        from ..register import DATA_DIR

        files = [DATA_DIR / "counties.csv", DATA_DIR / "townships_2006.csv", DATA_DIR / "villages.csv"]
    else:
        path = resolve_path(raw, scenario_path)
        if not path.exists():  # prepare_register names the scenario file and key
            raise RegisterError(Problem("", "register.file_does_not_exist", path=raw))
        files = _register_files(path)
    stamps = tuple(_file_stamp(f) for f in files)
    known = _FILE_HASHES.get(stamps)
    if known is not None:
        return known
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name};".encode())
        try:
            h.update(f.read_bytes())
        except OSError:  # a missing file of a folder: load_register names it
            h.update(b"<missing>")
    digest = h.hexdigest()
    # a stamp is trusted once every file is older than the file system's timestamp step: a later
    # write in place then gives it another modification (and change) time
    if None not in stamps and all(time.time_ns() - max(st[-2:]) > STAMP_TRUSTED_AFTER_NS for st in stamps):
        if len(_FILE_HASHES) >= 64:
            _FILE_HASHES.clear()
        _FILE_HASHES[stamps] = digest
    return digest


#: Age of a file's last write after which its stat stamp stands for its content [ns] (file
#: system timestamps advance in steps of up to a few ms; a second is ample).
STAMP_TRUSTED_AFTER_NS = 1_000_000_000

#: Content hashes of register files by their stamps (:func:`_file_stamp`): a run of a scenario
#: whose register has not been written since reads nothing to know it.
_FILE_HASHES: dict[tuple, str] = {}


def _file_stamp(f: Path) -> tuple | None:
    """What changes when a file is written: path, device, inode, size, modification and change
    times [ns] (None when it cannot be read)."""
    try:
        st = f.stat()
    except OSError:
        return None
    return (str(f), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _load_register_cached(raw: str, scenario_path: Path | None) -> Register:
    key = (str(resolve_path(raw, scenario_path).resolve()) if raw else "example",
           register_content_hash(raw, scenario_path))
    if key in _REGISTER_CACHE:
        _REGISTER_CACHE.move_to_end(key)
        return _REGISTER_CACHE[key]
    register = load_register(resolve_path(raw, scenario_path)) if raw else load_register()
    _REGISTER_CACHE[key] = register
    while len(_REGISTER_CACHE) > REGISTER_CACHE_SIZE:
        _REGISTER_CACHE.popitem(last=False)
    return register


@dataclass(frozen=True)
class ArrayResults:
    """Raw engine outputs for N parameter sets (leading axis N everywhere)."""

    pa: ParamArrays
    population: PopulationResult
    staffing: StaffingResult
    workload: WisnResult
    budget: BudgetResult


def run_arrays(register: Register, pa: ParamArrays, *, variant: str = "medium",
               population: PopulationResult | None = None) -> ArrayResults:
    """Run population → staffing → workload → budget for N parameter sets at once.

    Parameters
    ----------
    register : Register
    pa : ParamArrays
        Rules and assumptions, arrays (N, T).
    variant : str
        Projection variant (``medium``, ``low``, ``high``, ``constant``).
    population : PopulationResult, optional
        A projection to reuse (N = 1 or N = pa.n); computed when omitted.

    Returns
    -------
    ArrayResults
    """
    if population is None:
        population = project(register, pa, variant=variant)
    st = staffing(population, pa)
    wr = wisn(population, st, pa)
    br = budget(population, st, pa)
    return ArrayResults(pa, population, st, wr, br)


def demographic_paths(paths: list[str]) -> list[str]:
    """The paths among ``paths`` that change the population projection."""
    return [p for p in paths if p.startswith(DEMOGRAPHY_PREFIX)]


class Results:
    """Results of one scenario: tidy tables with units in the column names.

    Attributes
    ----------
    scenario : Scenario
    register : Register
        The register after the scenario's redistricting.
    arrays : ArrayResults
        The raw engine outputs (N = 1).
    """

    def __init__(self, scenario: Scenario, register: Register, arrays: ArrayResults):
        self.scenario = scenario
        self.register = register
        self.arrays = arrays

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def years(self) -> np.ndarray:
        return self.scenario.years

    def reference(self, path: str, year: int) -> str:
        """Reference text of a rule's value in force in a year."""
        param = self.scenario.parameter(path)
        return param.dated_value_at(dt.date(int(year), 1, 1)).reference

    def reference_zh(self, path: str, year: int) -> str:
        """Chinese reference of a rule's value in force in a year ("" when the rulebook gives
        none; :func:`qzfp.i18n.reference_text` then shows ``reference``)."""
        param = self.scenario.parameter(path)
        return param.dated_value_at(dt.date(int(year), 1, 1)).reference_zh

    # ---- tidy tables --------------------------------------------------------------
    @cached_property
    def population(self) -> pd.DataFrame:
        """Village indicators per year: population, aged 60+, women 15–49, births,
        deaths, net migration, in-migrants [person], and whether the village is at
        or above the staffing threshold in force."""
        df = self.arrays.population.villages()
        vt = village_table(self.arrays.staffing)
        df = df.merge(vt[["year", "village_code", "at_or_above_threshold"]], on=["year", "village_code"], how="left")
        return df

    @cached_property
    def population_age(self) -> pd.DataFrame:
        """County population by year, basis (registered 户籍 / resident 常住), sex and single
        year of age: ``year, county_code, basis, sex, age, persons`` [person]."""
        return self.arrays.population.population_age()

    @cached_property
    def census_fit(self) -> pd.DataFrame:
        """Per county: the census row used, fitted TFR and e0, census and fitted rates,
        resident migration and the register's factor (see ``docs/population.md``)."""
        return fitted_rates(self.arrays.population)

    @cached_property
    def census_check(self) -> pd.DataFrame | None:
        """The resident projection against the scenario's ``census_check`` table (None when
        the scenario names none): totals, 60+ and 65+ shares, index of dissimilarity."""
        later = scenario_census_check(self.scenario)
        return None if later is None else check_against_census(self.arrays.population, later)

    @cached_property
    def population_townships(self) -> pd.DataFrame:
        """Township indicators per year [person]."""
        return self.arrays.population.townships()

    @cached_property
    def population_counties(self) -> pd.DataFrame:
        """County indicators per year [person] (plus the city total)."""
        return self.arrays.population.counties()

    @cached_property
    def staffing(self) -> pd.DataFrame:
        """Posts required per year × county × township (× village), tidy."""
        return posts_table(self.arrays.staffing)

    @cached_property
    def staffing_villages(self) -> pd.DataFrame:
        """Village population, threshold flag and vice-president posts per year."""
        return village_table(self.arrays.staffing)

    @cached_property
    def workload(self) -> pd.DataFrame:
        """WISN per year × cadre × unit: required and provided staff, difference, ratio."""
        return wisn_table(self.arrays.workload)

    @cached_property
    def workload_components(self) -> pd.DataFrame:
        """WISN workload components: volume, activity standard, hours, per unit."""
        return components_table(self.arrays.workload)

    @cached_property
    def budget(self) -> pd.DataFrame:
        """Budget line items per year × county with quantity, unit cost, amount [yuan],
        funding split, rule path and reference."""
        return budget_table(self.arrays.budget, self.reference, references_zh=self.reference_zh)

    @cached_property
    def budget_totals(self) -> pd.DataFrame:
        """Budget totals per year (city) and per capita."""
        return totals_table(self.arrays.budget)

    @property
    def diagnostics(self) -> Any:
        """What the population engine counted (:class:`qzfp.model.diagnostics.Diagnostics`)."""
        return self.arrays.population.diagnostics

    def county_name_map(self, lang: str = "zh") -> dict[str, str]:
        """County code -> name in ``lang`` (``name_zh`` or ``name_en``) of the register."""
        c = self.register.counties
        col = "name_zh" if lang == "zh" or "name_en" not in c else "name_en"
        return dict(zip(c["county_code"].astype(str), c[col].astype(str), strict=True))

    def ratios(self) -> dict[str, np.ndarray]:
        """Staffing ratios planners quote (arrays, see :func:`qzfp.model.staffing.staffing_ratios`)."""
        return staffing_ratios(self.arrays.staffing)

    def summary(self) -> pd.DataFrame:
        """Key figures per year for the whole city.

        Columns: ``year``, ``population`` [person], ``aged_60plus`` [person],
        ``in_migrants`` [person], ``villages`` [village], ``villages_at_or_above_threshold``
        [village], ``village_vice_presidents``, ``township_vice_presidents``,
        ``county_posts``, ``total_posts`` [post], ``posts_per_10000`` [post per 10,000
        persons], ``people_without_village_vp`` [person], ``wisn_required_staff`` [post],
        ``townships_short_of_staff`` [township], ``budget_yuan`` [yuan],
        ``budget_per_capita_yuan`` [yuan/person].
        """
        a = self.arrays
        pop, st, wr, br = a.population, a.staffing, a.workload, a.budget
        ratios = city_staffing_ratios(st)
        twn = wr["township_vice_president"]
        required = sum(unit_sums(c.required_staff)[0] for c in wr.cadres.values())
        total_pop = unit_sums(st.village_pop_values)[0]
        n_villages = st.n_villages
        out = pd.DataFrame({
            "year": self.years,
            "population": total_pop,
            "aged_60plus": unit_sums(village_values(pop, "village_aged_60plus", len(self.years), n_villages))[0],
            "in_migrants": unit_sums(village_values(pop, "village_in_migrants", len(self.years), n_villages))[0],
            "villages": np.full(len(self.years), n_villages),
            "villages_at_or_above_threshold": unit_sum(st.at_or_above_threshold[0]),
            "village_vice_presidents": unit_sums(st.village_posts)[0],
            "township_vice_presidents": st.township_vice_presidents[0].sum(axis=-1),
            "county_posts": st.county_total_posts[0].sum(axis=-1),
            "total_posts": st.county_all_posts[0].sum(axis=-1),
            "posts_per_10000": ratios["posts_per_10000"][0],
            "people_without_village_vp": ratios["people_without_village_vp"][0],
            "wisn_required_staff": required,
            "townships_short_of_staff": (twn.ratio[0] < 1).sum(axis=-1),
            "budget_yuan": br.year_total[0],
            "budget_per_capita_yuan": br.per_capita[0],
        })
        return out

    def key_figures(self) -> dict[str, Any]:
        """Headline figures for the report index (first and last year, horizon total)."""
        s = self.summary()
        first, last = s.iloc[0], s.iloc[-1]
        return {
            "first_year": int(first["year"]),
            "last_year": int(last["year"]),
            "population_first": float(first["population"]),
            "population_last": float(last["population"]),
            "village_vice_presidents_first": float(first["village_vice_presidents"]),
            "village_vice_presidents_last": float(last["village_vice_presidents"]),
            "total_posts_first": float(first["total_posts"]),
            "total_posts_last": float(last["total_posts"]),
            "townships_short_of_staff_last": int(last["townships_short_of_staff"]),
            "budget_first_yuan": float(first["budget_yuan"]),
            "budget_last_yuan": float(last["budget_yuan"]),
            "budget_horizon_yuan": float(s["budget_yuan"].sum()),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table by file stem (what ``qzfp run`` writes as CSV)."""
        return {
            "summary": self.summary(),
            "population_villages": self.population,
            "population_townships": self.population_townships,
            "population_counties": self.population_counties,
            "population_age": self.population_age,
            "census_fit": self.census_fit,
            "staffing": self.staffing,
            "workload": self.workload,
            "budget": self.budget,
            "assumptions": self.scenario.used_parameters(),
        }


def simulate(scenario: Scenario | str | Path, register: Register | None = None) -> Results:
    """Run a scenario end to end.

    Parameters
    ----------
    scenario : Scenario or str or Path
        A scenario, or a file/name for :func:`qzfp.load_scenario`.
    register : Register, optional
        Register to use instead of the scenario's (before its redistricting).

    Returns
    -------
    Results
        Tidy ``population``, ``staffing``, ``workload`` and ``budget`` tables and a
        :meth:`Results.summary` of key figures per year.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    reg = prepare_register(scenario, register, check_size=register is None)
    pa = scenario.arrays()
    arrays = run_arrays(reg, pa, variant=scenario.params.get("variant", "medium"))
    return Results(scenario, reg, arrays)


def validate_scenario(path: str | Path, *, rulebook: Any = None) -> list[Problem]:
    """Problems of a scenario file and of the files it names (empty when valid).

    :func:`qzfp.rules.scenario.validate_scenario_file` (the rules), then the register with its
    merge plan and size (:func:`prepare_register`) and the census tables (``census``, which
    must place every county of the register, and ``census_check``).  Never raises for bad input.
    """
    problems = validate_scenario_file(path, rulebook=rulebook)
    if problems:
        return problems
    try:
        scenario = load_scenario(Path(path), rulebook=rulebook)
        prepare_register(scenario)  # the register, its merge plan and the census table of the base
        scenario_census_check(scenario)
    except QzfpError as exc:
        return list(exc.problems)
    return []
