"""Article context: built from the same article only, in file order, and used by every model path."""
import json
import random

import numpy as np
import pytest

from araclaim.eval.cli import main
from araclaim.train import baseline, context, metrics
from araclaim.train.config import BaselineConfig
from araclaim.train.data import load_labelled
from araclaim.train.labels import LABELS
from araclaim.train.model import Classifier

from conftest import REPO, as_articles, shrink, write_jsonl


@pytest.mark.parametrize("groups, k, expected", [
    (["a", "a", "a"], 1, [[], [0], [1]]),
    (["a", "a", "a"], 2, [[], [0], [0, 1]]),
    (["a", "b", "a", "b"], 1, [[], [], [0], [1]]),          # interleaved articles never mix
    ([None, None, "a", None, "a"], 3, [[], [], [], [], [2]]),  # standalone sentences have none
    (["a", "a"], 0, [[], []]),                               # context: none
])
def test_previous_indices_same_article_in_file_order(groups, k, expected):
    assert context.previous_indices(groups, k) == expected


@pytest.mark.parametrize("mode, size, k", [("none", 3, 0), ("previous", 3, 1), ("window", 3, 3), ("window", 5, 5)])
def test_window_size_of_each_mode(mode, size, k):
    assert context.window_size(mode, size) == k


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="previous"):
        context.window_size("before", 2)


def test_shuffled_article_changes_context_but_not_the_file_order(tmp_path):
    rows = as_articles([{"text": f"الجملة رقم {i} في المقال", "label": "assertion"} for i in range(8)], "x", size=8)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    ordered = load_labelled(write_jsonl(tmp_path / "a.jsonl", rows))
    mixed = load_labelled(write_jsonl(tmp_path / "b.jsonl", shuffled))
    assert mixed.texts == [r["text"] for r in shuffled]  # sentences stay in the file's order
    assert ordered.contexts(1)[1] == [rows[0]["text"]]
    by_text_ordered = dict(zip(ordered.texts, map(tuple, ordered.contexts(1))))
    by_text_mixed = dict(zip(mixed.texts, map(tuple, mixed.contexts(1))))
    assert by_text_ordered != by_text_mixed
    # each context is the sentence just before it in the (shuffled) file
    assert all(c == ([mixed.texts[i - 1]] if i else []) for i, c in enumerate(mixed.contexts(1)))


def test_context_features_see_a_continuation_after_a_reported_sentence():
    previous = ["وقال المتحدث باسم الوزارة إن الاجتماع عقد في موعده"]
    probs = np.array([[0.05, 0.05, 0.85, 0.05]])
    cont = baseline.context_features("وأضاف أن القرار سيصدر الأسبوع المقبل", previous, probs, 1)
    plain = baseline.context_features("وتقع المدينة على الساحل الشرقي", previous, probs, 1)
    alone = baseline.context_features("وأضاف أن القرار سيصدر الأسبوع المقبل", [], np.zeros((0, 4)), 1)
    assert len(cont) == len(plain) == len(alone)
    assert cont[0] == 1 and alone[0] == 0          # has context
    assert cont[1] == 1 and plain[1] == 0          # opens with a continuation marker
    k = len(LABELS)
    interaction = slice(2 + 2 * k, 2 + 3 * k)      # continuation x previous probabilities
    assert cont[interaction][LABELS.index("attributed_claim")] == pytest.approx(0.85)
    assert plain[interaction] == [0.0] * k


def test_baseline_with_context_reads_the_previous_sentence(tiny_data):
    data = load_labelled(tiny_data["articles_train"])
    backend = baseline.fit(BaselineConfig(min_df=1), data.texts, data.labels, 13, data.groups, 1)
    clf = Classifier(backend, "baseline", context_size=1)
    sentence = ["وأضاف أن المشروع سينجز في موعده"]
    after_denial = clf.predict_proba(sentence, [["نفت الوزارة صحة التقارير عن إغلاق المستشفى"]])
    after_claim = clf.predict_proba(sentence, [["قال وزير المالية إن العجز سينخفض العام المقبل"]])
    alone = clf.predict_proba(sentence)
    assert not np.allclose(after_denial, after_claim)
    assert not np.allclose(alone, after_claim)
    # a model without context ignores whatever context it is given
    plain = Classifier(baseline.fit(BaselineConfig(min_df=1), data.texts, data.labels, 13), "baseline")
    assert np.allclose(plain.predict_proba(sentence, [["نفت الوزارة"]]), plain.predict_proba(sentence))


