"""MLflow tracking against a real `mlflow server` on 127.0.0.1, and registered-model aliases."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from araclaim.eval.cli import main
from araclaim.train.config import load_config
from araclaim.train.errors import AraclaimError
from araclaim.train.pipeline import train
from araclaim.train.tracking import connect

from conftest import REPO, araclaim, shrink, train_args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """A real tracking server with its own SQLite store and proxied artifact root, shared by this module's
    tests (starting one takes seconds) and stopped afterwards."""
    root = tmp_path_factory.mktemp("server")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
         "--artifacts-destination", str(root / "server-artifacts"), "--workers", "1"],
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
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def mlflow_server(server_url, monkeypatch):
    """The module's server as this test's tracking URI."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server_url)
    return server_url


def parallel_trainings(n: int, tiny_data, cwd, env) -> list[str]:
    """Start `n` `araclaim train` processes at once; all must succeed. Returns their run ids."""
    procs = [subprocess.Popen(araclaim(*train_args(tiny_data)), cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err[-3000:]
        assert "Traceback" not in err
    return [out.strip() for out, _ in results]


def assert_same_finished_runs(run_ids: list[str], uri: str) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    runs = [client.get_run(r) for r in run_ids]
    assert len(set(run_ids)) == len(run_ids) and all(r.info.status == "FINISHED" for r in runs)
    # same config and seed: the same numbers, whichever process wrote first
    assert len({r.data.metrics["select/macro_f1"] for r in runs}) == 1
    assert {r.data.params["seed"] for r in runs} == {"13"}


def test_parallel_trainings_on_a_fresh_local_store(tmp_path, tiny_data, experiment):
    """A seed sweep started at once on a fresh clone: the store's first use must not race (issue 12). (The
    default store is the repo's mlruns/, so the test names a fresh one of its own, built the same way.)"""
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "ARACLAIM_TEST_EXPERIMENT": experiment}
    run_ids = parallel_trainings(3, tiny_data, tmp_path, env)
    assert (tmp_path / "mlruns" / "mlflow.db").is_file()  # created by the first of them
    assert_same_finished_runs(run_ids, uri)
    assert {p.name for p in (tmp_path / "outputs").iterdir()} == {f"baseline-{r}" for r in run_ids}


def test_parallel_trainings_against_a_server(tmp_path, tiny_data, server_url, experiment):
    env = {**os.environ, "MLFLOW_TRACKING_URI": server_url, "ARACLAIM_TEST_EXPERIMENT": experiment}
    run_ids = parallel_trainings(2, tiny_data, tmp_path, env)  # two suffice to collide on a new experiment
    assert_same_finished_runs(run_ids, server_url)
    assert not (tmp_path / "mlruns").exists()


def test_train_and_eval_against_a_remote_server(workdir, tiny_data, mlflow_server, capsys):
    import mlflow

    result = train(load_config(REPO / "configs/baseline.yaml", shrink(tiny_data) + ["baseline.min_df=1"]))
    assert mlflow.get_tracking_uri() == mlflow_server
    assert "gold_article/macro_f1" in mlflow.get_run(result.run_id).data.metrics
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

    from araclaim.train.model_store import load_classifier, model_cache_dir

    result, _ = trained_baseline
    clf, uri, run_id = load_classifier(result.run_id)
    cached = model_cache_dir(uri)
    assert run_id == result.run_id and (cached / ".complete").is_file()
    monkeypatch.setitem(sys.modules, "mlflow", None)  # any `import mlflow` now fails
    again, uri2, run_id2 = load_classifier(result.run_id)
    texts = ["نفت الوزارة صحة التقارير", "قال الوزير إن الخطة جاهزة"]
    assert (uri2, run_id2) == (uri, run_id)
    assert (again.predict_proba(texts) == clf.predict_proba(texts)).all()


def test_a_runs_dataset_inputs_come_from_the_hugging_face_splits(trained_baseline):
    import mlflow

    from araclaim.train.pipeline import load_splits

    result, data = trained_baseline
    splits = load_splits(load_config(REPO / "configs/baseline.yaml", shrink(data, "shared-baseline")))
    hf = splits.to_hf()
    inputs = {i.dataset.name: i for i in mlflow.get_run(result.run_id).inputs.dataset_inputs}
    assert set(inputs) == set(hf)  # train (both files), dev, select, calibrate, test, gold_article
    roles = {"train": "training", "dev": "validation", "select": "selection", "calibrate": "calibration",
             "test": "test", "gold_article": "evaluation"}
    files = {"train": [data["train"], data["articles_train"]], "gold_article": [data["gold"]],
             **{name: [data[name]] for name in ("dev", "select", "calibrate", "test")}}
    for name, entry in inputs.items():
        dataset = entry.dataset
        assert dataset.source_type == "hugging_face", name
        assert dataset.digest == mlflow.data.from_huggingface(hf[name]).digest, name  # the validated rows
        source = json.loads(dataset.source)
        assert (source["path"], source["split"]) == ("json", name)
        assert source["data_files"] == {name: [str(p.resolve()) for p in files[name]]}, name
        assert [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]] == hf[name].column_names
        assert json.loads(dataset.profile)["num_rows"] == hf[name].num_rows
        assert {t.key: t.value for t in entry.tags}["mlflow.data.context"] == roles[name]


def test_a_local_store_is_the_repos_and_keeps_artifacts_beside_it_from_any_directory(tmp_path, monkeypatch):
    import mlflow

    from araclaim.train.tracking import default_uri, experiment_id

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_uri() == f"sqlite:///{REPO / 'mlruns' / 'mlflow.db'}"  # not ./mlruns of the working directory
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    connect(f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}")
    root = (tmp_path / "store" / "artifacts").as_uri()
    exp = mlflow.get_experiment(experiment_id("placement"))
    assert exp.artifact_location == root and mlflow.get_experiment("0").artifact_location.startswith(root)
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"  # the UI opens it on its runs
    assert not any(elsewhere.iterdir())


def test_each_family_logs_only_the_params_it_reads():
    from araclaim.train.tracking import run_params

    def keys(config, *sets):
        return set(run_params(load_config(REPO / f"configs/{config}.yaml", list(sets))))

    common = {"name", "family", "seed", "context", "data.select", "calibration.method"}
    baseline, tiny = keys("baseline"), keys("tiny-bert")
    assert common <= baseline and "baseline.C" in baseline and not {k for k in baseline if "transformer" in k}
    assert "transformer.pretrain.vocab_size" in tiny and "transformer.name_or_path" not in tiny  # no hub name
    assert not {k for k in tiny if k.startswith(("baseline.", "ensemble.", "tracking."))} and "context_size" not in tiny
    assert {"transformer.name_or_path", "transformer.learning_rate"} <= keys("arabert")
    assert {"baseline.C", "transformer.pretrain.vocab_size", "ensemble.weight_steps"} <= keys("ensemble")
    reuse = keys("ensemble", "ensemble.transformer_model=" + "ab" * 16)  # the member's own run has its params
    assert "ensemble.transformer_model" in reuse and not {k for k in reuse if k.startswith("transformer.")}
    assert "context_size" in keys("baseline", "context=window") and "baseline.context_weight" in baseline
    assert "baseline.context_weight" not in keys("baseline", "context=none")
