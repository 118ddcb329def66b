"""Score a model on labelled files: metrics with bootstrap CIs, every error, and reference floors.

Everything here works on a `Classifier`-like object (anything with `predict_proba(texts)` and
`labels`), so the cue-rule and majority labellers are scored through the very same path as models.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from araclaim.train import calibration, cues, metrics
from araclaim.train.data import LabelledSet
from araclaim.train.labels import LABELS


@dataclass(frozen=True)
class Evaluation:
    """One labeller on one labelled set."""

    labeller: str
    data: LabelledSet
    pred: tuple[str, ...]
    confidence: tuple[float, ...]
    scores: dict

    def errors(self) -> list[dict]:
        """Misclassified sentences, most confident mistakes first."""
        rows = []
        for ex, p, c in zip(self.data.examples, self.pred, self.confidence):
            if p != ex.label:
                rows.append({"id": ex.id, "line": ex.line, "text": ex.text, "gold": ex.label,
                             "alt_label": ex.alt_label, "predicted": p, "confidence": round(c, 4),
                             "lenient_ok": p == ex.alt_label})
        return sorted(rows, key=lambda r: -r["confidence"])

    def skipped(self) -> list[dict]:
        """Rows excluded from scoring, with the annotator's reason when the gold gives one."""
        return [{"id": e.id, "line": e.line, "text": e.text, "reason": e.extra.get("note", "label skip")}
                for e in self.data.skipped]


class RuleLabeller:
    """The transparent cue-word rule (train/cues.rule_label), as a classifier with one-hot probabilities."""

    labels = LABELS
    name = "cue_rule"

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        for i, t in enumerate(texts):
            out[i, LABELS.index(cues.rule_label(t))] = 1.0
        return out


class MajorityLabeller:
    """Always the given class: the floor a model must clear to be worth anything."""

    labels = LABELS

    def __init__(self, label: str):
        self.label = label
        self.name = f"majority({label})"

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        out[:, LABELS.index(self.label)] = 1.0
        return out


def majority_label(data: LabelledSet) -> str:
    """Most frequent class of a labelled set (ties broken by LABELS order)."""
    labels = data.labels
    return max(LABELS, key=lambda label: (labels.count(label), -LABELS.index(label)))


REVIEW_THRESHOLDS = (0.5, 0.7, 0.9)  # what `araclaim label --review-below T` would queue, per T


def evaluate(labeller, data: LabelledSet, name: str, *, n_boot: int = 1000, seed: int = 0) -> Evaluation:
    """Predict every sentence of `data` (with its article context, for models that read one) and compute
    strict/lenient scores with stratified 95% bootstrap CIs, ECE, and what review thresholds would catch."""
    k = getattr(labeller, "context_size", 0)
    probs = np.asarray(labeller.predict_proba(data.texts, data.contexts(k)) if k else labeller.predict_proba(data.texts))
    pred = [labeller.labels[i] for i in probs.argmax(axis=1)]
    alt = [e.alt_label for e in data.examples]
    scores = metrics.scores(data.labels, pred, alt)
    scores["n_skipped"] = len(data.skipped)
    confidence, correct = calibration.confidence_and_correct(probs, data.labels, labeller.labels)
    scores["ece"] = metrics.ece(confidence, correct)
    scores["reliability"] = metrics.reliability_bins(confidence, correct)
    scores["review"] = [metrics.review_coverage(confidence, correct, th) for th in REVIEW_THRESHOLDS]
    lo, hi = metrics.bootstrap_ci(data.labels, pred, metrics.macro_f1, n_boot, seed=seed)
    scores["macro_f1_ci_low"], scores["macro_f1_ci_high"] = lo, hi
    lo, hi = metrics.bootstrap_ci(data.labels, pred, metrics.accuracy, n_boot, seed=seed)
    scores["accuracy_ci_low"], scores["accuracy_ci_high"] = lo, hi
    return Evaluation(name, data, tuple(pred), tuple(float(c) for c in probs.max(axis=1)), scores)
