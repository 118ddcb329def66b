"""The ensemble: tempering and mixing members on hand-made probabilities."""
import numpy as np
import pytest

from araclaim.train.ensemble import fit_weight, temper
from araclaim.train.labels import LABELS

A, D, C, O = LABELS


def test_temperature_one_is_identity_and_high_temperature_flattens():
    p = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.4, 0.1]])
    assert np.allclose(temper(p, 1.0), p)
    flat = temper(p, 4.0)
    assert np.allclose(flat.sum(axis=1), 1.0)
    assert flat[0, 0] < p[0, 0] and flat[0, 0] == flat.max()


def test_weight_goes_to_the_member_that_is_right():
    gold = [A, D, C, O]
    good = np.eye(4) * 0.7 + 0.075
    bad = np.roll(good, 1, axis=1)
    # every weight past the point where the good member dominates scores 1.0; the most even one is kept
    assert fit_weight(bad, good, gold, 11) == pytest.approx(0.6)
    assert fit_weight(good, bad, gold, 11) == pytest.approx(0.4)
    # both right: the more even mix wins the tie
    assert fit_weight(good, good, gold, 11) == pytest.approx(0.5)
