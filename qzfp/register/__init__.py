"""Registers: the input data the model runs on.

* :mod:`qzfp.register.load` — the township/village register (CSV, XLSX), its validation and
  the packaged example of Quzhou (:func:`load_register`, :class:`Register`);
* :mod:`qzfp.register.redistricting` — township merges and village consolidation with exact
  aggregation maps;
* :mod:`qzfp.register.census` — census age–sex tables (load, check, split to single years).

The register's public names are importable from the package itself
(``from qzfp.register import load_register``).
"""

from __future__ import annotations

from .load import (
    ALIASES,
    DATA_DIR,
    EXAMPLE_YEAR,
    MAX_REGISTER_ROWS,
    MAX_VILLAGE_POPULATION,
    MAX_VILLAGES,
    VIEWS,
    Register,
    example_plan_path,
    load_register,
    read_table,
    township_kind_from_name,
    validate_register_file,
    village_kind_from_name,
)

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
