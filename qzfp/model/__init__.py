"""The model: from a register and a scenario's rules to populations, posts, workload and budget.

Every engine takes a :class:`~qzfp.rules.paramarrays.ParamArrays` (one ``(N, T)`` array per rulebook
path) and returns arrays with a leading parameter-set axis N.

* :mod:`qzfp.model.projection` — the population: census base, cohort-component projection,
  allocation below the county, variants and Monte Carlo;
* :mod:`qzfp.model.staffing`, :mod:`qzfp.model.workload`, :mod:`qzfp.model.budget` — posts
  required by the rules, WISN workload, budget lines;
* :mod:`qzfp.model.run` — the one chaining function (:func:`~qzfp.model.run.run_arrays`) and
  :func:`~qzfp.model.run.simulate` → :class:`~qzfp.model.run.Results`;
* :mod:`qzfp.model.comparison` — compare, sweep, sensitivity;
* :mod:`qzfp.model.backtest` — the projection against the census;
* :mod:`qzfp.model.arrays` — the one aggregation villages → townships → counties.
"""
