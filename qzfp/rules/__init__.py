"""The rules: the dated rulebook, scenario files and the vectorised view of both.

- :mod:`~qzfp.rules.rulebook` — dated parameters read from ``qzfp/rules/policy/*.yaml``
  (checked by the schema of :mod:`~qzfp.rules.schema`), overrides, ``explain``;
- :mod:`~qzfp.rules.scenario` — scenario files (``params/*.yaml``): keys, ``extends``,
  overrides, validation;
- :mod:`~qzfp.rules.paramarrays` — :class:`ParamArrays`, one ``(N, T)`` array per numeric
  rule, the form every engine of :mod:`qzfp.model` reads.
"""

from __future__ import annotations

from .paramarrays import ParamArrays
from .rulebook import DatedValue, Parameter, Rulebook, load_rulebook
from .scenario import SCENARIO_KEYS, Scenario, load_scenario, validate_scenario_file

__all__ = ["DatedValue", "Parameter", "ParamArrays", "Rulebook", "SCENARIO_KEYS", "Scenario",
           "load_rulebook", "load_scenario", "validate_scenario_file"]
