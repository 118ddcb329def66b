"""`train(cfg)`: from a validated config to one complete MLflow run and a saved model directory.

The steps are the same for every model family: load and check the data, fit (early stopping on
`select`), calibrate on `calibrate`, score every split with its article context (test and gold are never
used for a decision), save, and log the model. Family-specific fitting lives in train/baseline.py and train/transformer.py.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from train import calibration, context, metrics, tracking
from train.config import Config, flatten, to_yaml
from train.data import LabelledSet, load_labelled, load_many
from train.errors import AraclaimError, ConfigError
from train.model import Classifier, fit_prior_adjustment
from train.plots import confusion_figure, reliability_figure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Splits:
    """The data a run sees: fit on `train`, choose on `select`, calibrate on `calibrate`; `dev`, `test` and
    `gold` are only ever scored."""

    train: LabelledSet
    dev: LabelledSet | None
    select: LabelledSet
    calibrate: LabelledSet
    test: LabelledSet
    gold: tuple[LabelledSet, ...]

    def reported(self) -> list[LabelledSet]:
        """Every scored split, in display order (decision splits first, then the reported ones)."""
        return [s for s in (self.dev, self.select, self.calibrate, self.test, *self.gold) if s is not None]


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_dir: Path
    model_uri: str
    scores: dict[str, dict]  # split name -> metrics.scores() bundle (+ CI, ece)


def _path(key: str, value: str) -> str:
    """A configured data path that must exist: a missing one is a config error, never a silent fallback."""
    if not Path(value).is_file():
        raise ConfigError(f"data.{key} = {value!r}: no such file. Fix the path in the config or pass "
                          f"--set data.{key}=<path to a .jsonl file> (the split files live in data/articles/)")
    return value


def load_splits(cfg: Config) -> Splits:
    """Load and validate every file the config names (raises ConfigError for a missing path, DataError with
    file:line for a bad record)."""
    d = cfg.data
    train = load_many([_path("train", p) for p in d.train], "train")
    dev = load_labelled(_path("dev", d.dev), "dev") if d.dev else None
    select = load_labelled(_path("select", d.select), "select")
    calibrate = load_labelled(_path("calibrate", d.calibrate), "calibrate")
    test = load_labelled(_path("test", d.test), "test")
    gold = tuple(load_labelled(_path("gold", p)) for p in d.gold)
    return Splits(train, dev, select, calibrate, test, gold)


def fit_backend(cfg: Config, splits: Splits, run_dir: Path, resume: bool):
    """Train the configured family; per-epoch metrics go to the active MLflow run."""
    k = context.window_size(cfg.context, cfg.context_size)
    if cfg.family == "baseline":
        from train import baseline

        return baseline.fit(cfg.baseline, splits.train.texts, splits.train.labels, cfg.seed, splits.train.groups, k)
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


def score_split(clf: Classifier, data: LabelledSet, with_ci: bool, seed: int = 0) -> dict:
    """metrics.scores() on one labelled set (read with its article context), plus ECE before and after
    calibration, and stratified bootstrap 95% CIs when asked."""
    contexts = data.contexts(clf.context_size)
    raw = clf.predict_proba(data.texts, contexts, calibrated=False)
    probs = clf.calibrator.apply(raw)
    pred = [clf.labels[i] for i in probs.argmax(axis=1)]
    out = metrics.scores(data.labels, pred, [e.alt_label for e in data.examples])
    out["n_skipped"] = len(data.skipped)
    out["ece"] = metrics.ece(*calibration.confidence_and_correct(probs, data.labels, clf.labels))
    out["ece_uncalibrated"] = metrics.ece(*calibration.confidence_and_correct(raw, data.labels, clf.labels))
    out["_probs"] = probs  # for the reliability figure; not logged
    if with_ci:
        out["macro_f1_ci_low"], out["macro_f1_ci_high"] = metrics.bootstrap_ci(data.labels, pred, seed=seed)
        out["accuracy_ci_low"], out["accuracy_ci_high"] = metrics.bootstrap_ci(
            data.labels, pred, metrics.accuracy, seed=seed)
    return out


def _log_data(splits: Splits) -> None:
    for path in splits.train.paths or (splits.train.path,):
        tracking.log_dataset(path, "training", f"train:{Path(path).parent.name}/{Path(path).name}")
    for data, role in ((splits.dev, "validation"), (splits.select, "selection"),
                       (splits.calibrate, "calibration"), (splits.test, "test")):
        if data is not None:
            tracking.log_dataset(data.path, role, data.name)
    for gold in splits.gold:
        tracking.log_dataset(gold.path, "evaluation", gold.name)


def _score_all(clf: Classifier, splits: Splits, seed: int) -> dict[str, dict]:
    all_scores = {}
    for data in splits.reported():
        scores = score_split(clf, data, with_ci=data is not splits.dev, seed=seed)
        probs = scores.pop("_probs")
        all_scores[data.name] = scores
        tracking.log_metrics(tracking.score_metrics(data.name, scores))
        tracking.log_figure(confusion_figure(scores["confusion"], f"{data.name} (n={scores['n']})"),
                            f"confusion_{data.name}.png")
        tracking.log_figure(reliability_figure(*calibration.confidence_and_correct(probs, data.labels, clf.labels),
                                               f"{data.name}: ECE {scores['ece']:.3f}"),
                            f"reliability_{data.name}.png")
    return all_scores


def calibrate(clf: Classifier, cfg: Config, data: LabelledSet) -> None:
    """Fit prior correction (optional) and the calibrator on the calibrate split, in place."""
    contexts = data.contexts(clf.context_size)
    if cfg.calibration.prior_correction:
        clf.adjust = fit_prior_adjustment(clf.predict_proba(data.texts, contexts, calibrated=False), data.labels)
    raw = clf.predict_proba(data.texts, contexts, calibrated=False)
    clf.calibrator = calibration.fit(cfg.calibration.method, raw, data.labels, clf.labels)


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
        backend = fit_backend(cfg, splits, run_dir, resume)
        members = [m.context_size for m in getattr(backend, "members", [])]
        clf = Classifier(backend, cfg.family, context_size=max([context.window_size(cfg.context, cfg.context_size),
                                                                *members]))
        calibrate(clf, cfg, splits.calibrate)
        tracking.log_metrics({"train_seconds": time.perf_counter() - started})
        scores = _score_all(clf, splits, cfg.seed)
        clf.precision_record = measure_precisions(clf, splits.select)
        if clf.precision_record:
            tracking.log_metrics({f"{splits.select.name}_macro_f1_{m.replace('/', '_')}": v
                                  for m, v in clf.precision_record["macro_f1"].items()})
        model_dir = clf.save(run_dir / "model")
        tracking.log_metrics({"model_size_mb": _size_mb(model_dir)})
        tracking.log_text(_label_map(clf), "label_map.json")
        uri = tracking.log_model(model_dir, splits.gold[0].texts if splits.gold else splits.test.texts,
                                 cfg.tracking.register_as, cfg.tracking.alias)
    return TrainResult(run_id, model_dir, uri, scores)


BF16_EMULATED_MAX_PARAMS = 20_000_000  # above this, bf16 emulated on a CPU without bf16 units is too slow to measure


def measure_precisions(clf: Classifier, data: LabelledSet) -> dict | None:
    """Macro-F1 on `data` (the select split) and agreement with fp32 of every inference mode the model's
    backend can run here (train/infer.modes), for `araclaim label --precision auto` to choose from.

    None for backends without modes (the baseline). bf16 is not measured where it is emulated (a CPU
    without bf16 units) for models larger than BF16_EMULATED_MAX_PARAMS: it would take longer than training.
    Each mode runs on a copy, so `clf` itself stays fp32.
    """
    import copy

    if not callable(getattr(clf.backend, "configure", None)):
        return None
    from train import infer

    backends = [m.backend for m in getattr(clf.backend, "members", [])] or [clf.backend]
    transformer = next(b for b in backends if hasattr(b, "model"))
    device = next(transformer.model.parameters()).device.type
    params = sum(p.numel() for p in transformer.model.parameters())
    contexts = data.contexts(clf.context_size)
    ref = clf.predict(data.texts, contexts)
    record = {"split": data.name, "n": len(data.texts), "macro_f1": {"fp32/torch": metrics.macro_f1(data.labels, ref)},
              "agreement": {"fp32/torch": 1.0}, "not_measured": {}}
    for precision, engine in infer.modes(device):
        mode = infer.mode_name(precision, engine)
        if mode == "fp32/torch":
            continue
        if precision == "bf16" and device == "cpu" and not infer.bf16_supported() and params > BF16_EMULATED_MAX_PARAMS:
            record["not_measured"][mode] = "bf16 is emulated on the training CPU (no bf16 units)"
            continue
        variant = copy.deepcopy(clf)
        variant.backend.configure(precision=precision, engine=engine, threads=None)
        pred = variant.predict(data.texts, contexts)
        record["macro_f1"][mode] = metrics.macro_f1(data.labels, pred)
        record["agreement"][mode] = sum(a == b for a, b in zip(pred, ref)) / max(len(ref), 1)
        log.info("precision %s: %s macro-F1 %.4f (fp32 %.4f), agreement %.3f", mode, data.name,
                 record["macro_f1"][mode], record["macro_f1"]["fp32/torch"], record["agreement"][mode])
        del variant
    return record


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
