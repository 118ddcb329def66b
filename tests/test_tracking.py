"""MLflow tracking against a real `mlflow server` on 127.0.0.1, and registered-model aliases."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from eval.cli import main
from train.config import load_config
from train.errors import AraclaimError
from train.pipeline import train
from train.tracking import connect

from conftest import REPO, shrink


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path, monkeypatch):
    """A real tracking server with its own SQLite store and proxied artifact root, stopped afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "server-artifacts"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "MLFLOW_TRACKING_URI": ""})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("mlflow server did not start within 90 s")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_train_and_eval_against_a_remote_server(workdir, tiny_data, mlflow_server, capsys):
    import mlflow

    result = train(load_config(REPO / "configs/baseline.yaml", shrink(tiny_data) + ["baseline.min_df=1"]))
    assert mlflow.get_tracking_uri() == mlflow_server
    assert "gold_article_macro_f1" in mlflow.get_run(result.run_id).data.metrics
    assert main(["eval", "--model", result.run_id, "--gold", str(tiny_data["gold"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 8
    assert not (workdir / "mlruns").exists()  # nothing leaked into a local store


def test_registered_alias_is_accepted_by_eval_and_label(workdir, tiny_data, capsys):
    cfg = load_config(REPO / "configs/baseline.yaml", shrink(tiny_data) + [
        "baseline.min_df=1", "tracking.register_as=araclaim-test", "tracking.alias=champion"])
    train(cfg)
    uri = "models:/araclaim-test@champion"
    assert main(["eval", "--model", uri, "--gold", str(tiny_data["gold"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 8
    article = workdir / "a.txt"
    article.write_text("نفت الوزارة صحة التقارير.", encoding="utf-8")
    assert main(["label", "--model", uri, str(article), "-o", str(workdir / "out.jsonl")]) == 0
    record = json.loads((workdir / "out.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert record["model"] == uri


def test_unreachable_server_fails_fast(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(AraclaimError, match="not reachable.*mlflow server"):
        connect()
    assert time.monotonic() - started < 10


def test_a_runs_model_is_downloaded_once_and_then_loaded_without_mlflow(trained_baseline, monkeypatch):
    import sys

    from train.tracking import load_classifier, model_cache_dir

    result, _ = trained_baseline
    clf, uri, run_id = load_classifier(result.run_id)
    cached = model_cache_dir(uri)
    assert run_id == result.run_id and (cached / ".complete").is_file()
    monkeypatch.setitem(sys.modules, "mlflow", None)  # any `import mlflow` now fails
    again, uri2, run_id2 = load_classifier(result.run_id)
    texts = ["نفت الوزارة صحة التقارير", "قال الوزير إن الخطة جاهزة"]
    assert (uri2, run_id2) == (uri, run_id)
    assert (again.predict_proba(texts) == clf.predict_proba(texts)).all()
