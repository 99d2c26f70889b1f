"""Set-up of a report notebook and what every section uses: tables, figures, headings, the header."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import html
import io
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qzfp import i18n
from qzfp.i18n import (
    format_number,
    format_yuan,
    label_columns,
    place_names,
    setup_fonts,
    t,
)
from qzfp.model.run import Results, simulate
from qzfp.rules.scenario import SCENARIO_KEYS, Scenario


# =========================================================================== set-up
def scenario_from_namespace(ns: Mapping[str, Any]) -> Scenario:
    """Scenario from the variables of a notebook's parameters cell.

    Parameters
    ----------
    ns : mapping
        The notebook's ``globals()``: every scenario key present (see
        :data:`qzfp.rules.scenario.SCENARIO_KEYS`) is passed to
        :meth:`Scenario.from_parameters`; other names are ignored.

    Raises
    ------
    ScenarioError
        A parameter has the wrong type or value, an override path is unknown ...
    """
    params = {k: ns[k] for k in SCENARIO_KEYS if k in ns}
    injected = injected_parameters(ns)
    if injected is not None:
        return Scenario.from_parameters(explicit=injected, **params)
    return Scenario.from_parameters(**params)


#: First line of the cell papermill injects after the parameters cell (its Python translator).
INJECTED_HEADER = "# Parameters"


def injected_parameters(ns: Mapping[str, Any]) -> set[str] | None:
    """Names assigned by papermill's injected-parameters cell of this run, or None.

    The kernel's input history (``_ih``/``In``) holds the source of every cell run so
    far; the injected cell is the one right after the last parameters cell (the cell
    declaring ``scenario_name: str = ...``) and starts with ``# Parameters``.  None when
    there is no such cell (a notebook run by hand, or papermill given no parameters).
    """
    history = ns.get("_ih") or ns.get("In")
    if not isinstance(history, list):
        return None
    declaration = re.compile(r"^scenario_name\s*:\s*str\s*=", re.MULTILINE)
    for i in range(len(history) - 2, -1, -1):
        if isinstance(history[i], str) and declaration.search(history[i]):
            cell = history[i + 1]
            if not isinstance(cell, str) or not cell.lstrip().startswith(INJECTED_HEADER):
                return None
            try:
                tree = ast.parse(cell)
            except SyntaxError:
                return None
            return {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)}
    return None


_SIM_CACHE: OrderedDict[tuple[str, str], Results] = OrderedDict()
SIM_CACHE_SIZE = 8
"""Results kept by :func:`simulate_cached` [scenarios] (the scenarios of one comparison)."""


def simulate_cached(scenario: Scenario) -> Results:
    """:func:`qzfp.model.run.simulate`, computed once per scenario and register content in
    this process (a register file rewritten in place is read again); the
    :data:`SIM_CACHE_SIZE` most recently used results are kept."""
    from qzfp.model.run import register_content_hash

    key = (scenario.sha256, register_content_hash(scenario.params.get("register") or "", scenario.path))
    if key in _SIM_CACHE:
        _SIM_CACHE.move_to_end(key)
        return _SIM_CACHE[key]
    _SIM_CACHE[key] = result = simulate(scenario)
    while len(_SIM_CACHE) > SIM_CACHE_SIZE:
        _SIM_CACHE.popitem(last=False)
    return result


def setup(ns: Mapping[str, Any]) -> Results:
    """Build the scenario from the parameters, set the chart fonts for its language and
    simulate it (what the first cell after the parameters calls)."""
    scenario = scenario_from_namespace(ns)
    setup_fonts(scenario.lang)
    return simulate_cached(scenario)


def warm_up(parameters: Mapping[str, Any]) -> None:
    """What :func:`setup` computes for a report notebook run with these (injected)
    parameters, done ahead: the scenario, its chart fonts and its simulation (with what it
    loads: the census table, the compiled engine, the calibration).  ``qzfp run`` calls it in
    the process its kernels are forked from (:mod:`qzfp.reporting.zygote`), so each kernel
    starts with it; the notebook's own :func:`setup` then finds it in :func:`simulate_cached`.
    """
    scenario = Scenario.from_parameters(explicit=set(parameters), **parameters)
    setup_fonts(scenario.lang)
    simulate_cached(scenario)


# =========================================================================== display
def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def md(text: str) -> None:
    """Display markdown."""
    from IPython.display import Markdown

    _display(Markdown(text))


def heading(text: str, level: int = 2) -> None:
    """Display a markdown heading."""
    md(f"{'#' * level} {text}")


def _png(fig: Any, dpi: int) -> bytes:
    buf = io.BytesIO()
    # A constrained-layout figure already fits its canvas; "tight" would draw it twice.
    tight = None if fig.get_layout_engine() is not None else "tight"
    # zlib level 3 instead of 6: 30 % less encoding time for 2 % larger files.
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=tight, pil_kwargs={"compress_level": 3})
    return buf.getvalue()


def _alt_text(fig: Any) -> str:
    """The chart's title (the figure's suptitle, else its axes titles) as one line: the
    image's alternative text in the HTML report, for screen readers and text search."""
    sup = getattr(fig, "_suptitle", None)
    texts = [sup.get_text()] if sup is not None and sup.get_text() else [
        ax.get_title() for ax in fig.axes if ax.get_title()]
    return " · ".join(" ".join(x.split()) for x in texts)


