"""Does data v2 help? The baseline (n-grams + cues) trained on the old data vs the new, scored on `test`.

    .venv/bin/python scripts/data_growth.py            # ~2 minutes on 2 cores

"Old data": the written sentence corpus (data/train.jsonl) and the 32 articles that were dev_articles (now
the `da-*` articles of data/articles/train.jsonl). "New data": all of data/articles/train.jsonl added.
Each is fitted without context and (new data only) with the previous sentence as context. Scores: macro-F1
on `test` overall and per genre, and on the gold article. Nothing here selects anything: test is reported.
"""
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from araclaim.train import baseline, metrics  # noqa: E402
from araclaim.train.config import BaselineConfig  # noqa: E402
from araclaim.train.data import LabelledSet, load_labelled, load_many  # noqa: E402
from araclaim.train.model import Classifier  # noqa: E402


def subset(data: LabelledSet, keep) -> LabelledSet:
    return LabelledSet(data.name, data.path, tuple(e for e in data.examples if keep(e)), (), data.digest)


def per_genre(clf: Classifier, test: LabelledSet) -> dict[str, float]:
    pred = clf.predict(test.texts, test.contexts(clf.context_size))
    by = defaultdict(lambda: ([], []))
    for e, p in zip(test.examples, pred):
        by[e.extra["genre"]][0].append(e.label)
        by[e.extra["genre"]][1].append(p)
    out = {g: metrics.macro_f1(*by[g]) for g in sorted(by)}
    out["ALL"] = metrics.macro_f1(test.labels, pred)
    return out


def main() -> None:
    test = load_labelled(ROOT / "data/articles/test.jsonl", "test")
    gold = load_labelled(ROOT / "data/gold/article.jsonl")
    new = load_many([ROOT / "data/train.jsonl", ROOT / "data/articles/train.jsonl"], "train")
    old = subset(new, lambda e: e.extra.get("article") is None or str(e.extra["article"]).startswith("da-"))
    rows = []
    for name, data, k in (("old data", old, 0), ("new data", new, 0), ("new data + context", new, 1)):
        clf = Classifier(baseline.fit(BaselineConfig(), data.texts, data.labels, 13, data.groups, k), "baseline",
                         context_size=k)
        scores = per_genre(clf, test)
        scores["gold"] = metrics.macro_f1(gold.labels, clf.predict(gold.texts, gold.contexts(k)))
        rows.append((f"{name} ({len(data.texts)})", scores))
        print(f"trained {name}", file=sys.stderr)
    keys = list(rows[0][1])
    print("| test genre | " + " | ".join(r[0] for r in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for key in keys:
        print(f"| {key} | " + " | ".join(f"{r[1][key]:.3f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
