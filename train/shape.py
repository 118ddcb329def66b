"""How much a labelled corpus looks like real news: the shape targets of data issue #10, as pure functions.

Real Arabic news sentences are long, chained with و/ف, rarely templated, quote with "…" and “…” more than «»,
and in araclaim's domain (news about contested claims) falsity words mostly appear outside denials. Each
measure below is one of those traits, computed over records (dicts with `text`, `label`, optional `index`,
`alt_label`). `article_targets` lists the bar every article file set must clear; `araclaim data stats` and
`make test` report and enforce them.

Run on draft files: ``python -m araclaim.train.shape data/articles/*.jsonl``.
"""
from __future__ import annotations

import json
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from araclaim.train.labels import LABELS
from araclaim.train.text import normalize

# Core cue words, as the issue defines them, matched on normalised whole tokens (proclitic و/ف/ب/ل allowed).
DENIAL_CORE = re.compile(
    r"^[وف]?(?:نفي|نفت|نفوا|ينفي|تنفي|ينفون|نفيه|نفيها|نفيهم|انكر|انكرت|انكروا|ينكر|تنكر|انكار|كذب|كذبت|يكذب|"
    r"تكذب|تكذيب|فند|فندت|يفند|تفند|تفنيد|دحض|دحضت|يدحض|تدحض)$"
)
OPINION_CORE = ("يجب", "ينبغي", "يبدو", "ربما", "للاسف", "لا بد", "لابد", "من المرجح", "اعتقد", "?", "؟", "!")
FALSITY = ("كاذب", "زائف", "مضلل", "مفبرك", "مغلوط", "شائعة", "شائعات", "تضليل")
_QUOTE_CHARS = "«»“”\""
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


def words(text: str) -> list[str]:
    """Normalised word tokens (letters or digits; punctuation dropped)."""
    return _WORD.findall(normalize(text))


def has_core_denial(text: str) -> bool:
    """True when one of نفى/أنكر/كذّب/فنّد/دحض (any listed form) appears as a word."""
    return any(DENIAL_CORE.match(w) for w in words(text))


def has_core_opinion(text: str) -> bool:
    """True when one of the core opinion cues (يجب، ينبغي، يبدو، ربما، للأسف، لا بد، من المرجح، أعتقد، ؟، !) appears."""
    t = normalize(text)
    return any(cue in t for cue in OPINION_CORE)


def has_falsity(text: str) -> bool:
    """True when a falsity word (كاذب، زائف، مضلل، مفبرك، مغلوط، شائعة، تضليل) appears."""
    t = normalize(text)
    return any(w in t for w in FALSITY)


def first_three(text: str) -> tuple[str, ...] | None:
    """The first three normalised words (None for shorter sentences)."""
    w = words(text)
    return tuple(w[:3]) if len(w) >= 3 else None


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def measure(records: list[dict]) -> dict:
    """Every shape figure of a list of records (skip rows are ignored)."""
    rows = [r for r in records if r.get("label") in LABELS]
    lengths = [len(r["text"].split()) for r in rows]
    later = [r for r in rows if int(r.get("index", 2) or 2) > 1]
    quoted = [r for r in rows if any(c in r["text"] for c in _QUOTE_CHARS)]
    denials = [r for r in rows if r["label"] == "denial"]
    opinions = [r for r in rows if r["label"] == "opinion"]
    falsity = [r for r in rows if has_falsity(r["text"])]
    openers = Counter(t for t in (first_three(r["text"]) for r in rows) if t)
    labels = Counter(r["label"] for r in rows)
    top = openers.most_common(1)
    return {
        "sentences": len(rows),
        "articles": len({r.get("article") for r in rows if r.get("article")}),
        "median_words": statistics.median(lengths) if lengths else 0,
        "share_35_words": _share(sum(n >= 35 for n in lengths), len(rows)),
        "share_wa_fa_openers": _share(sum(r["text"].lstrip("«\"“ ")[:1] in "وف" for r in later), len(later)),
        "max_first_three": top[0][1] if top else 0,
        "top_first_three": " ".join(top[0][0]) if top else "",
        "share_guillemets_in_quotes": _share(sum(("«" in r["text"] or "»" in r["text"]) for r in quoted), len(quoted)),
        "share_denials_without_core": _share(sum(not has_core_denial(r["text"]) for r in denials), len(denials)),
        "share_opinions_without_core": _share(sum(not has_core_opinion(r["text"]) for r in opinions), len(opinions)),
        "share_falsity_not_denial": _share(sum(r["label"] != "denial" for r in falsity), len(falsity)),
        "falsity_sentences": len(falsity),
        "share_alt_label": _share(sum(bool(r.get("alt_label")) for r in rows), len(rows)),
        "min_class_share": min(_share(labels[c], len(rows)) for c in LABELS),
        "label_shares": {c: round(_share(labels[c], len(rows)), 3) for c in LABELS},
    }


