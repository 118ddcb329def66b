"""`araclaim ui`: the MLflow UI over the project's store, and a direct link to the experiment's training runs.

The store is the one `araclaim train` logs to (train/tracking.default_uri: $MLFLOW_TRACKING_URI, else
<repo>/mlruns/mlflow.db from any working directory). The UI runs as a child process with one worker (four
workers each import MLflow's server: most of the start-up time on a small machine); once it answers, the
experiment is looked up over the UI's own REST API, so this process never imports mlflow.
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
import urllib.parse
import urllib.request
from pathlib import Path

from araclaim.train.errors import AraclaimError
from araclaim.train.tracking import connect, default_uri, local_artifact_root

HOST = "127.0.0.1"
START_TIMEOUT_S = 180  # a cold start on two busy cores takes a minute
# The experiment's runs as charts: `workflowType` keeps MLflow 3 off its GenAI pages (traces, "Detect Issues"),
# `compareRunsMode=CHART` opens the chart view, where metrics are grouped by their `<group>/` prefix.
RUNS_VIEW = "runs?workflowType=machine_learning&compareRunsMode=CHART"


def training_runs_link(base_url: str, experiment_id: str | None) -> str:
    """The UI's URL for an experiment's training runs in chart mode (the experiment list when there is none)."""
    base = base_url.rstrip("/")
    if experiment_id is None:
        return f"{base}/#/experiments?workflowType=machine_learning"
    return f"{base}/#/experiments/{experiment_id}/{RUNS_VIEW}"


def find_experiment(base_url: str, name: str) -> tuple[str | None, int]:
    """(experiment id, number of runs) of experiment `name` on a running UI or tracking server; (None, 0)
    when there is no such experiment."""
    query = urllib.parse.urlencode({"experiment_name": name})
    try:
        exp = _call(f"{base_url}/api/2.0/mlflow/experiments/get-by-name?{query}")["experiment"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:  # RESOURCE_DOES_NOT_EXIST
            return None, 0
        raise
    runs, token = 0, None
    while True:  # pages of runs, for the count
        body = {"experiment_ids": [exp["experiment_id"]], "max_results": 1000,
                **({"page_token": token} if token else {})}
        page = _call(f"{base_url}/api/2.0/mlflow/runs/search", body)
        runs += len(page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            return exp["experiment_id"], runs


def _call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def server_command(uri: str, port: int, verbose: bool) -> list[str]:
    """`mlflow ui` over `uri`; a local SQLite store's artifacts are read and written beside its database."""
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", HOST, "--port", str(port),
           "--workers", "1"]
    root = local_artifact_root(uri)
    if root is not None:  # both: new experiments' files, and files uploaded through the UI's proxy
        cmd += ["--default-artifact-root", root.as_uri(), "--artifacts-destination", root.as_uri()]
    if not verbose:  # one line per request otherwise; our own lines say where to go
        cmd += ["--uvicorn-opts", "--log-level warning"]
    return cmd


def _server_env(verbose: bool) -> dict[str, str]:
    # Job execution runs GenAI judges and scorers: a process of its own, importing MLflow again, for nothing
    # a training run uses. Library deprecation warnings are MLflow's business, shown with -v.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    return env if verbose else {**env, "PYTHONWARNINGS": "ignore"}


def run_ui(port: int, experiment: str, verbose: bool = False) -> int:
    """Start the UI, print which store it shows and the link to `experiment`'s training runs; serve until
    Ctrl-C (or SIGTERM), then stop the UI."""
    uri = default_uri()
    if uri.startswith(("http://", "https://")):  # a tracking server already has its UI
        connect(uri)
        exp_id, runs = find_experiment(uri, experiment)
        say_store(f"the tracking server {uri}", experiment, exp_id, runs)
        print(training_runs_link(uri, exp_id), flush=True)
        return 0
    _check_port_free(port)
    db = Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None
    if db is not None and not db.is_file():
        print(f"no MLflow store at {db} yet: creating an empty one", file=sys.stderr)
        connect(uri)  # built here, under its lock, not by the UI while a training run may be building it
    where = f"the store {db} (artifacts in {local_artifact_root(uri)})" if db else f"the store {uri}"
    server = subprocess.Popen(server_command(uri, port, verbose), env=_server_env(verbose), stdout=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a plain kill also stops the UI (finally below)
    try:
        base = f"http://{HOST}:{port}"
        _wait_until_up(server, base)
        exp_id, runs = find_experiment(base, experiment)
        say_store(where, experiment, exp_id, runs)
        print(training_runs_link(base, exp_id), flush=True)
        print("(Ctrl-C stops the UI)", file=sys.stderr, flush=True)
        server.wait()
        return server.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


def say_store(where: str, experiment: str, exp_id: str | None, runs: int) -> None:
    """Tell the user (stderr) which store the UI shows, and warn when the experiment has no runs there."""
    print(f"MLflow UI over {where}", file=sys.stderr)
    if runs == 0:
        missing = "does not exist" if exp_id is None else "has no runs"
        print(f"warning: experiment {experiment!r} {missing} in this store; train one (araclaim train --config "
              "configs/baseline.yaml), or point MLFLOW_TRACKING_URI at the store that has your runs",
              file=sys.stderr)
    else:
        print(f"experiment {experiment!r}: {runs} run(s); its training runs, as charts grouped by split:",
              file=sys.stderr, flush=True)


def _check_port_free(port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise AraclaimError(f"port {port} on {HOST} is in use (another `araclaim ui`?); stop it, or pass "
                                f"--port {port + 1}") from None


def _wait_until_up(server: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AraclaimError(f"the MLflow UI exited with status {server.returncode} before it answered (its "
                                "messages are above); run `araclaim -v ui` for more")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AraclaimError(f"the MLflow UI did not answer on {base} within {START_TIMEOUT_S} s")
