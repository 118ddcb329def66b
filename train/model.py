"""The model format every family shares, and the one way to predict.

A model is a directory holding `araclaim.json` (family, label order, preprocessing, optional
class-prior adjustment) beside the family's own files. `Classifier.load(dir)` restores any family;
`Classifier.predict(["..."])` returns labels. MLflow wraps the same directory (train/pyfunc.py).
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from araclaim.train import atomic, context
from araclaim.train.calibration import Calibrator
from araclaim.train.errors import ModelLoadError, first_line
from araclaim.train.features import SentenceFeatures
from araclaim.train.labels import LABELS

MODEL_FILE = "araclaim.json"
PRECISION_TOLERANCE = 0.01  # `--precision auto` never picks a mode that loses more select macro-F1 than this
# family -> module with `load(directory) -> backend`; imported lazily so the baseline never pays for torch.
BACKENDS = {"baseline": "araclaim.train.baseline", "transformer": "araclaim.train.transformer_backend",
            "ensemble": "araclaim.train.ensemble"}


@dataclass
class Classifier:
    """A trained sentence classifier.

    `backend.predict_proba(texts, contexts)` gives one probability column per entry of `labels`; `adjust`,
    when set, multiplies those columns (prior correction) before the rows are renormalised, and
    `calibrator` (fitted on the calibrate split) rescales the result. `context_size` is how many previous
    sentences of the same article the model reads (0: none); `contexts` passed in are trimmed to it.

    >>> clf = Classifier.load("outputs/baseline/model")            # doctest: +SKIP
    >>> clf.predict(["نفت الوزارة صحة التقارير المتداولة"])          # doctest: +SKIP
    ['denial']
    >>> clf.predict(["وأضاف أن الصور المتداولة قديمة"], contexts=[["ونفى المتحدث ما نُشر"]])  # doctest: +SKIP
    ['denial']
    """

    backend: object
    family: str
    labels: tuple[str, ...] = LABELS
    adjust: tuple[float, ...] | None = None
    calibrator: Calibrator = Calibrator()
    context_size: int = 0
    # select macro-F1 and agreement with fp32 per inference mode ("int8/onnxruntime", ...), measured at
    # training time (train/pipeline.measure_precisions); None for families without modes or older models
    precision_record: dict | None = None

    def allowed_modes(self, tolerance: float = PRECISION_TOLERANCE) -> set[str]:
        """Inference modes whose measured select macro-F1 is within `tolerance` of fp32's (fp32/torch always).

        A model without a record allows fp32 only: a mode nobody measured is never chosen automatically.
        """
        scores = (self.precision_record or {}).get("macro_f1", {})
        ref = scores.get("fp32/torch")
        if ref is None:
            return {"fp32/torch"}
        return {m for m, f1 in scores.items() if f1 >= ref - tolerance - 1e-12} | {"fp32/torch"}

    def predict_proba(self, texts: list[str], contexts: list[list[str]] | None = None, *,
                      calibrated: bool = True, features: SentenceFeatures | None = None) -> np.ndarray:
        """Rows of class probabilities, columns in `self.labels` order.

        `contexts[i]` holds the sentences before `texts[i]` in its article, oldest first (train/context.py).
        `calibrated=False` gives the probabilities before calibration (to measure what calibration buys).
        `features` is a SentenceFeatures to share with other models predicting the same call (an ensemble's
        members); by default each call gets its own, so nothing is kept between calls.
        """
        if not texts:
            return np.zeros((0, len(self.labels)))
        ctx = context.trim(contexts, self.context_size, len(texts)) if self.context_size else None
        if getattr(self.backend, "shares_features", False):
            raw = self.backend.predict_proba(list(texts), ctx, features=features or SentenceFeatures())
        else:
            raw = self.backend.predict_proba(list(texts), ctx)
        probs = np.asarray(raw, dtype=np.float64)
        if self.adjust is not None:
            probs = probs * np.asarray(self.adjust)
            probs = probs / probs.sum(axis=1, keepdims=True)
        return self.calibrator.apply(probs) if calibrated else probs

    def predict(self, texts: list[str], contexts: list[list[str]] | None = None) -> list[str]:
        """The most probable label of each sentence."""
        probs = self.predict_proba(texts, contexts)
        return [self.labels[i] for i in probs.argmax(axis=1)]

    def save(self, directory: str | Path) -> Path:
        """Write the backend's files and `araclaim.json` as the folder `directory`, atomically: a reader or a
        killed run sees the previous folder (or none), never a half-written model."""
        directory = Path(directory)
        with atomic.directory(directory) as tmp:
            self.backend.save(tmp)
            meta = {"family": self.family, "labels": list(self.labels), "adjust": self.adjust,
                    "calibration": self.calibrator.to_dict(), "context_size": self.context_size}
            if self.precision_record:
                meta["precision"] = self.precision_record
            (tmp / MODEL_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "Classifier":
        """Restore a saved model; ModelLoadError says what is missing or malformed (with the cause chained).

        Only data formats are read (JSON, skops with an allow-list, safetensors): no file in the folder is
        unpickled or executed. A bug in a loader keeps its own exception and traceback.
        """
        directory = Path(directory)
        meta_path = directory / MODEL_FILE
        if not meta_path.is_file():
            raise ModelLoadError(
                f"{directory} is not an araclaim model directory (no {MODEL_FILE}); pass a directory "
                "written by `araclaim train`, an MLflow run id, or a runs:/ or models:/ URI"
            )
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
            raise ModelLoadError(f"{meta_path}: unreadable ({type(exc).__name__}: {first_line(exc)}); "
                                 "retrain the model or copy the folder again") from exc
        if not isinstance(meta, dict) or not isinstance(meta.get("labels"), list):
            raise ModelLoadError(f"{meta_path}: not an araclaim model description (no 'labels' list)")
        family = meta.get("family")
        if family not in BACKENDS:
            raise ModelLoadError(f"{meta_path}: unknown model family {family!r} (known: {', '.join(BACKENDS)})")
        try:
            backend = importlib.import_module(BACKENDS[family]).load(directory)
        except (OSError, ValueError) as exc:  # a file of the folder missing, unreadable or malformed
            raise ModelLoadError(
                f"could not load model {directory}: {type(exc).__name__}: {first_line(exc)} (is it a complete "
                "model directory written by `araclaim train`?)") from exc
        adjust = tuple(meta["adjust"]) if meta.get("adjust") else None
        return cls(backend=backend, family=family, labels=tuple(meta["labels"]), adjust=adjust,
                   calibrator=Calibrator.from_dict(meta.get("calibration")),
                   context_size=int(meta.get("context_size", 0)), precision_record=meta.get("precision"))


def fit_prior_adjustment(probs: np.ndarray, gold: list[str], labels=LABELS, iters: int = 200) -> tuple[float, ...]:
    """Per-class multipliers that make predicted class frequencies match `gold`'s on this set.

    A simple EM-free fixed point: scale each class until the mean adjusted probability equals its
    observed share. Fit on the article-shaped dev set so a model trained on balanced sentences stops
    over-predicting rare classes in real news. Classes absent from `gold` keep a floor weight.
    """
    target = np.array([max(gold.count(label), 0.5) for label in labels], dtype=np.float64)
    target /= target.sum()
    weights = np.ones(len(labels))
    for _ in range(iters):
        adjusted = probs * weights
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        weights *= target / np.maximum(adjusted.mean(axis=0), 1e-9)
        weights /= weights.max()
    return tuple(float(w) for w in weights)