def _show_png(png: bytes, alt: str = "") -> None:
    from IPython.display import Image

    _display(Image(data=png, format="png", metadata={"alt": alt} if alt else None))


def show_figure(fig: Any, *, dpi: int = 110) -> None:
    """Display a matplotlib figure as a PNG (independent of the notebook backend), its
    title as the image's alternative text."""
    _show_png(_png(fig, dpi), _alt_text(fig))


#: PNGs of the charts drawn in this process, by :func:`_chart_key` (least recently used
#: dropped first).  A kernel of ``qzfp run`` runs the same notebook for several scenarios
#: in turn (see ``qzfp.reporting.batch``), so a chart of the same data (the population pyramids
#: of two allowance scenarios, say) is drawn once per batch.
_CHART_CACHE: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
CHART_CACHE_SIZE = 64
"""Charts kept by :func:`show_chart` [charts] (a PNG is 30–150 kB)."""


def _feed(h: Any, obj: Any) -> bool:
    """Feed ``obj`` into the hash ``h``; False for a type whose content cannot be hashed
    reliably (the chart is then drawn without the cache)."""
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
        return True
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return _feed(h, obj.tolist())
        h.update(f"nd:{obj.dtype.str}:{obj.shape};".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
        return True
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
        h.update(f"df:{[str(c) for c in frame.columns]}:{[str(d) for d in frame.dtypes]}:"
                 f"{obj.name if isinstance(obj, pd.Series) else ''}:{sorted(map(repr, obj.attrs.items()))};"
                 .encode())
        try:
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        except TypeError:  # cells pandas cannot hash (lists ...)
            return False
        return True
    if isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}:{len(obj)};".encode())
        return all(_feed(h, x) for x in obj)
    if isinstance(obj, Mapping):
        h.update(f"map:{len(obj)};".encode())
        return all(_feed(h, k) and _feed(h, v) for k, v in sorted(obj.items(), key=lambda kv: repr(kv[0])))
    return False


def _chart_key(fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], dpi: int) -> str | None:
    """SHA-256 of a chart function, its inputs, the resolution and matplotlib's settings
    (``rcParams``: a style or font changed in a notebook draws the chart again), or None
    when an input cannot be hashed."""
    import matplotlib as mpl

    h = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}:dpi={dpi};".encode())
    h.update(repr(list(dict.items(mpl.rcParams))).encode())  # dict.items: no per-key validation
    if not (_feed(h, list(args)) and _feed(h, dict(kwargs))):
        return None
    return h.hexdigest()


