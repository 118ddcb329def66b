"""MLflow runs: where they live, what a run records (params, metric names, description), and reading them back.

This module and train/model_store.py (logging and loading models) are the only modules that import mlflow,
besides train/pyfunc.py (the wrapper MLflow loads), so the tracking layout (metric names, artifact paths,
tags) is defined once here and every run of every family is comparable column by column in the UI.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

from araclaim.train import atomic
from araclaim.train.errors import AraclaimError, first_line
from araclaim.train.paths import PROJECT_ROOT

# The project's own store, in the checkout (git-ignored): the same store from any working directory, so
# `araclaim ui` run elsewhere opens the runs that `araclaim train` logged, not a new empty store.
LOCAL_STORE = PROJECT_ROOT / "mlruns"


def default_uri() -> str:
    """$MLFLOW_TRACKING_URI if set, else the project's SQLite store <repo>/mlruns/mlflow.db (`araclaim ui` opens it)."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{LOCAL_STORE / 'mlflow.db'}"


def resolve_uri(configured: str | None) -> str:
    """The config's tracking URI wins over the environment, which wins over the local store."""
    return configured or default_uri()


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a local `sqlite:///` store (None for any other store)."""
    return Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None


def local_artifact_root(uri: str) -> Path | None:
    """Where a local SQLite store keeps artifacts: `artifacts/` beside the database (None for other stores)."""
    db = _sqlite_path(uri)
    return None if db is None else db.resolve().parent / "artifacts"


def connect(uri: str | None = None) -> str:
    """Point MLflow at `uri` (or the default): a local store is initialised once, a remote server must answer."""
    import mlflow

    uri = resolve_uri(uri)
    if _sqlite_path(uri) is not None:
        _init_local_store(uri)
    else:
        _check_reachable(uri)
    mlflow.set_tracking_uri(uri)
    return uri


_READY: set[str] = set()  # local stores this process has already initialised


def _init_local_store(uri: str) -> None:
    """Create (or migrate) a local SQLite store under a file lock beside it.

    MLflow builds a new database by running its schema migrations; two processes doing that at once on a
    fresh clone collide ("duplicate column name", "expected to match one row"), and all but one die. Holding
    an exclusive lock while the first client is created makes the first process build the schema and every
    other one find it complete; the kernel drops the lock when its holder exits, kill -9 included.

    The store is opened with its artifact root beside the database, so the experiment MLflow creates with a
    new store ("Default") keeps its artifacts there too, not in ./mlruns of whatever directory this runs in.
    """
    if uri in _READY:
        return
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = _sqlite_path(uri)
    db.parent.mkdir(parents=True, exist_ok=True)
    with atomic.file_lock(db.with_name(db.name + ".lock")):
        try:
            SqlAlchemyStore(uri, local_artifact_root(uri).as_uri())  # builds the schema when new
        except MlflowException as exc:  # e.g. a store from an older MLflow: its message says how to upgrade it
            raise AraclaimError(f"MLflow store {db}: {first_line(exc)}") from exc
    _READY.add(uri)


def _check_reachable(uri: str, timeout: float = 3.0) -> None:
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise AraclaimError(
            f"MLflow tracking server {uri} is not reachable ({exc}); start it with "
            "`mlflow server --host 127.0.0.1 --port 5000`, or unset MLFLOW_TRACKING_URI / "
            f"tracking.uri to use the project's local store in {LOCAL_STORE}"
        ) from None


# Marks an experiment as model training, so the UI opens it on its runs, not on the GenAI traces page
# (MLflow 3's UI reads this tag; "custom_model_development" is its value for classic ML training).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}


def experiment_id(name: str) -> str:
    """Get or create the experiment; a local store keeps artifacts beside its database (<db folder>/artifacts),
    whatever the working directory.

    Parallel runs may all find the experiment missing and all create it: the losers get
    RESOURCE_ALREADY_EXISTS and use the winner's.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    root = local_artifact_root(mlflow.get_tracking_uri())
    try:
        return mlflow.create_experiment(name, artifact_location=root.as_uri() if root else None,
                                        tags=EXPERIMENT_KIND)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return mlflow.get_experiment_by_name(name).experiment_id


def git_state() -> dict[str, str]:
    """Commit and dirty flag of the working tree ('unknown' outside git)."""
    def git(*args):
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else None

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        commit = dirty = None
    return {"git_commit": commit or "unknown", "git_dirty": "unknown" if dirty is None else str(bool(dirty)).lower()}


