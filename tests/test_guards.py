"""Guards that fail closed: data paths mean the project's files from any directory, held-out text never
reaches training, and references never fall back silently (issue 12)."""
import json
from pathlib import Path

import pytest

from eval.cli import main
from eval.evaluate import MAJORITY_SOURCE, _majority
from train.config import load_config
from train.errors import DataError
from train.pipeline import _path, load_splits

from conftest import REPO, TINY, make_tiny_data, shrink, train_args, write_jsonl


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
