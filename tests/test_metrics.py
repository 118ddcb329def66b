"""Metric functions on hand-made label arrays, checked against scikit-learn."""
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from araclaim.train import metrics
from araclaim.train.labels import LABELS

A, D, C, O = LABELS  # assertion, denial, attributed_claim, opinion

CASES = [
    # (gold, pred)
    ([A, A, D, C, O], [A, C, D, C, O]),
    ([A, C, C, C, O, O], [A, C, A, C, O, A]),
    ([A, A, A, C], [A, A, D, C]),          # denial: zero support, but predicted once
    ([A, C, O, D], [A, C, O, D]),          # perfect
    ([C, C, C], [A, A, A]),                # all wrong
    ([A, D, D, C, O, O, O], [O, D, C, C, O, A, O]),
]


@pytest.mark.parametrize("gold,pred", CASES)
def test_macro_f1_matches_sklearn(gold, pred):
    expected = f1_score(gold, pred, average="macro", zero_division=0)
    assert metrics.macro_f1(gold, pred) == pytest.approx(expected)


@pytest.mark.parametrize("gold,pred", CASES)
def test_accuracy_and_confusion_match_sklearn(gold, pred):
    assert metrics.accuracy(gold, pred) == pytest.approx(accuracy_score(gold, pred))
    assert metrics.confusion(gold, pred) == confusion_matrix(gold, pred, labels=list(LABELS)).tolist()


@pytest.mark.parametrize("gold,pred", CASES)
def test_per_class_matches_sklearn(gold, pred):
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    got = metrics.per_class(gold, pred)
    for i, label in enumerate(LABELS):
        assert got[label]["precision"] == pytest.approx(p[i])
        assert got[label]["recall"] == pytest.approx(r[i])
        assert got[label]["f1"] == pytest.approx(f[i])
        assert got[label]["support"] == s[i]


def test_zero_support_class_never_predicted_is_left_out_of_macro():
    gold, pred = [A, A, C, C], [A, C, C, C]  # no denial/opinion anywhere
    assert metrics.per_class(gold, pred)[D] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert metrics.macro_f1(gold, pred) == pytest.approx((2 / 3 + 0.8) / 2)


def test_lenient_counts_alt_label_as_correct():
    gold, alt, pred = [A, C, O], [O, None, A], [O, A, A]
    assert metrics.lenient(gold, alt, pred) == [O, C, A]
    s = metrics.scores(gold, pred, alt)
    assert s["accuracy"] == 0.0
    assert s["lenient_accuracy"] == pytest.approx(2 / 3)


def test_scores_bundle_keys():
    s = metrics.scores([A, D], [A, A])
    assert {"n", "accuracy", "macro_f1", "lenient_accuracy", "lenient_macro_f1", "per_class", "confusion"} <= set(s)
    assert s["n"] == 2


def test_bootstrap_ci_is_seeded_and_brackets_the_estimate():
    gold = [A, C, C, O, D, A, C, A, O, C] * 3
    pred = [A, C, A, O, C, A, C, O, O, C] * 3
    lo, hi = metrics.bootstrap_ci(gold, pred, seed=7)
    assert (lo, hi) == metrics.bootstrap_ci(gold, pred, seed=7)
    assert lo <= metrics.macro_f1(gold, pred) <= hi
    assert 0 < hi - lo < 0.6


def test_bootstrap_of_perfect_predictions_is_a_point():
    gold = [A, C, O, D] * 5
    assert metrics.bootstrap_ci(gold, gold, metrics.accuracy) == (1.0, 1.0)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 labels but pred has 1"):
        metrics.accuracy([A, A], [A])
