"""The scikit-learn baseline: TF-IDF over word and character n-grams, plus the guide's cue features,
into a logistic regression. Fast, transparent, and the floor every transformer is compared with.

With article context (`context: previous | window`) the model is stacked: the sentence-only pipeline
above predicts every sentence, and a second logistic regression sees the same n-gram and cue features
plus a context block (`context_features`): the previous sentences' predicted probabilities and cue
features, whether the sentence opens with a continuation marker ("وأضاف"، "مشيرًا إلى") and its
interactions with what came before, and whether a quotation is still open. During training the previous
sentences' probabilities are out-of-fold (grouped by article), so the context block is trained on the
kind of predictions it will see at labelling time.

Saved with skops (`baseline.skops`), not pickle: loading rebuilds only allow-listed types (scikit-learn's own,
numpy/scipy, and the two of ours in TRUSTED_TYPES) and never runs code that a model folder carries. A model saved
by an older araclaim as `baseline.joblib` (a pickle) is refused with how to retrain or convert it.
"""
from __future__ import annotations

import copy
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline

from araclaim.train import context, cues, text
from araclaim.train.config import BaselineConfig
from araclaim.train.errors import ModelLoadError
from araclaim.train.features import SentenceFeatures
from araclaim.train.labels import LABELS

FILE = "baseline.skops"
LEGACY_FILE = "baseline.joblib"  # pickle, written before skops; never loaded (scripts/convert_baseline_model.py)
# Types of ours inside a saved pipeline, beyond skops' defaults (scikit-learn estimators, numpy, scipy): the cue
# transformer and the normaliser the TF-IDF vectorisers call. Anything else in a file is refused.
TRUSTED_TYPES = ("araclaim.train.baseline.CueFeatures", "araclaim.train.text.normalize")
# The same two, as named before train/ and eval/ were installed as araclaim.train / araclaim.eval (issue 13):
# such files are refused with the conversion command (scripts/convert_baseline_model.py).
PRE_RENAME_TYPES = ("train.baseline.CueFeatures", "train.text.normalize")
_SAVED_KEYS = ("pipeline", "stacker", "context_size", "context_weight")
# A sentence that continues the previous speaker: "وأضاف أن…"، "وتابع:"، "مشيرًا إلى…" (normalised forms).
_CONTINUATION = re.compile(
    r"^[\"'«“]?\s*(?:[وف](?:اضاف|اضافت|تابع|تابعت|اوضح|اوضحت|لفت|لفتت|اشار|اشارت|استطرد|استدرك|ختم|زاد|"
    r"اكد|اكدت|بين|بينت|شدد|شددت)|(?:مشيرا|مضيفا|موضحا|لافتا|مؤكدا|مشيره|مضيفه|موضحه|لافته|مؤكده))\b")


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
    return Pipeline([("features", FeatureUnion(parts)), ("clf", _logreg(cfg, seed))])


def _logreg(cfg: BaselineConfig, seed: int) -> LogisticRegression:
    return LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter, random_state=seed)


def _open_quote(sentence: str) -> bool:
    """True when the sentence leaves a quotation open (its speaker's words go on in the next one)."""
    return sentence.count("«") > sentence.count("»") or sentence.count("“") > sentence.count("”") \
        or sentence.count('"') % 2 == 1


def context_features(sentence: str, previous: list[str], previous_probs: np.ndarray, size: int,
                     features: SentenceFeatures | None = None) -> list[float]:
    """The context block of one sentence: what the sentences before it were and how this one continues them.

    `previous` are the earlier sentences of its article (oldest first), `previous_probs` their predicted
    probabilities (rows in LABELS order), `size` the context window the model was configured with;
    `features` shares normalisation and cue features with the rest of the call.
    """
    features = features or SentenceFeatures()
    k = len(LABELS)
    continues = 1.0 if _CONTINUATION.match(features.normalized(sentence)) else 0.0
    if not previous:
        return [0.0, continues] + [0.0] * (3 * k + len(cues.FEATURE_NAMES) + 2)
    last = previous_probs[-1]
    mean = previous_probs.mean(axis=0)
    return ([1.0, continues] + list(last) + list(mean) + list(continues * last)
            + [v / cues.CAP for v in features.cues(previous[-1])]
            + [1.0 if _open_quote(previous[-1]) else 0.0, len(previous) / size])


def _identity(doc: str) -> str:
    return doc


