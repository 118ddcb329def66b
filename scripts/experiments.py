"""Train every model variant into one MLflow experiment and write the results table (README's).

    .venv/bin/python scripts/experiments.py                 # every variant (~90 min on 2 busy CPU cores)
    .venv/bin/python scripts/experiments.py --quick         # baselines only (~10 min)
    .venv/bin/python scripts/experiments.py --readme        # ...and rewrite README.md's results table
    .venv/bin/python scripts/experiments.py --table-only    # the table from the runs already finished

A variant whose run already finished in the experiment (same config name, same overrides as params) is
reused, not retrained, so an interrupted sweep continues where it stopped.

The ablation is context (none / previous / window) x family (baseline, tiny-bert with cue fusion, their
ensemble), plus the n-gram-only baseline and a larger tiny BERT. Each variant is a config plus --set
overrides, trained with the same code as `araclaim train`; an ensemble reuses the tiny-bert run of its own
context instead of training another. The protocol is the project's: early stopping on `select`, calibration
and ensemble weights on `calibrate`; the winner is chosen on `select` macro-F1 alone, and `test` and gold
are only reported. Reference rows (cue rule, majority class) are scored by the eval harness on the same sets.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from araclaim.eval.evaluate import _majority  # noqa: E402
from araclaim.eval.harness import RuleLabeller, evaluate  # noqa: E402
from araclaim.train import atomic, tracking  # noqa: E402
from araclaim.train.config import load_config  # noqa: E402
from araclaim.train.errors import AraclaimError  # noqa: E402
from araclaim.train.pipeline import load_splits, train  # noqa: E402

CONTEXTS = ("none", "previous", "window")
LARGER = ["transformer.pretrain.hidden_size=256", "transformer.pretrain.num_layers=4",
          "transformer.pretrain.num_heads=4", "transformer.pretrain.intermediate_size=1024",
          "transformer.pretrain.mlm_epochs=10"]
SETS = ("select", "test", "gold_article")
README_MARKS = ("<!-- results:start -->", "<!-- results:end -->")


SPLIT_KEYS = ("macro_f1", "macro_f1_ci_low", "macro_f1_ci_high", "accuracy", "ece", "ece_uncalibrated")


def finished_run(config: str, overrides: list[str], experiment: str) -> dict | None:
    """The newest finished run of `config` whose params equal `overrides`, as {run_id, scores}, or None."""
    import mlflow
    import yaml

    exp = mlflow.get_experiment_by_name(experiment)
    if exp is None:
        return None
    runs = mlflow.search_runs([exp.experiment_id], filter_string=f"tags.mlflow.runName = '{config}' and "
                              "attributes.status = 'FINISHED'", order_by=["attributes.start_time DESC"])
    for _, run in runs.iterrows():
        if all(str(run.get(f"params.{k}")) in (v, str(yaml.safe_load(v))) for k, v in (o.split("=", 1) for o in overrides)):
            scores = {split: _scores(run, split) for split in SETS}
            return {"run_id": run["run_id"], "scores": scores}
    return None


def _scores(run, split: str) -> dict[str, float]:
    """A split's SPLIT_KEYS from a search_runs row (tracking.metric_key names), NaN (not logged) left out."""
    values = {k: run.get(f"metrics.{tracking.metric_key(split, k)}") for k in SPLIT_KEYS}
    return {k: v for k, v in values.items() if v == v and v is not None}


def run_variant(label: str, config: str, overrides: list[str], experiment: str, train_missing: bool = True) -> dict | None:
    """Train one variant (or reuse its finished run); None when it has no run and training is off."""
    cfg = load_config(Path("configs") / f"{config}.yaml", overrides + [f"tracking.experiment={experiment}"])
    done = finished_run(config, overrides, experiment)
    if done is None and not train_missing:
        return None
    if done is None:
        print(f"== training {label} ({config} {' '.join(overrides)})", file=sys.stderr, flush=True)
        result = train(cfg)
        done = {"run_id": result.run_id, "scores": result.scores}
    return {"label": label, "config": config, "context": cfg.context, **done}


def reference_rows() -> list[dict]:
    splits = load_splits(load_config("configs/baseline.yaml"))
    sets = {"select": splits.select, "test": splits.test, "gold_article": splits.gold[0]}
    rows = []
    for labeller, label in ((RuleLabeller(), "cue rule (reference)"), (_majority(), "majority class (reference)")):
        scores = {name: evaluate(labeller, data, label, seed=13).scores for name, data in sets.items()}
        rows.append({"label": label, "config": "-", "context": "-", "run_id": "-", "scores": scores})
    return rows


