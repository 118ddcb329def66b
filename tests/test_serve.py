"""Serving over HTTP: the real `mlflow models serve` on a logged araclaim model, asked over 127.0.0.1.

The server is started as README's "Serving over HTTP" shows it (`--env-manager local`, so no environment is
built), in its own process group, and killed at the end whatever happens.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from araclaim.train.labels import LABELS

START_TIMEOUT_S = 120  # uvicorn + MLflow import + model load; seconds on an idle machine, more on a busy one
ARTICLE = ["نفت وزارة الصحة صحة التقارير عن إغلاق المستشفى", "وأضاف المتحدث أن المستشفى يعمل بشكل طبيعي",
           "يجب على الحكومة أن تراجع سياستها فورا"]
OTHER = ["قال الوزير إن الخطة جاهزة", "افتتحت البلدية حديقة عامة جديدة"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture
def server(trained_baseline, mlflow_store, tmp_path):
    """`mlflow models serve -m runs:/<id>/model` on a free port; yields its base URL, then kills it."""
    result, _ = trained_baseline
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)  # mlflow runs `uvicorn` from PATH: this venv's
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", f"runs:/{result.run_id}/model",
                             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow models serve exited with {proc.returncode}:\n{(tmp_path / 'serve.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no /ping answer within {START_TIMEOUT_S}s:\n{(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.5)
        yield url, result
    finally:
        # the server forks uvicorn workers: end the whole group it leads (ours alone, by its id)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
        log.close()


def frame(predictions: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(predictions)[["label", *[f"prob_{lab}" for lab in LABELS]]]


def test_served_model_labels_articles_over_http(server, mlflow_store):
    import mlflow

    from araclaim.train.tracking import connect

    url, result = server
    connect(mlflow_store)  # an earlier test may have pointed MLflow's process-wide URI elsewhere
    rows = [[t, "a1"] for t in ARTICLE] + [[t, "a2"] for t in OTHER]
    with_context = frame(post(f"{url}/invocations",
                              {"dataframe_split": {"columns": ["text", "article"], "data": rows}})["predictions"])
    alone = frame(post(f"{url}/invocations",
                       {"dataframe_split": {"columns": ["text"], "data": [[r[0]] for r in rows]}})["predictions"])
    probs = with_context[[f"prob_{lab}" for lab in LABELS]].to_numpy()
    assert len(with_context) == len(rows) and set(with_context["label"]) <= set(LABELS)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs >= 0).all()
    assert (with_context["label"] == [LABELS[i] for i in probs.argmax(axis=1)]).all()
    assert with_context["label"][0] == "denial"  # the tiny model learnt "نفت ... صحة" as a denial

    # the server answers what the same model answers in-process, with and without article context
    local = mlflow.pyfunc.load_model(result.model_uri)
    expected = local.predict(pd.DataFrame(rows, columns=["text", "article"]))
    assert (with_context["label"] == expected["label"]).all()
    assert np.allclose(probs, expected[[f"prob_{lab}" for lab in LABELS]].to_numpy(), atol=1e-6)
    # the model reads context: first sentences of articles have none and agree; some later one changes
    first = [0, len(ARTICLE)]
    assert np.allclose(probs[first], alone[[f"prob_{lab}" for lab in LABELS]].to_numpy()[first], atol=1e-6)
    assert not np.allclose(probs, alone[[f"prob_{lab}" for lab in LABELS]].to_numpy(), atol=1e-6)

    with pytest.raises(urllib.error.HTTPError) as err:  # a malformed request is refused, not guessed at
        post(f"{url}/invocations", {"dataframe_split": {"columns": ["headline"], "data": [["x"]]}})
    assert err.value.code == 400
