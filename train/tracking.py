"""Everything MLflow: where runs live, what a run records, and how models come back out.

No other module imports mlflow, so the tracking layout (metric names, artifact paths, tags) is
defined once here and every run of every family is comparable column by column in the UI.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import urlparse

from train.errors import AraclaimError, ModelLoadError

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


def _is_local(uri: str) -> bool:
    return urlparse(uri).scheme in ("sqlite", "file", "")


def connect(uri: str | None = None) -> str:
    """Point MLflow at `uri` (or the default), failing fast if a remote server does not answer."""
    import mlflow

    uri = resolve_uri(uri)
    if _is_local(uri) and uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    else:
        _check_reachable(uri)
    mlflow.set_tracking_uri(uri)
    return uri


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
    """Get or create the experiment; local stores keep artifacts under ./mlruns/artifacts."""
    import mlflow

    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = None
    if mlflow.get_tracking_uri().startswith("sqlite:///"):
        location = (LOCAL_STORE / "artifacts").resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


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

    A new run gets params, tags and the resolved config; a resumed one already has them.
    """
    import mlflow

    connect(cfg.tracking.uri)
    # MLflow writes "View run at <url>" to stdout when a run ends; stdout is reserved for the run id.
    with contextlib.redirect_stdout(sys.stderr):
        if resume_run_id:
            with mlflow.start_run(run_id=resume_run_id) as run:
                yield run.info.run_id
            return
        exp = experiment_id(cfg.tracking.experiment)
        tags = {"config_name": cfg.name, "model_family": _family_tag(cfg), **git_state()}
        with mlflow.start_run(experiment_id=exp, run_name=cfg.name, tags=tags) as run:
            mlflow.log_params(params)
            mlflow.log_text(config_yaml, "config.yaml")
            yield run.info.run_id


def _family_tag(cfg) -> str:
    if cfg.family == "transformer":
        built = cfg.transformer.pretrain is not None
        return "transformer-tiny" if built else "transformer"
    return cfg.family


def log_dataset(path: str | Path, context: str, name: str) -> None:
    """Record a data file as an MLflow dataset input (with its digest) under `context`."""
    import mlflow
    import pandas as pd

    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    frame = pd.DataFrame([{"text": r.get("text", ""), "label": r.get("label", ""), "article": r.get("article") or ""}
                          for r in rows])
    dataset = mlflow.data.from_pandas(frame, source=str(Path(path).resolve()), name=name, targets="label")
    mlflow.log_input(dataset, context=context)


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

    from train.model import Classifier
    from train.pyfunc import ClaimClassifierModel, output_frame

    clf = Classifier.load(model_dir)
    example = pd.DataFrame({"text": example_texts[:3], "article": ["a1"] * len(example_texts[:3])})
    # `article` is optional: rows sharing it are one article in reading order, and give context
    inputs = Schema([ColSpec("string", "text"), ColSpec("string", "article", required=False)])
    signature = ModelSignature(inputs, infer_signature(example, output_frame(clf, example_texts[:3])).outputs)
    info = mlflow.pyfunc.log_model(
        name=MODEL_ARTIFACT,
        python_model=ClaimClassifierModel(),
        artifacts={"model_dir": str(model_dir)},
        code_paths=[str(Path(__file__).parent)],
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


def _requirements(family: str) -> list[str]:
    """Pinned packages the logged model needs at load time (what `pip install` recreates it with)."""
    from importlib.metadata import PackageNotFoundError, version

    names = ["mlflow", "numpy", "pandas", "scikit-learn", "scipy", "joblib", "pyyaml"]
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
    models:/araclaim@champion included). run_id is None for a plain directory. A run's model is downloaded
    once into the model cache (`model_cache_dir`) and loaded from there afterwards without MLflow (a
    run's logged model never changes); a models:/ URI is resolved through the registry every time, since
    an alias can move.
    """
    uri = model_uri(spec)
    if uri is None:
        return _load_directory(Path(spec), spec), str(Path(spec).resolve()), None
    cached = model_cache_dir(uri, tracking_uri)
    if cached is not None and (cached / ".complete").is_file():
        return _load_directory(cached / "model", uri), uri, run_id_of(uri)
    import mlflow

    connect(tracking_uri)
    try:
        with warnings.catch_warnings():  # load-time notices about type hints and pickling, not the user's
            warnings.simplefilter("ignore", UserWarning)
            model_dir = _download_model(uri, cached)
    except Exception as exc:  # MLflow raises many types for "not there"; all mean the same to a user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ModelLoadError(
            f"could not load model {uri} from tracking store {mlflow.get_tracking_uri()}: {first}. "
            "Check the run id or name with `araclaim compare` or `araclaim ui`, and that "
            "MLFLOW_TRACKING_URI points at the store that has it"
        ) from None
    return _load_directory(model_dir, uri), uri, run_id_of(uri)


def _load_directory(directory: Path, spec: str):
    """Classifier.load, with a corrupt directory reported as a ModelLoadError naming `spec`."""
    from train.model import Classifier

    try:
        return Classifier.load(directory)
    except AraclaimError:
        raise
    except Exception as exc:  # a corrupt directory raises whatever its family's loader raises
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ModelLoadError(
            f"could not load model {spec!r}: {type(exc).__name__}: {first} (is it a complete model "
            "directory written by `araclaim train`, or a run that logged one?)") from None


def model_cache_dir(uri: str, tracking_uri: str | None = None) -> Path | None:
    """Where a runs:/ model is kept once downloaded: <cache>/models/<store>/<run id>/<path> (None for models:/).

    Keyed by the tracking store too, so two stores never share an entry.
    """
    if not uri.startswith("runs:/"):
        return None
    import hashlib

    from train.onnxrun import cache_dir

    store = hashlib.sha256(resolve_uri(tracking_uri).encode()).hexdigest()[:12]
    run, _, path = uri[len("runs:/"):].partition("/")
    return cache_dir() / "models" / store / run / (path.strip("/").replace("/", "_") or MODEL_ARTIFACT)


def _download_model(uri: str, cached: Path | None) -> Path:
    """Download the logged pyfunc model and return its araclaim model directory (in the cache when `cached`)."""
    import shutil
    import tempfile

    import mlflow
    import yaml

    with tempfile.TemporaryDirectory(prefix="araclaim-model-") as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        mlmodel = yaml.safe_load((local / "MLmodel").read_text(encoding="utf-8"))
        inner = local / mlmodel["flavors"]["python_function"]["artifacts"]["model_dir"]["path"]
        if cached is None:
            target = Path(tempfile.mkdtemp(prefix="araclaim-model-"))
        else:
            target = cached.with_name(cached.name + f".{os.getpid()}.tmp")
            shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(inner, target / "model")
    if cached is None:
        return target / "model"
    (target / ".complete").write_text(uri, encoding="utf-8")
    cached.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(target, cached)
    except OSError:  # another process filled the entry first: use it
        shutil.rmtree(target, ignore_errors=True)
    return cached / "model"


def run_id_of(uri: str) -> str | None:
    """The training run behind a runs:/ or models:/ URI (None for a directory)."""
    if uri.startswith("runs:/"):
        return uri[len("runs:/"):].split("/")[0]
    if uri.startswith("models:/"):
        import mlflow

        try:
            info = mlflow.models.get_model_info(uri)
        except Exception:
            return None
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
