"""`araclaim train --resume`: only an unfinished run of exactly this config, only with the config it started
with, and to the same result as a run that was never interrupted (baseline family: seconds per run).

Interruptions here are injected exceptions at chosen points; tests/test_faults.py kills real processes.
"""
from pathlib import Path

import pytest

import araclaim.train.pipeline as pipeline
from araclaim.eval.cli import main
from araclaim.train.baseline import BaselineBackend
from araclaim.train.config import load_config
from araclaim.train.errors import AraclaimError
from araclaim.train.model import Classifier
from araclaim.train.pipeline import train

from conftest import REPO, shrink, train_args

FAST = ["baseline.min_df=1", "context=none"]


class Killed(Exception):
    """Stands for the process dying at the injected point."""


def config(tiny_data, name="baseline", *extra):
    return load_config(REPO / f"configs/{name}.yaml", shrink(tiny_data) + FAST + list(extra))


def interrupt(monkeypatch, target, attribute):
    """Make `target.attribute` die as a killed process would (until the test restores it)."""
    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(target, attribute, die)


def test_resume_picks_the_exact_config_and_ends_like_an_uninterrupted_run(workdir, tiny_data, monkeypatch):
    ngrams = config(tiny_data, "baseline-ngrams")
    clean = train(ngrams, runs_dir="clean")
    with monkeypatch.context() as m:
        interrupt(m, pipeline, "fit_backend")
        with pytest.raises(Killed):
            train(ngrams, runs_dir="runs")
    (folder,) = Path("runs").iterdir()
    (folder / "checkpoint-1").mkdir()  # as a transformer run would have one

    # `baseline` is a prefix of `baseline-ngrams`: that run is not baseline's to resume
    with pytest.raises(AraclaimError, match="no unfinished run of config 'baseline'"):
        train(config(tiny_data), resume=True, runs_dir="runs")

    resumed = train(ngrams, resume=True, runs_dir="runs")
    assert folder.name == f"baseline-ngrams-{resumed.run_id}.partial" and not folder.exists()
    assert resumed.model_dir.parent == Path("runs") / f"baseline-ngrams-{resumed.run_id}"
    for split in ("dev", "select", "calibrate", "test", "gold_article"):
        assert resumed.scores[split]["macro_f1"] == clean.scores[split]["macro_f1"], split
    texts = [e.text for e in pipeline.load_splits(ngrams).test.examples]
    assert (Classifier.load(resumed.model_dir).predict_proba(texts)
            == Classifier.load(clean.model_dir).predict_proba(texts)).all()
    import mlflow

    run = mlflow.get_run(resumed.run_id)
    assert run.info.status == "FINISHED" and run.data.params["baseline.cue_features"] == "False"


def test_resume_with_a_changed_config_is_refused_with_the_differences(workdir, tiny_data, monkeypatch, capsys):
    with monkeypatch.context() as m:
        interrupt(m, pipeline, "fit_backend")
        with pytest.raises(Killed):
            main(train_args(tiny_data))
    capsys.readouterr()
    (folder,) = Path("outputs").iterdir()

    assert main([*train_args(tiny_data, "baseline", "baseline.C=0.125", "seed=7"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "was started with another config" in err and "Traceback" not in err
    started_with = load_config(REPO / "configs/baseline.yaml").baseline.C
    assert f"baseline.C: {started_with} (run) -> 0.125 (now)" in err and "seed: 13 (run) -> 7 (now)" in err
    assert folder.is_dir()  # refused before anything was touched

    assert main([*train_args(tiny_data), "--resume"]) == 0
    run_id = capsys.readouterr().out.strip()
    assert folder.name == f"baseline-{run_id}.partial" and (Path("outputs") / f"baseline-{run_id}" / "model").is_dir()
    # a finished run is never resumed
    assert main([*train_args(tiny_data), "--resume"]) == 2
    assert "no unfinished run of config 'baseline'" in capsys.readouterr().err


def test_a_run_killed_while_saving_its_model_leaves_no_model_and_resumes(workdir, tiny_data, monkeypatch):
    cfg = config(tiny_data)
    real_save = BaselineBackend.save

    def save_then_die(self, directory):
        real_save(self, directory)
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(BaselineBackend, "save", save_then_die)
        with pytest.raises(Killed):
            train(cfg, runs_dir="runs")
    (folder,) = Path("runs").iterdir()
    # the model folder is written under a temporary name: a half-saved model is never mistaken for a finished run
    assert not (folder / "model").exists() and not list(folder.glob(".model.*"))
    resumed = train(cfg, resume=True, runs_dir="runs")
    assert Classifier.load(resumed.model_dir).predict(["نفت الوزارة صحة التقارير"]) == ["denial"]
