"""Writing `araclaim label`'s outputs atomically, with resume: the sentence file (JSONL or CSV), the per-article
summary and the review queue.

Every file is written to `<name>.partial` and renamed into place only when the run completes, so no half-written
file ever carries the final name; `--resume` reads back what a stopped run (or a finished output) holds.
"""
from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from araclaim.train import atomic
from araclaim.train.errors import AraclaimError
from araclaim.train.labels import LABELS

if TYPE_CHECKING:  # label.py imports this module
    from araclaim.eval.label import Labelled


PROB_DIGITS = 4


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
