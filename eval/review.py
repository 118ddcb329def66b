"""`araclaim data merge-review FILE`: fold a reviewed queue back into the training data.

The queue is the CSV written by `araclaim label --review-below P` (columns text, predicted, probability,
correct_label, plus article/source/index). A reviewer fills `correct_label`:

- one of the four labels: the row is added to the training file (also when it equals the prediction: a
  confirmed label is training data too), with `source: review`, `topic` from --topic (default unknown), and
  an id `review-<hash of the normalised text>`;
- `skip`: not a sentence; nothing is added;
- empty: not reviewed; nothing is added.

Anything else is an error reported as `file:line`, and nothing is written. Rows whose normalised text (surrounding
punctuation ignored) is already in the training file (or earlier in the queue) are skipped as duplicates;
rows whose text is in a held-out file (gold, dev, select, calibrate, test) are refused, since training on them
would leak into evaluation. The guard fails closed: the default training and held-out files are the project's
(train/paths.py), wherever the command runs; a held-out path that is missing, unreadable or has a line that is
not valid JSON is an error and nothing is written. The training file is rewritten atomically (train/atomic.py).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from araclaim.train import atomic
from araclaim.train.data import raise_problems, read_records
from araclaim.train.errors import DataError
from araclaim.train.labels import LABELS, SKIP
from araclaim.train.paths import project_path
from araclaim.train.text import normalize

DEFAULT_TRAIN = "data/train.jsonl"  # under the project root, like the held-out defaults
DEFAULT_HOLDOUT = ("data/gold", "data/dev.jsonl", "data/articles/select.jsonl", "data/articles/calibrate.jsonl",
                   "data/articles/test.jsonl")
REQUIRED = ("text", "correct_label")


@dataclass(frozen=True)
class Correction:
    """One reviewed row: `label` is one of LABELS or SKIP."""

    text: str
    label: str
    predicted: str
    where: str


@dataclass
class Merge:
    """What merging a queue would do."""

    added: list[dict] = field(default_factory=list)
    duplicates: list[Correction] = field(default_factory=list)
    held_out: list[Correction] = field(default_factory=list)
    not_sentences: int = 0
    unreviewed: int = 0
    corrected: int = 0  # added rows whose label differs from the model's prediction


def read_review(path: str | Path) -> tuple[list[Correction], int]:
    """Validated corrections of a reviewed CSV and the number of rows left unreviewed; DataError lists problems."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file (pass the review CSV written by `araclaim label --review-below`)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(missing)} "
                                f"(found: {', '.join(reader.fieldnames or []) or 'none'})")
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason}); save it as CSV UTF-8") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None
    return _validate(path, rows)


def _validate(path: Path, rows: list[tuple[int, dict]]) -> tuple[list[Correction], int]:
    out, problems, unreviewed = [], [], 0
    allowed = LABELS + (SKIP,)
    for line, row in rows:
        label = (row.get("correct_label") or "").strip().lower()
        text = (row.get("text") or "").strip()
        if not label:
            unreviewed += 1
        elif label not in allowed:
            problems.append(f"{path}:{line}: unknown correct_label {label!r} "
                            f"(use one of {', '.join(allowed)}, or leave it empty to skip the row)")
        elif not text:
            problems.append(f"{path}:{line}: empty text")
        else:
            out.append(Correction(text, label, (row.get("predicted") or "").strip(), f"{path}:{line}"))
    raise_problems(problems)
    return out, unreviewed


def text_key(text: str) -> str:
    """What makes two sentences the same: normalised, without surrounding punctuation and quotes."""
    return normalize(text).strip(" .!?؟…؛،,:;\"'«»()-–—")


def _holdout_files(paths: list[Path]) -> list[Path]:
    """Every JSONL file a held-out path names; a path that protects nothing is an error, never skipped."""
    files = []
    for p in paths:
        if p.is_dir():
            found = sorted(p.rglob("*.jsonl"))
            if not found:
                raise DataError(f"{p}: held-out directory has no .jsonl files; pass --holdout with the files "
                                "whose sentences must not enter training")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise DataError(f"{p}: held-out file not found; run from anywhere with the project's defaults, or pass "
                            "--holdout with existing files (nothing was written)")
    return files


