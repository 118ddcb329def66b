"""Loading a model never runs code that a model folder or an MLflow store carries (issue 12).

The payloads below only create a marker file; a loader that executed them would leave it behind.
"""
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from araclaim.eval.cli import main
from araclaim.train.baseline import FILE, LEGACY_FILE, fit
from araclaim.train.config import BaselineConfig, load_config
from araclaim.train.errors import ModelLoadError
from araclaim.train.model import Classifier
from araclaim.train.pipeline import train

from conftest import REPO, TINY, shrink

TEXTS = [s for sents in TINY.values() for s in sents]
LABELS_ = [lab for lab, sents in TINY.items() for _ in sents]


class Payload:
    """Unpickling this calls Path.touch(marker): code run by whoever loads the file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


class Unknown:
    """A type no allow-list names."""

    def __init__(self):
        self.value = 1


@pytest.fixture
def model_dir(tmp_path):
    backend = fit(BaselineConfig(min_df=1), TEXTS, LABELS_, seed=13)
    return Classifier(backend, "baseline").save(tmp_path / "model")


def test_a_pickle_in_a_model_folder_is_never_unpickled(model_dir, tmp_path, capsys):
    marker = tmp_path / "code-ran"
    (model_dir / FILE).unlink()
    (model_dir / LEGACY_FILE).write_bytes(pickle.dumps(Payload(marker)))
    article = tmp_path / "a.txt"
    article.write_text("نفت الوزارة صحة التقارير.", encoding="utf-8")
    assert main(["label", "--model", str(model_dir), str(article), "-o", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert not marker.exists()
    assert "no longer loads pickles" in err and "Retrain" in err and "convert_baseline_model.py" in err


def test_an_untrusted_type_in_a_skops_file_is_refused(model_dir):
    import skops.io

    skops.io.dump({"pipeline": Unknown(), "stacker": None, "context_size": 0, "context_weight": 1.0},
                  model_dir / FILE)
    with pytest.raises(ModelLoadError, match=r"types araclaim does not trust: .*Unknown"):
        Classifier.load(model_dir)


def test_an_old_joblib_model_is_refused_and_converts_on_request(model_dir, tmp_path):
    import joblib

    from araclaim.train.baseline import load

    backend = load(model_dir)
    expected = Classifier.load(model_dir).predict_proba(TEXTS)
    (model_dir / FILE).unlink()
    joblib.dump({"pipeline": backend.pipeline, "stacker": None, "context_size": 0, "context_weight": 1.0},
                model_dir / LEGACY_FILE)
    with pytest.raises(ModelLoadError, match="Retrain it .* convert it"):
        Classifier.load(model_dir)
    done = subprocess.run([sys.executable, str(REPO / "scripts/convert_baseline_model.py"), str(model_dir),
                           "--i-trust-this-file"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (model_dir / FILE).is_file() and not (model_dir / LEGACY_FILE).exists()
    np.testing.assert_array_equal(Classifier.load(model_dir).predict_proba(TEXTS), expected)


def test_a_logged_model_is_read_without_unpickling_its_wrapper(workdir, tiny_data, capsys):
    """A shared store's python_model.pkl is code; eval and label by run id or URI never unpickle it."""
    import mlflow

    result = train(load_config(REPO / "configs/baseline.yaml",
                               shrink(tiny_data) + ["baseline.min_df=1", "context=none"]))
    logged = mlflow.get_logged_model(result.model_uri.split("/")[-1])
    artifacts = Path(urlparse(logged.artifact_location).path)
    marker = workdir / "code-ran"
    (artifacts / "python_model.pkl").write_bytes(pickle.dumps(Payload(marker)))
    shutil.rmtree(artifacts / "code")  # nor is the code logged beside it needed (or imported)

    article = workdir / "a.txt"
    article.write_text("نفت الوزارة صحة التقارير. قال الوزير إن الخطة جاهزة.", encoding="utf-8")
    for spec in (result.run_id, result.model_uri):
        assert main(["label", "--model", spec, str(article), "-o", str(workdir / "o.jsonl")]) == 0
        assert main(["eval", "--model", spec, "--gold", str(tiny_data["gold"]), "--json",
                     "--out", str(workdir / "rep")]) == 0
    capsys.readouterr()
    assert not marker.exists()