@dataclass(frozen=True)
class Target:
    key: str
    bound: float
    at_least: bool  # True: value >= bound; False: value <= bound
    what: str

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value <= self.bound


ARTICLE_TARGETS = (
    Target("sentences", 2500, True, "labelled sentences"),
    Target("articles", 150, True, "whole articles"),
    Target("median_words", 18, True, "median sentence length (words)"),
    Target("share_35_words", 0.10, True, "sentences of 35+ words"),
    Target("share_wa_fa_openers", 0.40, True, "non-first sentences opening with و/ف"),
    Target("max_first_three", 5, False, "uses of the most frequent first-three-word sequence"),
    Target("share_guillemets_in_quotes", 0.50, False, "quoted sentences using «»"),
    Target("share_denials_without_core", 0.35, True, "denials with no core denial word"),
    Target("share_opinions_without_core", 0.40, True, "opinions with no core opinion cue"),
    Target("share_falsity_not_denial", 0.40, True, "falsity-word sentences that are not denials"),
    Target("share_alt_label", 0.10, True, "sentences with an alt_label"),
    Target("min_class_share", 0.08, True, "share of the rarest class"),
)
SENTENCE_CORPUS_MAX_FIRST_THREE = 8  # issue #10: train.jsonl + dev.jsonl, after cleaning templates


def check_targets(figures: dict, targets=ARTICLE_TARGETS) -> list[str]:
    """One line per missed target (empty when every target is met)."""
    out = []
    for t in targets:
        value = figures[t.key]
        if not t.met(value):
            op = ">=" if t.at_least else "<="
            out.append(f"{t.what}: {value:.3g} (target {op} {t.bound:g})")
    return out


def report(figures: dict, targets=ARTICLE_TARGETS) -> str:
    """A table of figures against targets, one line each."""
    lines = []
    for t in targets:
        value = figures[t.key]
        op = ">=" if t.at_least else "<="
        mark = "ok  " if t.met(value) else "MISS"
        shown = f"{value:.1%}" if isinstance(value, float) and t.bound < 1 else f"{value:g}"
        lines.append(f"  {mark} {t.what:<52} {shown:>8}  (target {op} {t.bound:g})")
    lines.append(f"  most frequent opener: '{figures['top_first_three']}'; class shares {figures['label_shares']}")
    return "\n".join(lines)


def read_jsonl(path: str | Path) -> list[dict]:
    """Records of a JSONL file, blank lines skipped (validation is train.data's job)."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    paths = argv if argv is not None else sys.argv[1:]
    if not paths:
        print("usage: python -m araclaim.train.shape FILE.jsonl [FILE.jsonl ...]", file=sys.stderr)
        return 2
    records = [r for p in paths for r in read_jsonl(p)]
    figures = measure(records)
    print(f"{len(paths)} file(s): {figures['sentences']} labelled sentences, {figures['articles']} articles")
    print(report(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
