"""End to end on the baseline: config -> MLflow run -> eval by every model reference -> labelled file."""
import json

import pandas as pd
import pytest

from araclaim.eval.cli import main
from araclaim.train.labels import LABELS



@pytest.fixture
def trained(trained_baseline, workdir):
    """The session's tiny baseline (trained once), used from this test's working directory."""
    return trained_baseline[0]


def test_train_logs_complete_run(trained):
    import mlflow

    run = mlflow.get_run(trained.run_id)
    assert run.data.params["family"] == run.data.tags["model_family"] == "baseline"
    assert run.data.tags["config_name"] == "baseline" and "git_commit" in run.data.tags
    # only the keys the baseline reads: no transformer.*, no hub name; the whole config is config.yaml
    assert not any(k.startswith(("transformer.", "ensemble.", "tracking.")) for k in run.data.params)
    assert {"baseline.C", "data.select", "calibration.method", "context", "seed"} <= set(run.data.params)
    for key in ("dev/macro_f1", "gold_article/macro_f1", "gold_article_ci/macro_f1_low",
                "gold_article/lenient_accuracy", "gold_article_per_class/f1_denial", "select/macro_f1",
                "test/macro_f1", "test/ece", "calibrate/ece_uncalibrated", "cost/train_seconds"):
        assert key in run.data.metrics, key
    assert not [k for k in run.data.metrics if "/" not in k]  # every metric is in a UI group
    assert run.data.metrics["dev/macro_f1"] > 0.5  # cues make the tiny set easy; chance is 0.25
    note = run.data.tags["mlflow.note.content"]  # the run's description in the UI
    assert note.startswith("baseline (baseline):") and f"select {trained.scores['select']['macro_f1']:.3f}" in note
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
    assert {"training", "validation", "evaluation"} <= contexts
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(trained.run_id)}
    assert {"config.yaml", "label_map.json", "confusion_gold_article.png"} <= artifacts


def test_pyfunc_model_returns_labels_and_probabilities(trained):
    import mlflow

    model = mlflow.pyfunc.load_model(f"runs:/{trained.run_id}/model")
    out = model.predict(pd.DataFrame({"text": ["نفت الشركة صحة الأنباء", "قال الوزير إن الخطة جاهزة"]}))
    assert list(out.columns) == ["label"] + [f"prob_{label}" for label in LABELS]
    assert set(out["label"]) <= set(LABELS)
    assert out[[f"prob_{label}" for label in LABELS]].sum(axis=1).round(6).eq(1).all()


@pytest.mark.parametrize("ref", ["run_id", "runs_uri", "model_dir"])
def test_eval_accepts_every_model_reference(trained, tiny_data, capsys, ref):
    model = {"run_id": trained.run_id, "runs_uri": f"runs:/{trained.run_id}/model",
             "model_dir": str(trained.model_dir)}[ref]
    assert main(["eval", "--model", model, "--gold", str(tiny_data["gold"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"n", "accuracy", "macro_f1", "lenient_accuracy", "per_class"} <= set(report)
    assert report["n"] == 8 and report["n_skipped"] == 1
    assert set(report["per_class"]) == set(LABELS)
    assert set(report["per_class"]["denial"]) == {"precision", "recall", "f1", "support"}
    assert report["lenient_accuracy"] >= report["accuracy"]
    # the same model scores the same whichever way it is referenced
    assert report["macro_f1"] == pytest.approx(trained.scores["gold_article"]["macro_f1"])


def test_eval_logs_gold_metrics_back_to_the_run(trained, tiny_data, workdir):
    import mlflow

    assert main(["eval", "--model", trained.run_id, "--gold", str(tiny_data["gold"]),
                 "--out", str(workdir / "rep")]) == 0
    assert (workdir / "rep" / "gold_article.md").is_file()
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(trained.run_id, "eval")}
    assert "eval/gold_article.md" in artifacts


def test_label_writes_one_record_per_sentence(trained, workdir):
    article = workdir / "news.txt"
    article.write_text("نفت الوزارة صحة التقارير. قال الوزير إن الخطة جاهزة.\nيجب أن نتحرك الآن!", encoding="utf-8")
    out = workdir / "out" / "labelled.jsonl"
    assert main(["label", "--model", trained.run_id, str(article), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2]
    assert rows[0]["article"] == "news" and rows[0]["text"] == "نفت الوزارة صحة التقارير."
    assert set(rows[0]["probs"]) == set(LABELS) and rows[0]["label"] in LABELS


def test_compare_lists_the_run(trained, capsys):
    assert main(["compare", "--experiment", "shared-baseline"]) == 0
    out = capsys.readouterr().out
    assert trained.run_id in out and "baseline" in out


def test_missing_model_is_a_clear_error(workdir, tiny_data, capsys):
    assert main(["eval", "--model", "0" * 32, "--gold", str(tiny_data["gold"])]) == 2
    err = capsys.readouterr().err
    assert "could not load model runs:/" in err and "Traceback" not in err
    assert main(["eval", "--model", "no/such/thing", "--gold", str(tiny_data["gold"])]) == 2
    assert "neither a directory nor an MLflow run id" in capsys.readouterr().err
