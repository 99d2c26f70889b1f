"""Labels of ids (posts, budget lines, parameters, units, columns) and place names."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .catalogue import CATALOGUE, check_lang, t


def humanise(identifier: str) -> str:
    """Readable fallback for an id without a label: ``"new_line_item"`` → ``"New line item"``."""
    text = str(identifier).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def _label_or_fallback(prefix: str, identifier: str, lang: str) -> str:
    key = f"{prefix}.{identifier}"
    check_lang(lang)
    return t(key, lang) if key in CATALOGUE["en"] else humanise(identifier)


def budget_line_label(line: str, lang: str) -> str:
    """Label of a budget line id; an id not in the catalogue gives its humanised form."""
    return _label_or_fallback("budget", line, lang)


def post_label(post: str, lang: str, level: str | None = None) -> str:
    """Label of a post id; an id not in the catalogue gives its humanised form.

    With ``level`` (``county``, ``township``, ``village``) the level-specific label
    ``post.<level>_<post>`` is preferred: ``post_label("vice_president", "zh", "village")``
    → ``"村计生协专职副会长"``.
    """
    if level and f"post.{level}_{post}" in CATALOGUE["en"]:
        return t(f"post.{level}_{post}", lang)
    return _label_or_fallback("post", post, lang)


def param_label(path: str, lang: str) -> str:
    """Short label of a rulebook path or scenario key; unknown paths are returned as given."""
    key = f"param.{path}"
    check_lang(lang)
    return t(key, lang) if key in CATALOGUE["en"] else str(path)


def listing(items: Sequence[str], lang: str, *, conjunction: bool = True) -> str:
    """Items as a reader of ``lang`` lists them: 甲、乙、丙 in Chinese; ``a, b and c`` in
    English (``a, b, c`` without ``conjunction``)."""
    items = list(items)
    if lang == "zh":
        return "、".join(items)
    if not conjunction or len(items) < 2:
        return ", ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def unit_label(unit: str, lang: str) -> str:
    """A unit of the rulebook or of a budget quantity in ``lang`` (``yuan/month`` → ``元/月``);
    an unknown unit is returned as given."""
    key = f"unit.{unit}"
    check_lang(lang)
    return t(key, lang) if key in CATALOGUE["en"] else str(unit)


#: What only a developer can follow: a file of the repository (``SOURCES.md``,
#: ``docs/population.md``, ``tests/test_census.py``, ``qzfp/data/...``) or a module
#: (``qzfp.population.calibrate``), with the "see" (见) that points to it; and a remark about
#: the project's tests up to the next punctuation ("the test suite recomputes it",
#: "测试套件复核此数", "checked by a unit test").
_DEV_REFERENCE = re.compile(
    r"(?:见\s*|see\s+)?`?(?:(?:qzfp|docs|tests)/[\w./\-]+|[\w\-]+\.(?:md|py)|qzfp(?:\.[A-Za-z_]\w*)+)`?"
    r"|[^,;.，；。、（）()]*(?:测试套件|单元测试|测试用例|\btest suite\b|\bunit tests?\b)[^,;.，；。、（）()]*",
    re.IGNORECASE)
_PARENS = re.compile(r"\s?[（(]([^（）()]*)[）)]")
_PART = re.compile(r"[；;，,、]\s*")


def _without_dev_parts(inner: str) -> str:
    """The parts of a parenthesis (split at ；，、) that cite no developer file, joined again."""
    parts = re.split(r"([；;，,、]\s*)", inner)
    kept: list[str] = []
    for i in range(0, len(parts), 2):
        if not _DEV_REFERENCE.search(parts[i]):
            if kept:
                kept.append(parts[i - 1])
            kept.append(parts[i])
    return "".join(kept).strip()


def public_text(text: str) -> str:
    """A rulebook text (reference or description) as a reader outside the project sees it:
    without the repository files and modules it cites for developers (``SOURCES.md``,
    ``docs/…``, ``tests/…``, ``qzfp/…``, ``qzfp.…``) and its remarks about the project's
    tests (the clause that names the test suite, 测试套件).

    In a parenthesis only the parts citing such a file go (``（参考资料，见SOURCES.md）`` →
    ``（参考资料）``); a parenthesis left empty goes whole; elsewhere the file and its
    "见"/"see" go.

    Examples
    --------
    >>> public_text("性别比约为109.6（qzfp/data/reference/SOURCES.md）")
    '性别比约为109.6'
    >>> public_text("奖励扶助制度（参考资料，见SOURCES.md）")
    '奖励扶助制度（参考资料）'
    >>> public_text("得1.145（qzfp.model.base，测试套件复核此数）。")
    '得1.145。'
    """
    return _public_text(str(text))


@functools.lru_cache(maxsize=4096)
def _public_text(text: str) -> str:
    """:func:`public_text` of a ``str``, kept by text: a budget table repeats its lines'
    references row after row, and the search below costs ~0.1 ms a text."""
    if not _DEV_REFERENCE.search(text):
        return text

    def paren(m: re.Match[str]) -> str:
        if not _DEV_REFERENCE.search(m.group(1)):
            return m.group(0)
        inner = _without_dev_parts(m.group(1))
        if not inner:
            return ""
        full = m.group(0).lstrip()
        space = m.group(0)[: len(m.group(0)) - len(full)]
        return f"{space}{full[0]}{inner}{full[-1]}"

    text = _PARENS.sub(paren, text)
    text = _DEV_REFERENCE.sub("", text)
    text = re.sub(r"^[\s,;，；、]+|[\s,;，；、]+(?=[.。]|$)", "", text)  # a clause gone at either end
    return re.sub(r"\s{2,}", " ", text).strip()


_ASSUMPTION_PREFIX = re.compile(r"^\s*assumption\s*:\s*", re.IGNORECASE)


def reference_label(reference: str, lang: str) -> str:
    """A rulebook reference as shown in ``lang``: the ``assumption:`` label becomes 假设：.

    Only the label: the reason after it stays as given.  For the whole reference in
    Chinese use :func:`reference_text`, which prefers the rulebook's ``reference_zh``.
    """
    check_lang(lang)
    text = public_text(str(reference))
    if lang == "zh":
        return _ASSUMPTION_PREFIX.sub("假设：", text, count=1)
    return text


def _field(item: Any, name: str) -> Any:
    if isinstance(item, Mapping) or isinstance(item, pd.Series):
        return item.get(name, "")
    return getattr(item, name, "")


def reference_text(item: Any, lang: str) -> str:
    """The reference of a rulebook value, a budget row or a parameter row in ``lang``.

    Parameters
    ----------
    item : DatedValue, mapping, Series or namedtuple
        Anything with ``reference`` and, optionally, ``reference_zh`` (a
        :class:`qzfp.rules.parameter.DatedValue`, a row of ``Results.budget`` or of
        ``Scenario.used_parameters()``, a ``DataFrame.itertuples()`` row).
    lang : str
        ``"en"``: ``reference``.  ``"zh"``: ``reference_zh`` when the rulebook gives one,
        else ``reference`` with the ``assumption:`` label as 假设： (a reference without
        ``reference_zh`` is a Chinese document reference, or a scenario's own text).

    Examples
    --------
    >>> from qzfp.rules.parameter import DatedValue
    >>> import datetime as dt
    >>> dv = DatedValue(dt.date(2006, 1, 1), 2, "assumption: one per month",
    ...                 reference_zh="假设：每月一次")
    >>> reference_text(dv, "zh"), reference_text(dv, "en")
    ('假设：每月一次', 'assumption: one per month')
    """
    check_lang(lang)
    reference = _field(item, "reference")
    reference = "" if reference is None or (isinstance(reference, float) and math.isnan(reference)) else str(reference)
    if lang == "zh":
        zh = _field(item, "reference_zh")
        if isinstance(zh, str) and zh.strip():
            return public_text(zh.strip())
        return reference_label(reference, lang)
    return public_text(reference)


def reference_texts(table: pd.DataFrame, lang: str) -> list[str]:
    """:func:`reference_text` of every row of a table with a ``reference`` column (and,
    optionally, ``reference_zh``), e.g. ``Results.budget`` or ``used_parameters()``."""
    check_lang(lang)
    refs = table["reference"].fillna("").astype(str).tolist()
    if lang == "en":
        return [public_text(r) for r in refs]
    zh = (table["reference_zh"].fillna("").astype(str).tolist() if "reference_zh" in table
          else [""] * len(refs))
    return [public_text(z.strip()) if z.strip() else reference_label(r, lang) for r, z in zip(refs, zh, strict=True)]


def localise_parameters(used: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``Scenario.used_parameters()`` for a reader of ``lang``.

    In Chinese: the Chinese description where the rulebook has one, units in Chinese
    (:func:`unit_label`), the Chinese reference (:func:`reference_text`: ``reference_zh``,
    else the reference with ``assumption:`` as 假设：).  In both languages descriptions and
    references are :func:`public_text` (no developer files).  The ``description_zh`` and
    ``reference_zh`` columns are dropped in both languages.
    """
    check_lang(lang)
    out = used.copy()
    if lang == "zh":
        if "description_zh" in out:
            zh = out["description_zh"].fillna("").astype(str)
            out["description"] = zh.where(zh.str.strip() != "", out["description"])
        out["unit"] = [unit_label(u, lang) for u in out["unit"]]
    if "description" in out:
        out["description"] = [public_text(d) for d in out["description"].fillna("").astype(str)]
    if "reference" in out:
        out["reference"] = reference_texts(out, lang)
    return out.drop(columns=["description_zh", "reference_zh"], errors="ignore")


def localise_budget(budget: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``Results.budget`` with the ``reference`` of each line in ``lang``
    (:func:`reference_text`) and the ``reference_zh`` column dropped; other columns as
    given (labels of lines and units are the reader's: :func:`budget_line_label`,
    :func:`unit_label`)."""
    check_lang(lang)
    out = budget.copy()
    if "reference" in out:
        out["reference"] = reference_texts(out, lang)
    return out.drop(columns=["reference_zh"], errors="ignore")


def census_source_label(text: str, lang: str) -> str:
    """A value of the census-fit table in ``lang``: the census row used (``county``,
    ``prefecture``, ``province``, ``national``); other texts as given."""
    check_lang(lang)
    text = str(text)
    if lang == "en":
        return text
    if f"census_row.{text}" in CATALOGUE["en"]:
        return t(f"census_row.{text}", lang)
    return text


def value_text(value: Any, lang: str, unit: str = "") -> str:
    """A rulebook value as shown in ``lang``: a bool as Yes/No (是/否), a number to at most
    four decimals with thousands separators, except a year (``unit`` ``year``, in English or
    Chinese), which never has one (``2007``, not ``2,007``); a text as given."""
    from .formats import format_number

    check_lang(lang)
    if isinstance(value, (bool, np.bool_)):
        return t("yesno.yes" if value else "yesno.no", lang)
    if isinstance(value, (int, float, np.integer, np.floating)):
        if str(unit) in ("year", CATALOGUE[lang].get("unit.year", "year")) and float(value).is_integer():
            return str(int(value))
        return format_number(value, lang, 4).rstrip("0").rstrip(".")
    return str(value)


#: Tidy-table columns that count whole things (posts, villages, townships) besides those
#: whose English header is in ``[persons]`` (see :func:`is_count_column`).
_COUNT_COLUMNS = frozenset({
    "persons", "posts", "extra_posts", "village_vice_presidents", "township_vice_presidents", "county_posts",
    "total_posts", "villages", "villages_at_or_above_threshold", "villages_without_village_vp", "townships",
    "townships_short_of_staff", "townships_staffed", "people_covered", "households",
})


def is_count_column(column: str) -> bool:
    """Whether a tidy-table column counts whole persons, posts, households, villages or
    townships (shown as whole numbers): a known count, or a column whose English header is
    in ``[persons]``; a ``_first``/``_last`` suffix (the sweep's columns) is ignored.

    Examples
    --------
    >>> is_count_column("population"), is_count_column("total_posts_last"), is_count_column("posts_per_10000")
    (True, True, False)
    """
    name = re.sub(r"_(first|last)$", "", str(column))
    return name in _COUNT_COLUMNS or CATALOGUE["en"].get(f"col.{name}", "").endswith("[persons]")


def column_label(column: str, lang: str) -> str:
    """Header of a tidy-table column; unknown columns are returned unchanged."""
    key = f"col.{column}"
    check_lang(lang)
    return t(key, lang) if key in CATALOGUE["en"] else str(column)


def label_columns(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return a copy of ``df`` with known column names replaced by their headers in ``lang``.

    Unknown columns keep their names.  Values are not translated (use
    :func:`budget_line_label`, :func:`post_label` or :func:`place_names` for those).
    """
    check_lang(lang)
    return df.rename(columns={c: column_label(c, lang) for c in df.columns if isinstance(c, str)})


# ---------------------------------------------------------------------- place names
_CODE_COLUMNS = ("village_code", "township_code", "county_code", "code")


def _name_column(lang: str) -> str:
    return "name_zh" if check_lang(lang) == "zh" else "name_en"


def _name_table(register: Any) -> pd.DataFrame:
    """A ``code → name_zh, name_en`` table from a Register, a DataFrame or a list of them."""
    if isinstance(register, pd.DataFrame):
        frames = [register]
    elif isinstance(register, (list, tuple)):
        frames = [_name_table(r) for r in register]
    else:
        frames = [
            getattr(register, attr)
            for attr in ("counties", "townships", "villages")
            if isinstance(getattr(register, attr, None), pd.DataFrame)
        ]
        if not frames:
            raise TypeError("place names need a Register or a DataFrame with name_zh/name_en")
    out = []
    for frame in frames:
        if "code" in frame.columns and "name_zh" in frame.columns:
            out.append(frame[["code", "name_zh", "name_en"]])
            continue
        # the most specific code column of the table is its own id
        for col in _CODE_COLUMNS:
            if col in frame.columns:
                out.append(frame[[col, "name_zh", "name_en"]].rename(columns={col: "code"}))
                break
    table = (
        pd.concat(out, ignore_index=True)
        if out
        else pd.DataFrame(columns=["code", "name_zh", "name_en"])
    )
    table["code"] = table["code"].astype(str)
    return table.drop_duplicates("code").set_index("code")


def place_name(
    row_or_code: Mapping[str, Any] | pd.Series | str, lang: str, register: Any = None
) -> str:
    """Name of a county, township or village in ``lang`` (zh: Chinese, en: pinyin).

    Parameters
    ----------
    row_or_code : mapping, Series or str
        A register row with ``name_zh`` and ``name_en``, or a code looked up in ``register``.
    lang : str
        ``"zh"`` gives ``name_zh``, ``"en"`` gives ``name_en``.
    register : Register, DataFrame or list of DataFrames, optional
        Needed when ``row_or_code`` is a code.

    Raises
    ------
    KeyError
        If the code is not in the register.
    """
    col = _name_column(lang)
    if isinstance(row_or_code, (Mapping, pd.Series)):
        return str(row_or_code[col])
    if register is None:
        raise TypeError("place_name(code, lang) needs the register to look the code up in")
    table = _name_table(register)
    code = str(row_or_code)
    if code not in table.index:
        raise KeyError(f"no county, township or village with code {code!r} in the register")
    return str(table.at[code, col])


def place_names(codes: Iterable[Any], lang: str, register: Any) -> list[str]:
    """Names of many codes at once (vectorised :func:`place_name`); unknown codes stay codes."""
    table = _name_table(register)[_name_column(lang)]
    codes = [str(c) for c in codes]
    return table.reindex(codes).fillna(pd.Series(codes, index=codes)).astype(str).tolist()


