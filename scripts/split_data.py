"""Split written sentence files into data/train.jsonl and data/dev.jsonl (stratified, seeded).

Used once to assemble the corpus from the writers' files; rerun it when a new batch of written
sentences arrives:  python scripts/split_data.py NEW1.jsonl NEW2.jsonl --dev-share 0.15
Rows are stratified by (label, topic) so dev mirrors train; ids are kept.
"""
import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from araclaim.train import atomic  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", type=Path)
    ap.add_argument("--dev-share", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=Path("data"))
    args = ap.parse_args()
    groups = defaultdict(list)
    for path in args.inputs:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                groups[(row["label"], row["topic"])].append(row)
    rng = random.Random(args.seed)
    train, dev = [], []
    for key in sorted(groups):
        rows = groups[key]
        rng.shuffle(rows)
        cut = round(len(rows) * args.dev_share)
        dev += rows[:cut]
        train += rows[cut:]
    for name, rows in (("train", train), ("dev", dev)):
        rows.sort(key=lambda r: r["id"])
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        atomic.write_text(args.out / f"{name}.jsonl", text)
        print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
