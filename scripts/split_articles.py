"""Cut the article corpus into train / select / calibrate / test by whole articles (seeded, per genre).

    python scripts/split_articles.py data/articles/_drafts/*.jsonl [--legacy data/dev_articles.jsonl]

Every input record needs `article`, `genre`, `index`, `text`, `label` (optional `alt_label`, `note`). Each
genre's articles are shuffled with the seed and dealt out about 60/15/10/15, with at least one article of
every genre in every split, so a model can neither see a test article's other sentences in training nor
meet a genre for the first time at test. Records get `id` = `<article>-<index>` and a fixed field order.
`--legacy` files (the retired `dev_articles.jsonl`, whose rows carry `topic` instead of `genre`) go to
train whole. Rerunning on the split files themselves reproduces the same split.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from araclaim.train import atomic  # noqa: E402
from araclaim.train.datacheck import GENRES  # noqa: E402

SPLITS = (("train", 0.60), ("select", 0.15), ("calibrate", 0.10), ("test", 0.15))
FIELDS = ("id", "article", "genre", "index", "text", "label", "alt_label", "note")
LEGACY_GENRE = {"economy": "economy", "energy": "economy", "sport": "sport", "environment": "science_health_weather",
                "health": "science_health_weather", "weather": "science_health_weather",
                "science": "science_health_weather", "technology": "science_health_weather",
                "security": "courts_crime", "courts": "courts_crime"}  # everything else: wire


def deal(articles: list[str], seed: int) -> dict[str, str]:
    """article id -> split, for the articles of one genre (every split gets at least one when n >= 4)."""
    order = sorted(articles)
    random.Random(seed).shuffle(order)
    n = len(order)
    counts = [max(1, round(share * n)) for _, share in SPLITS[1:]]
    counts = [n - sum(counts)] + counts
    out, start = {}, 0
    for (name, _), count in zip(SPLITS, counts):
        for a in order[start:start + count]:
            out[a] = name
        start += count
    return out


def tidy(rec: dict) -> dict:
    rec = dict(rec, id=f"{rec['article']}-{int(rec['index']):02d}")
    return {k: rec[k] for k in FIELDS if rec.get(k) not in (None, "")}


def legacy_records(path: Path) -> list[dict]:
    """dev_articles rows as article records: `line` -> `index`, `topic` -> `genre`, the article id prefixed."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.append({"article": f"da-{r['article']}", "genre": LEGACY_GENRE.get(r.get("topic"), "wire"),
                        "index": r["line"], "text": r["text"], "label": r["label"], "alt_label": r.get("alt_label"),
                        "note": r.get("note")})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", type=Path, help="article JSONL files (drafts or the split files)")
    ap.add_argument("--legacy", type=Path, action="append", default=[], help="older article files: all to train")
    ap.add_argument("--out", type=Path, default=Path("data/articles"))
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    records = [json.loads(line) for p in args.inputs for line in p.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    by_genre = defaultdict(set)
    for r in records:
        if r["genre"] not in GENRES:
            sys.exit(f"{r['article']}: unknown genre {r['genre']!r} (one of {', '.join(GENRES)})")
        by_genre[r["genre"]].add(r["article"])
    split_of = {}
    for genre in sorted(by_genre):
        split_of.update(deal(sorted(by_genre[genre]), args.seed))
    legacy = [r for p in args.legacy for r in legacy_records(p)]
    split_of.update({r["article"]: "train" for r in legacy})
    rows = defaultdict(list)
    for r in records + legacy:
        rows[split_of[r["article"]]].append(tidy(r))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, _ in SPLITS:
        ordered = sorted(rows[name], key=lambda r: (r["article"], r["index"]))
        atomic.write_text(args.out / f"{name}.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered))
        arts = {r["article"] for r in ordered}
        print(f"{name}: {len(arts)} articles, {len(ordered)} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
