"""One schema for every input table: register tables, census tables, township merge plans.

Each table is a pydantic model whose fields are its columns (a list of cells each), declared
with the cell types of this module; :func:`validate_columns` checks the columns of a table
against it in blocks of rows and turns every error into a :class:`~qzfp.errors.Problem`
at ``file:row`` naming the column, in the reader's language.  What a cell may hold is
declared here once:

=================  ====================================================================
cell type          accepted
=================  ====================================================================
:data:`Code`       plain text without spaces, not a number Excel wrote in scientific
                   notation (``3.30802E+11``), at most :data:`MAX_CODE_CHARS`
                   characters; :data:`OptionalCode` may be empty (the relational checks
                   say what an empty code means)
:data:`DivisionCode`  6 digits (the statistical division codes of the census tables)
:data:`Name`       plain text, not empty, at most :data:`MAX_TEXT_CHARS` characters;
                   :data:`Text` may be empty
``count(max)``     a whole number 0..max (``1,234`` and full-width digits accepted)
``amount(max)``    a finite number 0..max (``73342.0`` accepted)
:data:`YesNo`      1/0, true/false, yes/no, 是/否, 真/假, empty (no)
=================  ====================================================================

"Plain text" refuses the characters no text file, workbook or document can carry: C0 and
C1 control characters (tab, line feed and carriage return included: a name is one line),
unpaired surrogates and the non-characters U+FFFE and U+FFFF (they break the ``.docx``
and ``.xlsx`` writers, which are XML).

What relates cells of several rows or tables (duplicate codes, a village whose township
does not exist, a census row whose age groups do not sum to its total) is checked after
this, by the loaders; the size of a file (bytes, rows, characters a line) before any of
it, by :mod:`qzfp.register.files`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from ..errors import Label, Problem
from ..typed import BAD_CHARACTER, BAD_CHARACTERS, normalise

__all__ = [
    "BLOCK_ROWS",
    "Code",
    "CodeList",
    "DivisionCode",
    "MAX_CODE_CHARS",
    "MAX_PROBLEMS_KEPT",
    "MAX_TEXT_CHARS",
    "Name",
    "OptionalCode",
    "TableSchema",
    "Text",
    "YesNo",
    "amount",
    "check_columns",
    "choice",
    "count",
    "validate_columns",
    "validate_frame",
]

#: Longest code [characters]: a village code of the statistical division codes has 12
#: digits; 32 leaves room for a register's own codes, not for a paragraph.
MAX_CODE_CHARS = 32
#: Longest name or text cell [characters]: the longest division name of the census tables
#: has 15 characters, of the packaged register's English names 40; 200 holds any real name.
MAX_TEXT_CHARS = 200
#: Rows validated at once (bounds the memory of the errors of one block).
BLOCK_ROWS = 50_000
#: Problems kept of one table [problems]; the rest are counted (one ``more_problems`` line).
MAX_PROBLEMS_KEPT = 200

_PLAIN = rf"^[^{BAD_CHARACTERS}]*\Z"
#: A number Excel shortened to scientific notation when saving a CSV ("3.30802E+11").
SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$")
_CODE = rf"^(?![+-]?\d+(?:\.\d*)?[eE][+-]?\d+\Z)[^\s{BAD_CHARACTERS}]*\Z"

_TRUE = {"1", "true", "yes", "y", "t", "是", "真"}
_FALSE = {"0", "false", "no", "n", "f", "否", "假", ""}


def _number_text(value: Any) -> Any:
    """A count or amount as typed: full-width digits to ASCII, thousands separators and
    spaces dropped (``"1,234"`` → ``"1234"``)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        return normalise(value).replace(",", "")
    return value


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return value


