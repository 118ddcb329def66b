"""The scikit-learn baseline: TF-IDF over word and character n-grams, plus the guide's cue features,
into a logistic regression. Fast, transparent, and the floor every transformer is compared with.
"""
from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from train import cues, text
from train.config import BaselineConfig
from train.labels import LABELS

FILE = "baseline.joblib"


class CueFeatures(BaseEstimator, TransformerMixin):
    """Cue-lexicon features (train/cues.py) scaled by `weight`, as a sparse block."""

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def fit(self, texts, y=None):
        return self

    def transform(self, texts):
        rows = [cues.extract(t) for t in texts]
        return sparse.csr_matrix(np.asarray(rows, dtype=np.float64) * self.weight)


def build(cfg: BaselineConfig, seed: int) -> Pipeline:
    """An unfitted pipeline for `cfg`."""
    parts = [
        ("word", TfidfVectorizer(preprocessor=text.normalize, analyzer="word",
                                 ngram_range=tuple(cfg.word_ngrams), min_df=cfg.min_df,
                                 sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
        ("char", TfidfVectorizer(preprocessor=text.normalize, analyzer="char_wb",
                                 ngram_range=tuple(cfg.char_ngrams), min_df=cfg.min_df,
                                 sublinear_tf=True)),
    ]
    if cfg.cue_features:
        parts.append(("cues", CueFeatures(cfg.cue_weight)))
    clf = LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter,
                             random_state=seed)
    return Pipeline([("features", FeatureUnion(parts)), ("clf", clf)])


class BaselineBackend:
    """Adapter giving the pipeline the backend interface (`predict_proba`, `save`)."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        # Columns in LABELS order whatever order sklearn sorted the classes into.
        self._order = [list(pipeline.classes_).index(label) for label in LABELS]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.pipeline.predict_proba(texts)[:, self._order]

    def save(self, directory: Path) -> None:
        joblib.dump(self.pipeline, Path(directory) / FILE)


def fit(cfg: BaselineConfig, texts: list[str], labels: list[str], seed: int) -> BaselineBackend:
    """Fit the pipeline on labelled sentences (every class must occur)."""
    missing = set(LABELS) - set(labels)
    if missing:
        raise ValueError(f"training data has no examples of {sorted(missing)}")
    return BaselineBackend(build(cfg, seed).fit(texts, labels))


def load(directory: str | Path) -> BaselineBackend:
    """Backend loader used by train.model.Classifier.load."""
    return BaselineBackend(joblib.load(Path(directory) / FILE))