class _SharedFeatures:
    """The fitted FeatureUnion's transform over already-normalised text and shared cue features.

    Gives the same matrix as `pipeline.named_steps["features"].transform(texts)`, but each sentence is
    normalised once (the vectorisers were fitted with `text.normalize` as preprocessor: here they get the
    normal form and an identity preprocessor), cue features come from the call's SentenceFeatures, and the
    character n-grams of a word - the bulk of the work - are looked up once per distinct word (a word's
    char_wb n-grams do not depend on its neighbours) in a bounded memo kept across calls. The counts go
    through the vectoriser's own tf-idf step. A FeatureUnion of any other shape is transformed as is.
    """

    WORD_MEMO = 50_000  # distinct words whose n-gram ids are kept (a few MB)

    def __init__(self, union: FeatureUnion):
        self.union = union
        self.parts = self._parts(union)
        self._ngram_ids: dict[str, tuple[int, ...]] = {}

    @staticmethod
    def _parts(union: FeatureUnion):
        if union.transformer_weights:
            return None
        parts = []
        for name, part in union.transformer_list:
            if part in (None, "drop"):
                continue
            if isinstance(part, CueFeatures):
                parts.append(("cues", part))
            elif (isinstance(part, TfidfVectorizer) and part.preprocessor is text.normalize
                  and part.input == "content" and not part.binary and hasattr(part, "_tfidf")):
                plain = copy.copy(part)
                plain.preprocessor = _identity  # input is normalised already; no lowercasing either way
                parts.append(("char_wb" if part.analyzer == "char_wb" else "tfidf", plain))
            else:
                return None
        return parts

    def transform(self, texts: list[str], features: SentenceFeatures):
        """Feature rows of `texts` (a CSR matrix, columns as the fitted FeatureUnion's)."""
        if self.parts is None:
            return self.union.transform(list(texts))
        normal = [features.normalized(t) for t in texts]
        blocks = []
        for kind, part in self.parts:
            if kind == "cues":
                blocks.append(sparse.csr_matrix(features.cue_matrix(texts) * part.weight))
            elif kind == "char_wb":
                blocks.append(part._tfidf.transform(self._char_wb_counts(part, normal), copy=False))
            else:
                blocks.append(part.transform(normal))
        return sparse.hstack(blocks).tocsr()

    def _char_wb_counts(self, vec: TfidfVectorizer, docs: list[str]):
        """The count matrix `vec` would build for `docs` (CountVectorizer._count_vocab with a fixed vocabulary)."""
        vocab, analyze, memo = vec.vocabulary_, vec.build_analyzer(), self._ngram_ids
        indices, values, indptr = [], [], [0]
        for doc in docs:
            counts = Counter()
            for word in doc.split():  # char_wb n-grams never cross a space
                ids = memo.get(word)
                if ids is None:
                    if len(memo) >= self.WORD_MEMO:
                        memo.clear()
                    ids = memo[word] = tuple(vocab[g] for g in analyze(word) if g in vocab)
                counts.update(ids)
            indices.extend(counts.keys())
            values.extend(counts.values())
            indptr.append(len(indices))
        counts = sparse.csr_array((np.asarray(values, dtype=np.intc), np.asarray(indices, dtype=np.int32),
                                   np.asarray(indptr, dtype=np.int32)), shape=(len(docs), len(vocab)),
                                  dtype=vec.dtype)
        counts.sort_indices()
        return counts


class BaselineBackend:
    """Adapter giving the pipeline the backend interface (`predict_proba`, `save`).

    `stacker` (with `context_size` > 0) is the logistic regression over n-gram/cue features plus the
    context block; without it the sentence-only pipeline answers.
    """

    shares_features = True  # predict_proba takes the call's SentenceFeatures (train/model.py)

    def __init__(self, pipeline: Pipeline, stacker: LogisticRegression | None = None, context_size: int = 0,
                 context_weight: float = 1.0):
        self.pipeline = pipeline
        self.stacker, self.context_size, self.context_weight = stacker, context_size, context_weight
        # Columns in LABELS order whatever order sklearn sorted the classes into.
        self._order = [list(pipeline.classes_).index(label) for label in LABELS]
        self._features = _SharedFeatures(pipeline.named_steps["features"])

    def sentence_proba(self, texts: list[str], features: SentenceFeatures | None = None) -> np.ndarray:
        """Probabilities from the sentence alone (stage one of the stack)."""
        x = self._features.transform(list(texts), features or SentenceFeatures())
        return self.pipeline.named_steps["clf"].predict_proba(x)[:, self._order]

    def predict_proba(self, texts: list[str], contexts: list[list[str]] | None = None,
                      features: SentenceFeatures | None = None) -> np.ndarray:
        features = features or SentenceFeatures()
        texts = list(texts)
        if self.stacker is None:
            return self.sentence_proba(texts, features)
        contexts = context.trim(contexts, self.context_size, len(texts))
        # One feature row per distinct sentence, whether it is labelled, read as context, or both: in an
        # article every sentence but the last is also the next one's context.
        rows = {s: i for i, s in enumerate(dict.fromkeys([*texts, *(s for row in contexts for s in row)]))}
        x = self._features.transform(list(rows), features)
        unique = list(dict.fromkeys(s for row in contexts for s in row))  # each predicted once (stage one)
        probs = {}
        if unique:
            stage_one = self.pipeline.named_steps["clf"].predict_proba(x[[rows[s] for s in unique]])
            probs = dict(zip(unique, stage_one[:, self._order]))
        block = [context_features(t, c, np.asarray([probs[s] for s in c]), self.context_size, features)
                 for t, c in zip(texts, contexts)]
        stacked = self._stack_matrix(x[[rows[t] for t in texts]], block)
        return self.stacker.predict_proba(stacked)[:, [list(self.stacker.classes_).index(lab) for lab in LABELS]]

    def _stack_matrix(self, features, block: list[list[float]]):
        return sparse.hstack([features, sparse.csr_matrix(np.asarray(block) * self.context_weight)]).tocsr()

    def save(self, directory: Path) -> None:
        """Write `baseline.skops` into `directory` (a folder that Classifier.save renames into place)."""
        import skops.io

        skops.io.dump({"pipeline": self.pipeline, "stacker": self.stacker, "context_size": self.context_size,
                       "context_weight": self.context_weight}, Path(directory) / FILE)


