"""`araclaim eval`: score one model on one or more gold files, next to the reference labellers.

Reports go to the terminal (or JSON), to a Markdown/JSON/PNG report directory, and, when the model came
from MLflow, into that run as `<gold name>/<metric>` (tracking.score_metrics), so the UI and `araclaim compare`
sort by them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from araclaim.eval import report
from araclaim.eval.harness import (
    Evaluation,
    MajorityLabeller,
    RuleLabeller,
    evaluate,
    majority_label,
)
from araclaim.train import atomic, tracking
from araclaim.train.data import LabelledSet, dataset_name, load_labelled
from araclaim.train.errors import DataError
from araclaim.train.paths import project_path

DEFAULT_GOLD = str(project_path("data/gold/article.jsonl"))  # the project's, from any working directory
# Real-news class mix: the majority floor uses the most common class of the training articles (never of the
# file being scored, which would let the floor peek at the answers).
MAJORITY_SOURCE = project_path("data/articles/train.jsonl")


@dataclass(frozen=True)
class GoldResult:
    name: str
    model: Evaluation
    references: list[Evaluation]


def load_gold_files(paths: list[str]) -> list[LabelledSet]:
    """Load every gold file first, so a bad file fails before the model is loaded."""
    sets = [load_labelled(p, dataset_name(p)) for p in paths]
    names = [s.name for s in sets]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        # Two files with one name would overwrite each other's metrics; give them distinct names.
        sets = [load_labelled(s.path, f"{s.name}_{i}") if s.name in dupes else s for i, s in enumerate(sets)]
    return sets


def _majority(source: Path = MAJORITY_SOURCE) -> MajorityLabeller:
    """The majority-class reference: the most common class of the training articles (never the gold labels)."""
    if not source.is_file():
        raise DataError(f"{source}: no such file; the majority-class reference takes its class from the training "
                        "articles (restore the file, e.g. `git checkout -- data/articles/train.jsonl`)")
    return MajorityLabeller(majority_label(load_labelled(source)))


def score(classifier, model_name: str, golds: list[LabelledSet], seed: int = 0) -> list[GoldResult]:
    """Evaluate the model and both reference labellers on each gold set."""
    results = []
    majority = _majority()
    for gold in golds:
        refs = [evaluate(RuleLabeller(), gold, "cue_rule", seed=seed)]
        refs.append(evaluate(majority, gold, majority.name, seed=seed))
        results.append(GoldResult(gold.name, evaluate(classifier, gold, model_name, seed=seed), refs))
    return results


def write_errors(path: Path, results: list[GoldResult]) -> int:
    """Misclassified sentences in the training-data format (gold label kept), for correction and reuse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for res in results:
        for e in res.model.errors():
            rows.append({"id": f"{res.name}-{e['id']}", "text": e["text"], "label": e["gold"],
                         "topic": "unknown", "source": f"eval-error:{res.name}",
                         "predicted": e["predicted"], "confidence": e["confidence"]})
    atomic.write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return len(rows)


def publish(results: list[GoldResult], model_name: str, out_dir: Path, run_id: str | None) -> list[Path]:
    """Write report files; when the model has an MLflow run, add metrics and reports to it."""
    files, metrics = [], {}
    for res in results:
        files += report.write_report(out_dir, res.name, model_name, res.model, res.references)
        metrics.update(tracking.score_metrics(res.name, res.model.scores))
    if run_id:
        tracking.log_to_existing_run(run_id, metrics, files)
    return files


def as_json(results: list[GoldResult]) -> dict:
    """One JSON object: the only gold set's report, or {name: report} for several."""
    reports = {r.name: report.as_json(r.model, r.references) for r in results}
    return next(iter(reports.values())) if len(reports) == 1 else reports
