"""Village arrays computed block by block where they are summed (``qzfp.model.arrays.Blocks``):
a run on a register too large to hold its village arrays (a country's) gives the numbers of a
run that holds them, to the last bit, without holding them."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest

import qzfp.model.arrays as arrays_module
import qzfp.model.projection as projection_module
from qzfp.model.allocation import AllocatedVillages
from qzfp.model.arrays import Blocks, group_sum, unit_sum, unit_sums
from qzfp.model.projection import INDICATORS, project
from qzfp.model.run import simulate
from qzfp.register import load_register
from qzfp.rules.scenario import Scenario


class ArrayBlocks(Blocks):
    """Blocks of a given array, counting the blocks asked for."""

    def __init__(self, values: np.ndarray):
        self.values = values
        self.shape = values.shape
        self.owner = np.zeros(0)
        self.owner.setflags(write=False)
        self.calls = 0

    def block(self, lo: int, hi: int) -> np.ndarray:
        self.calls += 1
        return self.values[..., lo:hi]


def village_major(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` (N, T, M) laid out member-major, as the population engine's."""
    return np.ascontiguousarray(np.moveaxis(a, -1, 0)).transpose(1, 2, 0)


@pytest.fixture
def fresh_projections(monkeypatch):
    """No projection kept from another test: each run projects (and keeps) its own."""
    monkeypatch.setattr(projection_module, "_PROJECTIONS", OrderedDict())


def test_group_sums_of_blocks_are_those_of_the_whole_array_to_the_last_bit(monkeypatch):
    monkeypatch.setattr(arrays_module, "BLOCK_MEMBERS", 7)  # groups straddle any fixed cut
    rng = np.random.default_rng(3)
    sizes = rng.integers(0, 6, size=40)
    sizes[[4, 9]] = [0, 30]  # an empty group, and one larger than a block
    index = np.repeat(np.arange(len(sizes)), sizes)
    values = village_major(rng.lognormal(6, 1.5, size=(2, 5, len(index))))
    mask = rng.random(len(index)) < 0.5
    per_set = rng.random((2, 5, len(index))) < 0.5
    for factor in (None, mask, per_set):
        blocks = ArrayBlocks(values)
        got = group_sum(blocks, index, len(sizes), factor)
        assert np.array_equal(got, group_sum(values, index, len(sizes), factor))  # bit for bit
        assert blocks.calls > 1  # summed in blocks, not whole
    shuffled = rng.permutation(len(index))  # members of a group apart: summed whole, the same numbers
    np.testing.assert_array_equal(group_sum(ArrayBlocks(values[..., shuffled]), index[shuffled], len(sizes)),
                                  group_sum(values[..., shuffled], index[shuffled], len(sizes)))


def test_unit_sums_of_blocks_add_the_units_in_the_order_of_the_whole_array(monkeypatch):
    monkeypatch.setattr(arrays_module, "BLOCK_MEMBERS", 5)
    rng = np.random.default_rng(5)
    values = village_major(rng.lognormal(7, 2, size=(3, 4, 21)))  # 21 units: a last block of one
    got = unit_sums(ArrayBlocks(values))
    expected = np.stack([unit_sum(values[i]) for i in range(3)])
    assert np.array_equal(got, expected)  # not merely close: the summary's totals must not move
    # numpy's own total of a unit-major row adds unit after unit: the same number again
    assert np.array_equal(got[1], values[1].sum(axis=-1))


def test_sums_of_blocks_are_kept_while_their_owner_lives():
    rng = np.random.default_rng(9)
    index = np.repeat(np.arange(4), 5)
    index.setflags(write=False)
    blocks = ArrayBlocks(village_major(rng.random((1, 2, 20))))
    first = group_sum(blocks, index, 4)
    calls = blocks.calls
    again = group_sum(blocks, index, 4)
    assert blocks.calls == calls and np.array_equal(first, again)
    again[...] = 0.0  # the caller's copy
    assert np.array_equal(group_sum(blocks, index, 4), first)
    other = ArrayBlocks(blocks.values * 2.0)  # other blocks (another owner): summed anew
    np.testing.assert_array_equal(group_sum(other, index, 4), 2.0 * first)


@pytest.mark.usefixtures("fresh_projections")
def test_blocks_of_any_size_are_the_values_of_the_village_array(monkeypatch):
    monkeypatch.setattr(projection_module, "KEPT_VILLAGE_BYTES", 0)  # every village array too large to keep
    pop = project(load_register(), Scenario.from_parameters(horizon=6).arrays())
    v = len(pop.register.villages)
    cuts = [0, 1, 333, 1500, v]
    for ind in INDICATORS:
        blocks = pop.village_blocks(ind)
        assert isinstance(blocks, AllocatedVillages)
        pieces = np.concatenate([blocks.block(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)], axis=-1)
        assert np.array_equal(pieces, pop.village(ind)), ind
    # the allocation's identity: a county's villages hold its population
    county = group_sum(AllocatedVillages(pop._blocks[("allocation", False)], "pop"), pop._prep.v_county,
                       len(pop._prep.county_codes))
    np.testing.assert_allclose(county, pop.county_indicators()["pop"], rtol=1e-12)


