"""The label catalogue: one data file per language, looked up by key."""

from __future__ import annotations

import difflib
import functools
import string
from importlib import resources
from typing import Any

import yaml

from ..errors import Problem, ScenarioError

LANGS: tuple[str, ...] = ("en", "zh")
"""Supported languages (``lang`` scenario key and ``--lang`` option)."""


def _load_language(lang: str) -> dict[str, str]:
    """The catalogue file ``qzfp/i18n/<lang>.yaml``: a flat mapping key → template.

    Read with libyaml's composer (fast: the catalogues are read at import) and checked
    strictly: a key given twice or a value that is not a text is an error.
    """
    name = f"{lang}.yaml"
    text = (resources.files(__package__) / name).read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(root, yaml.MappingNode):
        raise ValueError(f"qzfp/i18n/{name}: expected a mapping of label keys to texts")
    out: dict[str, str] = {}
    for key, value in root.value:
        where = f"qzfp/i18n/{name}:{key.start_mark.line + 1}"
        if key.value in out:
            raise ValueError(f"{where}: duplicate key {key.value!r}")
        if not isinstance(value, yaml.ScalarNode) or value.tag != "tag:yaml.org,2002:str":
            raise ValueError(f"{where}: {key.value!r} must be a quoted text")
        out[key.value] = value.value
    return out


@functools.cache
def _catalogue() -> dict[str, dict[str, str]]:
    cat = {lang: _load_language(lang) for lang in LANGS}
    en = cat["en"]
    for lang in LANGS[1:]:
        missing = set(en) ^ set(cat[lang])
        if missing:
            raise ValueError(f"qzfp/i18n: {lang}.yaml and en.yaml differ in keys: {sorted(missing)[:5]}")
    return cat


_HUMAN_LANG = {"en": "English", "zh": "Chinese"}

CATALOGUE: dict[str, dict[str, str]] = _catalogue()
"""``CATALOGUE[lang][key]`` → template."""

BUDGET_LINES: tuple[str, ...] = tuple(
    k.split(".", 1)[1] for k in CATALOGUE["en"] if k.startswith("budget.")
)
"""Stable budget line ids in report order."""

POSTS: tuple[str, ...] = tuple(k.split(".", 1)[1] for k in CATALOGUE["en"] if k.startswith("post."))
"""Post ids in report order."""


class UnknownLabelError(KeyError):
    """A label key is not in the catalogue (a programming error, not a user error)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def check_lang(lang: str, location: str = "lang") -> str:
    """Return ``lang`` if supported, else raise :class:`~qzfp.errors.ScenarioError`.

    Parameters
    ----------
    lang : str
        Language code (``"en"`` or ``"zh"``).
    location : str
        Where the value came from, for the error message (``"params/x.yaml:lang"``).
    """
    if lang in LANGS:
        return lang
    from ..errors import did_you_mean

    raise ScenarioError(Problem(location, "unknown_lang", value=lang, choices=", ".join(LANGS),
                                hint=did_you_mean(str(lang).lower(), LANGS)))


def template_fields(template: str) -> set[str]:
    """Names of the ``str.format`` fields of a template."""
    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in CATALOGUE["en"]


def keys(prefix: str = "") -> list[str]:
    """Catalogue keys starting with ``prefix``, in catalogue order."""
    return [k for k in CATALOGUE["en"] if k.startswith(prefix)]


def t(key: str, lang: str, /, **fields: Any) -> str:
    """Return the label ``key`` in ``lang`` with its named fields filled in.

    Parameters
    ----------
    key : str
        Catalogue key, e.g. ``"chart.fan.title"``.
    lang : str
        ``"en"`` or ``"zh"``.
    **fields
        Values of the template's named fields (all are required).

    Raises
    ------
    UnknownLabelError
        If ``key`` is not in the catalogue (the message suggests close keys).
    KeyError
        If a template field is not given.
    ScenarioError
        If ``lang`` is not supported.
    """
    check_lang(lang)
    try:
        template = CATALOGUE[lang][key]
    except KeyError:
        close = difflib.get_close_matches(key, list(CATALOGUE["en"]), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownLabelError(f"no label {key!r} in qzfp.i18n{hint}") from None
    missing = template_fields(template) - set(fields)
    if missing:
        raise KeyError(
            f"label {key!r} needs field(s) {', '.join(sorted(missing))}; "
            f"got {', '.join(sorted(fields)) or 'none'}"
        )
    return template.format(**fields)
