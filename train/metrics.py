"""Classification metrics as pure functions over label sequences.

No model, no I/O: every function takes gold and predicted labels (strings) and returns numbers, so
they are tested on hand-made arrays. A class with zero support and no predictions gets P=R=F1=0 and
is still counted in the macro average over `labels` (scikit-learn's zero_division=0 convention).
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from araclaim.train.labels import LABELS


def confusion(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS) -> list[list[int]]:
    """Counts[i][j] = sentences of gold class labels[i] predicted as labels[j]."""
    _same_length(gold, pred)
    index = {label: i for i, label in enumerate(labels)}
    table = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred):
        table[index[g]][index[p]] += 1
    return table


def per_class(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS) -> dict[str, dict]:
    """{label: {precision, recall, f1, support}} with zero_division = 0."""
    table = confusion(gold, pred, labels)
    out = {}
    for i, label in enumerate(labels):
        tp = table[i][i]
        predicted = sum(row[i] for row in table)
        support = sum(table[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return out


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Share of exact matches (0.0 for empty input)."""
    _same_length(gold, pred)
    return sum(g == p for g, p in zip(gold, pred)) / len(gold) if gold else 0.0


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS) -> float:
    """Unweighted mean F1 over `labels`, absent classes included as 0 only if predicted.

    Classes with neither support nor predictions are left out, as scikit-learn does when `labels`
    is not given: a gold article without denials should not be scored down for lacking them.
    """
    stats = per_class(gold, pred, labels)
    present = [s["f1"] for label, s in stats.items() if s["support"] or label in set(pred)]
    return sum(present) / len(present) if present else 0.0


def lenient(gold: Sequence[str], alt: Sequence[str | None], pred: Sequence[str]) -> list[str]:
    """Gold labels where a prediction equal to the defensible `alt_label` counts as correct."""
    return [p if a is not None and p == a else g for g, a, p in zip(gold, alt, pred)]


def scores(gold: Sequence[str], pred: Sequence[str], alt: Sequence[str | None] | None = None) -> dict:
    """The standard bundle: n, accuracy, macro_f1, lenient variants and per-class stats."""
    alt = alt if alt is not None else [None] * len(gold)
    soft = lenient(gold, alt, pred)
    return {
        "n": len(gold),
        "accuracy": accuracy(gold, pred),
        "macro_f1": macro_f1(gold, pred),
        "lenient_accuracy": accuracy(soft, pred),
        "lenient_macro_f1": macro_f1(soft, pred),
        "per_class": per_class(gold, pred),
        "confusion": confusion(gold, pred),
    }


def bootstrap_ci(
    gold: Sequence[str],
    pred: Sequence[str],
    metric=macro_f1,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `metric`, resampling sentences with replacement *within each gold class*.

    Stratified: every resample keeps each class's count, so the set of classes a macro average runs over is
    the same in every resample (a plain bootstrap of a 44-sentence article with one denial drops that class
    from about a third of the resamples and mixes 3-class with 4-class averages). `seed` comes from the
    run's config, so a rerun reproduces the interval.
    """
    _same_length(gold, pred)
    if not gold:
        return (0.0, 0.0)
    rng = random.Random(seed)
    strata: dict[str, list[int]] = {}
    for i, g in enumerate(gold):
        strata.setdefault(g, []).append(i)
    values = []
    for _ in range(n_resamples):
        idx = [members[rng.randrange(len(members))] for members in strata.values() for _ in members]
        values.append(metric([gold[i] for i in idx], [pred[i] for i in idx]))
    values.sort()
    lo = values[int((1 - level) / 2 * n_resamples)]
    hi = values[min(n_resamples - 1, int((1 + level) / 2 * n_resamples))]
    return (lo, hi)


def reliability_bins(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = 10) -> list[dict]:
    """Equal-width confidence bins over [0, 1]: count, mean confidence and accuracy of each non-empty bin."""
    _same_length(confidence, correct)
    bins: list[list[int]] = [[] for _ in range(n_bins)]
    for i, c in enumerate(confidence):
        bins[min(int(c * n_bins), n_bins - 1)].append(i)
    out = []
    for b, members in enumerate(bins):
        if members:
            out.append({"low": b / n_bins, "high": (b + 1) / n_bins, "count": len(members),
                        "confidence": sum(confidence[i] for i in members) / len(members),
                        "accuracy": sum(bool(correct[i]) for i in members) / len(members)})
    return out


def ece(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = 10) -> float:
    """Expected calibration error: the count-weighted mean |accuracy - confidence| over 10 equal-width bins.

    `confidence` is the probability of the predicted class, `correct` whether that prediction was right.
    """
    n = len(confidence)
    if not n:
        return 0.0
    return sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in reliability_bins(confidence, correct, n_bins))


def review_coverage(confidence: Sequence[float], correct: Sequence[bool], threshold: float) -> dict:
    """What `--review-below threshold` queues: share of sentences queued and share of errors caught."""
    _same_length(confidence, correct)
    queued = [c < threshold for c in confidence]
    errors = [not ok for ok in correct]
    n_err = sum(errors)
    return {"threshold": threshold,
            "queued": sum(queued) / len(queued) if queued else 0.0,
            "errors_caught": sum(q and e for q, e in zip(queued, errors)) / n_err if n_err else 1.0,
            "errors": n_err}


def _same_length(gold: Sequence, pred: Sequence) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} labels but pred has {len(pred)}")
