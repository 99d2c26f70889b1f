"""Fertility of the population engine: the age pattern of the TFR and the policies' additions.

The TFR is spread over single ages 15..49 by a shifted gamma pattern (mean age and spread
from ``demography.fertility.*``); the fertility policies of 2014, 2016 and 2021 add their
assumed effects from the year they are in force (``docs/population.md``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FERT_AGES", "fertility_pattern", "policy_add"]


FERT_AGES = np.arange(15, 50)



def fertility_pattern(mean_age: np.ndarray, sd_age: np.ndarray) -> np.ndarray:
    """Age pattern of fertility: shifted gamma from age 15, single ages 15..49, summing to 1.

    Parameters
    ----------
    mean_age : numpy.ndarray
        Mean age at childbearing [year].
    sd_age : numpy.ndarray
        Standard deviation of the age at childbearing [year].

    Returns
    -------
    numpy.ndarray
        Shape ``mean_age.shape + (35,)``: share of the TFR at each age 15..49.
    """
    m = np.asarray(mean_age, dtype=float)[..., None] - 15.0
    s = np.asarray(sd_age, dtype=float)[..., None]
    shape = (m / s) ** 2
    scale = s * s / m
    x = FERT_AGES + 0.5 - 15.0
    logw = (shape - 1.0) * np.log(x) - x / scale
    w = np.exp(logw - logw.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)



def policy_add(g: dict[str, np.ndarray]) -> np.ndarray:
    """TFR added by the fertility policies in force on 1 January of each year (N, T) [child/woman]."""
    total = np.zeros_like(g["fertility.policy.response"])
    for name in ("selective_two_child", "universal_two_child", "three_child"):
        total = total + g["fertility.policy." + name] * g["fertility.policy." + name + "_effect"]
    return g["fertility.policy.response"] * total
