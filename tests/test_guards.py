"""Guards that fail closed: data paths mean the project's files from any directory, held-out text never
reaches training, and references never fall back silently (issue 12)."""
import json
from pathlib import Path

import pytest

from araclaim.eval.cli import main
from araclaim.eval.evaluate import MAJORITY_SOURCE, _majority
from araclaim.train.config import load_config
from araclaim.train.errors import DataError
from araclaim.train.pipeline import _path, load_splits

from conftest import REPO, TINY, make_tiny_data, save_tiny_baseline, shrink, train_args, write_jsonl


def test_split_paths_resolve_against_the_project_or_the_config_file(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # the project's configs name the project's files, wherever the command runs
    assert _path("dev", load_config(REPO / "configs/baseline.yaml").data.dev) == REPO / "data/dev.jsonl"
    assert MAJORITY_SOURCE == REPO / "data/articles/train.jsonl"
    # a config kept outside the project reads paths relative to itself
    exp = tmp_path / "exp"
    data = make_tiny_data(exp)
    rel = {k: str(v.relative_to(exp)) for k, v in data.items()}
    (exp / "tiny.yaml").write_text(
        f"extends: {REPO / 'configs/baseline.yaml'}\ndata:\n  train: [{rel['train']}, {rel['articles_train']}]\n"
        f"  dev: {rel['dev']}\n  select: {rel['select']}\n  calibrate: {rel['calibrate']}\n  test: {rel['test']}\n"
        f"  gold: [{rel['gold']}]\n", encoding="utf-8")
    splits = load_splits(load_config(exp / "tiny.yaml"))
    assert splits.select.path == data["select"] and len(splits.train.examples) == 64
    # and a path typed in --set is relative to the working directory
    cfg = load_config(exp / "tiny.yaml", ["data.dev=../exp/data/dev.jsonl"])
    assert Path(cfg.data.dev) == data["dev"]


def test_training_refuses_held_out_text_in_its_training_data(workdir, tiny_data, capsys):
    rows = [json.loads(line) for line in tiny_data["train"].read_text(encoding="utf-8").splitlines()]
    leaked = json.loads(tiny_data["test"].read_text(encoding="utf-8").splitlines()[2])["text"]
    rows.append({"id": "leak1", "text": leaked + ".", "label": "assertion", "topic": "t", "source": "written"})
    write_jsonl(tiny_data["train"], rows)
    assert main(train_args(tiny_data)) == 2
    err = capsys.readouterr().err
    assert f"{tiny_data['train']}:{len(rows)}: leak" in err and f"{tiny_data['test']}:3" in err
    assert "Traceback" not in err and not (workdir / "outputs").exists()


def test_a_shared_six_word_run_is_a_leak_too(workdir, tiny_data):
    rows = [json.loads(line) for line in tiny_data["train"].read_text(encoding="utf-8").splitlines()]
    gold = TINY["denial"][4]  # in dev and gold
    rows.append({"id": "leak2", "text": "وقالت مصادر " + gold, "label": "denial", "topic": "t", "source": "written"})
    write_jsonl(tiny_data["train"], rows)
    with pytest.raises(DataError, match="leak: shares"):
        load_splits(load_config(REPO / "configs/baseline.yaml", shrink(tiny_data)))


def test_majority_reference_without_its_source_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        _majority(tmp_path / "missing.jsonl")


# --- errors: catch only what is meant, keep the cause -----------------------------------------------

@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_baseline(tmp_path_factory.mktemp("model") / "model")


def test_a_bug_in_a_model_loader_keeps_its_traceback(model_dir, monkeypatch, tmp_path):
    import araclaim.train.baseline
    from araclaim.train.model_store import load_classifier

    def buggy(directory):
        return {}["no such key"]  # stands for a bug in a loader

    monkeypatch.setattr(araclaim.train.baseline, "load", buggy)
    with pytest.raises(KeyError, match="no such key"):
        load_classifier(str(model_dir))
    with pytest.raises(KeyError):  # the CLI does not turn it into "could not load model" either
        main(["label", "--model", str(model_dir), str(REPO / "data/article.txt"), "-o", str(tmp_path / "o.jsonl")])


def test_a_corrupt_model_is_a_user_error_that_keeps_its_cause(model_dir, tmp_path, capsys):
    import shutil

    from araclaim.train.errors import ModelLoadError
    from araclaim.train.model_store import load_classifier

    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "araclaim.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="araclaim.json: unreadable") as err:
        load_classifier(str(broken))
    assert isinstance(err.value.__cause__, json.JSONDecodeError)
    assert main(["-v", "eval", "--model", str(broken)]) == 2
    err_text = capsys.readouterr().err
    assert "araclaim eval: error:" in err_text and "JSONDecodeError" in err_text  # -v shows the cause


def test_the_run_of_a_missing_registered_model_is_an_error_not_none(workdir):
    from mlflow.exceptions import MlflowException

    from araclaim.train.errors import ModelLoadError
    from araclaim.train.model_store import run_id_of

    with pytest.raises(ModelLoadError, match="cannot find the run of models:/no-such-model@champion") as err:
        run_id_of("models:/no-such-model@champion")
    assert isinstance(err.value.__cause__, MlflowException)


# --- scoped state -------------------------------------------------------------------------------------

def test_a_command_leaves_warning_filters_environment_and_loggers_as_it_found_them(tiny_data, monkeypatch):
    import logging
    import os
    import warnings

    from araclaim.eval.cli import QUIET_ENV

    for key in QUIET_ENV:
        monkeypatch.delenv(key, raising=False)
    level = logging.getLogger("mlflow").level
    with warnings.catch_warnings():
        warnings.resetwarnings()  # the clean slate of a fresh script
        assert main(["data", "stats", str(tiny_data["train"])]) == 0
        # FutureWarnings (and the rest) were silenced for the command only, not for whoever called main()
        assert warnings.filters == []
    assert not set(QUIET_ENV) & set(os.environ)
    assert logging.getLogger("mlflow").level == level
