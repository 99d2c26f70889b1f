"""The numbers stay as they were: every output of the engines against a digest stored before
the speed work of issue 24 (``tests/engine_digest.py`` says what is hashed and how).

A failure names the outputs that changed.  A change that alters a number on purpose stores
new digests (``.venv/bin/python tests/engine_digest.py --write --parts PART``) and says why
in its commit; ``--dump`` and ``--diff`` show by how much two revisions differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import engine_digest  # noqa: E402


@pytest.mark.parametrize("part", list(engine_digest.PARTS))
def test_every_output_of_the_engines_equals_the_digest_of_the_settled_engine(part):
    want = engine_digest.stored(part)
    assert want, f"no stored digest of {part}"
    now = engine_digest.digests(part)
    changed = sorted(k for k in want.keys() | now.keys() if want.get(k) != now.get(k))
    assert not changed, f"outputs changed: {changed}"


def test_the_digest_sees_a_yuan_and_a_person_but_not_the_last_bits_of_a_sum():
    amounts = pd.DataFrame({"amount_yuan": [123_456_789.25, 1_000.0], "population": [1_234_567_891.0, 12.5]})
    base = engine_digest.frame_digest(amounts)
    for col, row, delta in (("amount_yuan", 0, 1.0), ("amount_yuan", 1, 0.01), ("population", 0, 1.0),
                            ("population", 1, 1e-5)):
        moved = amounts.copy()
        moved.loc[row, col] += delta
        assert engine_digest.frame_digest(moved) != base, (col, row, delta)
    noise = amounts * (1 + 4 * np.finfo(float).eps)  # what another order of summation changes
    assert engine_digest.frame_digest(noise) == base
    assert engine_digest.frame_digest(amounts[["population", "amount_yuan"]]) != base  # columns in order
    assert engine_digest.frame_digest(amounts.iloc[::-1]) != base  # rows in order


def test_the_digest_tells_nan_and_infinities_apart_and_zero_from_minus_zero_not():
    d = engine_digest.array_digest
    assert len({d(np.array([np.nan])), d(np.array([np.inf])), d(np.array([-np.inf])), d(np.array([0.0]))}) == 4
    assert d(np.array([-0.0])) == d(np.array([0.0]))