def _f1(s: dict, ci: bool = True) -> str:
    text = f"{s['macro_f1']:.3f}"
    if ci and "macro_f1_ci_low" in s:
        text += f" [{s['macro_f1_ci_low']:.2f}, {s['macro_f1_ci_high']:.2f}]"
    return text


def markdown(rows: list[dict], winner: dict) -> str:
    lines = ["| variant | context | select macro-F1 | test macro-F1 [95% CI] | gold macro-F1 [95% CI] | "
             "test ECE (raw → calibrated) | train s | run |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        s = r["scores"]
        test = s["test"]
        ece = (f"{test['ece_uncalibrated']:.3f} → {test['ece']:.3f}" if "ece_uncalibrated" in test
               else f"{test['ece']:.3f}")
        secs = f"{r['train_seconds']:.0f}" if "train_seconds" in r else "-"
        name = f"**{r['label']}**" if r is winner else r["label"]
        lines.append(f"| {name} | {r['context']} | {_f1(s['select'], False)} | {_f1(test)} | "
                     f"{_f1(s['gold_article'])} | {ece} | {secs} | {r['run_id'][:8]} |")
    review = winner["scores"]["test"].get("review")
    if review:
        lines += ["", f"`--review-below` on `test` with the winner ({winner['label']}):", "",
                  "| threshold | sentences queued | errors caught |", "|---|---|---|"]
        lines += [f"| {r['threshold']:.1f} | {r['queued']:.1%} | {r['errors_caught']:.1%} of {r['errors']} |"
                  for r in review]
    return "\n".join(lines)


def _review(run_id: str) -> list[dict]:
    """What --review-below would catch on test, for the winning run's model (eval harness)."""
    from araclaim.train.model_store import load_classifier

    clf, _, _ = load_classifier(run_id)
    splits = load_splits(load_config("configs/baseline.yaml"))
    return evaluate(clf, splits.test, "winner", seed=13).scores["review"]


def _train_seconds(run_id: str) -> float:
    import mlflow

    return mlflow.get_run(run_id).data.metrics.get("cost/train_seconds", float("nan"))


def variants(experiment: str, quick: bool, train_missing: bool) -> list[dict]:
    """Every variant's row, in the order they are trained (cheap and most informative first)."""
    def run(label, config, overrides):
        return run_variant(label, config, overrides, experiment, train_missing)

    rows = [run("baseline n-grams only", "baseline-ngrams", ["context=none"])]
    rows += [run("baseline n-grams + cues", "baseline", [f"context={c}"]) for c in CONTEXTS]
    if quick:
        return [r for r in rows if r]
    tiny = {}
    for c in CONTEXTS:  # each tiny-bert, then the ensemble that reuses it
        tiny[c] = run("tiny-bert + cue fusion", "tiny-bert", [f"context={c}"])
        rows.append(tiny[c])
        if tiny[c]:
            rows.append(run("ensemble: baseline + tiny-bert", "ensemble",
                            [f"context={c}", f"ensemble.transformer_model={tiny[c]['run_id']}"]))
    trained = {c: r for c, r in tiny.items() if r}
    if trained:
        best = max(trained, key=lambda c: trained[c]["scores"]["select"]["macro_f1"])
        rows.append(run("tiny-bert 256x4, 10 MLM epochs", "tiny-bert", [f"context={best}", *LARGER]))
    return [r for r in rows if r]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="araclaim-variants")
    ap.add_argument("--quick", action="store_true", help="baselines and references only")
    ap.add_argument("--table-only", action="store_true", help="train nothing; tabulate the finished runs")
    ap.add_argument("--out", type=Path, default=Path("outputs/experiments.md"))
    ap.add_argument("--readme", action="store_true", help="also replace README.md's results table")
    args = ap.parse_args()
    from araclaim.train.tracking import connect

    connect()
    rows = variants(args.experiment, args.quick, not args.table_only)
    for r in rows:
        r["train_seconds"] = _train_seconds(r["run_id"])
    winner = max(rows, key=lambda r: r["scores"]["select"]["macro_f1"])
    try:
        winner["scores"]["test"]["review"] = _review(winner["run_id"])
    except AraclaimError as exc:  # e.g. a run saved in an older model format; the table stands without it
        print(f"no review table: {exc}", file=sys.stderr)
    table = markdown(rows + reference_rows(), winner)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(args.out, table + "\n")
    print(table)
    print(f"\nwinner on select: {winner['label']}, context {winner['context']} (run {winner['run_id']})")
    if args.readme:
        readme = Path("README.md").read_text(encoding="utf-8")
        start, end = README_MARKS
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        if not pattern.search(readme):
            sys.exit(f"README.md has no {start} ... {end} block to replace")
        atomic.write_text("README.md", pattern.sub(lambda _: f"{start}\n{table}\n{end}", readme))


if __name__ == "__main__":
    main()
