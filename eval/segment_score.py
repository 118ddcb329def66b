"""Scoring the segmenter against the hand segmentation of the gold article (`araclaim eval --segmentation`)."""
from __future__ import annotations

import json
from pathlib import Path

from araclaim.eval.segment import lines, segment, trim_span
from araclaim.train.errors import DataError


def gold_spans(gold_path: str | Path, article_path: str | Path) -> list[tuple[int, int, str, str]]:
    """(start, end, label, text) of every gold record, located in the article (records in line order)."""
    for path, what in ((gold_path, "gold file"), (article_path, "article text the gold file segments")):
        if not Path(path).is_file():
            raise DataError(f"{path}: no such file (the {what}; the article of data/gold/X.jsonl is data/X.txt)")
    text = Path(article_path).read_text(encoding="utf-8-sig")
    bounds = lines(text)
    cursor: dict[int, int] = {}
    out = []
    for lineno, raw in enumerate(Path(gold_path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not raw.strip():
            continue
        line_no, snippet, label = _gold_record(raw, f"{gold_path}:{lineno}")
        if not 1 <= line_no <= len(bounds):
            raise DataError(f"{gold_path}:{lineno}: line {line_no} is not in {article_path}")
        lo, hi = bounds[line_no - 1]
        at = text.find(snippet, cursor.get(line_no, lo), hi)
        if at < 0:
            raise DataError(f"{gold_path}:{lineno}: text is not a substring of line {line_no} of {article_path}")
        cursor[line_no] = at + len(snippet)
        out.append((at, at + len(snippet), label, snippet))
    return out


def _gold_record(raw: str, where: str) -> tuple[int, str, str]:
    try:
        rec = json.loads(raw)
        return int(rec["line"]), str(rec["text"]), str(rec["label"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise DataError(f"{where}: not a gold record with line, text and label") from None


def default_article(gold_path: str | Path) -> Path:
    """data/gold/article.jsonl -> data/article.txt (the text the gold file segments)."""
    gold_path = Path(gold_path)
    return gold_path.parent.parent / f"{gold_path.stem}.txt"


def _prf(pred: set[int], gold: set[int]) -> dict:
    hit = len(pred & gold)
    p = hit / len(pred) if pred else 0.0
    r = hit / len(gold) if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "pred": len(pred), "gold": len(gold), "matched": hit}


def segmentation_scores(gold_path: str | Path, article_path: str | Path | None = None) -> dict:
    """Boundary precision/recall/F1 (all sentence ends, and those inside lines) and skip-detection agreement."""
    article_path = Path(article_path or default_article(gold_path))
    gold = gold_spans(gold_path, article_path)
    text = Path(article_path).read_text(encoding="utf-8-sig")
    spans = segment(text)
    line_ends = {hi for _, hi in lines(text)} | {trim_span(text, lo, hi)[1] for lo, hi in lines(text)}
    pred_ends, gold_ends = {s.end for s in spans}, {g[1] for g in gold}
    flagged = {(s.start, s.end): s.skip for s in spans if s.skip}
    gold_skip = {(g[0], g[1]) for g in gold if g[2] == "skip"}
    labelled = {(g[0], g[1]): g for g in gold}
    return {
        "all": _prf(pred_ends, gold_ends),
        "inside_lines": _prf(pred_ends - line_ends, gold_ends - line_ends),
        "skip": _prf(set(flagged), gold_skip) | {"flagged": flagged},
        "missed": sorted(gold_ends - pred_ends), "spurious": sorted(pred_ends - gold_ends),
        "skip_wrong": [(labelled.get(k), r) for k, r in sorted(flagged.items()) if k not in gold_skip],
        "skip_missed": [labelled[k] for k in sorted(gold_skip - set(flagged))],
        "text": text, "article": str(article_path), "n_gold": len(gold), "n_lines": len(lines(text)),
    }


def segmentation_report(gold_path: str | Path, article_path: str | Path | None = None) -> str:
    """Human-readable boundary precision/recall/F1 of the segmenter on the gold article, with its misses."""
    s = segmentation_scores(gold_path, article_path)
    text = s["text"]

    def row(name, d):
        return (f"  {name:<22} precision {d['precision']:.3f}  recall {d['recall']:.3f}  F1 {d['f1']:.3f}"
                f"  (predicted {d['pred']}, gold {d['gold']}, matched {d['matched']})")

    out = [f"Segmentation of {s['article']} against {gold_path} ({s['n_gold']} hand-segmented spans, "
           f"{s['n_lines']} lines)",
           row("sentence ends:", s["all"]),
           row("ends inside lines:", s["inside_lines"]),
           row("skip detection:", s["skip"])]
    out += [f"  missed end:    …{text[max(0, e - 30):e]}|{text[e:e + 20]}…" for e in s["missed"]]
    out += [f"  spurious end:  …{text[max(0, e - 30):e]}|{text[e:e + 20]}…" for e in s["spurious"]]
    out += [f"  flagged {r} but gold says {g[2] if g else 'no such span'}: {g[3] if g else ''}"
            for g, r in s["skip_wrong"]]
    out += [f"  gold skip not flagged: {g[3]}" for g in s["skip_missed"]]
    return "\n".join(out)
