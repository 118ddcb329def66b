"""`araclaim data check` and `araclaim data stats`: the data's contract, enforced.

Checks: valid JSON and fields (train/dev: id, text, label, topic, source), known labels, non-empty
text, duplicate ids, exact and normalised duplicate texts, and leakage between files (same
normalised text, or a shared run of 6 words). Within written training data a shared 6-word run is
template repetition and is reported too. The gold article may repeat its own lines (the article does).
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from train.data import Example, read_records
from train.labels import LABELS
from train.text import normalize

NGRAM = 6
WRITTEN_FIELDS = ("id", "text", "label", "topic", "source")
_WORD = re.compile(r"\w+")


def data_files(paths: list[str]) -> list[Path]:
    """JSONL files named directly or found under directories, sorted."""
    out = []
    for raw in paths:
        p = Path(raw)
        out += sorted(p.rglob("*.jsonl")) if p.is_dir() else [p]
    return out


def is_gold(path: Path) -> bool:
    return "gold" in path.parts


def tokens(text: str) -> list[str]:
    """Normalised word tokens (the unit of the 6-word overlap rule)."""
    return _WORD.findall(normalize(text))


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = tokens(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _field_problems(path: Path, examples: list[Example]) -> list[str]:
    if is_gold(path) or path.name == "dev_articles.jsonl":
        return []
    problems = []
    for ex in examples:
        missing = [f for f in WRITTEN_FIELDS if f not in ("text", "label") and
                   getattr(ex, f, None) is None and f not in ex.extra]
        if missing:
            problems.append(f"{ex.where}: missing field(s) {', '.join(missing)} (training data needs "
                            f"{', '.join(WRITTEN_FIELDS)})")
    return problems


def _duplicate_problems(files: dict[Path, list[Example]]) -> list[str]:
    problems, first_seen = [], {}
    for path, examples in files.items():
        for ex in examples:
            key = " ".join(tokens(ex.text))
            prev = first_seen.get(key)
            if prev is None:
                first_seen[key] = ex
            elif not (is_gold(path) and prev.where.rsplit(":", 1)[0] == str(path)):
                kind = "duplicate" if prev.text == ex.text else "normalised duplicate"
                scope = "leak" if prev.where.rsplit(":", 1)[0] != str(path) else kind
                problems.append(f"{ex.where}: {scope} of {prev.where} ({kind} text)")
    return problems


def _overlap_problems(files: dict[Path, list[Example]]) -> list[str]:
    problems, owner = [], {}
    for path, examples in files.items():
        gold = is_gold(path)
        for ex in examples:
            for gram in ngrams(ex.text):
                prev = owner.get(gram)
                if prev is None:
                    owner[gram] = ex
                    continue
                same_file = prev.where.rsplit(":", 1)[0] == str(path)
                if prev is ex or (same_file and gold):
                    continue
                what = "template repetition" if same_file else "leak"
                problems.append(f"{ex.where}: {what}: shares '{' '.join(gram)}' with {prev.where}")
                break
    return problems


def check_paths(paths: list[str]) -> list[str]:
    """Every problem in the named files/directories, as `file:line: message` strings."""
    files, problems = {}, []
    for path in data_files(paths):
        examples, found = read_records(path)
        problems += found
        problems += _field_problems(path, examples)
        # skip rows are not sentences; they take no part in duplicate/leak checks
        files[path] = [e for e in examples if e.label in LABELS]
    return problems + _duplicate_problems(files) + _overlap_problems(files)


def _length_bucket(n: int) -> str:
    for hi, name in ((9, "1-9"), (19, "10-19"), (29, "20-29"), (39, "30-39")):
        if n <= hi:
            return name
    return "40+"


def stats_report(paths: list[str]) -> str:
    """Per-file counts by label, topic, source and length (words), plus totals."""
    lines, total = [], Counter()
    for path in data_files(paths):
        examples, _ = read_records(path)
        by = defaultdict(Counter)
        for ex in examples:
            by["label"][ex.label] += 1
            by["topic"][ex.extra.get("topic", "-")] += 1
            by["source"][ex.extra.get("source", "-")] += 1
            by["words"][_length_bucket(len(ex.text.split()))] += 1
        total.update(by["label"])
        lines.append(f"{path}: {len(examples)} sentences")
        for key in ("label", "topic", "source", "words"):
            parts = ", ".join(f"{k} {v} ({v / max(len(examples), 1):.0%})" for k, v in sorted(by[key].items()))
            lines.append(f"  {key:<6} {parts}")
    lines.append(f"total: {sum(total.values())} sentences; " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    return "\n".join(lines)