@contextlib.contextmanager
def training_run(cfg, config_yaml: str, resume_run_id: str | None = None):
    """Start (or, with `resume_run_id`, reopen) a run for `cfg`; yields the run id.

    The run gets the params its family reads (run_params), tags and the resolved config; a resumed run gets
    them again (the same values: the caller has checked the config is unchanged), since the process it resumes
    may have died before them.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    connect(cfg.tracking.uri)
    # MLflow writes "View run at <url>" to stdout when a run ends; stdout is reserved for the run id.
    with contextlib.redirect_stdout(sys.stderr):
        if resume_run_id:
            try:
                active = mlflow.start_run(run_id=resume_run_id)
            except MlflowException as exc:
                raise AraclaimError(
                    f"--resume: run {resume_run_id} is not in the tracking store {mlflow.get_tracking_uri()} "
                    f"({first_line(exc)}); resume with the store it started in (MLFLOW_TRACKING_URI, "
                    "tracking.uri), or start a new run without --resume") from exc
        else:
            active = mlflow.start_run(experiment_id=experiment_id(cfg.tracking.experiment), run_name=cfg.name,
                                      tags=_tags(cfg))
        with active as run:
            mlflow.log_params(run_params(cfg))
            mlflow.log_text(config_yaml, "config.yaml")
            yield run.info.run_id


def _encoder(cfg) -> str | None:
    """The transformer a run fine-tunes: `tiny-bert` (built from our text) or the hub id / folder; None if none."""
    if cfg.family == "baseline" or (cfg.family == "ensemble" and cfg.ensemble.transformer_model):
        return None
    return "tiny-bert" if cfg.transformer.pretrain is not None else cfg.transformer.name_or_path


def run_params(cfg) -> dict[str, str]:
    """The config keys this run's family reads, as MLflow params (the whole resolved config is config.yaml).

    Every family: name, family, seed, context (context_size with a window), data.*, calibration.*. Baseline:
    baseline.* (context_* only with context). Transformer: transformer.* (pretrain.* for a built tiny BERT,
    name_or_path otherwise). Ensemble: both members' keys and ensemble.*, without transformer.* when it reuses a
    trained member (ensemble.transformer_model; that run has its params).
    """
    from araclaim.train.config import flatten

    flat = flatten(cfg)
    sections = ["data.", "calibration."]
    if cfg.family in ("baseline", "ensemble"):
        sections.append("baseline.")
    if _encoder(cfg) is not None:
        sections.append("transformer.")
    if cfg.family == "ensemble":
        sections.append("ensemble.")
    unused = {"transformer.name_or_path" if cfg.transformer.pretrain is not None else "transformer.pretrain"}
    if cfg.context != "window":
        unused.add("context_size")
    if cfg.context == "none":  # the baseline's context block is built only when it reads context
        unused |= {"baseline.context_weight", "baseline.context_folds"}
    return {k: v for k, v in flat.items() if k not in unused and
            ("." not in k or k.startswith(tuple(sections)))}


def _tags(cfg) -> dict[str, str]:
    tags = {"config_name": cfg.name, "model_family": cfg.family, **git_state()}  # model_family = the family param
    encoder = _encoder(cfg)
    if encoder:
        tags["encoder"] = encoder
    return tags


def log_dataset(dataset, files, context: str, name: str) -> None:
    """Record a split as an MLflow dataset input under `context` (training, selection, evaluation, ...).

    `dataset` is the split as a `datasets.Dataset` (data.to_hf_dataset): the input's digest and schema are
    computed from it, so they describe exactly the validated rows the run used. Its source names the JSONL
    `files` it was read from, as the arguments of an offline `datasets.load_dataset("json", data_files=...)`.
    """
    import mlflow

    data_files = {str(dataset.split or name): [str(Path(f).resolve()) for f in files]}
    entry = mlflow.data.from_huggingface(dataset, path="json", data_files=data_files, targets="label", name=name)
    # schema inference (at log time) hints that int columns cannot hold missing values: label never lacks one
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer", UserWarning)
        _retry_concurrent(lambda: mlflow.log_input(entry, context=context))


def _retry_concurrent(write, attempts: int = 4):
    """Run an MLflow write that parallel runs can collide on, retrying a few times.

    Runs of one seed sweep log the same data files: each store checks that a dataset is new, then inserts
    it, so two runs can both insert and the second hits the store's unique constraint (IntegrityError on
    SQLite, BAD_REQUEST from a server). A retry finds the dataset there and links it. Other errors fail
    the same way every time and are raised after the last attempt.
    """
    from mlflow.exceptions import MlflowException

    for attempt in range(attempts):
        try:
            return write()
        except MlflowException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Log numeric metrics to the active run."""
    import mlflow

    mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)


