"""Allocation of the county projection to townships and villages.

:func:`prepare` indexes a register once (villages by county, class urban/rural/remote, start
populations); :func:`allocate` carries the county indicators down: village shares drift with
class-specific growth differentials and are renormalised per county every year, indicators
go with urban/rural factors, village net migration is the balance residual, townships are
sums of their villages (``docs/population.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from ..rules.paramarrays import ParamArrays
from .arrays import Blocks, group_sum

__all__ = ["INDICATORS", "AllocatedVillages", "Allocation", "Prepared", "allocate", "allocation_params", "prepare"]

_P = "demography."


INDICATORS = (
    "pop",
    "aged_60plus",
    "women_15_49",
    "births",
    "deaths",
    "net_migration",
    "in_migrants",
    "resident_pop",
    "resident_aged_60plus",
)



@dataclass(frozen=True)
class Prepared:
    key: str
    county_codes: np.ndarray
    township_codes: np.ndarray
    village_codes: np.ndarray
    v_county: np.ndarray
    v_township: np.ndarray
    t_county: np.ndarray
    v_class: np.ndarray  # 0 urban, 1 rural, 2 remote
    v_pop0: np.ndarray
    v_inm_share: np.ndarray  # share of the county in-migrant stock
    county_pop0: np.ndarray
    county_inm0: np.ndarray
    class_pop0: np.ndarray  # (C, 3)
    county_villages: tuple  # per county: village indices
    county_townships: tuple  # per county: township indices


_PREP_CACHE: dict[int, tuple[Any, Prepared]] = {}



def _members(group: np.ndarray, k: int) -> tuple:
    """Per group 0..k-1, the ascending indices of its members (one stable sort, not k scans)."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(k + 1))
    return tuple(order[bounds[i]:bounds[i + 1]] for i in range(k))



def prepare(register: Any) -> Prepared:
    """Index arrays of the register (cached per register object)."""
    hit = _PREP_CACHE.get(id(register))
    if hit is not None and hit[0] is register:
        return hit[1]
    vil = register.villages
    tws = register.townships
    cty = register.counties
    v_county = np.asarray(register.village_county, dtype=np.intp)
    v_township = np.asarray(register.village_township, dtype=np.intp)
    t_county = np.asarray(register.township_county, dtype=np.intp)
    c = len(cty)
    pop0 = vil["population"].to_numpy(dtype=float)
    inm = vil["in_migrants"].to_numpy(dtype=float) if "in_migrants" in vil else np.zeros(len(vil))
    urban = vil["urban"].to_numpy(dtype=bool)
    kind = tws["kind"].astype(str).to_numpy() if "kind" in tws else np.full(len(tws), "town")
    remote = ~urban & (kind[v_township] == "xiang")
    v_class = np.where(urban, 0, np.where(remote, 2, 1))
    county_pop0 = np.bincount(v_county, pop0, minlength=c)
    county_inm0 = np.bincount(v_county, inm, minlength=c)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_inm = np.where(county_inm0[v_county] > 0, inm / county_inm0[v_county], 0.0)
        share_pop = np.where(county_pop0[v_county] > 0, pop0 / county_pop0[v_county], 0.0)
    v_inm_share = np.where(county_inm0[v_county] > 0, share_inm, share_pop)
    class_pop0 = np.zeros((c, 3))
    np.add.at(class_pop0, (v_county, v_class), pop0)
    key_src = getattr(register, "sha256", "") or ""
    h = hashlib.sha256(key_src.encode())
    for a in (pop0, inm, v_county, v_township, v_class):
        h.update(np.ascontiguousarray(a).tobytes())
    prep = Prepared(
        key=h.hexdigest(),
        county_codes=cty["county_code"].astype(str).to_numpy(),
        township_codes=tws["township_code"].astype(str).to_numpy(),
        village_codes=vil["village_code"].astype(str).to_numpy(),
        v_county=v_county,
        v_township=v_township,
        t_county=t_county,
        v_class=v_class,
        v_pop0=pop0,
        v_inm_share=v_inm_share,
        county_pop0=county_pop0,
        county_inm0=county_inm0,
        class_pop0=class_pop0,
        county_villages=_members(v_county, c),
        county_townships=_members(t_county, c),
    )
    if len(_PREP_CACHE) > 32:
        _PREP_CACHE.clear()
    _PREP_CACHE[id(register)] = (register, prep)
    return prep



