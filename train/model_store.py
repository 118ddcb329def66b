"""MLflow models: logging a trained model into its run, and getting models back by run id or URI.

This module and train/tracking.py (where runs live and what a run records) are the only modules that
import mlflow, besides train/pyfunc.py (the wrapper MLflow loads); the logged model's layout (its name,
its araclaim model directory, the code it carries) is defined once here.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
import weakref
from pathlib import Path

from araclaim.train.errors import ModelLoadError, first_line
from araclaim.train.tracking import connect, resolve_uri

# The logged pyfunc model's name inside each run. Every run's model keeps this one name, so
# `runs:/<run id>/model` (README, tests, `mlflow models serve`, Spark UDFs) names it for every run; the UI's
# Models tab shows the run name beside each one, and the model carries the config name as a tag.
MODEL_ARTIFACT = "model"
RUN_ID = re.compile(r"^[0-9a-f]{32}$")


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
            f"could not load model {uri} from tracking store {mlflow.get_tracking_uri()}: {first_line(exc)}. "
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
                                 f"{first_line(exc)}") from exc
        return info.run_id
    return None


