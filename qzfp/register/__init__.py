"""Registers: the input data the model runs on.

* :mod:`qzfp.register.load` — :func:`load_register`: the packaged example of Quzhou or a
  user's register (CSV folder, XLSX workbook, one flat sheet);
* :mod:`qzfp.register.tables` — the :class:`Register` (three tidy tables and their index arrays);
* :mod:`qzfp.register.files` — CSV and XLSX files read into grids of strings;
* :mod:`qzfp.register.validate` — headers (English or Chinese), codes, names, numbers, kinds;
* :mod:`qzfp.register.redistricting` — township merges and village consolidation with exact
  aggregation maps;
* :mod:`qzfp.register.census` — census age–sex tables (load, check, split to single years).

The register's public names are importable from the package itself
(``from qzfp.register import load_register``).
"""

from __future__ import annotations

from .load import example_plan_path, load_register, validate_register_file
from .tables import (
    DATA_DIR,
    EXAMPLE_YEAR,
    VIEWS,
    Register,
    township_kind_from_name,
    village_kind_from_name,
)
from .validate import ALIASES, MAX_REGISTER_ROWS, MAX_VILLAGE_POPULATION, MAX_VILLAGES, read_table

__all__ = [
    "ALIASES",
    "DATA_DIR",
    "EXAMPLE_YEAR",
    "MAX_REGISTER_ROWS",
    "MAX_VILLAGES",
    "MAX_VILLAGE_POPULATION",
    "VIEWS",
    "Register",
    "example_plan_path",
    "load_register",
    "read_table",
    "township_kind_from_name",
    "validate_register_file",
    "village_kind_from_name",
]