def allocation_params(pa: ParamArrays, t: int) -> dict[str, np.ndarray]:
    """Class growth factors G (Na, T+1, 3) and class indicator factors (Na, T, 3)."""
    g = np.stack(
        [pa[_P + "allocation.urban_differential"], pa[_P + "allocation.rural_differential"],
         pa[_P + "allocation.remote_differential"]],
        axis=-1,
    )
    growth = np.ones((g.shape[0], t + 1, 3))
    growth[:, 1:] = np.cumprod(1.0 + g, axis=1)
    out = {"growth": growth}
    for ind, path in (("aged_60plus", "rural_factor_60plus"), ("women_15_49", "rural_factor_women_15_49"),
                      ("births", "rural_factor_births"), ("deaths", "rural_factor_deaths")):
        f = np.asarray(pa[_P + "allocation." + path], dtype=float)
        out[ind] = np.stack([np.ones_like(f), f, f], axis=-1)
    return out



def allocate(
    prep: Prepared,
    alloc: dict[str, np.ndarray],
    cind: dict[str, np.ndarray],
    end_pop: np.ndarray | None,
    indicators: Sequence[str] = INDICATORS,
    counties: Sequence[int] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Village and township indicators for the villages of some counties (all by default).

    Village stocks are ``P_v(t) = P_c(t) pop0_v G_k(t) / sum_{u in c} pop0_u G_k(u)(t)``
    (shares drifting with the class growth factor G and renormalised per county); indicator
    X of the county goes to villages in proportion to ``P_v(t) phi_k`` (phi = 1 for urban,
    the rural factor otherwise); village net migration is the balance residual
    ``P_v(t+1) - P_v(t) - B_v + D_v``; the in-migrant stock is shared by the register's
    in-migrants.  Townships are sums of their villages.

    Parameters
    ----------
    cind : dict
        County indicators (N, T, C).
    end_pop : (N, C) county population at 1 January after the last year, or None (then the
        last year's stock is used, which only affects the last year's net migration).
    indicators : which indicators to return (``net_migration`` also needs pop/births/deaths).
    counties : county indices whose villages and townships are computed (all when None).
    """
    if counties is None:
        vsel: Any = slice(None)
        tsel = np.arange(len(prep.township_codes))
    else:
        vsel = np.concatenate([prep.county_villages[i] for i in counties] + [np.zeros(0, np.intp)])
        tsel = np.concatenate([prep.county_townships[i] for i in counties] + [np.zeros(0, np.intp)])
    want = set(indicators)
    if "net_migration" in want:
        want |= {"pop", "births", "deaths"}
    if "resident_pop" in want:
        want.add("pop")
    if "resident_aged_60plus" in want:
        want.add("aged_60plus")
    shares = Allocation(prep, alloc, cind, end_pop)
    done: dict[str, np.ndarray] = {}
    village = {ind: shares.values(ind, vsel, done) for ind in INDICATORS if ind in want}
    local_t = prep.v_township if counties is None else np.searchsorted(tsel, prep.v_township[vsel])
    township = {k: group_sum(v, local_t, len(tsel)) for k, v in village.items()}
    return village, township


class Allocation:
    """The county scales of one allocation, computed once, and from them the village values of
    any villages (:func:`allocate`'s formulas, value by value the same for a village whichever
    villages are computed with it).

    Parameters
    ----------
    prep, alloc, cind, end_pop
        As :func:`allocate`.
    """

    def __init__(self, prep: Prepared, alloc: dict[str, np.ndarray], cind: dict[str, np.ndarray],
                 end_pop: np.ndarray | None):
        self.prep, self.alloc, self.cind, self.end_pop = prep, alloc, cind, end_pop
        self.t = alloc["growth"].shape[1] - 1
        self._scales: dict[str, np.ndarray] = {}
        #: What an engine derived from these villages and keeps with them (one entry: see
        #: :meth:`AllocatedVillages.keep_with`); it goes with the allocation, that is with the
        #: projection that holds it.
        self.derived: dict[Any, Any] = {}

    def scale(self, ind: str) -> np.ndarray:
        """County scale of a stock or flow [person per weighted person]: (N, T+1, C) for
        ``pop`` (the year after the last included), (N, T, C) for ``aged_60plus``,
        ``women_15_49``, ``births`` and ``deaths``."""
        if ind not in self._scales:
            growth, prep, t = self.alloc["growth"], self.prep, self.t  # growth (Na, T+1, 3)
            if ind == "pop":
                denom = growth @ prep.class_pop0.T  # (Na, T+1, C)
                pc = self.cind["pop"]
                pend = self.end_pop if self.end_pop is not None else pc[:, -1]
                pc_all = np.concatenate([pc, pend[:, None]], axis=1)  # (N, T+1, C)
                with np.errstate(invalid="ignore", divide="ignore"):
                    sc = np.where(denom > 0, pc_all / np.where(denom > 0, denom, 1.0), 0.0)
                # start year: the county base sums to the register total up to rounding; snap so
                # that every village starts with exactly its register population (thresholds like 500)
                sc[:, 0] = np.where(np.abs(sc[:, 0] - 1.0) <= 1e-9, 1.0, sc[:, 0])
            else:
                phi = self.alloc[ind]  # (Na, T, 3)
                e = np.einsum("ntk,ck->ntc", growth[:, :t] * phi, prep.class_pop0)  # (Na, T, C)
                with np.errstate(invalid="ignore", divide="ignore"):
                    sc = np.where(e > 0, self.cind[ind] / np.where(e > 0, e, 1.0), 0.0)
            self._scales[ind] = sc
        return self._scales[ind]

    def values(self, ind: str, vsel: Any, done: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Village values (N, T, Vs) of indicator ``ind`` for the villages ``vsel`` (a slice or
        indices), laid out village-major; ``done`` holds what was computed for the same
        villages (net migration and the resident indicators reuse it)."""
        done = {} if done is None else done
        if ind in done:
            return done[ind]
        prep, t = self.prep, self.t
        vc, vk, pop0 = prep.v_county[vsel], prep.v_class[vsel], prep.v_pop0[vsel]
        growth = self.alloc["growth"]
        if ind in ("pop", "_pop_all"):
            if "_pop_all" not in done:
                done["_pop_all"] = _shares(self.scale("pop"), vc, pop0, growth, vk, None)  # (N, T+1, Vs)
            out = done["_pop_all"] if ind == "_pop_all" else done["_pop_all"][:, :t]
        elif ind in ("aged_60plus", "women_15_49", "births", "deaths"):
            out = _shares(self.scale(ind), vc, pop0, growth[:, :t], vk, self.alloc[ind])
        elif ind == "net_migration":
            pv_all = self.values("_pop_all", vsel, done)
            out = pv_all[:, 1:] - pv_all[:, :-1] - self.values("births", vsel, done) + self.values("deaths", vsel, done)
        elif ind == "in_migrants":
            out = _county_times_village(self.cind["in_migrants"], vc, prep.v_inm_share[vsel])
        elif ind in ("resident_pop", "resident_aged_60plus"):
            # each village gets its county's resident/registered ratio
            reg = ind[len("resident_"):]
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(self.cind[reg] > 0, self.cind[ind] / np.where(self.cind[reg] > 0, self.cind[reg], 1.0),
                                 0.0)
            out = self.values(reg, vsel, done) * ratio[..., vc]
        else:
            raise KeyError(f"unknown indicator {ind!r}; expected one of {INDICATORS}")
        done[ind] = out
        return out


class AllocatedVillages(Blocks):
    """The (N, T, V) village array of one indicator of an :class:`Allocation`, computed block by
    block where it is read (:class:`qzfp.model.arrays.Blocks`): a country's 500,000 villages ×
    16 years are 64 MB an indicator, which a run that only sums them need not hold."""

    def __init__(self, allocation: Allocation, indicator: str):
        self.allocation = allocation
        self.indicator = indicator
        v = len(allocation.prep.v_pop0)
        n, t = allocation.values(indicator, slice(0, min(1, v))).shape[:2]
        self.shape = (n, t, v)
        self.owner = np.zeros(0)
        self.owner.setflags(write=False)

    def block(self, lo: int, hi: int) -> np.ndarray:
        return self.allocation.values(self.indicator, slice(lo, hi))

    def keep_with(self, key: Any, make: Any) -> Any:
        derived = self.allocation.derived
        hit = derived.get(key)
        if hit is None:
            hit = make()
            derived.clear()
            derived[key] = hit
        return hit


def _shares(scale: np.ndarray, vc: np.ndarray, pop0: np.ndarray, growth: np.ndarray, vk: np.ndarray,
            phi: np.ndarray | None) -> np.ndarray:
    """Village values ``scale[n, t, vc[v]] × (pop0[v] × growth[n, t, vk[v]] (× phi[n, t, vk[v]]))``.

    The product of :func:`allocate` (county scale × village weight × class factor) formed in
    one pass, value by value in the same order as the array expression
    ``scale[..., vc] * ((pop0 * growth[..., vk]) * phi[..., vk])``, without its three
    temporaries of villages × years.

    Parameters
    ----------
    scale : (N|1, T, C) county scale [person per weighted person].
    vc, vk : (V,) county and class (0 urban, 1 rural, 2 remote) of each village.
    pop0 : (V,) village start population [person].
    growth : (N|1, T, 3) class growth factor.
    phi : (N|1, T, 3) class factor of the indicator, or None (1).

    Returns
    -------
    numpy.ndarray
        (N, T, V), N the largest leading axis.
    """
    n = max(scale.shape[0], growth.shape[0], 1 if phi is None else phi.shape[0])
    # laid out village-major, (V, N, T) in memory, as numpy lays out the array expression: a sum
    # over villages then adds in the same order, to the last bit
    mem = np.empty((len(vc), n, growth.shape[1]))
    f = np.ascontiguousarray
    _shares_kernel(f(scale, dtype=np.float64), f(vc, dtype=np.int64), f(pop0, dtype=np.float64),
                   f(growth, dtype=np.float64), f(vk, dtype=np.int64),
                   np.ones((1, 1, 1)) if phi is None else f(phi, dtype=np.float64), phi is not None, mem)
    mem.setflags(write=False)  # never changed once allocated: its sums can be kept (arrays.group_sum)
    return mem.transpose(1, 2, 0)


@njit(cache=True)
def _shares_kernel(scale, vc, pop0, growth, vk, phi, with_phi, out):  # pragma: no cover - compiled
    v, n, t = out.shape
    for m in range(v):
        c, k, p0 = vc[m], vk[m], pop0[m]
        for i in range(n):
            i_s = i if scale.shape[0] > 1 else 0
            i_g = i if growth.shape[0] > 1 else 0
            i_p = i if phi.shape[0] > 1 else 0
            for j in range(t):
                w = p0 * growth[i_g, j, k]
                if with_phi:
                    w = w * phi[i_p, j, k]
                out[m, i, j] = scale[i_s, j, c] * w


def _county_times_village(county: np.ndarray, vc: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``county[..., vc] * share`` (N, T, V) in one compiled pass: the same values, laid out
    village-major as numpy lays out that expression, without its villages × years temporary."""
    n, t, _ = county.shape
    mem = np.empty((len(vc), n, t))
    _county_times_village_kernel(np.ascontiguousarray(county, dtype=np.float64), np.ascontiguousarray(vc, dtype=np.int64),
                                 np.ascontiguousarray(share, dtype=np.float64), mem)
    mem.setflags(write=False)
    return mem.transpose(1, 2, 0)


@njit(cache=True)
def _county_times_village_kernel(county, vc, share, out):  # pragma: no cover - compiled
    v, n, t = out.shape
    for m in range(v):
        c, f = vc[m], share[m]
        for i in range(n):
            for j in range(t):
                out[m, i, j] = county[i, j, c] * f
