"""Dated policy parameters: the rulebook.

The rulebook is a folder of YAML files (``qzfp/rules/policy/*.yaml`` by default).  Each
file is a namespace named after the file (``village.yaml`` → ``village.*``).  A
node is a *parameter* when it has a ``values`` key; otherwise it is a namespace of
child nodes::

    vice_president:
      allowance:
        description: Monthly post allowance of a village FPA vice-president
        unit: yuan/month
        values:
          2004-01-01: {value: 60, reference: "衢委办[2004]38号"}

A rule change adds a date; it never overwrites history.  The value *in a year* is
the value in force on 1 January of that year, so a change dated 2008-07-01
applies from 2009.

A value may carry ``reference_zh``, its reference in Chinese (``假设：<理由>`` for an
``assumption: <reason>``); Chinese reports show it (:func:`qzfp.i18n.reference_text`).

Loading is strict: unknown keys, missing description/unit/values/reference,
values of the wrong type, numbers below ``min`` (default 0) or above ``max``,
strings outside ``choices`` and unparseable dates are all reported together, each
as a :class:`~qzfp.errors.Problem` naming ``file:key.path``.

Overrides
---------
:meth:`Rulebook.with_override` replaces part of a parameter's history:

* a scalar with a start date ``S`` keeps the rulebook values dated before ``S``
  and uses the scalar from ``S`` on (without a start date it replaces the whole
  history);
* a dated mapping ``{D1: v1, D2: v2, ...}`` keeps the rulebook values dated
  before the earliest override date ``D1``; from ``D1`` on only the override
  values apply (rulebook values dated after ``D1`` are superseded, so an
  override is never silently undone by a later rulebook change).

A scalar with start ``S`` is therefore the same as the mapping ``{S: value}``.
Override values are type- and range-checked like rulebook values.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ..errors import Label, ParameterError, Problem, describe_value, did_you_mean
from ..typed import text_problems
from .paramarrays import ParamArrays
from .parameter import DatedValue, Parameter, Scalar
from .schema import VALUE_KEYS, load_directory, reference_zh_problem
from .yamlfile import dated_items, display_path, parse_date

__all__ = ["DatedValue", "Parameter", "Rulebook", "default_policy_dir", "load_rulebook"]





@functools.lru_cache(maxsize=16)
def _load_cached(directory: str, stamp: tuple) -> dict[str, Parameter]:
    return load_directory(Path(directory))


def default_policy_dir() -> Path:
    """Folder of the packaged rulebook (``qzfp/rules/policy``)."""
    return Path(__file__).resolve().parent / "policy"


def load_rulebook(directory: str | Path | None = None) -> Rulebook:
    """Load every ``*.yaml`` file of a rulebook folder.

    Parameters
    ----------
    directory : str or Path, optional
        Folder of YAML files; the packaged ``qzfp/rules/policy`` when omitted.

    Returns
    -------
    Rulebook

    Raises
    ------
    ParameterError
        Listing every problem found in every file (``file:key.path: message``).
    """
    d = Path(directory) if directory is not None else default_policy_dir()
    if not d.is_dir():
        raise ParameterError(Problem(display_path(d), "rulebook.folder_not_found"))
    d = d.resolve()
    stamp = tuple(
        (f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(d.glob("*.yaml"))
    )
    return Rulebook(_load_cached(str(d), stamp), d)


# --------------------------------------------------------------------------- rulebook


def _jan1_ordinals(years: np.ndarray) -> np.ndarray:
    """Proleptic ordinals of 1 January of each year (``datetime.date.toordinal``)."""
    return np.array([dt.date(int(y), 1, 1).toordinal() for y in years], dtype=int)


def _fractional_year(date: dt.date) -> float:
    """A date as a fractional calendar year (1 January 2014 → 2014.0, 17 January → 2014.044)."""
    start = dt.date(date.year, 1, 1).toordinal()
    return date.year + (date.toordinal() - start) / (dt.date(date.year + 1, 1, 1).toordinal() - start)


@dataclass(frozen=True)
class Rulebook:
    """All parameters of a rulebook, by dotted path (immutable).

    Parameters
    ----------
    parameters : mapping of str to Parameter
        The parameters by path.
    directory : Path or None
        Folder the rulebook was loaded from.
    """

    parameters: Mapping[str, Parameter]
    directory: Path | None = None
    overridden: frozenset = field(default=frozenset())

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def __contains__(self, path: object) -> bool:
        return path in self.parameters

    def __len__(self) -> int:
        return len(self.parameters)

    def paths(self) -> list[str]:
        """All parameter paths, sorted."""
        return sorted(self.parameters)

    def get(self, path: str) -> Parameter:
        """The parameter at ``path``.

        Raises
        ------
        ParameterError
            For an unknown path, suggesting the closest ones ("did you mean ...?").
        """
        try:
            return self.parameters[path]
        except (KeyError, TypeError):
            children = [p for p in self.parameters if p.startswith(f"{path}.")]
            if children:
                raise ParameterError(Problem(str(path), "rulebook.is_namespace", path=path,
                                             children=", ".join(sorted(children)[:8]))) from None
            raise ParameterError(Problem(str(path), "rulebook.unknown_parameter",
                                         hint=did_you_mean(str(path), self.parameters))) from None

    def value_in_year(self, path: str, year: int) -> Scalar:
        """Value of ``path`` in force on 1 January of ``year``."""
        return self.get(path).value_in_year(year)

    def with_override(
        self,
        path: str,
        value: Any,
        reference: str = "override",
        *,
        start: dt.date | str | None = None,
        reference_zh: str = "",
    ) -> Rulebook:
        """A new rulebook with one parameter's history partly replaced.

        Parameters
        ----------
        path : str
            Dotted parameter path.
        value : scalar or mapping
            A scalar (applies from ``start``; from the first rulebook date when
            ``start`` is None), ``{"value": v, "reference": r}``, or a dated
            mapping ``{date: value or {"value": v, "reference": r}}``.  Rulebook
            values dated before the earliest override date are kept; later ones
            are superseded.
        reference : str
            Reference recorded for override values that do not carry their own.
        start : datetime.date or str, optional
            Start of a scalar override.
        reference_zh : str
            Chinese text of ``reference`` (for override values that do not carry their own
            reference); an entry may also give its own ``reference_zh``.

        Raises
        ------
        ParameterError
            Unknown path, bad date, or a value of the wrong type or out of range.
        """
        param = self.get(path)
        dated = _override_values(param, value, reference, start, reference_zh)
        first = dated[0].start
        history = tuple(dv for dv in param.values if dv.start < first) + tuple(dated)
        new = dict(self.parameters)
        new[path] = replace(param, values=history)
        return Rulebook(new, self.directory, self.overridden | {path})

    def explain(self, path: str, lang: str = "en") -> str:
        """Human-readable description and dated history of one parameter, in ``lang``
        (Chinese: the rulebook's ``description_zh`` and ``reference_zh``, units and labels in
        Chinese; the English reference beside a Chinese one only in English)."""
        from ..i18n import t, unit_label

        p = self.get(path)
        zh = lang == "zh"
        unit = unit_label(p.unit, lang)
        lines = [p.path, f"  {(p.description_zh if zh else '') or p.description}",
                 "  " + t("explain.unit", lang, unit=unit)]
        bounds = []
        if p.kind == "number":
            if p.min is not None:
                bounds.append(t("explain.min", lang, value=f"{p.min:g}"))
            if p.max is not None:
                bounds.append(t("explain.max", lang, value=f"{p.max:g}"))
        if p.choices:
            bounds.append(t("explain.one_of", lang, choices=", ".join(p.choices)))
        if bounds:
            lines.append("  " + t("explain.allowed", lang, bounds=("，" if zh else ", ").join(bounds)))
        if p.note and not zh:
            lines.append(f"  note: {p.note}")
        if path in self.overridden:
            lines.append("  " + t("explain.overridden", lang))
        lines.append("  " + t("explain.history", lang))
        for dv in p.values:
            lines.append(f"    {dv.start.isoformat()}  {_fmt(dv.value, lang)} {unit}")
            if zh:
                from ..i18n import reference_text

                lines.append("        " + t("explain.reference", lang, reference=reference_text(dv, lang)))
                continue
            lines.append(f"        reference: {dv.reference}")
            if dv.reference_zh:
                lines.append(f"        reference (zh): {dv.reference_zh}")
            if dv.note:
                lines.append(f"        note: {dv.note}")
        return "\n".join(lines)

    def tree(self, lang: str = "en") -> str:
        """All parameter paths with unit and latest value, grouped by namespace, in ``lang``."""
        from ..i18n import t, unit_label

        lines: list[str] = []
        by_ns: dict[str, list[Parameter]] = {}
        for path in self.paths():
            by_ns.setdefault(path.split(".", 1)[0], []).append(self.parameters[path])
        for ns, params in by_ns.items():
            lines.append(f"{ns}  " + t("explain.n_parameters", lang, n=len(params)))
            width = max(len(p.path) for p in params) - len(ns) - 1
            for p in params:
                rest = p.path[len(ns) + 1 :]
                assumed = (
                    "  " + t("explain.assumption", lang)
                    if p.latest.reference.lower().startswith("assumption") else ""
                )
                since = t("explain.since", lang, date=p.latest.start.isoformat())
                lines.append(
                    f"  {rest:<{width}}  {_fmt(p.latest.value, lang)} {unit_label(p.unit, lang)} {since}{assumed}"
                )
        return "\n".join(lines)

    def to_param_arrays(
        self, years: Iterable[int], paths: Iterable[str] | None = None
    ) -> ParamArrays:
        """Numeric and bool parameters as ``(1, T)`` float arrays.

        Parameters
        ----------
        years : iterable of int
            Calendar years (values in force on 1 January).
        paths : iterable of str, optional
            Restrict to these paths (all numeric/bool parameters when omitted).

        Raises
        ------
        ParameterError
            A requested path is unknown or a text parameter, or some parameter has
            no value in force in one of the years (all such problems listed).
        """
        years = np.asarray(list(years), dtype=int)
        if paths is None:
            selected = [p for p in self.paths() if self.parameters[p].is_numeric]
        else:
            selected = list(paths)
        jan1 = _jan1_ordinals(years)
        data: dict[str, np.ndarray] = {}
        units: dict[str, str] = {}
        since: dict[str, np.ndarray] = {}
        history: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        dated: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        problems: list[Problem] = []
        for path in selected:
            try:
                p = self.get(path)
                if not p.is_numeric:
                    raise ParameterError(
                        Problem(path, "rulebook.text_not_number", value=p.latest.value)
                    )
                starts = np.array([dv.start.toordinal() for dv in p.values])
                idx = np.searchsorted(starts, jan1, side="right") - 1
                if len(idx) and idx.min() < 0:
                    p.value_in_year(int(years[idx < 0][0]))  # raises with the standard message
                values = np.array([float(dv.value) for dv in p.values])
                # effective year: the first year on whose 1 January the value is in force
                effective = np.array([dv.start.year + (dv.start.timetuple().tm_yday > 1)
                                      for dv in p.values], dtype=float)
                data[path] = values[idx][None, :]
                units[path] = p.unit
                since[path] = effective[idx][None, :]
                history[path] = (starts, values)
                dated[path] = (np.array([_fractional_year(dv.start) for dv in p.values]), values)
            except ParameterError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ParameterError(problems)
        # values of the years before the first one, back to the earliest effective year
        prior: dict[str, np.ndarray] = {}
        if since and len(years):
            first = int(min(float(a[0, 0]) for a in since.values()))
            before = _jan1_ordinals(np.arange(first, int(years[0])))
            for path, (starts, values) in history.items():
                idx = np.searchsorted(starts, before, side="right") - 1
                prior[path] = np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan)[None, :]
        return ParamArrays(years, data, units=units, since=since, prior=prior, dated=dated)

    @property
    def sha256(self) -> str:
        """Hash of the canonical JSON of every parameter's history."""
        payload = {
            p.path: [[dv.start.isoformat(), dv.value, dv.reference, *([dv.reference_zh] if dv.reference_zh else [])]
                     for dv in p.values]
            for p in self.parameters.values()
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fmt(value: Scalar, lang: str = "en") -> str:
    if isinstance(value, bool):
        if lang == "zh":
            return "是" if value else "否"
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


#: Longest reference, note or text value of an override [character]: a paragraph (the
#: rulebook's longest reference has about 400).
MAX_REFERENCE_CHARS = 2000


def _one_override(
    param: Parameter, raw: Any, reference: str, where: str, reference_zh: str = ""
) -> tuple[Scalar, str, str, str]:
    """Check one override entry (scalar or {value, reference, reference_zh, note}).

    An entry with its own ``reference`` and no ``reference_zh`` has no Chinese reference
    (the default ``reference_zh`` belongs to the default ``reference``)."""
    note = ""
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in VALUE_KEYS]
        if unknown or "value" not in raw:
            raise ParameterError(
                Problem(where, "override.bad_keys", keys=sorted(map(str, raw)))
            )
        ref = raw.get("reference", reference)
        if not isinstance(ref, str) or not ref.strip():
            raise ParameterError(
                Problem(f"{where}.reference", "expected", what=Label("expect.nonempty_text"), got=describe_value(ref))
            )
        for key in ("note", "reference_zh"):
            if not isinstance(raw.get(key, ""), str):
                raise ParameterError(
                    Problem(f"{where}.{key}", "expected", what=Label("expect.text"), got=describe_value(raw[key]))
                )
        texts = [p for key in ("reference", "reference_zh", "note") if isinstance(raw.get(key), str)
                 for p in text_problems(raw[key], f"{where}.{key}", max_chars=MAX_REFERENCE_CHARS, one_line=False)]
        if texts:
            raise ParameterError(texts)
        note = raw.get("note", "")
        if "reference" in raw or "reference_zh" in raw:
            reference_zh = raw.get("reference_zh", "").strip()
            bad = reference_zh_problem(ref, reference_zh)
            if bad is not None:
                raise ParameterError(bad.at(f"{where}.reference_zh"))
        reference, raw = ref, raw["value"]
    bad = param.check(raw)
    if bad:
        raise ParameterError([q.at(where) for q in bad])
    if isinstance(raw, str) and (bad := text_problems(raw, where, max_chars=MAX_REFERENCE_CHARS)):
        raise ParameterError(bad)
    return raw, reference, note, reference_zh


def _override_values(
    param: Parameter, value: Any, reference: str, start: dt.date | str | None,
    reference_zh: str = "",
) -> list[DatedValue]:
    is_dated = isinstance(value, Mapping) and "value" not in value
    out: list[DatedValue] = []
    if is_dated:
        if not value:
            raise ParameterError(
                Problem(param.path, "override.empty_dated")
            )
        problems: list[Problem] = []
        for date, where, raw in dated_items(value, param.path, problems):
            try:
                v, ref, note, ref_zh = _one_override(param, raw, reference, where, reference_zh)
            except ParameterError as exc:
                problems.extend(exc.problems)
                continue
            out.append(DatedValue(date, v, ref, note, ref_zh))
        if problems:
            raise ParameterError(problems)
        out.sort(key=lambda d: d.start)
        return out
    if start is None:
        sdate = param.values[0].start
    else:
        sdate = parse_date(start)
        if sdate is None:
            raise ParameterError(
                Problem(param.path, "start_date_unparseable", value=start)
            )
    v, ref, note, ref_zh = _one_override(param, value, reference, param.path, reference_zh)
    return [DatedValue(sdate, v, ref, note, ref_zh)]
