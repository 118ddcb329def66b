"""`araclaim label`: split articles into sentences and label each one, streaming, with a review queue.

Inputs (any mix): `.txt` files (one article each; UTF-8, a BOM, CRLF and UTF-16 with a BOM are fine),
directories (searched recursively for .txt, .jsonl and .csv, in sorted order), `.jsonl` and `.csv` files (one
article per record: text in `--text-field`, id in `--id-field`, kept), and `-` for standard input (text).
Any other file named on the command line is read as text. `--presplit` takes every line of a text (or every
record) as one sentence: no segmentation, no skip detection.

Output (JSONL by default, CSV with `--format csv` or a `.csv` name), one row per sentence:
  article, source, index (sentence number in the article), start, end (character offsets into the decoded
  article text: BOM removed, line endings as in the file, so text == article[start:end]), text, label (null
  when skipped), skipped (why the span is not a sentence: byline, dateline, url, handle, title, fragment,
  no_arabic; else null), warning (e.g. `cut`: a piece of an overlong stretch without a sentence end),
  probs (one probability per class; CSV: prob_<label> columns; null when skipped), model (URI).
Beside it: `<out>.summary.jsonl` (per article: sentences, counts per label and per skip reason, warnings) and,
with `--review-below P`, `<out>.review.csv` (or `--review-out`): sentences whose top probability is under P,
with an empty `correct_label` column for `araclaim data merge-review`.

Safety: every file is written to `<name>.partial` and renamed into place only when the run completes, so no
half-written file ever carries the final name. A run stopped by Ctrl-C or an error keeps `<out>.partial`
(complete articles only); `--resume` carries those articles (or those of a finished output) over and
labels only the rest. The output directory is created when missing. Errors in one input (binary, not
UTF-8, bad record) are reported, the other inputs are labelled, and the exit code is 1; empty inputs are
warnings. A missing input or a model that does not load stops the run before any input is read (exit 2).

Speed: up to `--window` sentences' worth of articles are predicted in one call (or in calls of `--batch-size`),
so normalisation and cue features are computed once per sentence and shared by every consumer, and the
transformer backend sorts the call's sentences by length into padded batches; memory is bounded by the
window, not by the number of articles. `--precision` and `--threads` go to the backend's `configure` hook.
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from araclaim.eval.inputs import Article, Failure
from araclaim.eval.outputs import PROB_DIGITS
from araclaim.eval.segment import MAX_CHARS, Span, lines, segment
from araclaim.train import context
from araclaim.train.errors import AraclaimError
from araclaim.train.labels import LABELS

PRECISIONS = ("fp32", "bf16", "int8")


# --------------------------------------------------------------------------------------------------
# Sentences and predictions
# --------------------------------------------------------------------------------------------------

def article_spans(text: str, presplit: bool, max_chars: int = MAX_CHARS) -> list[Span]:
    """Segmented spans with skip reasons, or (presplit) one span per non-blank line."""
    if not presplit:
        return segment(text, max_chars)
    spans = []
    for lo, hi in lines(text):
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        if hi > lo:
            spans.append(Span(lo, hi, text[lo:hi]))
    return spans


@dataclass
class Labelled:
    """An article with its sentence records and summary row."""

    article: Article
    records: list[dict]
    summary: dict


@dataclass
class Options:
    """How `label_articles` batches and segments."""

    batch_size: int | None = None  # sentences per predict call; None: the whole window in one call
    window: int = 2048  # sentences pooled across articles before predicting
    presplit: bool = False
    max_chars: int = MAX_CHARS
    on_batch: object = None  # callable(n_sentences) after each batch, for progress
    skip: set = field(default_factory=set)  # (source, article id) keys already done


def label_articles(classifier, items: Iterable[Article | Failure], model_uri: str,
                   opts: Options | None = None) -> Iterator[Labelled | Failure]:
    """Label a stream of articles; yields each Labelled article (in input order) and passes Failures on."""
    opts = opts or Options()
    pending, count = [], 0
    for item in items:
        if isinstance(item, Failure):
            yield item
            continue
        if (item.source, item.id) in opts.skip:
            continue
        spans = article_spans(item.text, opts.presplit, opts.max_chars)
        pending.append((item, spans))
        count += len(spans)
        if count >= opts.window:
            yield from _predict_window(classifier, pending, model_uri, opts)
            pending, count = [], 0
    yield from _predict_window(classifier, pending, model_uri, opts)


def _predict_window(classifier, pending, model_uri: str, opts: Options) -> Iterator[Labelled]:
    """Predict every sentence of the pending articles, then emit the articles.

    By default the whole window is one predict call, in article order: each sentence is then featurised once
    although it is also the next sentence's context (train/features.py), and the transformer backend sorts
    the call's sentences by length into its own padded batches (train/infer.py).
    """
    todo = [(a, j) for a, (_, spans) in enumerate(pending) for j, s in enumerate(spans) if not s.skip]
    ctx = _contexts(pending, todo, 0 if opts.presplit else getattr(classifier, "context_size", 0))
    probs: dict[tuple[int, int], list[float]] = {}
    step = opts.batch_size or max(len(todo), 1)
    for lo in range(0, len(todo), step):
        chunk = todo[lo:lo + step]
        texts = [pending[a][1][j].text for a, j in chunk]
        rows = classifier.predict_proba(texts, [ctx[key] for key in chunk]) if ctx else classifier.predict_proba(texts)
        probs.update({key: row for key, row in zip(chunk, rows)})
        if opts.on_batch:
            opts.on_batch(len(chunk))
    for a, (article, spans) in enumerate(pending):
        records = [_record(article, j, s, probs.get((a, j)), classifier.labels, model_uri)
                   for j, s in enumerate(spans)]
        yield Labelled(article, records, _summary(article, records))


def _contexts(pending, todo: list[tuple[int, int]], k: int) -> dict[tuple[int, int], list[str]]:
    """(article, sentence) -> the k labelled sentences before it in the same article (none for k = 0)."""
    if not k:
        return {}
    texts = [pending[a][1][j].text for a, j in todo]
    return dict(zip(todo, context.contexts([a for a, _ in todo], texts, k)))


def _record(article: Article, index: int, span: Span, row, labels, model_uri: str) -> dict:
    label = None if row is None else labels[max(range(len(labels)), key=lambda k: row[k])]
    return {"article": article.id, "source": article.source, "index": index, "start": span.start,
            "end": span.end, "text": span.text, "label": label, "skipped": span.skip,
            "warning": f"cut: no sentence end within {MAX_CHARS} characters" if span.cut else None,
            "probs": None if row is None else {lab: round(float(p), PROB_DIGITS) for lab, p in zip(labels, row)},
            "model": model_uri}


def _summary(article: Article, records: list[dict]) -> dict:
    warnings = []
    if not article.text.strip():
        warnings.append("empty: nothing to label")
    elif records and all(r["skipped"] == "no_arabic" for r in records):
        warnings.append("no Arabic text: every line was skipped as no_arabic")
    cut = sum(1 for r in records if r["warning"])
    if cut:
        warnings.append(f"{cut} pieces cut from text with no sentence end within {MAX_CHARS} characters")
    return {"article": article.id, "source": article.source, "sentences": len(records),
            "labelled": sum(1 for r in records if r["label"]),
            "labels": {lab: sum(1 for r in records if r["label"] == lab) for lab in LABELS},
            "skipped": dict(Counter(r["skipped"] for r in records if r["skipped"])), "warnings": warnings}


# --------------------------------------------------------------------------------------------------
# Progress, model set-up, the command
# --------------------------------------------------------------------------------------------------

class Progress:
    """`N sentences, M articles, R sentences/s` redrawn on stderr when it is a terminal; silent otherwise."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.perf_counter()
        self.sentences = self.articles = 0
        self._last = 0.0

    def add(self, sentences: int = 0, articles: int = 0) -> None:
        self.sentences += sentences
        self.articles += articles
        now = time.perf_counter()
        if self.enabled and now - self._last > 0.2:
            self._last = now
            print(f"\r  {self.sentences:,} sentences  {self.articles:,} articles  {self.rate():.1f} sentences/s",
                  end="", file=sys.stderr, flush=True)

    def rate(self) -> float:
        return self.sentences / max(time.perf_counter() - self.start, 1e-9)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


