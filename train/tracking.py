"""Everything MLflow: where runs live, what a run records, and how models come back out.

No other module imports mlflow, so the tracking layout (metric names, artifact paths, tags) is
defined once here and every run of every family is comparable column by column in the UI.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
import weakref
from pathlib import Path
from urllib.parse import urlparse

from araclaim.train import atomic
from araclaim.train.errors import AraclaimError, ModelLoadError

LOCAL_STORE = Path("mlruns")  # relative to the working directory (the repo root); git-ignored
MODEL_ARTIFACT = "model"  # name of the logged pyfunc model inside each run
RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def default_uri() -> str:
    """$MLFLOW_TRACKING_URI if set, else a SQLite store under ./mlruns (what `araclaim ui` opens)."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{(LOCAL_STORE / 'mlflow.db').resolve()}"


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
    """
    if uri in _READY:
        return
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    db = _sqlite_path(uri)
    db.parent.mkdir(parents=True, exist_ok=True)
    with atomic.file_lock(db.with_name(db.name + ".lock")):
        try:
            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)  # builds the schema when new
        except MlflowException as exc:  # e.g. a store from an older MLflow: its message says how to upgrade it
            raise AraclaimError(f"MLflow store {db}: {_first_line(exc)}") from exc
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
            "tracking.uri to use the local store in ./mlruns"
        ) from None


def experiment_id(name: str) -> str:
    """Get or create the experiment; a local store keeps artifacts beside its database (mlruns/artifacts).

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
        return mlflow.create_experiment(name, artifact_location=root.as_uri() if root else None)
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
def training_run(cfg, config_yaml: str, params: dict[str, str], resume_run_id: str | None = None):
    """Start (or, with `resume_run_id`, reopen) a run for `cfg`; yields the run id.

    The run gets params, tags and the resolved config; a resumed run gets them again (the same values: the
    caller has checked the config is unchanged), since the process it resumes may have died before them.
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
                    f"({_first_line(exc)}); resume with the store it started in (MLFLOW_TRACKING_URI, "
                    "tracking.uri), or start a new run without --resume") from exc
        else:
            tags = {"config_name": cfg.name, "model_family": _family_tag(cfg), **git_state()}
            active = mlflow.start_run(experiment_id=experiment_id(cfg.tracking.experiment), run_name=cfg.name,
                                      tags=tags)
        with active as run:
            mlflow.log_params(params)
            mlflow.log_text(config_yaml, "config.yaml")
            yield run.info.run_id


def _family_tag(cfg) -> str:
    if cfg.family == "transformer":
        built = cfg.transformer.pretrain is not None
        return "transformer-tiny" if built else "transformer"
    return cfg.family


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


def score_metrics(prefix: str, scores: dict) -> dict[str, float]:
    """Flatten a metrics.scores() bundle into MLflow metric names: `<prefix>_macro_f1`, `<prefix>_f1_denial`..."""
    out = {f"{prefix}_{key}": scores[key] for key in
           ("accuracy", "macro_f1", "lenient_accuracy", "lenient_macro_f1") if key in scores}
    for key in ("macro_f1_ci_low", "macro_f1_ci_high", "accuracy_ci_low", "accuracy_ci_high", "ece",
                "ece_uncalibrated"):
        if key in scores:
            out[f"{prefix}_{key}"] = scores[key]
    for label, stats in scores.get("per_class", {}).items():
        for stat in ("precision", "recall", "f1"):
            out[f"{prefix}_{stat}_{label}"] = stats[stat]
    return out


def log_figure(fig, artifact_file: str) -> None:
    """Log a matplotlib figure to the active run, then free it."""
    import matplotlib.pyplot as plt
    import mlflow

    mlflow.log_figure(fig, artifact_file)
    plt.close(fig)


def log_text(text: str, artifact_file: str) -> None:
    import mlflow

    mlflow.log_text(text, artifact_file)


def log_model(model_dir: Path, example_texts: list[str], register_as: str | None, alias: str | None) -> str:
    """Log the model directory as a pyfunc model (signature + input example); optionally register it.

    Returns the model URI. `mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"text": [...]}))`
    gives a frame with `label` and one `prob_<label>` column per class.
    """
    import mlflow
    import pandas as pd
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema

    from araclaim.train.model import Classifier
    from araclaim.train.pyfunc import ClaimClassifierModel, output_frame

    clf = Classifier.load(model_dir)
    example = pd.DataFrame({"text": example_texts[:3], "article": ["a1"] * len(example_texts[:3])})
    # `article` is optional: rows sharing it are one article in reading order, and give context
    inputs = Schema([ColSpec("string", "text"), ColSpec("string", "article", required=False)])
    signature = ModelSignature(inputs, infer_signature(example, output_frame(clf, example_texts[:3])).outputs)
    with tempfile.TemporaryDirectory(prefix="araclaim-code-") as staging:
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=ClaimClassifierModel(),
            artifacts={"model_dir": str(model_dir)},
            code_paths=[str(_package_copy(Path(staging)))],
            signature=signature,
            input_example=example,
            # Explicit requirements: MLflow's inference re-imports the model in a subprocess (slow).
            pip_requirements=_requirements(clf.family),
        )
    if register_as:
        version = mlflow.register_model(info.model_uri, register_as)
        if alias:
            mlflow.MlflowClient().set_registered_model_alias(register_as, alias, version.version)
    return info.model_uri


def _package_copy(staging: Path) -> Path:
    """`araclaim/train` copied under `staging`: what a logged model carries as code (MLflow puts the folder
    holding `araclaim/` on sys.path when it loads the model), so the model needs no araclaim install."""
    target = staging / "araclaim" / "train"
    shutil.copytree(Path(__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target.parent


def _requirements(family: str) -> list[str]:
    """Pinned packages the logged model needs at load time (what `pip install` recreates it with)."""
    from importlib.metadata import PackageNotFoundError, version

    names = ["mlflow", "numpy", "pandas", "scikit-learn", "scipy", "skops", "pyyaml"]
    if family != "baseline":
        names += ["torch", "transformers", "tokenizers", "safetensors"]
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    return pins


# --- getting models back -------------------------------------------------------------------------

def model_uri(spec: str) -> str | None:
    """The MLflow URI for a --model value, or None when it names a local directory."""
    if Path(spec).is_dir():
        return None
    if RUN_ID.match(spec):
        return f"runs:/{spec}/{MODEL_ARTIFACT}"
    if spec.startswith(("runs:/", "models:/")):
        return spec
    raise ModelLoadError(
        f"--model {spec!r} is neither a directory nor an MLflow run id, runs:/ or models:/ URI; "
        "find run ids with `araclaim compare` or in the MLflow UI (`araclaim ui`)"
    )


def load_classifier(spec: str, tracking_uri: str | None = None):
    """Resolve a --model value to (Classifier, uri, run_id).

    `spec` is a model directory, a 32-hex run id, or a runs:/ or models:/ URI (aliases such as
    models:/araclaim@champion included). run_id is None for a plain directory.

    From MLflow only the araclaim model directory inside the logged model is read, with the same safe loaders
    as a local folder: the pickled pyfunc wrapper and the code logged beside it are downloaded as files and
    never unpickled, imported or run (README, "Reliability and model trust"). A run's model is downloaded once
    into the model cache (`model_cache_dir`) and loaded from there afterwards without MLflow (a run's logged
    model never changes); a models:/ URI is resolved through the registry every time, since an alias can move.
    Expected failures (no such run or model, an unreachable store, a malformed folder) raise ModelLoadError
    with the cause chained; anything else is a bug and keeps its traceback.
    """
    from araclaim.train.model import Classifier

    uri = model_uri(spec)
    if uri is None:
        return Classifier.load(spec), str(Path(spec).resolve()), None
    cached = model_cache_dir(uri, tracking_uri)
    if cached is not None and (cached / COMPLETE).is_file():
        return Classifier.load(cached / MODEL_ARTIFACT), uri, run_id_of(uri)
    connect(tracking_uri)
    local = Path(tempfile.mkdtemp(prefix="araclaim-model-"))
    try:
        directory = _download_model_dir(uri, local)
        if cached is not None:
            directory = _fill_cache(directory, cached)
        clf = Classifier.load(directory)
    except BaseException:
        shutil.rmtree(local, ignore_errors=True)
        raise
    if cached is not None:
        shutil.rmtree(local, ignore_errors=True)
    else:  # lazily read files (tokenizers, transformer weights) stay while the model lives
        weakref.finalize(clf, shutil.rmtree, local, True)
    return clf, uri, run_id_of(uri)


COMPLETE = ".complete"  # written last into a model cache entry


def model_cache_dir(uri: str, tracking_uri: str | None = None) -> Path | None:
    """Where a runs:/ model is kept once downloaded: <cache>/models/<store>/<run id>/<path> (None for models:/).

    Keyed by the tracking store too, so two stores never share an entry.
    """
    if not uri.startswith("runs:/"):
        return None
    import hashlib

    from araclaim.train.onnxrun import cache_dir

    store = hashlib.sha256(resolve_uri(tracking_uri).encode()).hexdigest()[:12]
    run, _, path = uri[len("runs:/"):].partition("/")
    return cache_dir() / "models" / store / run / (path.strip("/").replace("/", "_") or MODEL_ARTIFACT)


def _fill_cache(directory: Path, cached: Path) -> Path:
    """Copy a downloaded araclaim model directory into its cache entry, atomically (a rename of a complete
    folder); returns the cached model directory. A race with another process keeps whichever landed first."""
    target = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(directory, target / MODEL_ARTIFACT)
    (target / COMPLETE).write_text("", encoding="utf-8")
    cached.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(target, cached)
    except OSError:  # another process filled the entry first: use it
        shutil.rmtree(target, ignore_errors=True)
    return cached / MODEL_ARTIFACT


def _download_model_dir(uri: str, destination: Path) -> Path:
    """Download the logged model at `uri` as plain files and return its araclaim model directory."""
    import mlflow
    import yaml
    from mlflow.exceptions import MlflowException

    try:
        with warnings.catch_warnings():  # load-time notices about type hints and pickling, not the user's
            warnings.simplefilter("ignore", UserWarning)
            root = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(destination)))
        mlmodel = yaml.safe_load((root / "MLmodel").read_text(encoding="utf-8"))
    except (MlflowException, OSError, yaml.YAMLError) as exc:
        raise ModelLoadError(
            f"could not load model {uri} from tracking store {mlflow.get_tracking_uri()}: {_first_line(exc)}. "
            "Check the run id or name with `araclaim compare` or `araclaim ui`, and that "
            "MLFLOW_TRACKING_URI points at the store that has it") from exc
    try:
        relative = mlmodel["flavors"]["python_function"]["artifacts"]["model_dir"]["path"]
    except (KeyError, TypeError):
        raise ModelLoadError(f"{uri} is not an araclaim model (its MLmodel names no model_dir artifact); pass a "
                             "model logged by `araclaim train`") from None
    directory = (root / str(relative)).resolve()
    if not directory.is_relative_to(root.resolve()):  # a crafted MLmodel must not point outside the download
        raise ModelLoadError(f"{uri}: its MLmodel points outside the model ({relative!r}); refusing it")
    return directory


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def run_id_of(uri: str) -> str | None:
    """The training run behind a runs:/ or models:/ URI (None for a directory, or a model logged outside a run).

    A registry that cannot answer is an error (ModelLoadError with the cause), not None: eval would otherwise
    silently stop logging its scores back to the run.
    """
    if uri.startswith("runs:/"):
        return uri[len("runs:/"):].split("/")[0]
    if uri.startswith("models:/"):
        import mlflow
        from mlflow.exceptions import MlflowException

        try:
            info = mlflow.models.get_model_info(uri)
        except (MlflowException, OSError) as exc:
            raise ModelLoadError(f"cannot find the run of {uri} in {mlflow.get_tracking_uri()}: "
                                 f"{_first_line(exc)}") from exc
        return info.run_id
    return None


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
