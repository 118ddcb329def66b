"""`train(cfg)`: from a validated config to one complete MLflow run and a saved model directory.

The steps are the same for every model family: load and check the data, fit, optionally calibrate
on the article-shaped select set, score every split (gold last, never used for a decision), save,
and log the model. Family-specific fitting lives in train/baseline.py and train/transformer.py.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from train import metrics, tracking
from train.config import Config, flatten, to_yaml
from train.errors import AraclaimError
from train.data import LabelledSet, load_labelled
from train.model import Classifier, fit_prior_adjustment
from train.plots import confusion_figure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Splits:
    """The data a run sees. `select` drives model selection; `gold` is only ever scored."""

    train: LabelledSet
    dev: LabelledSet
    select: LabelledSet
    gold: tuple[LabelledSet, ...]


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_dir: Path
    model_uri: str
    scores: dict[str, dict]  # split name -> metrics.scores() bundle (+ CI for gold)


def load_splits(cfg: Config) -> Splits:
    """Load and validate every file the config names (raises DataError with file:line)."""
    train = load_labelled(cfg.data.train, "train", allow_skip=False)
    dev = load_labelled(cfg.data.dev, "dev", allow_skip=False)
    select = dev
    if cfg.data.select and Path(cfg.data.select).exists():
        select = load_labelled(cfg.data.select)
    gold = tuple(load_labelled(p) for p in cfg.data.gold)
    return Splits(train, dev, select, gold)


def fit_backend(cfg: Config, splits: Splits, run_dir: Path, resume: bool):
    """Train the configured family; per-epoch metrics go to the active MLflow run."""
    if cfg.family == "baseline":
        from train import baseline

        return baseline.fit(cfg.baseline, splits.train.texts, splits.train.labels, cfg.seed)
    if cfg.family == "ensemble":
        from train import ensemble

        return ensemble.fit(cfg, splits, run_dir, resume=resume, on_epoch=tracking.log_metrics)
    from train import transformer

    return transformer.fit(cfg, splits, run_dir, resume=resume, on_epoch=tracking.log_metrics)


def preflight(cfg: Config) -> None:
    """Family checks that need no training (transformer: precision, encoder weights reachable)."""
    trains_transformer = cfg.family == "transformer" or (
        cfg.family == "ensemble" and not cfg.ensemble.transformer_model)
    if trains_transformer:
        from train import transformer

        transformer.preflight(cfg)


def score_split(clf: Classifier, data: LabelledSet, with_ci: bool) -> dict:
    """metrics.scores() on one labelled set, plus bootstrap 95% CIs when asked."""
    pred = clf.predict(data.texts)
    alt = [e.alt_label for e in data.examples]
    out = metrics.scores(data.labels, pred, alt)
    out["n_skipped"] = len(data.skipped)
    if with_ci:
        out["macro_f1_ci_low"], out["macro_f1_ci_high"] = metrics.bootstrap_ci(data.labels, pred)
        out["accuracy_ci_low"], out["accuracy_ci_high"] = metrics.bootstrap_ci(data.labels, pred, metrics.accuracy)
    return out


def _log_data(splits: Splits) -> None:
    tracking.log_dataset(splits.train.path, "training", "train")
    tracking.log_dataset(splits.dev.path, "validation", "dev")
    if splits.select is not splits.dev:
        tracking.log_dataset(splits.select.path, "selection", splits.select.name)
    for gold in splits.gold:
        tracking.log_dataset(gold.path, "evaluation", gold.name)


def _score_all(clf: Classifier, splits: Splits) -> dict[str, dict]:
    sets = [splits.dev] + ([splits.select] if splits.select is not splits.dev else []) + list(splits.gold)
    all_scores = {}
    for data in sets:
        scores = score_split(clf, data, with_ci=data is not splits.dev)
        all_scores[data.name] = scores
        tracking.log_metrics(tracking.score_metrics(data.name, scores))
        tracking.log_figure(confusion_figure(scores["confusion"], f"{data.name} (n={scores['n']})"),
                            f"confusion_{data.name}.png")
    return all_scores


def train(cfg: Config, *, resume: bool = False, runs_dir: str | Path = "outputs") -> TrainResult:
    """Train `cfg` end to end and log one MLflow run; returns its id, model directory and scores.

    >>> from train.config import load_config
    >>> result = train(load_config("configs/baseline.yaml"))   # doctest: +SKIP
    >>> result.scores["gold_article"]["macro_f1"]                 # doctest: +SKIP
    """
    splits = load_splits(cfg)  # before the run starts: bad data must not leave an empty run behind
    preflight(cfg)  # likewise a model that cannot be loaded (no weights, no hub)
    previous = find_interrupted(cfg, runs_dir) if resume else None
    if resume and previous is None:
        raise AraclaimError(f"--resume: no interrupted run of config {cfg.name!r} under {runs_dir}/ "
                            "(one has a checkpoint but no finished model); start without --resume")
    started = time.perf_counter()
    with tracking.training_run(cfg, to_yaml(cfg), flatten(cfg), previous) as run_id:
        run_dir = Path(runs_dir) / f"{cfg.name}-{run_id}"
        if previous is None:
            _log_data(splits)
            run_dir.mkdir(parents=True, exist_ok=True)
        clf = Classifier(fit_backend(cfg, splits, run_dir, resume), cfg.family)
        if cfg.calibration.prior_correction:
            clf.adjust = fit_prior_adjustment(clf.predict_proba(splits.select.texts), splits.select.labels)
        tracking.log_metrics({"train_seconds": time.perf_counter() - started})
        scores = _score_all(clf, splits)
        model_dir = clf.save(run_dir / "model")
        tracking.log_metrics({"model_size_mb": _size_mb(model_dir)})
        tracking.log_text(_label_map(clf), "label_map.json")
        uri = tracking.log_model(model_dir, splits.gold[0].texts if splits.gold else splits.dev.texts,
                                 cfg.tracking.register_as, cfg.tracking.alias)
    return TrainResult(run_id, model_dir, uri, scores)


def find_interrupted(cfg: Config, runs_dir: str | Path) -> str | None:
    """Run id of the newest run directory of this config that has checkpoints but no saved model."""
    candidates = [d for d in Path(runs_dir).glob(f"{cfg.name}-*")
                  if d.is_dir() and not (d / "model").exists() and any(d.glob("checkpoint-*"))]
    if not candidates:
        return None
    newest = max(candidates, key=lambda d: d.stat().st_mtime)
    return newest.name[len(cfg.name) + 1:]


def _size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6


def _label_map(clf: Classifier) -> str:
    import json

    return json.dumps({i: label for i, label in enumerate(clf.labels)}, ensure_ascii=False, indent=2)
