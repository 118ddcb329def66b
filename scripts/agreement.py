"""Second, independent labelling of a random sample of article sentences, and the agreement it reaches.

    python scripts/agreement.py sample              # write the blind sample (no labels) for a second annotator
    python scripts/agreement.py score               # compare the second labels with the corpus labels

`sample` draws a seeded 10% of the labelled sentences of data/articles/{train,select,calibrate,test}.jsonl and
writes data/articles/agreement/sample.jsonl with each sentence's id, genre, the previous sentences of its
article (the guide labels in context, §10) and its text - never its label. The second annotator writes
data/articles/agreement/second_labels.jsonl: {"id": ..., "label": ..., "alt_label": optional}. `score` prints
observed agreement, Cohen's kappa, the lenient agreement (either side's alt_label accepted), the confusion
between the two annotators and every disagreement.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from araclaim.train import atomic  # noqa: E402
from araclaim.train.labels import LABELS  # noqa: E402

SPLITS = ("train", "select", "calibrate", "test")
DIR = Path("data/articles/agreement")
CONTEXT = 3  # previous sentences shown with each sampled one


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpus() -> list[dict]:
    """Every record of the article splits, in file order, with its previous labelled sentences attached."""
    out, previous = [], {}
    for split in SPLITS:
        for r in read(Path("data/articles") / f"{split}.jsonl"):
            if r["label"] == "skip":
                continue
            before = previous.setdefault(r["article"], [])
            out.append(dict(r, context=before[-CONTEXT:]))
            before.append(r["text"])
    return out


def sample(share: float, seed: int) -> int:
    rows = corpus()
    picked = sorted(random.Random(seed).sample(range(len(rows)), round(share * len(rows))))
    DIR.mkdir(parents=True, exist_ok=True)
    blind = [{"id": rows[i]["id"], "genre": rows[i]["genre"], "context": rows[i]["context"], "text": rows[i]["text"]}
             for i in picked]
    atomic.write_text(DIR / "sample.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in blind))
    print(f"wrote {len(blind)} of {len(rows)} sentences to {DIR / 'sample.jsonl'}", file=sys.stderr)
    return 0


def kappa(first: list[str], second: list[str]) -> float:
    """Cohen's kappa of two label sequences."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    p1, p2 = Counter(first), Counter(second)
    expected = sum(p1[c] * p2[c] for c in LABELS) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def score() -> int:
    gold = {r["id"]: r for r in corpus()}
    second = read(DIR / "second_labels.jsonl")
    missing = [r["id"] for r in second if r["id"] not in gold]
    if missing:
        sys.exit(f"{DIR / 'second_labels.jsonl'}: ids not in the corpus: {missing[:5]}")
    a = [gold[r["id"]]["label"] for r in second]
    b = [r["label"] for r in second]
    lenient = sum(x == y or y == gold[r["id"]].get("alt_label") or x == r.get("alt_label")
                  for x, y, r in zip(a, b, second))
    n = len(second)
    print(f"{n} sentences; agreement {sum(x == y for x, y in zip(a, b)) / n:.3f}; Cohen's kappa {kappa(a, b):.3f}; "
          f"lenient agreement (either alt_label) {lenient / n:.3f}")
    print("confusion (rows: corpus label, columns: second annotator): " + ", ".join(LABELS))
    for la in LABELS:
        print(f"  {la:<17}" + " ".join(f"{sum(x == la and y == lb for x, y in zip(a, b)):>5}" for lb in LABELS))
    for r, x, y in zip(second, a, b):
        if x != y:
            g = gold[r["id"]]
            print(f"  {r['id']}: corpus {x}{'/' + g['alt_label'] if g.get('alt_label') else ''} vs second {y}"
                  f"{'/' + r['alt_label'] if r.get('alt_label') else ''}: {g['text'][:100]}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=("sample", "score"))
    ap.add_argument("--share", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    return sample(args.share, args.seed) if args.step == "sample" else score()


if __name__ == "__main__":
    raise SystemExit(main())
