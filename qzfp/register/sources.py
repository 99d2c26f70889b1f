"""The data files a scenario names (its register, its census tables), found and read.

A scenario is passed in (anything with ``params``, ``path`` and ``name``, a
:class:`qzfp.rules.scenario.Scenario`); this module knows its keys, not its class, so the
register package does not depend on the rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import Problem
from .census import CENSUS_2010_DATE, Census, CensusError, default_census, load_census

__all__ = ["resolve_path", "scenario_census", "scenario_census_check"]


def resolve_path(raw: str, scenario_path: Path | None) -> Path:
    """A file a scenario names: as given when it exists (or is absolute), else relative to the
    folder of the scenario file ``scenario_path``."""
    path = Path(raw)
    if not path.is_absolute() and not path.exists() and scenario_path is not None:
        candidate = Path(scenario_path).parent / path
        if candidate.exists():
            return candidate
    return path

def _census_file(scenario: Any, key: str) -> Path:
    raw = scenario.params[key]
    path = resolve_path(raw, scenario.path)
    if not path.is_file():
        raise CensusError(Problem(f"{scenario.path or scenario.name}:{key}", "census.does_not_exist", path=raw))
    return path

def scenario_census(scenario: Any, codes: Sequence[str] | None = None) -> Census:
    """The census table of a scenario's base (``census``, ``census_date``; the shipped 2010 one).

    ``codes``: the register's county codes, each of which the table must have a row for
    (its own, its prefecture's or province's, or the nation's: :meth:`Census.require_rows`);
    a county it cannot place is a problem at ``file:census: table``.
    """
    p = scenario.params
    if not p.get("census"):
        if p.get("census_date") and p["census_date"] != CENSUS_2010_DATE.isoformat():
            raise CensusError(Problem(f"{scenario.path or scenario.name}:census_date",
                                      "census.date_without_table"))
        return default_census()
    if not p.get("census_date"):
        raise CensusError(Problem(f"{scenario.path or scenario.name}:census_date", "census.table_without_date"))
    key = f"{scenario.path or scenario.name}:census"
    with _named_by(key):
        census = load_census(_census_file(scenario, "census"), p["census_date"],
                             date_key=f"{scenario.path or scenario.name}:census_date")
        if codes is not None:
            census.require_rows(codes)
    census.require_full(key)
    return census

def scenario_census_check(scenario: Any) -> Census | None:
    """The later census table a scenario's projection is checked against (None when not set)."""
    p = scenario.params
    if not p.get("census_check"):
        return None
    with _named_by(f"{scenario.path or scenario.name}:census_check"):
        return load_census(_census_file(scenario, "census_check"), p.get("census_check_date") or "",
                           date_key=f"{scenario.path or scenario.name}:census_check_date")


@contextmanager
def _named_by(key: str) -> Iterator[None]:
    """Problems of the census table a scenario key names, prefixed by ``file:key`` (as a
    register's are); problems located at the scenario already stay as they are."""
    try:
        yield
    except CensusError as exc:
        raise CensusError([q if q.location.startswith(key.rsplit(":", 1)[0] + ":") else q.at(f"{key}: {q.location}")
                           for q in exc.problems]) from None
