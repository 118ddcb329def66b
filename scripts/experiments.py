"""Train every model variant into one MLflow experiment and print the comparison table (README's).

    .venv/bin/python scripts/experiments.py                 # all variants (~30 min on 2 CPU cores)
    .venv/bin/python scripts/experiments.py --quick         # baselines only (~2 min)

Each variant is a config plus --set overrides, trained with the same code as `araclaim train`. The
ensemble reuses the better tiny-bert run (by dev_articles macro-F1) instead of training another.
Selection reads dev_articles only; gold is reported, never used. Rows for the cue-rule and majority
labellers are scored on the same sets by the eval harness.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.evaluate import MAJORITY_SOURCE  # noqa: E402
from eval.harness import MajorityLabeller, RuleLabeller, evaluate, majority_label  # noqa: E402
from train.config import load_config  # noqa: E402
from train.data import load_labelled  # noqa: E402
from train.pipeline import load_splits, train  # noqa: E402

BASELINES = [
    ("baseline n-grams", "baseline-ngrams", []),
    ("baseline n-grams + cues", "baseline", []),
    ("baseline n-grams + cues, prior-corrected", "baseline", ["calibration.prior_correction=true"]),
]
TRANSFORMERS = [
    ("tiny-bert", "tiny-bert", ["transformer.cue_fusion=false"]),
    ("tiny-bert + cue fusion", "tiny-bert", ["transformer.cue_fusion=true"]),
    ("tiny-bert + cue fusion, prior-corrected", "tiny-bert",
     ["transformer.cue_fusion=true", "calibration.prior_correction=true"]),
]
SETS = ("dev", "dev_articles", "gold_article")


def cell(scores: dict, ci: bool) -> str:
    text = f"{scores['macro_f1']:.3f}"
    if ci and "macro_f1_ci_low" in scores:
        text += f" [{scores['macro_f1_ci_low']:.2f}, {scores['macro_f1_ci_high']:.2f}]"
    return f"{text} / {scores['accuracy']:.3f}"


def run_variant(label: str, config: str, overrides: list[str], experiment: str) -> dict:
    cfg = load_config(Path("configs") / f"{config}.yaml", overrides + [f"tracking.experiment={experiment}"])
    print(f"== training {label} ({config} {' '.join(overrides)})", file=sys.stderr, flush=True)
    result = train(cfg)
    return {"label": label, "run_id": result.run_id, "scores": result.scores}


def reference_rows() -> list[dict]:
    splits = load_splits(load_config("configs/baseline.yaml"))
    sets = {"dev": splits.dev, "dev_articles": splits.select, "gold_article": splits.gold[0]}
    majority = MajorityLabeller(majority_label(load_labelled(MAJORITY_SOURCE)))
    rows = []
    for labeller, label in ((RuleLabeller(), "cue rule (reference)"), (majority, f"{majority.name} (reference)")):
        rows.append({"label": label, "run_id": "-",
                     "scores": {name: evaluate(labeller, data, label).scores for name, data in sets.items()}})
    return rows


def markdown(rows: list[dict]) -> str:
    head = "| variant | dev macro-F1 / acc | dev_articles macro-F1 [95% CI] / acc | gold article macro-F1 [95% CI] / acc | run |"
    lines = [head, "|---|---|---|---|---|"]
    for r in rows:
        s = r["scores"]
        lines.append(f"| {r['label']} | {cell(s['dev'], False)} | {cell(s['dev_articles'], True)} | "
                     f"{cell(s['gold_article'], True)} | {r['run_id'][:8]} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="araclaim-variants")
    ap.add_argument("--quick", action="store_true", help="baselines and references only")
    ap.add_argument("--out", type=Path, default=Path("outputs/experiments.md"))
    args = ap.parse_args()
    rows = [run_variant(*v, args.experiment) for v in BASELINES]
    if not args.quick:
        tiny = [run_variant(*v, args.experiment) for v in TRANSFORMERS[:2]]
        rows += tiny
        rows.append(run_variant(*TRANSFORMERS[2], args.experiment))
        best = max(tiny, key=lambda r: r["scores"]["dev_articles"]["macro_f1"])
        for prior in ("false", "true"):
            label = f"ensemble: baseline + {best['label']}" + (", prior-corrected" if prior == "true" else "")
            rows.append(run_variant(label, "ensemble", [f"ensemble.transformer_model={best['run_id']}",
                                                        f"calibration.prior_correction={prior}"], args.experiment))
    rows += reference_rows()
    table = markdown(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n", encoding="utf-8")
    print(table)
    winner = max(rows[:-2], key=lambda r: r["scores"]["dev_articles"]["macro_f1"])
    print(f"\nwinner on dev_articles: {winner['label']} (run {winner['run_id']})")


if __name__ == "__main__":
    main()
