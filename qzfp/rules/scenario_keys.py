"""The keys of a scenario file: their types, defaults, bounds and help, and the check of one value.

:data:`SCENARIO_KEYS` is the single source of the notebooks' ``parameters`` cells and of
the validation of scenario files (:mod:`qzfp.rules.scenario`).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import Label, Problem, describe_value, did_you_mean
from ..typed import text_problems

#: Longest file path or other one-line text of a scenario [character] (Linux's PATH_MAX).
MAX_PATH_CHARS = 4096
#: Longest scenario name [character]: a folder name (the explorer saves names of 1-64).
MAX_NAME_CHARS = 64
#: Longest title [character]: one line at the top of every page and of the proposal.
MAX_TITLE_CHARS = 200
#: Longest description [character]: about two pages of text under the title.
MAX_DESCRIPTION_CHARS = 5000


@dataclass(frozen=True)
class KeySpec:
    """Type, baseline default and help text of one scenario key.

    Parameters
    ----------
    type : type
        ``str``, ``int``, ``float``, ``list`` or ``dict`` (an int is accepted for a
        float; a bool is never accepted as a number).
    default : object
        Baseline value.
    help : str
        One-line explanation (used in notebooks' parameters cells).
    choices : tuple of str, optional
        Allowed values of a text key.
    min, max : float, optional
        Allowed range of a number.
    max_chars : int
        Longest text [character] (of each entry of a list of texts).
    lines : bool
        The text may hold several lines (a description); otherwise one line.
    max_items : int
        Most entries of a list.
    """

    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    max_chars: int = MAX_PATH_CHARS
    lines: bool = False
    max_items: int = 20


SCENARIO_KEYS: dict[str, KeySpec] = {
    "scenario_name": KeySpec(
        str, "baseline", "name of the report folder; defaults to the file stem", max_chars=MAX_NAME_CHARS
    ),
    "title": KeySpec(
        str,
        "Baseline: the association's rules of 衢委办[2006]101号",
        "one-line title shown in reports",
        max_chars=MAX_TITLE_CHARS,
    ),
    "description": KeySpec(
        str,
        "Posts, workload and budget of the Quzhou family planning association under the rules "
        "of 衢委办[2006]101号 and 衢委办[2004]38号, medium population projection.",
        "what the scenario changes and why",
        max_chars=MAX_DESCRIPTION_CHARS,
        lines=True,
    ),
    "title_zh": KeySpec(
        str,
        "基线方案：衢委办[2006]101号规定的计生协组织建设",
        'the title in Chinese reports ("": title; a file setting title without it clears it)',
        max_chars=MAX_TITLE_CHARS,
    ),
    "description_zh": KeySpec(
        str,
        "按衢委办[2006]101号和衢委办[2004]38号的规定测算衢州市计划生育协会的专职岗位、工作量和经费，"
        "人口预测采用中方案。",
        'the description in Chinese reports ("": description; cleared like title_zh)',
        max_chars=MAX_DESCRIPTION_CHARS,
        lines=True,
    ),
    "extends": KeySpec(str, "", 'name or path of the scenario this one builds on ("" for none)'),
    "start_year": KeySpec(int, 2006, "first year of the projection", min=1950, max=2100),
    "horizon": KeySpec(int, 15, "number of years projected after the start year", min=0, max=100),
    "lang": KeySpec(str, "en", "report language: en or zh", choices=("en", "zh")),
    "output_dir": KeySpec(str, "reports", "where qzfp run writes <scenario_name>/"),
    "register": KeySpec(str, "", 'register file or folder (CSV/XLSX); "" for the packaged example'),
    "census": KeySpec(
        str, "", 'census age-sex table of the base (CSV, shipped layout); "" for the 2010 census'
    ),
    "census_date": KeySpec(
        str, "", 'reference date of the census table (YYYY-MM-DD); "" for 2010-11-01'
    ),
    "census_check": KeySpec(
        str, "", 'later census table (same layout) to check the projection against; "" for none'
    ),
    "census_check_date": KeySpec(
        str, "2020-11-01", "reference date of the census_check table (YYYY-MM-DD)"
    ),
    "township_plan": KeySpec(
        str, "", 'township merge plan CSV applied before projecting; "" for none'
    ),
    "merge_target": KeySpec(
        int,
        0,
        "merge townships to this mean population per township in each county; 0 for none",
        min=0,
    ),
    "village_merge_below": KeySpec(
        int, 0, "consolidate villages under this population into a neighbour; 0 for none", min=0
    ),
    "variant": KeySpec(
        str,
        "medium",
        "projection variant: medium, low, high or constant",
        choices=("medium", "low", "high", "constant"),
    ),
    "mc_paths": KeySpec(
        int, 200, "Monte Carlo paths for uncertainty bands (0 for none)", min=0, max=10_000
    ),
    "seed": KeySpec(int, 2006, "random seed of the Monte Carlo paths", min=0, max=2**32 - 1),
    "compare_with": KeySpec(list, [], "other scenarios shown by the comparison notebook"),
    "sensitivity_pct": KeySpec(
        float,
        10.0,
        "± change [%] applied to each key assumption in the sensitivity ranking",
        min=0,
        max=100,
    ),
    "overrides": KeySpec(dict, {}, "rulebook path -> value (from start_year) or {date: value}"),
}

#: Scenario keys holding a date (an unquoted YAML date is read as text).
DATE_KEYS = ("census_date", "census_check_date")

_TYPE_NAMES = {
    str: "expect.text",
    int: "expect.integer",
    float: "expect.number",
    list: "expect.list",
    dict: "expect.mapping",
}
_NAME_RE = re.compile(r"^[^/\\:*?\"<>|\s][^/\\:*?\"<>|]*\Z")


#: Names a scenario cannot have because its report folder sits beside these in the output
#: folder: the fonts of every page (``assets``), the top index, kept failed notebooks
#: (``.failed``) and the kernels' working folder (``.work``); compared case-insensitively,
#: as on Windows and macOS.  :mod:`qzfp.reporting` lays its folders out with these names.
RESERVED_NAMES = frozenset({"assets", "index.html", ".failed", ".work"})


def folder_name_problems(value: str, loc: str) -> list[Problem]:
    """Why ``value`` cannot name a report folder (empty when it can): the scenario name,
    or a ``--name`` of ``qzfp compare``/``sweep``/``plan``; at ``loc``.

    One line of at most :data:`MAX_NAME_CHARS` plain characters, none of ``/ \\ : * ? " < > |``,
    not starting with a space or a dot, not ``.``/``..`` and not a name of
    :data:`RESERVED_NAMES`.
    """
    bad = text_problems(value, loc, max_chars=MAX_NAME_CHARS)
    if bad:
        return bad
    if not (value and _NAME_RE.match(value) and value not in (".", "..")):
        return [Problem(loc, "scenario.bad_folder_name", value=value)]
    if value.startswith("."):
        return [Problem(loc, "scenario.hidden_name", value=value)]
    if value.lower() in RESERVED_NAMES:
        return [Problem(loc, "scenario.reserved_name", value=value, names=", ".join(sorted(RESERVED_NAMES)))]
    return []


def baseline_defaults() -> dict[str, Any]:
    """Baseline value of every scenario key (a fresh copy)."""
    return {k: copy.deepcopy(s.default) for k, s in SCENARIO_KEYS.items()}


def parameters_cell_source() -> str:
    """Source of a notebook parameters cell declaring every key with its default.

    Lines look like ``horizon: int = 15  # number of years projected ...``.
    """
    lines = []
    for k, s in SCENARIO_KEYS.items():
        lines.append(f"{k}: {s.type.__name__} = {s.default!r}  # {s.help}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- lookup


def check_key(key: str, value: Any, where: str) -> list[Problem]:
    spec = SCENARIO_KEYS[key]
    loc = f"{where}:{key}"
    t = spec.type
    ok = (
        (t is int and isinstance(value, int) and not isinstance(value, bool))
        or (t is float and isinstance(value, (int, float)) and not isinstance(value, bool))
        or (t is str and isinstance(value, str))
        or (t is list and isinstance(value, list))
        or (t is dict and isinstance(value, Mapping))
    )
    if not ok:
        return [Problem(loc, "expected", what=Label(_TYPE_NAMES[t]), got=describe_value(value, show_containers=True))]
    probs = []
    if t is list and len(value) > spec.max_items:
        return [Problem(loc, "scenario.too_many_items", count=len(value), max=spec.max_items)]
    texts = [value] if t is str else [v for v in value if isinstance(v, str)] if t is list else []
    for text in texts:
        bad = text_problems(text, loc, max_chars=spec.max_chars, one_line=not spec.lines)
        if bad:
            return bad
    if t in (int, float):
        if isinstance(value, float) and not np.isfinite(value):
            probs.append(Problem(loc, "expected", what=Label("expect.finite_number"), got=describe_value(value)))
        elif spec.min is not None and value < spec.min:
            if spec.min == 0:
                probs.append(Problem(loc, "scenario.negative", value=value))
            else:
                probs.append(Problem(loc, "scenario.below_min", min=spec.min, value=value))
        elif spec.max is not None and value > spec.max:
            probs.append(Problem(loc, "scenario.above_max", max=spec.max, value=value))
    if spec.choices is not None and value not in spec.choices:
        probs.append(
            Problem(loc, "scenario.not_a_choice", value=value, choices=", ".join(spec.choices),
                    hint=did_you_mean(value, spec.choices))
        )
    if key == "scenario_name":
        probs += folder_name_problems(value, loc)
    if key in DATE_KEYS and value:
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            probs.append(Problem(loc, "expected", what=Label("expect.date"), got=describe_value(value)))
    if key in ("output_dir",) and not value.strip():
        probs.append(Problem(loc, "scenario.empty"))
    if key == "compare_with":
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                probs.append(Problem(f"{loc}[{i}]", "expected", what=Label("expect.scenario_name"),
                                     got=describe_value(item)))
    if key == "overrides":
        for path in value:
            if not isinstance(path, str):
                probs.append(
                    Problem(f"{loc}.{path}", "expected", what=Label("expect.rulebook_path"),
                            got=describe_value(path))
                )
    return probs


PATH_KEYS = ("register", "township_plan", "census", "census_check")