def show_chart(fn: Callable[..., Any], *args: Any, dpi: int = 110, **kwargs: Any) -> None:
    """Display the chart ``fn(*args, **kwargs)`` (a :mod:`qzfp.reporting.charts` function) as a PNG,
    drawing it only if the same chart of the same data was not drawn before in this process.

    The chart functions are pure (their figure depends on their arguments alone), so the
    PNG of an earlier call with equal arguments (same DataFrame contents, same language,
    same ``dpi``) is the PNG this call would draw.
    """
    key = _chart_key(fn, args, kwargs, dpi)
    hit = _CHART_CACHE.get(key) if key is not None else None
    if hit is None:
        fig = fn(*args, **kwargs)
        hit = (_png(fig, dpi), _alt_text(fig))
        if key is not None:
            _CHART_CACHE[key] = hit
            while len(_CHART_CACHE) > CHART_CACHE_SIZE:
                _CHART_CACHE.popitem(last=False)
    else:
        _CHART_CACHE.move_to_end(key)
    _show_png(*hit)


_TEXT_COLUMNS = {"year", "since"}
_TABLE_CSS = (
    "border-collapse:collapse;font-size:12px;margin:0.3em 0 1em 0;"
    "font-variant-numeric:tabular-nums"
)


def _cell(value: Any, lang: str, decimals: int) -> tuple[str, bool]:
    """Formatted cell text and whether it is a number (right-aligned)."""
    if isinstance(value, (bool, np.bool_)):
        return t("yesno.yes" if value else "yesno.no", lang), False
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return format_number(value, lang, decimals), True
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—", True
    text = str(value)
    return text, bool(_FORMATTED_NUMBER.match(text))  # a number formatted beforehand: right-aligned


_FORMATTED_NUMBER = re.compile(r"^[+\-−]?[\d,]+(\.\d+)?%?$")


def table_html(
    df: pd.DataFrame,
    lang: str,
    *,
    decimals: int | Mapping[str, int] = 0,
    caption: str | None = None,
) -> str:
    """A table as HTML: headers labelled in ``lang``, numbers with thousand separators.

    A table with more than :data:`PRINT_YEARS_PER_BLOCK` year columns shows whole on
    screen and prints in blocks of years that fit an A4 page.

    Parameters
    ----------
    df : DataFrame
        Tidy or wide table; the index is not shown.  Column ``year`` and ``since`` are
        shown as given; integer column headers (years of a wide table) as text.
    lang : str
        ``en`` or ``zh`` (headers via :func:`qzfp.i18n.label_columns`).
    decimals : int or mapping
        Decimals of numeric columns (one for all, or per column name; default 0).
    caption : str, optional
        Caption above the table.
    """
    i18n.check_lang(lang)
    years = [c for c in df.columns if _is_year_column(c)]
    if len(years) > PRINT_YEARS_PER_BLOCK:
        return _table_in_year_blocks(df, years, lang, decimals=decimals, caption=caption)
    return _table_html(df, lang, decimals=decimals, caption=caption)


#: Year columns of one printed block of a wide year table (A4 portrait, 8 pt).
PRINT_YEARS_PER_BLOCK = 6


def _is_year_column(col: Any) -> bool:
    """A column of a wide year table: an integer or four-digit text such as ``"2006"``."""
    if isinstance(col, (int, np.integer)) and not isinstance(col, bool):
        return 1900 <= int(col) <= 2200
    return isinstance(col, str) and len(col) == 4 and col.isdigit()


def _table_in_year_blocks(df: pd.DataFrame, years: list, lang: str, *,
                          decimals: int | Mapping[str, int], caption: str | None) -> str:
    """A wide year table: whole on screen, in blocks of years on paper.

    Every block repeats the label columns (those left of the first year); columns right
    of the last year go with the last block.  The printed blocks are hidden on screen by
    an inline style that the print style (:mod:`qzfp.reporting.pagestyle`) overrides.
    """
    cols = list(df.columns)
    first, last = cols.index(years[0]), cols.index(years[-1])
    labels, tail = cols[:first], cols[last + 1:]
    blocks = []
    for i in range(0, len(years), PRINT_YEARS_PER_BLOCK):
        chunk = years[i:i + PRINT_YEARS_PER_BLOCK]
        part = labels + chunk + (tail if i + PRINT_YEARS_PER_BLOCK >= len(years) else [])
        blocks.append(_table_html(df[part], lang, decimals=decimals,
                                  caption=caption if i == 0 else None))
    screen = _table_html(df, lang, decimals=decimals, caption=caption, frozen=True)
    return (
        f'<div class="qzfp-screen-only qzfp-wide" style="{_WIDE_CSS}">{screen}</div>'
        f'<div class="qzfp-print-only" style="display:none">{"".join(blocks)}</div>'
    )


