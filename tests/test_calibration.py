"""Calibration on hand-made and synthetic probabilities: temperature, vector scaling, ECE."""
import numpy as np
import pytest

from araclaim.train import calibration, metrics
from araclaim.train.labels import LABELS

A, D, C, O = LABELS


def test_overconfident_model_gets_a_temperature_above_one():
    # Right 3 times out of 4, each time with 0.97 confidence: too sure of itself.
    p = np.array([[0.97, 0.01, 0.01, 0.01]] * 4)
    assert calibration.fit_temperature(p, [A, A, A, C]) > 1.0
    # Always right with modest confidence: sharpening helps, temperature below one.
    q = np.array([[0.4, 0.2, 0.2, 0.2]] * 4)
    assert calibration.fit_temperature(q, [A, A, A, A]) < 1.0


def _overconfident(n: int, seed: int):
    """A synthetic model that is right 70% of the time but always says 0.95."""
    rng = np.random.default_rng(seed)
    gold = [LABELS[i] for i in rng.integers(0, 4, n)]
    probs = np.full((n, 4), 0.05 / 3)
    for row, g in enumerate(gold):
        guess = LABELS.index(g) if rng.random() < 0.7 else (LABELS.index(g) + 1 + rng.integers(0, 3)) % 4
        probs[row, guess] = 0.95
    return probs, gold


@pytest.mark.parametrize("method", ["temperature", "vector"])
def test_calibration_lowers_ece_of_an_overconfident_model_on_held_out_rows(method):
    fit_probs, fit_gold = _overconfident(600, seed=1)
    test_probs, test_gold = _overconfident(600, seed=2)
    cal = calibration.fit(method, fit_probs, fit_gold)
    before = metrics.ece(*calibration.confidence_and_correct(test_probs, test_gold))
    after = metrics.ece(*calibration.confidence_and_correct(cal.apply(test_probs), test_gold))
    assert before > 0.2  # 0.95 said, 0.70 right
    assert after < 0.05
    assert calibration.nll(cal.apply(test_probs), test_gold) < calibration.nll(test_probs, test_gold)


def test_temperature_never_changes_a_decision_and_none_is_identity():
    probs, gold = _overconfident(200, seed=3)
    cal = calibration.fit("temperature", probs, gold)
    assert (cal.apply(probs).argmax(axis=1) == probs.argmax(axis=1)).all()
    assert np.allclose(calibration.fit("none", probs, gold).apply(probs), probs)


def test_calibrator_round_trips_through_its_dict():
    probs, gold = _overconfident(200, seed=4)
    cal = calibration.fit("vector", probs, gold)
    again = calibration.Calibrator.from_dict(cal.to_dict())
    assert np.allclose(again.apply(probs), cal.apply(probs))
    assert calibration.Calibrator.from_dict(None).method == "none"


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="temperature"):
        calibration.fit("platt", np.full((2, 4), 0.25), [A, D])
