"""Monte Carlo percentiles chunk by chunk, locally or on a Dask cluster.

:func:`monte_carlo_percentiles` (local, memory-bounded) and :func:`monte_carlo_dask` draw
the same chunks from the same seeds (see :mod:`qzfp.distributed`, Reproducibility).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Label, ParameterError, Problem
from ..rules.paramarrays import ParamArrays
from .session import DEFAULT_RETRIES, Session, follow, share, submit, task_stamp

__all__ = ["MC_CHUNK_BYTES", "MCPercentiles", "default_mc_chunk", "monte_carlo_dask", "monte_carlo_percentiles"]

#: Memory budget of one Monte Carlo chunk's age-detailed county arrays [byte]: the default
#: chunk is the number of paths whose arrays by age would fit (all paths for a city; ~2 for a
#: country of 2,800 counties over 16 years, where a path's arrays by age take ~0.2 GB).  The
#: chunk size is part of what defines the paths (chunk ``i`` draws from child ``i`` of the seed),
#: so it is kept although the engine now keeps only each path's county totals (about 1 % of
#: that: :func:`qzfp.model.projection.project_from_assumptions`).
MC_CHUNK_BYTES = 512 * 2**20


@dataclass
class MCPercentiles:
    """Percentiles over Monte Carlo paths computed chunk by chunk.

    Attributes
    ----------
    years : numpy.ndarray
        (T,) calendar years.
    quantiles : tuple of float
        Percentiles held (rows Q of the arrays) [%].
    n_paths, seed, chunk : int
        Paths drawn, seed and paths per chunk (same seed and chunk → same result).
    county : dict of str to numpy.ndarray
        Indicator → (Q, T, C) county percentiles [person or person/year].
    city : dict of str to numpy.ndarray
        Indicator → (Q, T) percentiles of the city (or province, country) total of each path.
    county_codes : numpy.ndarray
        (C,) county codes.
    """

    years: np.ndarray
    quantiles: tuple
    n_paths: int
    seed: int
    chunk: int
    county: dict
    city: dict
    county_codes: np.ndarray
    _register: Any = field(default=None, repr=False)
    _pa: Any = field(default=None, repr=False)
    _below: dict = field(default_factory=dict, repr=False)

    def _check(self, indicator: str) -> None:
        if indicator not in self.county:
            raise KeyError(f"indicator {indicator!r} not kept; have {sorted(self.county)}")

    def village(self, indicator: str) -> np.ndarray:
        """(Q, T, V) village percentiles of an indicator (not ``net_migration``).

        Village values are the county value times a coefficient that does not depend on
        the path (the allocation of :func:`qzfp.model.projection.project`), so the village
        percentiles are the county percentiles allocated — exact, without village arrays
        per path.  Net migration is a balance residual per path and is not available here.
        """
        return self._allocated(indicator)[0]

    def township(self, indicator: str) -> np.ndarray:
        """(Q, T, S) township percentiles (sums of the allocated villages)."""
        return self._allocated(indicator)[1]

    def _allocated(self, indicator: str) -> tuple[np.ndarray, np.ndarray]:
        from ..model.allocation import allocate, allocation_params, prepare

        if indicator == "net_migration":
            raise KeyError("village and township net migration percentiles need every path's villages; "
                           "use qzfp.model.projection.percentiles on an in-memory Monte Carlo")
        self._check(indicator)
        if indicator not in self._below:
            prep = prepare(self._register)
            alloc = allocation_params(self._pa, len(self.years))
            v, s = allocate(prep, alloc, self.county, None, (indicator,))
            self._below[indicator] = (v[indicator], s[indicator])
        return self._below[indicator]

    def _row(self, percentile: float) -> int:
        if float(percentile) not in self.quantiles:
            raise KeyError(f"percentile {percentile} not held; have {self.quantiles}")
        return self.quantiles.index(float(percentile))

    def counties(self, percentile: float = 50) -> pd.DataFrame:
        """Tidy table ``year, county_code`` + kept indicators at one percentile."""
        i = self._row(percentile)
        c = len(self.county_codes)
        out: dict[str, Any] = {"year": np.repeat(self.years, c), "county_code": np.tile(self.county_codes, len(self.years))}
        for k, v in self.county.items():
            out[k] = v[i].reshape(-1)
        return pd.DataFrame(out)

    def city_table(self) -> pd.DataFrame:
        """Tidy table ``year, percentile`` + kept indicators of the whole register."""
        q = len(self.quantiles)
        out: dict[str, Any] = {"year": np.tile(self.years, q),
                               "percentile": np.repeat(np.asarray(self.quantiles), len(self.years))}
        for k, v in self.city.items():
            out[k] = v.reshape(-1)
        return pd.DataFrame(out)


def _mc_chunk(register: Any, pa: ParamArrays, n_paths: int, seed: np.random.SeedSequence, variant: str,
              calibrate: bool, indicators: tuple[str, ...]) -> dict[str, np.ndarray]:
    """County indicators (n, T, C) of one chunk of Monte Carlo paths (runs on a worker)."""
    from ..model.montecarlo import monte_carlo

    r = monte_carlo(register, pa, n_paths, seed, variant=variant, calibrate=calibrate)
    ci = r.county_indicators()
    return {k: np.ascontiguousarray(ci[k]) for k in indicators}


def default_mc_chunk(register: Any, n_years: int, n_paths: int) -> int:
    """Paths per chunk whose county arrays by sex and age (pop, deaths, net migration, of the
    registered and the resident population) would fit in :data:`MC_CHUNK_BYTES` [path] (at
    least 1, at most ``n_paths``); a chunk holds only the county totals of its paths unless
    the arrays by age are read (see :data:`MC_CHUNK_BYTES`)."""
    from ..model.projection import AGES

    per_path = 3 * 2 * (n_years + 1) * max(1, register.n_counties) * 2 * AGES * 8
    return int(max(1, min(max(1, n_paths), MC_CHUNK_BYTES // per_path)))


def _mc_plan(n_paths: int, seed: int, chunk: int) -> list[tuple[int, np.random.SeedSequence]]:
    if n_paths < 1:
        raise ParameterError(Problem("mc_paths", "montecarlo.too_few_paths", n=n_paths))
    if chunk < 1:
        raise ParameterError(Problem("chunk", "montecarlo.chunk", n=chunk))
    k = math.ceil(n_paths / chunk)
    seeds = np.random.SeedSequence(int(seed)).spawn(k)
    return [(min(chunk, n_paths - i * chunk), seeds[i]) for i in range(k)]


def _check_mc(indicators: Sequence[str], q: Sequence[float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    from ..model.projection import INDICATORS

    ind = tuple(indicators)
    bad = [i for i in ind if i not in INDICATORS]
    if bad or not ind:
        raise ParameterError(Problem("indicators", "montecarlo.indicators", choices=", ".join(INDICATORS),
                                     got=list(ind)))
    qt = tuple(float(x) for x in q)
    if not qt or any(not 0.0 <= x <= 100.0 for x in qt):
        raise ParameterError(Problem("percentiles", "percentiles.out_of_range", got=list(q)))
    return ind, qt


def _assemble(register: Any, pa: ParamArrays, parts: list[dict], n_paths: int, seed: int, chunk: int,
              indicators: tuple[str, ...], qt: tuple[float, ...]) -> MCPercentiles:
    county: dict[str, np.ndarray] = {}
    city: dict[str, np.ndarray] = {}
    for k in indicators:
        allp = np.concatenate([p[k] for p in parts], axis=0)  # (N, T, C)
        county[k] = np.percentile(allp, qt, axis=0)
        city[k] = np.percentile(allp.sum(axis=-1), qt, axis=0)
        del allp
    return MCPercentiles(
        years=np.asarray(pa.years), quantiles=qt, n_paths=n_paths, seed=int(seed), chunk=chunk,
        county=county, city=city, county_codes=register.counties["county_code"].to_numpy().astype(str),
        _register=register, _pa=pa,
    )


def monte_carlo_percentiles(
    register: Any,
    pa: ParamArrays,
    n_paths: int,
    seed: int,
    *,
    chunk: int | None = None,
    q: Sequence[float] = (10, 50, 90),
    indicators: Sequence[str] = ("pop", "aged_60plus", "women_15_49", "births", "deaths"),
    variant: str = "medium",
    calibrate: bool = True,
) -> MCPercentiles:
    """Monte Carlo percentiles computed ``chunk`` paths at a time (bounded memory).

    The paths of :func:`qzfp.model.montecarlo.monte_carlo` are drawn in chunks with
    independent streams (chunk ``i`` uses child ``i`` of ``SeedSequence(seed)``); of each
    chunk only the county indicators asked for are kept, and the percentiles are taken over
    all paths at the end (exact, not an approximation).

    Memory: one chunk's county totals, about ``chunk × 2 × T × C × 7 × 8`` bytes (the engine
    keeps no array by age: ≈ 5 MB per path for a country of 2,800 counties over 16 years),
    plus the kept indicators, ``n_paths × T × C × 8`` bytes each.

    Parameters
    ----------
    register : Register
    pa : ParamArrays
        Demographic assumptions, N = 1 (the central path).
    n_paths : int
        Paths [path].
    seed : int
        Seed (same seed and chunk → same result).
    chunk : int, optional
        Paths per chunk [path]; default :func:`default_mc_chunk` (memory-bounded).
    q : sequence of float
        Percentiles [%].
    indicators : sequence of str
        County indicators kept (of :data:`qzfp.model.projection.INDICATORS`).
    variant, calibrate
        As :func:`qzfp.model.montecarlo.monte_carlo`.

    Returns
    -------
    MCPercentiles
    """
    ind, qt = _check_mc(indicators, q)
    if chunk is None:
        chunk = default_mc_chunk(register, len(pa.years), n_paths)
    plan = _mc_plan(n_paths, seed, chunk)
    parts = [_mc_chunk(register, pa, n, s, variant, calibrate, ind) for n, s in plan]
    return _assemble(register, pa, parts, n_paths, seed, chunk, ind, qt)


def monte_carlo_dask(
    register: Any,
    pa: ParamArrays,
    n_paths: int,
    seed: int,
    *,
    scheduler: str | None = None,
    client: Any = None,
    chunk: int | None = None,
    q: Sequence[float] = (10, 50, 90),
    indicators: Sequence[str] = ("pop", "aged_60plus", "women_15_49", "births", "deaths"),
    variant: str = "medium",
    calibrate: bool = True,
    retries: int = DEFAULT_RETRIES,
    progress: bool = False,
) -> MCPercentiles:
    """:func:`monte_carlo_percentiles` with the chunks computed on Dask workers.

    Equal to the local chunked result with the same ``seed`` and ``chunk``, whatever the
    number of workers (see the module notes).

    Parameters
    ----------
    register, pa, n_paths, seed, chunk, q, indicators, variant, calibrate
        As :func:`monte_carlo_percentiles`.
    scheduler, client
        See :func:`connect`.
    retries : int
        Resubmissions of a task that raised [-].
    progress : bool
        Show a bar counting finished chunks (on the client).

    Returns
    -------
    MCPercentiles

    Raises
    ------
    ParameterError
        Bad settings, before anything is sent to the cluster.
    QzfpError, RunError
        No scheduler address, the scheduler cannot be reached, or a chunk failed on every
        allowed attempt.
    """
    ind, qt = _check_mc(indicators, q)
    if chunk is None:
        chunk = default_mc_chunk(register, len(pa.years), n_paths)
    plan = _mc_plan(n_paths, seed, chunk)
    stamp = task_stamp()
    with Session(scheduler, client, Label("dask.what.monte_carlo")) as cl:
        reg_f, pa_f = share(cl, register, pa)
        futures = [submit(cl, _mc_chunk, reg_f, pa_f, n, s, variant, calibrate, ind,
                           key=f"qzfp-mc-{i}-{stamp}", retries=retries)
                   for i, (n, s) in enumerate(plan)]
        follow(cl, futures, progress=progress, desc="Monte Carlo (dask)", unit="chunk")
        parts = cl.gather(futures)
    return _assemble(register, pa, parts, n_paths, seed, chunk, ind, qt)
