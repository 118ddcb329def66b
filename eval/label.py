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

import argparse
import contextlib
import csv
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from araclaim.eval.segment import MAX_CHARS, Span, lines, segment
from araclaim.train import atomic, context
from araclaim.train.errors import AraclaimError
from araclaim.train.labels import LABELS

INPUT_SUFFIXES = (".txt", ".jsonl", ".csv")
PRECISIONS = ("fp32", "bf16", "int8")
MAX_BAD_RECORDS = 10  # per file, after which the rest of the file is given up
PROB_DIGITS = 4
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Article:
    """One article: `text` is what the offsets index."""

    id: str
    source: str
    text: str


@dataclass(frozen=True)
class Failure:
    """An input (or one record of it) that could not be read; `where` is a path or path:line."""

    where: str
    message: str


class Unreadable(Exception):
    """Raised by the readers for one input; becomes a Failure."""


# --------------------------------------------------------------------------------------------------
# Reading inputs
# --------------------------------------------------------------------------------------------------

def decode(raw: bytes) -> str:
    """Bytes of a text input as str: UTF-8 (BOM dropped) or UTF-16 with a BOM; Unreadable otherwise."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:8192]:
        raise Unreadable("binary file (NUL bytes), not text; pass UTF-8 text, .jsonl or .csv")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it as UTF-8") from None


def input_files(paths: list[str], exclude: set[Path] = frozenset()) -> Iterator[tuple[str, Path | None]]:
    """(path, root) for every input: named files as given, directories walked in sorted order."""
    for raw in paths:
        path = Path(raw)
        if raw == "-" or not path.is_dir():
            yield raw, None
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(filenames):
                f = Path(dirpath) / name
                if f.suffix.lower() in INPUT_SUFFIXES and f.resolve() not in exclude:
                    yield str(f), path


def read_inputs(paths: list[str], *, text_field: str = "text", id_field: str = "id",
                exclude: set[Path] = frozenset()) -> Iterator[Article | Failure]:
    """Articles (and Failures) from every input, one at a time."""
    for name, root in input_files(paths, exclude):
        suffix = Path(name).suffix.lower()
        try:
            if suffix == ".jsonl":
                yield from _jsonl_articles(Path(name), text_field, id_field)
            elif suffix == ".csv":
                yield from _csv_articles(Path(name), text_field, id_field)
            else:
                yield _text_article(name, root)
        except Unreadable as exc:
            yield Failure(name, str(exc))
        except OSError as exc:
            yield Failure(name, f"cannot read ({exc.strerror or exc})")


def _text_article(name: str, root: Path | None) -> Article:
    if name == "-":
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        return Article("stdin", "-", decode(raw))
    path = Path(name)
    article_id = path.relative_to(root).with_suffix("").as_posix() if root else path.stem
    return Article(article_id, name, decode(path.read_bytes()))


def _jsonl_articles(path: Path, text_field: str, id_field: str) -> Iterator[Article | Failure]:
    bad = 0
    with path.open("rb") as fh:
        head = fh.read(8192)
        if b"\x00" in head:
            raise Unreadable("binary file (NUL bytes), not JSON Lines")
        fh.seek(0)
        for lineno, raw in enumerate(fh, 1):
            try:
                art = _jsonl_record(raw, path, lineno, text_field, id_field)
            except Unreadable as exc:
                bad += 1
                yield Failure(f"{path}:{lineno}", str(exc))
                if bad >= MAX_BAD_RECORDS:
                    raise Unreadable(f"{bad} bad records; giving up on the rest of the file") from None
                continue
            if art is not None:
                yield art


def _jsonl_record(raw: bytes, path: Path, lineno: int, text_field: str, id_field: str) -> Article | None:
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 ({exc.reason} at byte {exc.start} of the line)") from None
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    return _record_article(obj, path, lineno, text_field, id_field)


def _record_article(obj, path: Path, lineno: int, text_field: str, id_field: str) -> Article:
    if not isinstance(obj, dict):
        raise Unreadable(f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get(text_field)
    if not isinstance(text, str):
        fields = ", ".join(list(obj)[:8])
        raise Unreadable(f"no text field {text_field!r} (fields: {fields}); choose one with --text-field")
    rid = obj.get(id_field)
    return Article(str(rid) if rid not in (None, "") else f"{path.stem}-{lineno}", str(path), text)


def _csv_articles(path: Path, text_field: str, id_field: str) -> Iterator[Article | Failure]:
    with path.open("rb") as fh:
        if b"\x00" in fh.read(8192):
            raise Unreadable("binary file (NUL bytes), not CSV")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if text_field not in (reader.fieldnames or []):
                cols = ", ".join(reader.fieldnames or []) or "none"
                raise Unreadable(f"no column {text_field!r} (columns: {cols}); choose one with --text-field")
            for row in reader:
                yield _record_article(row, path, reader.line_num, text_field, id_field)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
    except csv.Error as exc:
        raise Unreadable(f"malformed CSV ({exc})") from None


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
# Writing outputs atomically, with resume
# --------------------------------------------------------------------------------------------------

REVIEW_COLUMNS = ["article", "source", "index", "text", "predicted", "probability", "correct_label"]


def csv_columns(labels=LABELS) -> list[str]:
    """Column order of the CSV output."""
    return (["article", "source", "index", "start", "end", "text", "label", "skipped", "warning"]
            + [f"prob_{lab}" for lab in labels] + ["model"])


def _flat(rec: dict, labels=LABELS) -> dict:
    row = {k: rec[k] for k in csv_columns(labels) if k in rec}
    for lab in labels:
        row[f"prob_{lab}"] = "" if rec["probs"] is None else rec["probs"][lab]
    return {k: "" if v is None else v for k, v in row.items()}


def _unflat(row: dict, labels=LABELS) -> dict:
    rec = {k: (v if v != "" else None) for k, v in row.items() if not k.startswith("prob_")}
    for k in ("index", "start", "end"):
        rec[k] = int(rec[k])
    empty = row.get(f"prob_{labels[0]}", "") == ""
    rec["probs"] = None if empty else {lab: float(row[f"prob_{lab}"]) for lab in labels}
    return rec


class Sink:
    """One output file written through `<name>.partial`; `commit()` renames it into place."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind  # kind: jsonl | csv | review
        self.partial = path.with_name(path.name + ".partial")
        self.fh = self.writer = None

    def open(self, mode: str = "w") -> None:
        """Start (mode w) or continue (mode a) the partial file."""
        target = self.partial
        self.fh = target.open(mode, encoding="utf-8-sig" if self.kind != "jsonl" and mode == "w" else "utf-8",
                              newline="")
        if self.kind != "jsonl":
            cols = REVIEW_COLUMNS if self.kind == "review" else csv_columns()
            self.writer = csv.DictWriter(self.fh, fieldnames=cols, extrasaction="ignore")
            if mode == "w":
                self.writer.writeheader()

    def write(self, rec: dict) -> None:
        if self.kind == "jsonl":
            self.fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        elif self.kind == "csv":
            self.writer.writerow(_flat(rec))
        else:
            self.writer.writerow(rec)

    def flush(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        if self.fh:
            self.fh.close()
            self.fh = None

    def commit(self) -> None:
        self.close()
        atomic.replace(self.partial, self.path)


def read_records(path: Path, kind: str) -> Iterator[dict]:
    """Records of an existing output (JSONL or CSV); a truncated last line is ignored."""
    if kind == "jsonl":
        with path.open(encoding="utf-8-sig") as fh:
            for line in fh:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    return
    else:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    yield _unflat(row)
                except (KeyError, ValueError, TypeError):
                    return


class Outputs:
    """The labelled file, its summary and the optional review queue, written together."""

    def __init__(self, out: Path, fmt: str, review_below: float | None, review_path: Path | None):
        self.main = Sink(out, fmt)
        self.summary = Sink(out.with_name(out.name + ".summary.jsonl"), "jsonl")
        self.review_below = review_below
        self.review = Sink(review_path or out.with_name(out.name + ".review.csv"), "review") if review_below else None
        self.sinks = [s for s in (self.summary, self.review, self.main) if s]
        self.counts = Counter()

    def paths(self) -> set[Path]:
        """Every path this run writes (excluded from directory inputs)."""
        return {p.resolve() for s in self.sinks for p in (s.path, s.partial, self._staged(s).partial)}

    @staticmethod
    def _staged(sink: Sink) -> Sink:
        """Where --resume rebuilds a partial file before swapping it in."""
        return Sink(sink.path.with_name(sink.path.name + ".resume"), sink.kind)

    def start(self, resume: bool, model_uri: str) -> set[tuple[str, str]]:
        """Open the partial files; with `resume`, carry finished articles over and return their keys."""
        if not resume:
            for s in self.sinks:
                s.open("w")
            return set()
        return self._carry_over(model_uri)

    def _carry_over(self, model_uri: str) -> set[tuple[str, str]]:
        """Copy the articles a previous run finished (its partial files, else its outputs) into new partials.

        Each file is taken from its `.partial` while that exists, else from its final name: `commit` renames
        the summary before the labelled file, so a run killed between the two renames is read consistently.
        """
        pick = lambda s: s.partial if s.partial.exists() else s.path  # noqa: E731
        done = set()
        if pick(self.summary).exists():
            done = {(r["source"], r["article"]) for r in read_records(pick(self.summary), "jsonl")}
        elif pick(self.main).exists():
            done = {(r["source"], r["article"]) for r in read_records(pick(self.main), self.main.kind)}
        staged = [self._staged(s) for s in self.sinks]
        try:
            for s in staged:
                s.open("w")
            self._copy(pick, done, model_uri, staged)
        finally:
            for s in staged:
                s.close()
        for s, new in zip(self.sinks, staged):
            atomic.replace(new.partial, s.partial)
            s.open("a")
        return done

    def _copy(self, pick, done, model_uri: str, staged: list[Sink]) -> None:
        by_kind = dict(zip([id(s) for s in self.sinks], staged))
        main, summary = by_kind[id(self.main)], by_kind[id(self.summary)]
        review = by_kind.get(id(self.review)) if self.review else None
        if pick(self.main).exists():
            for rec in read_records(pick(self.main), self.main.kind):
                if (rec["source"], rec["article"]) not in done:
                    continue
                if rec.get("model") and rec["model"] != model_uri:
                    raise AraclaimError(
                        f"--resume: {pick(self.main)} was labelled by {rec['model']}, not {model_uri}; resume with "
                        "the same --model, or write to a new output")
                main.write(rec)
                self._count(rec, review)
        if pick(self.summary).exists():
            for row in read_records(pick(self.summary), "jsonl"):
                if (row["source"], row["article"]) in done:
                    summary.write(row)
                    self.counts["articles"] += 1
                    self.counts["resumed"] += 1

    def _count(self, rec: dict, review: Sink | None) -> None:
        self.counts["sentences"] += 1
        self.counts["skipped"] += rec["label"] is None
        if rec["label"] and review is not None and max(rec["probs"].values()) < self.review_below:
            review.write({"article": rec["article"], "source": rec["source"], "index": rec["index"],
                          "text": rec["text"], "predicted": rec["label"],
                          "probability": round(max(rec["probs"].values()), PROB_DIGITS), "correct_label": ""})
            self.counts["review"] += 1

    def write(self, done: Labelled) -> None:
        """One article: its records, its review rows, then its summary row (which marks it finished)."""
        for rec in done.records:
            self.main.write(rec)
            self._count(rec, self.review)
        if self.review:
            self.review.flush()
        self.main.flush()
        self.summary.write(done.summary)
        self.summary.flush()
        self.counts["articles"] += 1

    def commit(self) -> None:
        """Rename every partial file into place (summary and review first, the labelled file last)."""
        for s in self.sinks:
            s.commit()

    def close(self) -> None:
        for s in self.sinks:
            s.close()


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


def add_label_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `araclaim label`."""
    parser.add_argument("--model", required=True, help="model directory, MLflow run id, runs:/ or models:/ URI")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help=".txt, .jsonl or .csv files, directories (recursive), or - for stdin")
    parser.add_argument("-o", "--output", required=True,
                        help="output file (.jsonl, or .csv); its directory is created when missing")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="output format (default: from the -o suffix)")
    parser.add_argument("--text-field", default="text", help="text field/column of .jsonl/.csv inputs (default text)")
    parser.add_argument("--id-field", default="id", help="id field/column of .jsonl/.csv inputs (default id)")
    parser.add_argument("--presplit", action="store_true",
                        help="each input line/record is one sentence: no segmentation, no skip detection")
    parser.add_argument("--review-below", type=float, metavar="P",
                        help="also write sentences whose top probability is below P to a review CSV")
    parser.add_argument("--review-out", help="review CSV path (default <output>.review.csv)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the articles already in the output (or its .partial) and label the rest")
    parser.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                        help="transformer inference precision (default auto: the fastest mode on this CPU among those "
                             "within 1 point of fp32 select macro-F1, measured once per machine; the baseline is fp32)")
    parser.add_argument("--threads", type=int, help="CPU threads for inference (default: all cores)")
    parser.add_argument("--batch-size", type=int,
                        help="sentences per model call (default: the whole window; transformers still run "
                             "length-sorted batches of 64 inside it)")
    parser.add_argument("--window", type=int, default=2048,
                        help="sentences pooled across articles before predicting (default 2048)")


def _check_args(args) -> tuple[Path, str]:
    """Validate everything that can be checked before the model loads; returns (output, format)."""
    if args.review_below is not None and not 0 < args.review_below <= 1:
        raise AraclaimError(f"--review-below {args.review_below}: give a probability in (0, 1]")
    for name in ("threads", "batch_size", "window"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise AraclaimError(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    missing = [p for p in args.inputs if p != "-" and not Path(p).exists()]
    if missing:
        raise AraclaimError(f"no such input: {', '.join(missing)}")
    out = Path(args.output)
    if out.is_dir():
        raise AraclaimError(f"-o {out} is a directory; give a file name such as {out / 'labelled.jsonl'}")
    if any(p != "-" and Path(p).resolve() == out.resolve() for p in args.inputs):
        raise AraclaimError(f"-o {out} is also an input; write the labels to another file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AraclaimError(f"cannot create the output directory {out.parent}: {exc.strerror or exc}") from None
    return out, args.format or ("csv" if out.suffix.lower() == ".csv" else "jsonl")


def run_label(args) -> int:
    """`araclaim label`: check arguments, load the model once, stream every article through it."""
    out, fmt = _check_args(args)
    from araclaim.train.model_store import load_classifier

    clf, uri, _ = load_classifier(args.model)
    with configure_backend(clf, args.precision, args.threads):
        return _label(args, clf, uri, out, fmt)


def _label(args, clf, uri: str, out: Path, fmt: str) -> int:
    outputs = Outputs(out, fmt, args.review_below, Path(args.review_out) if args.review_out else None)
    progress = Progress()
    opts = Options(batch_size=args.batch_size, window=args.window, presplit=args.presplit,
                   on_batch=lambda n: progress.add(sentences=n))
    try:
        opts.skip = outputs.start(args.resume, uri)
        items = read_inputs(args.inputs, text_field=args.text_field, id_field=args.id_field, exclude=outputs.paths())
        failures = _stream(label_articles(clf, items, uri, opts), outputs, progress)
        progress.close()
        outputs.commit()
    except BaseException:
        progress.close()
        outputs.close()
        if outputs.main.partial.exists():
            print(f"araclaim label: stopped; finished articles are kept in {outputs.main.partial} "
                  f"(rerun with --resume to continue)", file=sys.stderr)
        raise
    return _report(outputs, out, progress, failures)


def _stream(results: Iterable[Labelled | Failure], outputs: Outputs, progress: Progress) -> list[Failure]:
    """Write each labelled article as it comes; report failures and warnings on stderr; return the failures."""
    failures = []
    for item in results:
        if isinstance(item, Failure):
            failures.append(item)
            print(f"araclaim label: {item.where}: {item.message}", file=sys.stderr)
            continue
        outputs.write(item)
        progress.add(articles=1)
        for w in item.summary["warnings"]:
            print(f"araclaim label: warning: {item.article.source} [{item.article.id}]: {w}", file=sys.stderr)
    return failures


def _report(outputs: Outputs, out: Path, progress: Progress, failures: list[Failure]) -> int:
    c = outputs.counts
    resumed = f" ({c['resumed']} carried over by --resume)" if c["resumed"] else ""
    print(f"labelled {c['sentences'] - c['skipped']:,} sentences ({c['skipped']:,} skipped as non-sentences) in "
          f"{c['articles']:,} article{'' if c['articles'] == 1 else 's'}{resumed} -> {out} ({progress.rate():.1f} sentences/s); "
          f"summary {outputs.summary.path}", file=sys.stderr)
    if outputs.review:
        print(f"{c['review']:,} sentences below {outputs.review_below} -> {outputs.review.path}", file=sys.stderr)
    if not failures:
        return 0
    print(f"araclaim label: {len(failures)} input(s) could not be read; the rest were labelled:", file=sys.stderr)
    for f in failures:
        print(f"  {f.where}: {f.message}", file=sys.stderr)
    return 1