SPLIT_METRICS = ("macro_f1", "accuracy", "lenient_macro_f1", "lenient_accuracy", "ece", "ece_uncalibrated")
CI_METRICS = ("macro_f1_ci_low", "macro_f1_ci_high", "accuracy_ci_low", "accuracy_ci_high")


def metric_key(split: str, key: str) -> str:
    """The MLflow name of one score of a split: `<split>/macro_f1`; CI bounds in a group of their own,
    `<split>_ci/macro_f1_low`. The `/` makes the UI group a split's charts and columns under its name."""
    if key in CI_METRICS:
        base, _, end = key.rpartition("_ci_")
        return f"{split}_ci/{base}_{end}"
    return f"{split}/{key}"


def score_metrics(split: str, scores: dict) -> dict[str, float]:
    """Flatten a metrics.scores() bundle into MLflow metrics: `<split>/macro_f1`, `<split>_ci/macro_f1_low`,
    and per-class figures in their own group, `<split>_per_class/f1_denial`."""
    out = {metric_key(split, k): scores[k] for k in (*SPLIT_METRICS, *CI_METRICS) if k in scores}
    for label, stats in scores.get("per_class", {}).items():
        for stat in ("precision", "recall", "f1"):
            out[f"{split}_per_class/{stat}_{label}"] = stats[stat]
    return out


def describe_run(cfg, scores: dict[str, dict], train_seconds: float) -> str:
    """Set the active run's description (the UI's "Description" box) to one paragraph: what the run is and
    its key scores (select, which chooses between runs, then test and gold, only ever reported). Returns it."""
    import mlflow

    what = {"baseline": "the TF-IDF n-gram + cue-feature logistic regression",
            "ensemble": "a calibrated ensemble of the baseline and a transformer",
            "transformer": f"a fine-tuned {_encoder(cfg)} classifier"}[cfg.family]
    if cfg.family == "transformer" and cfg.transformer.pretrain is not None:
        what = "a tiny BERT built from the project's own text, then fine-tuned"
    if cfg.family == "ensemble" and cfg.ensemble.transformer_model:
        what += f" (the transformer member reused from {cfg.ensemble.transformer_model})"
    window = f" ({cfg.context_size} sentences)" if cfg.context == "window" else ""
    shown = [f"{name} {_f1(s)}" for name, s in scores.items() if name not in ("dev", "calibrate")]
    text = (f"{cfg.name} ({cfg.family}): {what}, reading article context `{cfg.context}`{window}. "
            f"Macro-F1 {'; '.join(shown)}. Models are chosen on select only; test and gold are reported, never "
            f"used for a decision. Trained in {train_seconds:.0f} s. Metrics are grouped by split (`select/`, "
            "`test/`, ...); confusion matrices and reliability diagrams are the run's PNG artifacts, the "
            "resolved config is config.yaml.")
    mlflow.set_tag("mlflow.note.content", text)
    return text


def _f1(scores: dict) -> str:
    ci = scores.get("macro_f1_ci_low"), scores.get("macro_f1_ci_high")
    bounds = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if None not in ci else ""
    return f"{scores['macro_f1']:.3f}{bounds}"


def log_figure(fig, artifact_file: str) -> None:
    """Log a matplotlib figure to the active run, then free it."""
    import matplotlib.pyplot as plt
    import mlflow

    mlflow.log_figure(fig, artifact_file)
    plt.close(fig)


def log_text(text: str, artifact_file: str) -> None:
    import mlflow

    mlflow.log_text(text, artifact_file)


def log_to_existing_run(run_id: str, metrics: dict[str, float], files: list[Path]) -> None:
    """Add evaluation metrics and report files to a finished run, so the UI can sort by them."""
    import mlflow

    client = mlflow.MlflowClient()
    for key, value in metrics.items():
        client.log_metric(run_id, key, float(value))
    for path in files:
        client.log_artifact(run_id, str(path), "eval")


def search_runs(experiment: str, tracking_uri: str | None = None):
    """All runs of an experiment as a pandas frame (empty frame when the experiment is missing)."""
    import mlflow
    import pandas as pd

    connect(tracking_uri)
    exp = mlflow.get_experiment_by_name(experiment)
    if exp is None:
        return pd.DataFrame()
    return mlflow.search_runs(experiment_ids=[exp.experiment_id])
