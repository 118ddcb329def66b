"""`araclaim data check` and `araclaim data stats`: the data's contract, enforced.

Checks: valid JSON and fields (sentence corpus: id, text, label, topic, source; article corpus: id,
article, genre, index, text, label), known labels and genres, non-empty text, duplicate ids, exact and
normalised duplicate texts, and leakage between files (same normalised text, or a shared run of 6 words)
- except between the two training files, which may share phrasing. Within the written sentence corpus a
shared 6-word run is template repetition; a first-three-word opener may be used at most 8 times in the
sentence corpus and 5 times across the article files. Articles and the gold article may repeat their own
phrases (names, institutions). Folders named `agreement` or starting with `_` (drafts) are not data.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from araclaim.train.data import Example, read_records
from araclaim.train.labels import LABELS
from araclaim.train import shape
from araclaim.train.shape import SENTENCE_CORPUS_MAX_FIRST_THREE, first_three
from araclaim.train.text import normalize

NGRAM = 6
WRITTEN_FIELDS = ("id", "text", "label", "topic", "source")
ARTICLE_FIELDS = ("id", "article", "genre", "index", "text", "label")
GENRES = ("fact_check", "rumour_denial", "explainer", "op_ed", "wire", "press_review", "sport", "economy",
          "courts_crime", "science_health_weather")
MAX_OPENER_ARTICLES = 5  # issue #10: a first-three-word sequence used more often is a template
_WORD = re.compile(r"\w+")


def data_files(paths: list[str]) -> list[Path]:
    """JSONL files named directly or found under directories (drafts and agreement folders left out), sorted."""
    out = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*.jsonl")
                          if not any(part == "agreement" or part.startswith("_") for part in f.relative_to(p).parts))
        else:
            out.append(p)
    return out


def is_gold(path: Path) -> bool:
    return "gold" in path.parts


def is_article_file(path: Path) -> bool:
    return "articles" in path.parts


def is_training(path: Path) -> bool:
    """The files models learn from (data/train.jsonl, data/articles/train.jsonl): they may share phrasing."""
    return path.name == "train.jsonl" and not is_gold(path)


def tokens(text: str) -> list[str]:
    """Normalised word tokens (the unit of the 6-word overlap rule)."""
    return _WORD.findall(normalize(text))


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = tokens(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _article_problems(path: Path, examples: list[Example]) -> list[str]:
    problems, last = [], {}
    for ex in examples:
        missing = [f for f in ARTICLE_FIELDS if f not in ("text", "label", "id") and f not in ex.extra]
        if ex.id is None:
            missing.insert(0, "id")
        if missing:
            problems.append(f"{ex.where}: missing field(s) {', '.join(missing)} (article records need "
                            f"{', '.join(ARTICLE_FIELDS)})")
            continue
        if ex.extra["genre"] not in GENRES:
            problems.append(f"{ex.where}: unknown genre {ex.extra['genre']!r} (use one of {', '.join(GENRES)})")
        index, article = ex.extra["index"], ex.extra["article"]
        if not isinstance(index, int) or index != last.get(article, 0) + 1:
            problems.append(f"{ex.where}: index {index!r} of article {article!r} should be "
                            f"{last.get(article, 0) + 1} (records of an article are numbered 1, 2, ... in order)")
        last[article] = index if isinstance(index, int) else last.get(article, 0) + 1
    return problems


def _field_problems(path: Path, examples: list[Example]) -> list[str]:
    if is_gold(path):
        return []
    if is_article_file(path):
        return _article_problems(path, examples)
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
                prev_path = Path(prev.where.rsplit(":", 1)[0])
                same_file = prev_path == path
                if prev is ex or (same_file and (gold or is_article_file(path))):
                    continue
                if not same_file and is_training(path) and is_training(prev_path):
                    continue  # both teach the model: shared phrasing is no leak
                what = "template repetition" if same_file else "leak"
                problems.append(f"{ex.where}: {what}: shares '{' '.join(gram)}' with {prev.where}")
                break
    return problems


def _opener_problems(files: dict[Path, list[Example]]) -> list[str]:
    """First-three-word sequences used too often: across article files (5), across the sentence corpus (8)."""
    problems = []
    for kind, limit, members in (
            ("article files", MAX_OPENER_ARTICLES, [p for p in files if is_article_file(p)]),
            ("sentence corpus", SENTENCE_CORPUS_MAX_FIRST_THREE,
             [p for p in files if not is_article_file(p) and not is_gold(p)])):
        uses: dict[tuple, list[Example]] = defaultdict(list)
        for path in members:
            for ex in files[path]:
                opener = first_three(ex.text)
                if opener:
                    uses[opener].append(ex)
        for opener, rows in uses.items():
            if len(rows) > limit:
                problems.append(f"{rows[limit].where}: template opener '{' '.join(opener)}' used {len(rows)} times "
                                f"in the {kind} (at most {limit}; first at {rows[0].where}); vary the sentence start")
    return problems


def leak_problems(training: list[Example], held_out: list[Example]) -> list[str]:
    """Held-out sentences that training would see: the same normalised text, or a shared run of NGRAM words
    (the leak rule `check_paths` applies between files). One problem per held-out sentence, naming both lines.

    Training's data loading runs this on the files a config names, so a leak stops a run even when nobody
    ran `araclaim data check` first.
    """
    def grams_of(words):
        return {tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}

    texts, grams = {}, {}
    for ex in training:
        words = tokens(ex.text)  # normalising is the costly part: once per sentence
        texts.setdefault(" ".join(words), ex)
        for gram in grams_of(words):
            grams.setdefault(gram, ex)
    problems = []
    for ex in held_out:
        words = tokens(ex.text)
        same = texts.get(" ".join(words))
        if same is not None:
            problems.append(f"{same.where}: leak: the same text as held-out {ex.where}")
            continue
        shared = sorted(gram for gram in grams_of(words) if gram in grams)
        if shared:
            problems.append(f"{grams[shared[0]].where}: leak: shares '{' '.join(shared[0])}' with held-out {ex.where}")
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
    return problems + _duplicate_problems(files) + _overlap_problems(files) + _opener_problems(files)


def _length_bucket(n: int) -> str:
    for hi, name in ((9, "1-9"), (19, "10-19"), (29, "20-29"), (39, "30-39")):
        if n <= hi:
            return name
    return "40+"


def article_shape(paths: list[str]) -> dict | None:
    """Shape figures (train/shape.py) over every article file among `paths`, or None when there is none."""
    records = [dict(e.extra, text=e.text, label=e.label, alt_label=e.alt_label)
               for path in data_files(paths) if is_article_file(path) for e in read_records(path)[0]]
    return shape.measure(records) if records else None


def stats_report(paths: list[str]) -> str:
    """Per-file counts by label, topic or genre, source and length (words), totals, and the article corpus's
    shape against its targets."""
    lines, total = [], Counter()
    for path in data_files(paths):
        examples, _ = read_records(path)
        by = defaultdict(Counter)
        for ex in examples:
            by["label"][ex.label] += 1
            by["genre" if is_article_file(path) else "topic"][ex.extra.get("genre" if is_article_file(path)
                                                                           else "topic", "-")] += 1
            by["source"][ex.extra.get("source", "-")] += 1
            by["words"][_length_bucket(len(ex.text.split()))] += 1
        total.update(by["label"])
        articles = len({ex.extra.get("article") for ex in examples if ex.extra.get("article")})
        lines.append(f"{path}: {len(examples)} sentences" + (f", {articles} articles" if articles else ""))
        for key in ("label", "genre", "topic", "source", "words"):
            if by[key]:
                parts = ", ".join(f"{k} {v} ({v / max(len(examples), 1):.0%})" for k, v in sorted(by[key].items()))
                lines.append(f"  {key:<6} {parts}")
    lines.append(f"total: {sum(total.values())} sentences; " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    figures = article_shape(paths)
    if figures is not None:
        lines += ["", "article corpus shape (issue #10 targets):", shape.report(figures)]
    return "\n".join(lines)
