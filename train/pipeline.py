"""`train(cfg)`: from a validated config to one complete MLflow run and a saved model directory.

The steps are the same for every model family: load and check the data, fit (early stopping on
`select`), calibrate on `calibrate`, score every split with its article context (test and gold are never
used for a decision), save, and log the model. Family-specific fitting lives in train/baseline.py and train/transformer.py.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from araclaim.train import atomic, calibration, context, metrics, model_store, precision, tracking
from araclaim.train.config import Config, flatten, to_yaml
from araclaim.train.data import MAX_PROBLEMS_SHOWN, LabelledSet, load_labelled, load_many, to_hf_dataset_dict
from araclaim.train.datacheck import leak_problems
from araclaim.train.errors import AraclaimError, ConfigError, DataError
from araclaim.train.model import Classifier, fit_prior_adjustment
from araclaim.train.paths import project_path
from araclaim.train.plots import confusion_figure, reliability_figure

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

    def to_hf(self):
        """Every split as one `datasets.DatasetDict` (train, dev, select, calibrate, test, then each gold set
        under its name); data.to_hf_dataset says what the columns are."""
        return to_hf_dataset_dict([("train", self.train), *((s.name, s) for s in self.reported())])


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_dir: Path
    model_uri: str
    scores: dict[str, dict]  # split name -> metrics.scores() bundle (+ CI, ece)


def _path(key: str, value: str) -> Path:
    """A configured data path (relative ones under the project root) that must exist: a missing one is a config
    error, never a silent fallback."""
    path = project_path(value)
    if not path.is_file():
        raise ConfigError(f"data.{key} = {value!r}: no such file ({path}). Fix the path in the config or pass "
                          f"--set data.{key}=<path to a .jsonl file> (the split files live in data/articles/)")
    return path


def load_splits(cfg: Config) -> Splits:
    """Load and validate every file the config names (raises ConfigError for a missing path, DataError with
    file:line for a bad record, and DataError naming both lines when a held-out sentence is in training data)."""
    d = cfg.data
    train = load_many([_path("train", p) for p in d.train], "train")
    dev = load_labelled(_path("dev", d.dev), "dev") if d.dev else None
    select = load_labelled(_path("select", d.select), "select")
    calibrate = load_labelled(_path("calibrate", d.calibrate), "calibrate")
    test = load_labelled(_path("test", d.test), "test")
    gold = tuple(load_labelled(_path("gold", p)) for p in d.gold)
    splits = Splits(train, dev, select, calibrate, test, gold)
    leaks = leak_problems(list(train.examples), [e for s in splits.reported() for e in s.examples])
    if leaks:
        shown = leaks[:MAX_PROBLEMS_SHOWN]
        more = f"\n... and {len(leaks) - len(shown)} more" if len(leaks) > len(shown) else ""
        raise DataError("\n".join(shown) + more + "\nheld-out sentences must not be trained on: remove them from "
                        "the training file (or from the held-out file); `araclaim data check` lists every leak")
    return splits


def fit_backend(cfg: Config, splits: Splits, run_dir: Path, resume: bool):
    """Train the configured family; per-epoch metrics go to the active MLflow run."""
    k = context.window_size(cfg.context, cfg.context_size)
    if cfg.family == "baseline":
        from araclaim.train import baseline

        return baseline.fit(cfg.baseline, splits.train.texts, splits.train.labels, cfg.seed, splits.train.groups, k)
    if cfg.family == "ensemble":
        from araclaim.train import ensemble

        return ensemble.fit(cfg, splits, run_dir, resume=resume, on_epoch=tracking.log_metrics)
    from araclaim.train import transformer

    return transformer.fit(cfg, splits, run_dir, resume=resume, on_epoch=tracking.log_metrics)


def preflight(cfg: Config) -> None:
    """Family checks that need no training (transformer: precision, encoder weights reachable)."""
    trains_transformer = cfg.family == "transformer" or (
        cfg.family == "ensemble" and not cfg.ensemble.transformer_model)
    if trains_transformer:
        from araclaim.train import transformer

        transformer.preflight(cfg)


def score_split(clf: Classifier, data: LabelledSet, with_ci: bool, seed: int = 0) -> tuple[dict, np.ndarray]:
    """metrics.scores() on one labelled set (read with its article context), plus ECE before and after
    calibration, and stratified bootstrap 95% CIs when asked; also returns the calibrated probabilities."""
    contexts = data.contexts(clf.context_size)
    raw = clf.predict_proba(data.texts, contexts, calibrated=False)
    probs = clf.calibrator.apply(raw)
    pred = [clf.labels[i] for i in probs.argmax(axis=1)]
    out = metrics.scores(data.labels, pred, [e.alt_label for e in data.examples])
    out["n_skipped"] = len(data.skipped)
    out["ece"] = metrics.ece(*calibration.confidence_and_correct(probs, data.labels, clf.labels))
    out["ece_uncalibrated"] = metrics.ece(*calibration.confidence_and_correct(raw, data.labels, clf.labels))
    if with_ci:
        out["macro_f1_ci_low"], out["macro_f1_ci_high"] = metrics.bootstrap_ci(data.labels, pred, seed=seed)
        out["accuracy_ci_low"], out["accuracy_ci_high"] = metrics.bootstrap_ci(
            data.labels, pred, metrics.accuracy, seed=seed)
    return out, probs


def _log_data(splits: Splits) -> None:
    hf = splits.to_hf()
    roles = [("training", splits.train), ("validation", splits.dev), ("selection", splits.select),
             ("calibration", splits.calibrate), ("test", splits.test), *(("evaluation", g) for g in splits.gold)]
    for role, data in roles:
        if data is not None:
            tracking.log_dataset(hf[data.name], data.paths or (data.path,), role, data.name)


def _score_all(clf: Classifier, splits: Splits, seed: int) -> dict[str, dict]:
    all_scores = {}
    for data in splits.reported():
        scores, probs = score_split(clf, data, with_ci=data is not splits.dev, seed=seed)
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

    The run folder is `<runs_dir>/<config>-<run id>.partial` while the run works (with `run.json`: run id,
    config name and resolved config, written at start) and is renamed to `<config>-<run id>` when the model
    is saved and logged. `resume` continues the newest unfinished run of exactly this config, in the same
    MLflow run, and refuses (ConfigError with the differences) when the resolved config changed.

    >>> from train.config import load_config
    >>> result = train(load_config("configs/baseline.yaml"))   # doctest: +SKIP
    >>> result.scores["gold_article"]["macro_f1"]                 # doctest: +SKIP
    """
    splits = load_splits(cfg)  # before the run starts: bad data must not leave an empty run behind
    preflight(cfg)  # likewise a model that cannot be loaded (no weights, no hub)
    runs_dir = Path(runs_dir)
    params = flatten(cfg)
    previous = find_interrupted(cfg, runs_dir) if resume else None
    if resume and previous is None:
        raise AraclaimError(f"--resume: no unfinished run of config {cfg.name!r} under {runs_dir}/ (an unfinished "
                            f"run is a folder {cfg.name}-<run id>{PARTIAL}); start without --resume")
    started = time.perf_counter()
    with tracking.training_run(cfg, to_yaml(cfg), previous.run_id if previous else None) as run_id:
        if previous is None:
            work = runs_dir / f"{cfg.name}-{run_id}{PARTIAL}"
            work.mkdir(parents=True)
            atomic.write_text(work / RUN_FILE, json.dumps(
                {"run_id": run_id, "config_name": cfg.name, "status": "running", "started": time.time(),
                 "config": params}, ensure_ascii=False, indent=1))
        else:
            work = previous.path
        _log_data(splits)  # again on resume: a kill may have come before it; MLflow keeps one copy
        backend = fit_backend(cfg, splits, work, resume)
        members = [m.context_size for m in getattr(backend, "members", [])]
        clf = Classifier(backend, cfg.family, context_size=max([context.window_size(cfg.context, cfg.context_size),
                                                                *members]))
        calibrate(clf, cfg, splits.calibrate)
        seconds = time.perf_counter() - started
        tracking.log_metrics({"cost/train_seconds": seconds})
        scores = _score_all(clf, splits, cfg.seed)
        clf.precision_record = precision.measure(clf, splits.select)
        if clf.precision_record:  # one chart group: select macro-F1 per inference mode (fp32/torch, int8/...)
            tracking.log_metrics({f"precision/{splits.select.name}_macro_f1_{m.replace('/', '_')}": v
                                  for m, v in clf.precision_record["macro_f1"].items()})
        model_dir = clf.save(work / "model")
        tracking.log_metrics({"cost/model_size_mb": _size_mb(model_dir)})
        tracking.describe_run(cfg, scores, seconds)
        tracking.log_text(_label_map(clf), "label_map.json")
        uri = model_store.log_model(model_dir, splits.gold[0].texts if splits.gold else splits.test.texts,
                                 cfg.tracking.register_as, cfg.tracking.alias)
        final = _finish(work, runs_dir / f"{cfg.name}-{run_id}")
    return TrainResult(run_id, final / "model", uri, scores)


