"""Fault tests: `train`, `label` and `data merge-review` killed with SIGKILL at seeded random moments.

Each kill must leave the previous outputs byte for byte as they were, and a rerun (or `--resume`) must end
with the result of a run that was never interrupted. Kill points are drawn from a seeded generator over the
time a command spends working (measured on an uninterrupted run), so a failure can be replayed. The work is
tiny (baseline family, tiny data) to keep each test to seconds plus the commands' start-up.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from araclaim.eval.cli import main
from araclaim.train.config import load_config
from araclaim.train.pipeline import PARTIAL, train

from conftest import REPO, TINY, araclaim, save_tiny_baseline, shrink, train_args

KILLS = 3  # kill points per command (train: 2, its restarts cost the most)


def snapshot(root: Path) -> dict[str, str]:
    """Digest of every file under `root` (relative path -> sha256)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def start_and_kill(args: list, cwd: Path, started, delay: float) -> str:
    """Start `araclaim args` in `cwd`; once `started()` holds (it is working), wait `delay` s and SIGKILL it.

    Returns what happened, for the assertion messages of a failing test (kill points are timing-dependent).
    """
    began = time.monotonic()
    proc = subprocess.Popen(araclaim(*args), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not started() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        working = time.monotonic()
        time.sleep(delay)
    finally:
        proc.kill()  # SIGKILL: no handler, no cleanup
        proc.wait(timeout=60)
    what = (f"{args[0]}: killed {delay:.2f} s after it started working ({working - began:.1f} s after launch)"
            if proc.returncode == -9 else f"{args[0]}: had exited ({proc.returncode}) before the kill")
    if os.environ.get("ARACLAIM_FAULT_LOG"):
        with open(os.environ["ARACLAIM_FAULT_LOG"], "a", encoding="utf-8") as fh:
            fh.write(what + "\n")
    return what


def test_kill_train_then_resume_gives_the_uninterrupted_result(workdir, tiny_data):
    cfg = load_config(REPO / "configs/baseline.yaml", shrink(tiny_data) + ["baseline.min_df=1", "context=none"])
    outputs = workdir / "outputs"
    began = time.perf_counter()
    reference = train(cfg, runs_dir=outputs)
    working = time.perf_counter() - began
    rng = random.Random(12)
    for _ in range(KILLS - 1):
        finished = {p.name: snapshot(p) for p in outputs.iterdir() if not p.name.endswith(PARTIAL)}
        what = start_and_kill(train_args(tiny_data), workdir, lambda: any(outputs.glob(f"*{PARTIAL}")),
                              rng.uniform(0, 1.3 * working))
        # every finished run folder (model included) is untouched
        assert {name: snapshot(outputs / name) for name in finished} == finished, what
        partial = list(outputs.glob(f"*{PARTIAL}"))
        assert len(partial) <= 1
        if partial:  # killed while working: --resume finishes that very run
            again = train(cfg, resume=True, runs_dir=outputs)
            assert partial[0].name == f"baseline-{again.run_id}{PARTIAL}" and not partial[0].exists()
            scores = again.scores
        else:  # killed before its run folder existed, or after the rename: no run folder, or a finished one
            new = [p for p in outputs.iterdir() if p.name not in finished]
            assert all((p / "model" / "araclaim.json").is_file() for p in new), new
            scores = train(cfg, runs_dir=outputs).scores
        for split in ("dev", "select", "calibrate", "test", "gold_article"):
            assert scores[split]["macro_f1"] == reference.scores[split]["macro_f1"], split
            assert scores[split]["ece"] == reference.scores[split]["ece"], split


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_baseline(tmp_path_factory.mktemp("model") / "model")


def articles(start: int, stop: int) -> str:
    sentences = [s for sents in TINY.values() for s in sents]
    return "".join(json.dumps({"id": f"n{i}", "text": ". ".join(sentences[(i + k) % 40] for k in range(4)) + "."},
                              ensure_ascii=False) + "\n" for i in range(start, stop))


def test_kill_label_keeps_the_previous_output_and_resume_completes(model_dir, tmp_path, capsys):
    inputs, out = tmp_path / "news.jsonl", tmp_path / "o.jsonl"
    inputs.write_text(articles(0, 40), encoding="utf-8")
    assert main(["label", "--model", str(model_dir), str(inputs), "-o", str(out)]) == 0
    previous = snapshot_outputs(out)  # a complete earlier output: the first 40 articles
    inputs.write_text(articles(0, 200), encoding="utf-8")
    began = time.perf_counter()
    assert main(["label", "--model", str(model_dir), str(inputs), "-o", str(tmp_path / "fresh.jsonl")]) == 0
    working = time.perf_counter() - began
    fresh = snapshot_outputs(tmp_path / "fresh.jsonl")
    capsys.readouterr()
    rng = random.Random(7)
    partial = Path(str(out) + ".partial")
    for _ in range(KILLS):
        restore_outputs(out, previous)
        what = start_and_kill(["label", "--model", model_dir, inputs, "-o", out, "--window", "16"], tmp_path,
                              partial.exists, rng.uniform(0, 1.5 * working))
        # the final names hold the earlier output, or (a kill after the last rename) the complete new one
        assert snapshot_outputs(out) in (previous, fresh), what
        assert main(["label", "--model", str(model_dir), str(inputs), "-o", str(out), "--resume"]) == 0
        assert snapshot_outputs(out) == fresh and not partial.exists()
    assert "Traceback" not in capsys.readouterr().err


def snapshot_outputs(out: Path) -> dict[str, bytes]:
    """The labelled file and its summary, by role (so outputs of different names compare)."""
    return {"main": out.read_bytes(), "summary": Path(str(out) + ".summary.jsonl").read_bytes()}


def restore_outputs(out: Path, saved: dict[str, bytes]) -> None:
    out.write_bytes(saved["main"])
    Path(str(out) + ".summary.jsonl").write_bytes(saved["summary"])


def test_kill_merge_review_leaves_the_old_or_the_new_training_file(tmp_path, capsys):
    sentences = [s for sents in TINY.values() for s in sents]
    train_file, held = tmp_path / "train.jsonl", tmp_path / "held.jsonl"
    original = "".join(json.dumps({"id": f"t{i}", "text": f"{sentences[i % 40]} رقم {i}", "label": "assertion",
                                   "topic": "t", "source": "written"}, ensure_ascii=False) + "\n"
                       for i in range(2000)).encode("utf-8")
    held.write_text(json.dumps({"text": sentences[0], "label": "assertion"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    queue = tmp_path / "q.csv"
    queue.write_text("text,predicted,correct_label\n" + "".join(f"جملة مراجعة رقم {i},assertion,opinion\n"
                                                                for i in range(200)), encoding="utf-8")
    args = ["data", "merge-review", str(queue), "--train", str(train_file), "--holdout", str(held)]
    train_file.write_bytes(original)
    began = time.perf_counter()
    done = subprocess.run(araclaim(*args), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    lifetime = time.perf_counter() - began  # start-up included: the kill points are drawn over all of it
    assert done.returncode == 0, done.stderr
    merged = train_file.read_bytes()
    assert merged.startswith(original) and merged.count(b"\n") == 2200
    rng = random.Random(3)
    for _ in range(KILLS + 2):
        train_file.write_bytes(original)
        # the later part of its life: reading the queue and the files, planning, writing
        what = start_and_kill(args, tmp_path, lambda: True, rng.uniform(0.5 * lifetime, 1.05 * lifetime))
        assert train_file.read_bytes() in (original, merged), what  # never a torn or half-appended file
        assert main(args) == 0 and train_file.read_bytes() == merged  # a rerun adds what is missing, once
    capsys.readouterr()
