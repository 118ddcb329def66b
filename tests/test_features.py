"""Shared per-call features: normalisation and cue features computed once per sentence, same predictions."""
import json

import numpy as np
import pytest

from araclaim.train import baseline, context, cues, text
from araclaim.train.features import SentenceFeatures
from araclaim.train.labels import LABELS
from araclaim.train.model import Classifier

from conftest import REPO, TINY

ARTICLE = ["قال الوزير إن الخطة جاهزة", "وأضاف أن التنفيذ يبدأ غدا", "نفت الوزارة صحة التقارير",
           "يجب أن نتحرك الآن!", "«الأرقام صحيحة", "والوضع مستقر» قال المتحدث"]


def _sentences(n: int = 300) -> list[str]:
    rows = [json.loads(line) for line in (REPO / "data/dev.jsonl").read_text(encoding="utf-8").splitlines()[:n]]
    return [r["text"] for r in rows] + [s for group in TINY.values() for s in group] + ARTICLE


def test_sentence_features_compute_each_sentence_once(monkeypatch):
    calls = []
    real = text.normalize
    monkeypatch.setattr(text, "normalize", lambda s: calls.append(s) or real(s))
    feats = SentenceFeatures()
    matrix = feats.cue_matrix(ARTICLE + ARTICLE)
    assert [feats.normalized(s) for s in ARTICLE] == [real(s) for s in ARTICLE]
    assert sorted(calls) == sorted(ARTICLE)  # once each, although asked for three times
    assert matrix.shape == (2 * len(ARTICLE), len(cues.FEATURE_NAMES))
    assert np.array_equal(matrix[: len(ARTICLE)], np.asarray([cues.extract(s) for s in ARTICLE]))


def test_cue_prefilter_finds_what_the_full_patterns_find():
    """Each group's entry prefilter (cues._Matcher) never changes a match of the group's full pattern."""
    for sentence in _sentences():
        t = text.normalize(sentence)
        found = cues._candidates(t)
        for feature, matchers in cues._PATTERNS.items():
            for g, matcher in enumerate(matchers):
                full = [(m.span(), m.group("cue")) for m in matcher.pattern.finditer(t)]
                fast = [(m.span(), m.group("cue")) for m in matcher.finditer(t, found.get((feature, g), ()))]
                assert fast == full, (sentence, feature, g)


def _reference_proba(backend: baseline.BaselineBackend, texts, contexts) -> np.ndarray:
    """The stacked baseline as first written: sklearn's own transform, stage one per context sentence."""
    features = backend.pipeline.named_steps["features"]
    if backend.stacker is None:
        return backend.pipeline.predict_proba(texts)[:, backend._order]
    contexts = context.trim(contexts, backend.context_size, len(texts))
    unique = list(dict.fromkeys(s for row in contexts for s in row))
    probs = dict(zip(unique, backend.pipeline.predict_proba(unique)[:, backend._order])) if unique else {}
    block = [baseline.context_features(t, c, np.asarray([probs[s] for s in c]), backend.context_size)
             for t, c in zip(texts, contexts)]
    x = backend._stack_matrix(features.transform(texts), block)
    return backend.stacker.predict_proba(x)[:, [list(backend.stacker.classes_).index(lab) for lab in LABELS]]


def test_shared_features_equal_the_pipeline_transform(trained_baseline):
    result, _ = trained_baseline
    backend = Classifier.load(result.model_dir).backend
    texts = _sentences(120)
    expected = backend.pipeline.named_steps["features"].transform(texts).toarray()
    got = backend._features.transform(texts, SentenceFeatures())
    assert backend._features.parts is not None  # the fast path, not the fallback
    assert np.array_equal(got.toarray(), expected)
    again = backend._features.transform(texts, SentenceFeatures())  # from the word memo this time
    assert np.array_equal(again.toarray(), expected)


@pytest.mark.parametrize("chunk", [None, 2])
def test_stacked_baseline_predicts_exactly_as_before(trained_baseline, chunk):
    result, _ = trained_baseline
    clf = Classifier.load(result.model_dir)
    assert clf.context_size == 1 and clf.backend.stacker is not None
    texts = ARTICLE + _sentences(40)
    ctx = context.contexts(["a"] * len(ARTICLE) + [None] * (len(texts) - len(ARTICLE)), texts, clf.context_size)
    step = chunk or len(texts)
    got = np.concatenate([clf.backend.predict_proba(texts[i:i + step], ctx[i:i + step])
                          for i in range(0, len(texts), step)])
    assert np.array_equal(got, _reference_proba(clf.backend, texts, ctx))
