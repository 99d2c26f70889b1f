"""qzfp — population, staffing, workload and budget projections for the Quzhou FPA.

The public API is small:

>>> import qzfp
>>> scenario = qzfp.load_scenario("baseline")      # params/baseline.yaml or the packaged copy
>>> register = qzfp.load_register()                # the shipped example register of Quzhou
>>> results = qzfp.simulate(scenario, register)    # tidy population/staffing/workload/budget tables
>>> results.summary()                              # key figures per year

Names are imported lazily so that ``import qzfp`` stays fast (the command line and
notebooks import only what they use).  No submodule is named like one of these functions
(the engines live in :mod:`qzfp.model`, the registers in :mod:`qzfp.register`), so
``qzfp.simulate`` and ``qzfp.compare`` are always the functions.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_scenario": "qzfp.rules.scenario",
    "Scenario": "qzfp.rules.scenario",
    "load_rulebook": "qzfp.rules.rulebook",
    "load_register": "qzfp.register",
    "Register": "qzfp.register",
    "simulate": "qzfp.model.run",
    "Results": "qzfp.model.run",
    "compare": "qzfp.model.comparison",
    "sweep": "qzfp.model.comparison",
    "sensitivity": "qzfp.model.comparison",
    "QzfpError": "qzfp.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qzfp' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