@contextlib.contextmanager
def configure_backend(classifier, precision: str, threads: int | None, *, quiet: bool = False) -> Iterator[None]:
    """The classifier set up for labelling inside the block; process-wide settings are restored after it.

    A backend with a `configure(...)` hook (transformers, the ensemble) takes the precision and the thread
    count, applies the threads per prediction call, and says what it chose. With `auto` it picks the fastest
    inference mode (precision and engine) among those the model's record allows (within 1 point of fp32
    select macro-F1; train/model.Classifier.allowed_modes), timed once per machine. Backends without the hook
    (the scikit-learn baseline) always run in fp32: a precision other than fp32 or auto is ignored with a note,
    and --threads caps the BLAS/OpenMP pools (threadpoolctl) and torch's threads for the block only.
    """
    configure = getattr(classifier.backend, "configure", None)
    if callable(configure):
        say = (lambda msg: None) if quiet else (lambda msg: print(f"araclaim label: {msg}", file=sys.stderr))
        allowed = classifier.allowed_modes() if hasattr(classifier, "allowed_modes") else None
        try:
            chosen = configure(precision=precision, threads=threads, allowed=allowed, log=say) or {}
        except (ValueError, RuntimeError) as exc:
            raise AraclaimError(f"--precision {precision}: {exc}") from exc
        if chosen.get("mode"):
            say(_describe_choice(precision, chosen, allowed, getattr(classifier, "precision_record", None)))
        yield
        return
    if precision not in ("fp32", "auto"):
        print(f"araclaim label: note: the {classifier.family} backend has no {precision} mode; "
              "--precision ignored (fp32)", file=sys.stderr)
    with contextlib.ExitStack() as scoped:
        if threads:
            from threadpoolctl import threadpool_limits

            scoped.enter_context(threadpool_limits(limits=threads))
            if "torch" in sys.modules:  # loaded already (by another model, or a test session): scope it too
                from araclaim.train import infer

                scoped.enter_context(infer.threads(threads))
        yield


def _describe_choice(precision: str, chosen: dict, allowed: set[str] | None, record: dict | None) -> str:
    """One line: the mode used, why, and the measured speeds and accuracies behind it."""
    rates = ", ".join(f"{m} {r:.0f}/s" for m, r in sorted(chosen.get("rates", {}).items(), key=lambda x: -x[1]))
    text = f"precision {precision} -> {chosen['mode']} ({chosen.get('reason', '')}"
    if rates:
        text += f"; probe on this CPU: {rates}"
    if precision == "auto":
        if record:
            f1 = record.get("macro_f1", {})
            ok = [m for m in sorted(allowed or ()) if m in f1]
            text += (f"; {record.get('split', 'select')} macro-F1 within 1 point of fp32 ({f1.get('fp32/torch', 0):.3f}): "
                     + ", ".join(f"{m} {f1[m]:.3f}" for m in ok))
        else:
            text += "; this model has no accuracy record per precision (trained before araclaim measured one), so only fp32"
    return text + ")"