PARTIAL = ".partial"  # suffix of a run folder whose run has not finished
RUN_FILE = "run.json"  # run id, config name, resolved config and status of a run folder


@dataclass(frozen=True)
class RunFolder:
    """An unfinished run that `--resume` can continue."""

    path: Path
    run_id: str


def _read_run_file(folder: Path) -> dict | None:
    """The folder's run.json, or None when it has none (a folder from before run.json, or not a run)."""
    try:
        info = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AraclaimError(f"{folder / RUN_FILE}: unreadable ({exc}); move the folder away or delete it") from exc
    return info if isinstance(info, dict) else None


def find_interrupted(cfg: Config, runs_dir: str | Path) -> RunFolder | None:
    """The newest unfinished run folder of exactly this config (by the name recorded in its run.json, never by
    a folder-name prefix: `tiny-bert` must not pick up `tiny-bert-plain`).

    Raises ConfigError listing the differences when that run was started with another resolved config:
    resuming it would silently keep the old vocabulary, data and parameters.
    """
    candidates = []
    for folder in Path(runs_dir).glob(f"*{PARTIAL}"):
        info = _read_run_file(folder) if folder.is_dir() else None
        if info and info.get("config_name") == cfg.name and info.get("status") == "running":
            candidates.append((float(info.get("started", 0)), folder, info))
    if not candidates:
        return None
    _, folder, info = max(candidates, key=lambda c: c[0])
    changes = config_diff(info.get("config", {}), flatten(cfg))
    if changes:
        raise ConfigError(
            f"--resume: run {info['run_id']} ({folder}) was started with another config:\n"
            + "\n".join(f"  {line}" for line in changes)
            + "\nresume with the config and --set values it was started with, or start a new run without --resume")
    return RunFolder(folder, info["run_id"])


def config_diff(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """`key: old -> new` for every flattened config value that differs (missing keys shown as <unset>)."""
    keys = sorted(set(before) | set(now))
    return [f"{k}: {before.get(k, '<unset>')} (run) -> {now.get(k, '<unset>')} (now)"
            for k in keys if before.get(k) != now.get(k)]


def _finish(work: Path, final: Path) -> Path:
    """Mark the run folder finished and give it its final name (a rename: it is complete or still .partial)."""
    info = _read_run_file(work) or {}
    atomic.write_text(work / RUN_FILE, json.dumps({**info, "status": "finished", "finished": time.time()},
                                                  ensure_ascii=False, indent=1))
    atomic.replace(work, final)
    return final


def _size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6


def _label_map(clf: Classifier) -> str:
    return json.dumps({i: label for i, label in enumerate(clf.labels)}, ensure_ascii=False, indent=2)
