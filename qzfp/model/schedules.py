"""Events of the association's calendar that drive both workload and budget.

Re-elections of the associations (``elections.*``: every ``interval_years`` from
``first_year``) and the training plan (``training.*``: who is trained each year, in how many
batches).  :mod:`qzfp.model.workload` counts their hours, :mod:`qzfp.model.budget` their cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import Label, ParameterError, Problem
from ..rules.paramarrays import ParamArrays
from .engine import param
from .staffing import StaffingResult

__all__ = ["TrainingPlan", "election_years", "training_plan"]


def election_years(pa: ParamArrays, n: int | None = None) -> np.ndarray:
    """1 in the years of ``pa`` when associations are re-elected, else 0, shape (n, T).

    Re-elections fall in ``first_year + k * interval_years`` (k = 0, 1, ...).

    Raises
    ------
    ParameterError
        ``elections.interval_years`` below 1, or ``first_year`` or ``interval_years``
        not a whole number of years (a term of 4.5 years has no election *year*; it is
        refused rather than rounded).
    """
    n = pa.n if n is None else n
    years = pa.years
    first = param(pa, "elections.first_year", n)
    interval = param(pa, "elections.interval_years", n)
    for key, values, bad, what in (
        ("interval_years", interval, interval < 1, "rule.at_least_one_year"),
        ("interval_years", interval, interval != np.round(interval), "rule.whole_years"),
        ("first_year", first, first != np.round(first), "rule.whole_year"),
    ):
        if np.any(bad):
            i, j = np.argwhere(bad)[0]
            raise ParameterError(
                Problem(f"elections.yaml:{key}", "schedule.bad_value", rule=Label(what),
                        at=Label("where.set_year", set=i, year=years[j]), value=values[i, j])
            )
    since = np.asarray(years, dtype=float)[None, :] - first
    return ((since >= 0) & (np.mod(since, interval) == 0)).astype(float)


@dataclass(frozen=True)
class TrainingPlan:
    """Who is trained each year, in how many batches.

    County-run courses train the county's full-time cadres (vice-president,
    secretary-general, secretariat staff) and the township vice-presidents
    (县、乡两级专职干部, the document's focus); township-run courses train the village
    vice-presidents when ``training.village_cadres_included`` is true (一级抓一级).
    Every cadre attends one course of ``course_days`` per ``cycle_years``, spread evenly:
    trainees per year = posts / cycle_years (an expected number, may be fractional);
    batches = ceil(trainees / batch_size) per organiser.

    Attributes
    ----------
    county_trainees, county_batches : numpy.ndarray, (N, T, C)
        Trainees [person/year] and batches [batch/year] of county-run courses.
    township_trainees, township_batches : numpy.ndarray, (N, T, S)
        Trainees and batches of township-run courses (village cadres).
    course_days : numpy.ndarray, (N, T)
        Days per course [day].
    attendance_days : numpy.ndarray, (N, T)
        Course days per cadre per year = course_days / cycle_years [day/year].
    village_included : numpy.ndarray, (N, T)
        1 if village cadres are trained.
    """

    county_trainees: np.ndarray
    county_batches: np.ndarray
    township_trainees: np.ndarray
    township_batches: np.ndarray
    course_days: np.ndarray
    attendance_days: np.ndarray
    village_included: np.ndarray


def training_plan(st: StaffingResult, pa: ParamArrays) -> TrainingPlan:
    """Trainees and batches per year (see :class:`TrainingPlan`).

    Raises
    ------
    ParameterError
        ``training.cycle_years`` or ``training.batch_size`` not positive.
    """
    n = st.n
    problems = []
    for path in ("training.cycle_years", "training.batch_size"):
        a = param(pa, path, n)
        if np.any(a <= 0):
            i, j = np.argwhere(a <= 0)[0]
            problems.append(Problem(f"training.yaml:{path.split('.', 1)[1]}", "schedule.bad_value",
                                    rule=Label("rule.positive"),
                                    at=Label("where.set_year", set=i, year=st.years[j]), value=a[i, j]))
    if problems:
        raise ParameterError(problems)
    cycle = param(pa, "training.cycle_years", n)
    batch = param(pa, "training.batch_size", n)[:, :, None]
    days = param(pa, "training.course_days", n)
    included = (param(pa, "training.village_cadres_included", n) > 0).astype(float)
    county_fulltime = sum(st.county_posts[p] for p in ("vice_president", "secretary_general", "secretariat_staff"))
    county_trainees = (county_fulltime + st.to_county(st.township_vice_presidents)) / cycle[:, :, None]
    township_trainees = st.township_village_vice_presidents * (included / cycle)[:, :, None]
    return TrainingPlan(
        county_trainees=county_trainees,
        county_batches=np.ceil(county_trainees / batch - 1e-9).clip(min=0),
        township_trainees=township_trainees,
        township_batches=np.ceil(township_trainees / batch - 1e-9).clip(min=0),
        course_days=days,
        attendance_days=days / cycle,
        village_included=included,
    )
