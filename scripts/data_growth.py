"""Gold-article score of the baseline trained on the skeleton's first small file vs the full corpus.

    .venv/bin/python scripts/data_growth.py

The "first small file" is the 40-sentence set the tests use (tests/conftest.py: TINY). Each is fitted
with and without cue features; gold is only scored.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import TINY  # noqa: E402
from train import baseline, metrics  # noqa: E402
from train.config import BaselineConfig  # noqa: E402
from train.data import load_labelled  # noqa: E402
from train.labels import LABELS  # noqa: E402


def gold_scores(texts, labels, cue_features: bool, min_df: int, gold) -> tuple[float, float]:
    model = baseline.fit(BaselineConfig(cue_features=cue_features, min_df=min_df), texts, labels, seed=13)
    pred = [LABELS[i] for i in model.predict_proba(gold.texts).argmax(axis=1)]
    return metrics.macro_f1(gold.labels, pred), metrics.accuracy(gold.labels, pred)


def main() -> None:
    gold = load_labelled(ROOT / "data/gold/article.jsonl")
    corpus = load_labelled(ROOT / "data/train.jsonl", allow_skip=False)
    small = ([s for label in TINY for s in TINY[label]], [label for label in TINY for _ in TINY[label]])
    print("training data            cues   gold macro-F1  accuracy")
    for cues in (False, True):
        for name, (texts, labels), min_df in (("first file (40)", small, 1),
                                              (f"corpus ({len(corpus.texts)})", (corpus.texts, corpus.labels), 2)):
            f1, acc = gold_scores(texts, labels, cues, min_df, gold)
            print(f"{name:<24} {str(cues):<6} {f1:.3f}          {acc:.3f}")


if __name__ == "__main__":
    main()