Code = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CODE_CHARS, pattern=_CODE)]
OptionalCode = Annotated[str, StringConstraints(max_length=MAX_CODE_CHARS, pattern=_CODE)]
DivisionCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}\Z")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS, pattern=_PLAIN)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS, pattern=_PLAIN)]
#: Codes separated by ``;`` (``merged_from``): plain text, up to 100 codes.
CodeList = Annotated[str, StringConstraints(max_length=100 * (MAX_CODE_CHARS + 1), pattern=_PLAIN)]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]


def count(max_value: int, *, why: str | None = None, empty: int | None = None) -> Any:
    """A whole number 0..``max_value``; ``why`` is the catalogue key saying why a larger
    number is implausible (shown with the problem); ``empty``: the value of an empty cell
    (None: an empty cell is a problem)."""

    def clean(v: Any) -> Any:
        v = _number_text(v)
        return empty if empty is not None and v == "" else v

    return Annotated[int, BeforeValidator(clean),
                     Field(ge=0, le=max_value, json_schema_extra={"why": why})]


def choice(values: Sequence[str], *, lower: bool = False) -> Any:
    """One of ``values`` (after stripping spaces; ``lower``: case-insensitive)."""

    def clean(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        return v.strip().lower() if lower else v.strip()

    shown = ", ".join(v for v in values if v)
    return Annotated[Literal[tuple(values)], BeforeValidator(clean), Field(json_schema_extra={"choices": shown})]


def amount(max_value: float, *, why: str | None = None) -> Any:
    """A finite number 0..``max_value`` (``why``: as for :func:`count`)."""
    return Annotated[float, BeforeValidator(_number_text),
                     Field(ge=0, le=max_value, allow_inf_nan=False, json_schema_extra={"why": why})]


class TableSchema(BaseModel):
    """A table: one field per column, each a list of cells (optional columns default to None).

    Subclasses declare their columns; a column whose header is not a Python name gets it as
    its alias (``m_1-4``).
    """

    model_config = ConfigDict(regex_engine="python-re", extra="forbid", populate_by_name=True,
                              hide_input_in_errors=False)


def _extra(annotation: Any) -> dict:
    """The ``json_schema_extra`` of the cells of a column annotation (``list[Annotated[...]]``,
    optionally ``| None``)."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(getattr(meta, "json_schema_extra", None), dict):
            return dict(meta.json_schema_extra)
    for arg in getattr(annotation, "__args__", ()):
        found = _extra(arg)
        if found:
            return found
    return {}


def _column_meta(schema: type[TableSchema]) -> dict[str, tuple[str, dict]]:
    """Column header -> (field name, json_schema_extra of its cells)."""
    return {info.alias or name: (name, _extra(info.annotation)) for name, info in schema.model_fields.items()}


def validate_columns(schema: type[TableSchema], columns: Mapping[str, Sequence[str]], rows: Sequence[int],
                     where: str, problems: list[Problem]) -> dict[str, list] | None:
    """Check a table's columns against its schema; every bad cell becomes a problem.

    Parameters
    ----------
    schema : type of TableSchema
        The table's schema.
    columns : mapping of str to sequence of str
        Column header -> the cells of its rows (as read: text).  Columns the table lacks
        are simply absent (required ones are checked by the header reader).
    rows : sequence of int
        The 1-based row (line) number of each cell, as the file's reader sees it.
    where : str
        The file (and sheet) in problem locations (``where:row``).
    problems : list of Problem
        Problems are appended here: at most :data:`MAX_PROBLEMS_KEPT`, then one
        ``more_problems`` line counting the others.

    Returns
    -------
    dict or None
        Column header -> typed values (ints, floats, bools, texts), None when a cell was bad.
    """
    meta = _column_meta(schema)
    n = len(rows)
    typed: dict[str, list] = {c: [] for c in columns}
    kept = bad = 0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        block = {c: list(v[start:stop]) for c, v in columns.items()}
        try:
            model = schema.model_validate(block)
        except ValidationError as exc:
            bad += exc.error_count()
            errors = exc.errors(include_url=False) if kept < MAX_PROBLEMS_KEPT else []
            errors.sort(key=_row_of)  # by row, then by column (the sort is stable)
            for err in errors:
                if kept >= MAX_PROBLEMS_KEPT:
                    break
                problems.append(_cell_problem(err, meta, rows, start, where))
                kept += 1
            continue
        for c in columns:
            typed[c].extend(getattr(model, meta[c][0]))
    if bad > kept:
        problems.append(Problem(where, "more_problems", count=bad - kept))
    return typed if bad == 0 else None


def _row_of(err: Mapping[str, Any]) -> int:
    loc = err["loc"]
    return loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1


def validate_frame(schema: type[TableSchema], df: Any, where: str, problems: list[Problem]) -> dict[str, list]:
    """:func:`validate_columns` of a DataFrame of text columns with a ``_row`` column (as
    :func:`qzfp.register.validate.read_table` makes); ``{}`` when a cell was bad."""
    columns = {c: df[c].tolist() for c in df.columns if c != "_row"}
    return validate_columns(schema, columns, df["_row"].tolist(), where, problems) or {}


def _cell_problem(err: Mapping[str, Any], meta: Mapping[str, tuple[str, dict]], rows: Sequence[int],
                  start: int, where: str) -> Problem:
    """The problem of one pydantic error of a column block, at ``where:row`` naming the column."""
    loc = err["loc"]
    column = str(loc[0])
    if len(loc) < 2 or not isinstance(loc[1], int):  # the column itself (not a list)
        return Problem(f"{where}", "table.bad_column", column=column)
    at = f"{where}:{rows[start + loc[1]]}"
    kind, raw = err["type"], err.get("input")
    extra = meta.get(column, ("", {}))[1]
    text = raw if isinstance(raw, str) else str(raw)
    if kind == "string_too_short":
        return Problem(at, "table.empty_cell", column=column)
    if kind == "string_too_long":
        return Problem(at, "table.text_too_long", column=column, length=len(text), max=err["ctx"]["max_length"])
    if kind == "string_pattern_mismatch":
        ch = BAD_CHARACTER.search(text)
        if ch is not None:
            code = f"U+{ord(ch.group()):04X}"
            if ord(ch.group()) > 0x9F:
                return Problem(at, "table.non_character", column=column, value=text, code=code)
            return Problem(at, "table.control_character", column=column, value=text, code=code)
        if SCIENTIFIC.match(text.strip()):
            return Problem(at, "table.scientific_notation", column=column, value=text)
        if re.search(r"\s", text):
            return Problem(at, "table.code_spaces", column=column, value=text)
        return Problem(at, "table.not_division_code", column=column, value=text)
    if kind in ("int_parsing", "int_from_float", "float_parsing", "finite_number"):
        if text.strip() == "":
            return Problem(at, "table.empty_count", column=column)
        if kind == "float_parsing" or kind == "finite_number":
            return Problem(at, "table.not_a_number", column=column, value=text)
        return Problem(at, "table.not_whole", column=column, value=text)
    if kind == "greater_than_equal":
        return Problem(at, "table.negative_count", column=column, value=raw)
    if kind == "less_than_equal":
        why = extra.get("why")
        return Problem(at, "table.implausible", column=column, value=raw, max=err["ctx"]["le"],
                       why=Label(why) if why else "")
    if kind == "bool_parsing":
        return Problem(at, "table.not_yes_no", column=column, value=text)
    if kind == "literal_error":
        return Problem(at, "table.not_one_of", column=column, value=text, choices=extra.get("choices", ""))
    return Problem(at, "table.bad_cell", column=column, value=text)


def check_columns(schema: type[TableSchema], header: Iterable[str]) -> tuple[list[str], list[str]]:
    """(missing required columns, columns the schema does not know) of a header."""
    meta = _column_meta(schema)
    header = list(header)
    required = [c for c, (name, _) in meta.items() if schema.model_fields[name].is_required()]
    return [c for c in required if c not in header], [c for c in header if c not in meta]