def fit(cfg: BaselineConfig, texts: list[str], labels: list[str], seed: int,
        groups: list | None = None, context_size: int = 0) -> BaselineBackend:
    """Fit the pipeline on labelled sentences (every class must occur).

    With `context_size` > 0 and `groups` (article keys, None for standalone sentences, in file order), also
    fit the context stacker on out-of-fold predictions of each sentence's predecessors.
    """
    missing = set(LABELS) - set(labels)
    if missing:
        raise ValueError(f"training data has no examples of {sorted(missing)}")
    pipeline = build(cfg, seed).fit(texts, labels)
    if not context_size or groups is None or all(g is None for g in groups):
        return BaselineBackend(pipeline)
    order = [list(pipeline.classes_).index(label) for label in LABELS]
    fold_of = [str(g) if g is not None else f"#{i}" for i, g in enumerate(groups)]  # one article never spans folds
    oof = cross_val_predict(build(cfg, seed), texts, labels, groups=fold_of,
                            cv=GroupKFold(n_splits=cfg.context_folds), method="predict_proba")[:, order]
    previous = context.previous_indices(groups, context_size)
    block = [context_features(texts[i], [texts[j] for j in idx], oof[idx], context_size)
             for i, idx in enumerate(previous)]
    backend = BaselineBackend(pipeline, None, context_size, cfg.context_weight)
    x = backend._stack_matrix(pipeline.named_steps["features"].transform(texts), block)
    backend.stacker = _logreg(cfg, seed).fit(x, labels)
    return backend


def _untrusted(path: Path, directory: str | Path) -> ModelLoadError:
    """Why a refused file was refused: the types in it that araclaim does not trust."""
    import skops.io

    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if untrusted and set(untrusted) <= set(PRE_RENAME_TYPES):
        return ModelLoadError(
            f"{path}: saved by araclaim before its packages were renamed (araclaim.train); retrain it, or "
            f"convert it: `.venv/bin/python scripts/convert_baseline_model.py {directory} --i-trust-this-file`")
    return ModelLoadError(
        f"{path} contains types araclaim does not trust: {', '.join(untrusted) or '(unlisted)'}; it was not written "
        "by araclaim's baseline (or was changed since) and is not loaded. Retrain the model")


def load(directory: str | Path) -> BaselineBackend:
    """Backend loader used by train.model.Classifier.load: `baseline.skops`, allow-listed types only.

    Raises ModelLoadError for a missing, corrupt or untrusted file, and for a pickle from an older araclaim
    (which it never opens: unpickling runs whatever code the file carries).
    """
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(directory) / FILE
    if not path.is_file():
        if (Path(directory) / LEGACY_FILE).is_file():
            raise ModelLoadError(
                f"{Path(directory) / LEGACY_FILE}: a baseline saved as a pickle by an older araclaim; araclaim no "
                "longer loads pickles (loading one runs any code it carries). Retrain it (`araclaim train --config "
                "configs/baseline.yaml`), or, only if you made this file yourself, convert it: "
                f"`.venv/bin/python scripts/convert_baseline_model.py {directory} --i-trust-this-file`")
        raise ModelLoadError(f"{path}: missing; {directory} is not a complete baseline model (retrain it)")
    try:
        # One pass: skops audits every type in the file against the allow-list before it builds anything, and
        # refuses the file if one is not on it. (Auditing a fitted TF-IDF vocabulary is most of a warm start-up,
        # so the slower listing of the offending types runs only for a refused file.)
        saved = skops.io.load(path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise _untrusted(path, directory) from exc
    # What skops raises for a file that is unreadable, not a zip, or has a malformed schema (measured); the
    # block calls nothing but skops, so a bug of ours is not hidden here.
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(f"{path}: not a readable skops model ({type(exc).__name__}: {exc}); retrain it") from exc
    if not isinstance(saved, dict) or set(saved) != set(_SAVED_KEYS) or not isinstance(saved["pipeline"], Pipeline):
        raise ModelLoadError(f"{path}: not a baseline model saved by araclaim (expected {', '.join(_SAVED_KEYS)})")
    return BaselineBackend(saved["pipeline"], saved["stacker"], saved["context_size"], saved["context_weight"])