def test_stratified_bootstrap_always_averages_the_same_classes(monkeypatch):
    gold = ["assertion"] * 20 + ["attributed_claim"] * 20 + ["opinion"] * 3 + ["denial"]
    pred = gold[:]
    pred[0], pred[21] = "opinion", "assertion"
    seen = []

    def recording(g, p):
        seen.append(frozenset(g))
        return metrics.macro_f1(g, p)

    lo, hi = metrics.bootstrap_ci(gold, pred, recording, n_resamples=300, seed=13)
    assert set(seen) == {frozenset(LABELS)}  # the single denial is in every resample
    assert lo <= metrics.macro_f1(gold, pred) <= hi
    assert metrics.bootstrap_ci(gold, pred, seed=13) == metrics.bootstrap_ci(gold, pred, seed=13)
    assert metrics.bootstrap_ci(gold, pred, seed=13) != metrics.bootstrap_ci(gold, pred, seed=14)


@pytest.mark.parametrize("key", ["select", "calibrate", "test"])
def test_mistyped_split_path_is_an_error_naming_the_key_and_the_fix(workdir, tiny_data, capsys, key):
    bad = str(tiny_data[key]).replace(".jsonl", "s.jsonl")
    code = main(["train", "--config", str(REPO / "configs/baseline.yaml"), *sum((["--set", s] for s in shrink(tiny_data)), []),
                 "--set", f"data.{key}={bad}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"data.{key}" in err and bad in err and "--set" in err
    assert "Traceback" not in err


def test_reliability_and_review_metrics_on_hand_made_arrays():
    confidence = [0.95, 0.95, 0.95, 0.95, 0.55, 0.55]
    correct = [True, True, True, False, True, False]
    # bins: 0.9-1.0 (acc 0.75, conf 0.95), 0.5-0.6 (acc 0.5, conf 0.55)
    assert metrics.ece(confidence, correct) == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.05)
    review = metrics.review_coverage(confidence, correct, 0.9)
    assert review["queued"] == pytest.approx(2 / 6) and review["errors_caught"] == pytest.approx(0.5)


def test_eval_reports_ece_per_gold_file_and_logs_a_reliability_diagram(trained_baseline, workdir, capsys):
    import mlflow

    result, data = trained_baseline
    assert main(["eval", "--model", result.run_id, "--gold", str(data["gold"]), "--gold", str(data["test"]),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"gold_article", "test"}
    for name in report:
        assert 0 <= report[name]["ece"] <= 1
        assert [r["threshold"] for r in report[name]["review"]] == [0.5, 0.7, 0.9]
    assert main(["eval", "--model", result.run_id, "--gold", str(data["gold"])]) == 0
    assert "ECE" in capsys.readouterr().out
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result.run_id, "eval")}
    assert "eval/gold_article_reliability.png" in artifacts
    trained = {a.path for a in mlflow.MlflowClient().list_artifacts(result.run_id)}
    assert {"reliability_test.png", "reliability_gold_article.png"} <= trained


def test_pyfunc_passes_article_context(trained_baseline, workdir):
    import mlflow
    import pandas as pd

    result, _ = trained_baseline
    model = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model")
    frame = pd.DataFrame({"text": ["نفت الوزارة صحة التقارير", "وأضاف أن المشروع سينجز في موعده"],
                          "article": ["a1", "a1"]})
    with_context = model.predict(frame)
    alone = model.predict(frame[["text"]])
    assert list(with_context.columns) == list(alone.columns)
    # the first sentence has no predecessor either way; the second reads the first only with `article`
    assert with_context.iloc[0]["prob_denial"] == pytest.approx(alone.iloc[0]["prob_denial"])
    assert with_context.iloc[1]["prob_denial"] != pytest.approx(alone.iloc[1]["prob_denial"])