def _texts_in(paths: list[Path]) -> set[str]:
    """Normalised texts of every held-out record under `paths` (files or directories).

    Each file must parse completely (train/data.read_records): a line that cannot be read is a sentence that
    cannot be protected, so it is an error with file:line, as is an unreadable file.
    """
    texts, problems = set(), []
    for f in _holdout_files(paths):
        try:
            examples, found = read_records(f)
        except OSError as exc:
            raise DataError(f"{f}: cannot read held-out file ({exc.strerror or exc})") from exc
        problems += found
        texts.update(text_key(e.text) for e in examples)
    raise_problems(problems)
    return texts


def _training_records(path: Path) -> tuple[set[str], set[str]]:
    """Normalised texts and ids of the training file (empty when it does not exist yet); a bad line is an error."""
    if not path.exists():
        return set(), set()
    examples, problems = read_records(path, allow_skip=False)
    raise_problems(problems)
    return {text_key(e.text) for e in examples}, {str(e.id) for e in examples if e.id is not None}


def plan(corrections: list[Correction], train: Path, topic: str, holdout: list[Path]) -> Merge:
    """Decide which corrections become training rows (no file is written)."""
    merge = Merge()
    held = _texts_in(holdout)
    seen, ids = _training_records(train)
    for c in corrections:
        key = text_key(c.text)
        if c.label == SKIP:
            merge.not_sentences += 1
        elif key in held:
            merge.held_out.append(c)
        elif key in seen:
            merge.duplicates.append(c)
        else:
            seen.add(key)
            rid = _new_id(key, ids)
            ids.add(rid)
            merge.added.append({"id": rid, "text": c.text, "label": c.label, "topic": topic, "source": "review"})
            merge.corrected += c.label != c.predicted
    return merge


def _new_id(key: str, taken: set[str]) -> str:
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
    rid, n = f"review-{digest[:10]}", 1
    while rid in taken:
        n += 1
        rid = f"review-{digest[:10]}-{n}"
    return rid


def append_atomically(path: Path, rows: list[dict]) -> None:
    """Rewrite `path` as its old bytes + the new JSONL rows (train/atomic.py: a kill leaves the old file)."""
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    new = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    atomic.write_bytes(path, old + new)


def add_merge_review_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `araclaim data merge-review`."""
    parser.add_argument("file", help="reviewed CSV (from `araclaim label --review-below P`)")
    parser.add_argument("--train", help=f"training file to append to (default: the project's {DEFAULT_TRAIN})")
    parser.add_argument("--topic", default="unknown", help="topic of the added rows (default unknown)")
    parser.add_argument("--holdout", action="append",
                        help="file or directory whose texts may not enter training (repeatable; default: the "
                             "project's " + ", ".join(DEFAULT_HOLDOUT) + ")")
    parser.add_argument("--dry-run", action="store_true", help="report what would be added; write nothing")


def run_merge_review(args) -> int:
    """`araclaim data merge-review`: validate the queue, then append the reviewed rows to the training file."""
    corrections, unreviewed = read_review(args.file)
    train = Path(args.train) if args.train else project_path(DEFAULT_TRAIN)
    holdout = [Path(p) for p in args.holdout] if args.holdout else [project_path(p) for p in DEFAULT_HOLDOUT]
    merge = plan(corrections, train, args.topic, holdout)
    merge.unreviewed = unreviewed
    if merge.added and not args.dry_run:
        append_atomically(train, merge.added)
    verb = "would add" if args.dry_run else "added"
    print(f"{verb} {len(merge.added)} reviewed sentence(s) ({merge.corrected} corrected, "
          f"{len(merge.added) - merge.corrected} confirmed) to {train} (source: review); skipped "
          f"{len(merge.duplicates)} duplicate(s) of existing texts, {len(merge.held_out)} held-out text(s) "
          f"(gold/dev: would leak), {merge.not_sentences} marked skip, {merge.unreviewed} unreviewed",
          file=sys.stderr)
    for c in merge.held_out:
        print(f"  {c.where}: text is in a held-out file; not added", file=sys.stderr)
    return 0