@pytest.mark.usefixtures("fresh_projections")
def test_a_run_too_large_to_hold_its_village_arrays_holds_none_it_only_sums_and_gives_the_same_numbers(monkeypatch):
    scenario = Scenario.from_parameters(horizon=8)
    kept = simulate(scenario)
    monkeypatch.setattr(projection_module, "_PROJECTIONS", OrderedDict())
    monkeypatch.setattr(projection_module, "KEPT_VILLAGE_BYTES", 0)
    streamed = simulate(scenario)
    summary = streamed.summary()
    budget, workload = streamed.budget, streamed.arrays.workload
    held = {key[1] for key in streamed.arrays.population._below if key[0] == "village"}
    assert held == set()  # no village array of the population: staffing, WISN and the budget sum blocks
    st = streamed.arrays.staffing
    floats = [k for k, x in vars(st).items()
              if isinstance(x, np.ndarray) and x.dtype == float and x.shape[-1] == st.n_villages]
    assert floats == []  # the flags of the threshold rule (bool) are what the staffing result holds
    assert isinstance(workload["village_vice_president"].required_staff, Blocks)  # summed, not held
    pd.testing.assert_frame_equal(summary, kept.summary(), check_exact=True)
    pd.testing.assert_frame_equal(budget, kept.budget, check_exact=True)
    for cadre, c in workload.cadres.items():
        assert np.array_equal(c.required, kept.arrays.workload[cadre].required), cadre
    pd.testing.assert_frame_equal(streamed.population_townships, kept.population_townships, check_exact=True)
    # the village tables form the arrays on demand: the same tables
    pd.testing.assert_frame_equal(streamed.staffing_villages, kept.staffing_villages, check_exact=True)
    pd.testing.assert_frame_equal(streamed.workload, kept.workload, check_exact=True)


@pytest.mark.parametrize("m", [1, 7, 129, 8192, 30_001])
def test_row_totals_taken_block_by_block_are_numpys_pairwise_sums_to_the_last_bit(monkeypatch, m):
    from qzfp.model.workload import _pairwise_rows

    monkeypatch.setattr(arrays_module, "BLOCK_MEMBERS", 1000)  # several blocks for the larger rows
    import qzfp.model.workload as workload_module

    monkeypatch.setattr(workload_module, "BLOCK_MEMBERS", 1000)
    rng = np.random.default_rng(m)
    values = rng.lognormal(0, 3, size=(2, 3, m))  # C-ordered, as the weighted sum's array
    expected = values.sum(axis=-1).ravel()  # numpy's own total of each row
    assert np.array_equal(arrays_module.pairwise_rows(values), expected)
    assert np.array_equal(_pairwise_rows(ArrayBlocks(village_major(values)), 0, m), expected)


@pytest.mark.usefixtures("fresh_projections")
def test_plans_on_a_projection_too_large_to_keep_its_village_arrays_give_the_same_figures(monkeypatch):
    from qzfp.model.plan import evaluate_grid

    register = load_register()
    pa = Scenario.from_parameters(horizon=6).arrays()
    points = np.array([[300.0], [500.0], [800.0]])
    lever = ["village.vice_president.population_threshold"]
    kept = evaluate_grid(register, pa, project(register, pa), 2, lever, points)
    monkeypatch.setattr(projection_module, "_PROJECTIONS", OrderedDict())
    monkeypatch.setattr(projection_module, "KEPT_VILLAGE_BYTES", 0)
    # a plan reads one year of the projection: the all-years blocks are not its arrays
    summed = evaluate_grid(register, pa, project(register, pa), 2, lever, points)
    for name, values in kept[0].items():
        assert np.array_equal(summed[0][name], values), name
    assert summed[1] == kept[1]


@pytest.mark.usefixtures("fresh_projections")
def test_what_a_run_keeps_of_a_projection_goes_with_the_projection(monkeypatch):
    import gc
    import weakref

    monkeypatch.setattr(projection_module, "KEPT_VILLAGE_BYTES", 0)
    results = simulate(Scenario.from_parameters(horizon=6))
    results.summary()  # the weighted sum's totals and the flags' sums kept for the next run
    allocation = weakref.ref(results.arrays.population._blocks[("allocation", False)])
    del results
    projection_module._PROJECTIONS.clear()  # a projection of another demography took its place
    gc.collect()
    assert allocation() is None  # no cache of the engines holds the country's allocation