#: The box of a wide year table on screen: the years scroll sideways inside it, never the page.
_WIDE_CSS = "overflow-x:auto;max-width:100%"
#: The frozen first column (the row's name) and last column (its total) of a wide year table.
_FROZEN_FIRST = "position:sticky;left:0;z-index:1;background:#fff;box-shadow:inset -1px 0 0 #bbb;min-width:9em"
_FROZEN_LAST = "position:sticky;right:0;z-index:1;background:#fff;box-shadow:inset 1px 0 0 #bbb"


def _table_html(
    df: pd.DataFrame,
    lang: str,
    *,
    decimals: int | Mapping[str, int] = 0,
    caption: str | None = None,
    frozen: bool = False,
) -> str:
    """The HTML table; ``frozen``: the first column (names) and the last (the total) stay in
    view while the years scroll sideways (a wide year table on screen).  Numbers never wrap."""
    per_col = dict(decimals) if isinstance(decimals, Mapping) else {}
    default = 0 if isinstance(decimals, Mapping) else int(decimals)
    cols = list(df.columns)
    headers = label_columns(df.iloc[:0], lang).columns
    n = len(cols)

    def extra(j: int) -> str:
        if not frozen:
            return ""
        return ";" + (_FROZEN_FIRST if j == 0 else _FROZEN_LAST if j == n - 1 and n > 2 else "")

    parts = [f'<table class="qzfp-table" style="{_TABLE_CSS}">']
    if caption:
        parts.append(f'<caption style="text-align:left;font-weight:bold">{html.escape(caption)}</caption>')
    parts.append("<thead><tr>")
    for j, h in enumerate(headers):
        parts.append(
            f'<th style="border-bottom:1px solid #333;padding:2px 6px;text-align:center{extra(j)}">'
            f"{html.escape(str(h))}</th>"
        )
    parts.append("</tr></thead><tbody>")
    values = df.to_numpy(dtype=object)
    for row in values:
        parts.append("<tr>")
        for j, (col, v) in enumerate(zip(cols, row, strict=True)):
            if col in _TEXT_COLUMNS:
                text, num = (str(int(v)) if isinstance(v, (int, float, np.number)) else str(v)), False
            else:
                text, num = _cell(v, lang, per_col.get(col, default))
            align = "right;white-space:nowrap" if num else "left"
            parts.append(
                f'<td style="padding:2px 6px;text-align:{align};border-bottom:1px solid #ddd{extra(j)}">'
                f"{html.escape(text)}</td>"
            )
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def show_table(
    df: pd.DataFrame,
    lang: str,
    *,
    decimals: int | Mapping[str, int] = 0,
    caption: str | None = None,
) -> pd.DataFrame:
    """Display :func:`table_html` of ``df`` and return ``df``."""
    from IPython.display import HTML

    _display(HTML(table_html(df, lang, decimals=decimals, caption=caption)))
    return df


def say(key: str, lang: str, **fields: Any) -> str:
    text = t(key, lang, **fields)
    md(text)
    return text


# =========================================================================== shared
def lang_of(results: Results) -> str:
    return results.scenario.lang


def years_of(results: Results) -> tuple[int, int]:
    return int(results.years[0]), int(results.years[-1])


def county_names(results: Results, codes: Sequence[Any]) -> list[str]:
    return place_names(codes, lang_of(results), results.register)


def with_place(df: pd.DataFrame, results: Results, code_col: str, name_col: str) -> pd.DataFrame:
    out = df.copy()
    out.insert(list(out.columns).index(code_col) + 1, name_col,
               county_names(results, out[code_col].astype(str)))
    return out


