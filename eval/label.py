"""`araclaim label`: split articles into sentences and label each one, streaming to JSONL."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from eval.segment import split_sentences
from train.errors import AraclaimError


@dataclass(frozen=True)
class Article:
    id: str
    source: str
    text: str


def read_inputs(paths: list[str]) -> Iterator[Article]:
    """Articles from .txt files and directories of them (recursive), in a stable order."""
    for raw in paths:
        path = Path(raw)
        files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
        for f in files:
            if not f.is_file():
                raise AraclaimError(f"{f}: no such file (pass .txt files or directories of them)")
            yield Article(id=f.stem, source=str(f), text=f.read_text(encoding="utf-8-sig"))


def label_articles(classifier, articles: Iterable[Article], model_uri: str, batch_size: int = 64) -> Iterator[dict]:
    """One record per sentence: article id, source, index, offsets, text, label, probabilities."""
    for art in articles:
        spans = split_sentences(art.text)
        for lo in range(0, len(spans), batch_size):
            chunk = spans[lo:lo + batch_size]
            probs = classifier.predict_proba([s.text for s in chunk])
            for k, (span, row) in enumerate(zip(chunk, probs)):
                yield {"article": art.id, "source": art.source, "index": lo + k, "start": span.start,
                       "end": span.end, "text": span.text, "label": classifier.labels[int(row.argmax())],
                       "probs": {lab: round(float(p), 4) for lab, p in zip(classifier.labels, row)},
                       "model": model_uri}


def write_jsonl(records: Iterable[dict], out: Path) -> int:
    """Write records atomically: a temp file renamed into place only when complete."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(out)
    return n
