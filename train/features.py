"""What several consumers compute from the same sentence, computed once per prediction call.

One labelling call reads each sentence many times: the baseline's word and character vectorisers and its cue
block, the context block of the sentence after it (and stage one of the stack, which predicts it as a
context sentence), the transformer's preprocessing and its cue-fusion head, and, in the ensemble, every
member. `SentenceFeatures` memoises the two expensive pieces they share - `text.normalize` and
`cues.extract` - keyed by the sentence, for the duration of one `Classifier.predict_proba` call (the
memo is dropped with the call, so memory stays bounded by the call's input).
"""
from __future__ import annotations

import numpy as np

from araclaim.train import cues, text


class SentenceFeatures:
    """Per-call memo of each distinct sentence's normalised text and cue-feature vector."""

    def __init__(self) -> None:
        self._normalized: dict[str, str] = {}
        self._cues: dict[str, list[float]] = {}

    def normalized(self, sentence: str) -> str:
        """`text.normalize(sentence)`, computed once per distinct sentence."""
        out = self._normalized.get(sentence)
        if out is None:
            out = self._normalized[sentence] = text.normalize(sentence)
        return out

    def cues(self, sentence: str) -> list[float]:
        """`cues.extract(sentence)`, computed once per distinct sentence (on its memoised normal form)."""
        out = self._cues.get(sentence)
        if out is None:
            out = self._cues[sentence] = cues.extract(sentence, normalized=self.normalized(sentence))
        return out

    def cue_matrix(self, sentences: list[str]) -> np.ndarray:
        """Cue features of `sentences` as a float64 array, one row per sentence (FEATURE_NAMES columns)."""
        return np.asarray([self.cues(s) for s in sentences], dtype=np.float64).reshape(
            len(sentences), len(cues.FEATURE_NAMES))