def whole_parts(values: Any) -> np.ndarray:
    """``values`` rounded to whole numbers that add up to their rounded sum (largest remainder:
    each value rounded down, then the units left over go to the largest fractions), so that a
    table of whole persons reconciles with its total.

    Examples
    --------
    >>> whole_parts([1.4, 1.4, 1.2]).tolist()  # sum 4.0: 1 + 1 + 1, and one unit to the largest fraction
    [2.0, 1.0, 1.0]
    """
    v = np.asarray(values, dtype=float)
    down = np.floor(v)
    left = int(round(float(v.sum()) - float(down.sum())))
    if left > 0:
        order = np.argsort(-(v - down), kind="stable")[:left]
        down[order] += 1
    return down


def wide_by_year(df: pd.DataFrame, index: str, value: str, *, total_row: str | None = None,
                  total_col: bool = False, lang: str = "en", whole: bool = False) -> pd.DataFrame:
    """``df`` (tidy, with ``year``) as a wide table: a row per ``index``, a column per year,
    with a total column and a total row when asked; ``whole``: each year's values as whole
    numbers adding up to the year's total (:func:`whole_parts`: persons)."""
    wide = df.pivot_table(index=index, columns="year", values=value, aggfunc="sum", sort=False)
    wide.columns = [str(int(c)) for c in wide.columns]
    if whole:
        wide = wide.apply(whole_parts, axis=0)
    if total_col:
        wide[t("total", lang)] = wide.sum(axis=1)
    if total_row is not None:
        wide.loc[total_row] = wide.sum(axis=0)
    return wide.reset_index()


def is_example_register(results: Results) -> bool:
    return not results.scenario.params.get("register")


def package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("qzfp")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "dev"


def variant_label(results: Results) -> str:
    lang = lang_of(results)
    v = results.scenario.params.get("variant", "medium")
    return t(f"variant.{v}", lang)


def period(start: int, end: int, lang: str) -> str:
    return f"{start}—{end}" if lang == "zh" else f"{start}–{end}"


def signed_yuan(x: float, lang: str) -> str:
    return ("+" if x > 0 else "") + format_yuan(x, lang, compact=True)


def header(results: Results, title_key: str, intro_key: str | None = None, **fields: Any) -> str:
    """Title of a notebook page in the scenario's language, the scenario and the register.

    Parameters
    ----------
    title_key, intro_key : str
        i18n keys of the title and of the introduction.
    **fields
        Template fields of both keys; ``start_year``, ``end_year``, ``n_counties``,
        ``n_townships``, ``n_villages``, ``variant`` and ``threshold`` (village staffing
        threshold in the first year) are filled in from the results.
    """
    lang = lang_of(results)
    start, end = years_of(results)
    reg = results.register
    fields = {
        "start_year": start,
        "end_year": end,
        "n_counties": format_number(reg.n_counties, lang),
        "n_townships": format_number(reg.n_townships, lang),
        "n_villages": format_number(reg.n_villages, lang),
        "variant": variant_label(results),
        "threshold": format_number(
            results.scenario.series("village.vice_president.population_threshold")[0], lang),
        **fields,
    }
    title = t(title_key, lang, **{k: v for k, v in fields.items()
                                   if k in i18n.template_fields(i18n.CATALOGUE[lang][title_key])})
    heading(title, 1)
    s = results.scenario
    lines = [f"**{t('nb.common.scenario', lang, title=s.title)}** (`{s.name}`)"]
    if s.description:  # in the report's language (a Chinese report never shows an English one)
        lines.append(s.description)
    source = (t("nb.population.example_register", lang) if is_example_register(results)
              else str(s.params["register"]))
    lines.append(t("nb.common.register", lang, source=source, n_villages=format_number(reg.n_villages, lang),
                   year=reg.year))
    n_syn = int(reg.villages["synthetic"].sum())
    if n_syn:
        lines.append(t("nb.common.synthetic_note", lang, n_synthetic=format_number(n_syn, lang),
                       n_villages=format_number(reg.n_villages, lang)))
    if intro_key:
        tmpl = i18n.CATALOGUE[lang][intro_key]
        lines.append(t(intro_key, lang, **{k: v for k, v in fields.items()
                                          if k in i18n.template_fields(tmpl)}))
    lines.append(t("nb.common.generated", lang, date=dt.date.today().isoformat(), version=package_version()))
    md("\n\n".join(lines))
    return title
