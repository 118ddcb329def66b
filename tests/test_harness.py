"""The evaluation harness: reference labellers, error lists, reports, several gold files, compare."""
import csv
import io
import json

import numpy as np
import pytest

from araclaim.eval.cli import main
from araclaim.eval.harness import MajorityLabeller, RuleLabeller, evaluate, majority_label
from araclaim.train.data import load_labelled, read_records
from araclaim.train.labels import LABELS

from conftest import write_jsonl


class FixedLabeller:
    """A stand-in model with chosen probabilities, to test the harness's bookkeeping exactly."""

    labels = LABELS

    def __init__(self, rows):
        self.rows = np.asarray(rows, dtype=float)

    def predict_proba(self, texts):
        return self.rows[: len(texts)]


@pytest.fixture
def gold4(tmp_path):
    rows = [
        {"id": "a", "line": 1, "text": "افتتحت البلدية حديقة", "label": "assertion"},
        {"id": "b", "line": 2, "text": "نفت الوزارة التقارير", "label": "denial", "alt_label": "attributed_claim"},
        {"id": "c", "line": 3, "text": "قال الوزير إن الخطة جاهزة", "label": "attributed_claim"},
        {"id": "d", "line": 4, "text": "يجب أن نتحرك", "label": "opinion"},
        {"id": "s", "line": 5, "text": "بقلم مراسلنا", "label": "skip", "note": "byline"},
    ]
    return load_labelled(write_jsonl(tmp_path / "gold" / "g.jsonl", rows))


def test_errors_sorted_by_confidence_with_lenient_flag(gold4):
    model = FixedLabeller([[0.9, 0.05, 0.03, 0.02],   # a: right
                           [0.1, 0.2, 0.6, 0.1],      # b: wrong, but alt_label
                           [0.95, 0.0, 0.05, 0.0],    # c: wrong, very confident
                           [0.1, 0.1, 0.1, 0.7]])     # d: right
    ev = evaluate(model, gold4, "fixed")
    errors = ev.errors()
    assert [e["id"] for e in errors] == ["c", "b"]
    assert errors[0]["confidence"] == pytest.approx(0.95) and errors[1]["lenient_ok"] is True
    assert ev.scores["accuracy"] == 0.5 and ev.scores["lenient_accuracy"] == 0.75
    assert ev.scores["n"] == 4 and ev.scores["n_skipped"] == 1
    assert ev.skipped() == [{"id": "s", "line": 5, "text": "بقلم مراسلنا", "reason": "byline"}]
    assert ev.scores["macro_f1_ci_low"] <= ev.scores["macro_f1"] <= ev.scores["macro_f1_ci_high"]


def test_reference_labellers(gold4):
    rule = evaluate(RuleLabeller(), gold4, "cue_rule")
    assert list(rule.pred) == ["assertion", "denial", "attributed_claim", "opinion"]
    assert majority_label(gold4) == "assertion"  # four-way tie broken by LABELS order
    maj = evaluate(MajorityLabeller("attributed_claim"), gold4, "majority")
    assert set(maj.pred) == {"attributed_claim"} and maj.scores["accuracy"] == 0.25


@pytest.fixture
def trained(trained_baseline, workdir):
    """The session's tiny baseline (trained once), used from this test's working directory."""
    return trained_baseline[0]


def test_several_gold_files_reports_and_errors_out(trained, tiny_data, workdir, capsys):
    second = write_jsonl(workdir / "other.jsonl", [
        {"id": "x1", "text": "نفت الشركة صحة الأنباء عن إفلاسها", "label": "denial"},
        {"id": "x2", "text": "ارتفعت أسعار الذهب اليوم", "label": "opinion"},  # deliberately mislabelled
    ])
    errors = workdir / "errs.jsonl"
    code = main(["eval", "--model", trained.run_id, "--gold", str(tiny_data["gold"]), "--gold", str(second),
                 "--json", "--out", str(workdir / "rep"), "--errors-out", str(errors)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"gold_article", "other"}
    assert report["other"]["n"] == 2 and "cue_rule" in report["other"]["reference"]
    for name in ("gold_article", "other"):
        for suffix in (".md", ".json", "_confusion.png"):
            assert (workdir / "rep" / f"{name}{suffix}").is_file()
    rows, problems = read_records(errors)
    assert problems == [] and any(r.text == "ارتفعت أسعار الذهب اليوم" for r in rows)
    assert all({"topic", "source"} <= set(r.extra) for r in rows)


def test_eval_metrics_reach_compare(trained, tiny_data, workdir, capsys):
    other = write_jsonl(workdir / "gold" / "extra.jsonl", [
        {"id": "y1", "text": "نفت الوزارة صحة التقارير عن إغلاق المستشفى", "label": "denial"}])
    assert main(["eval", "--model", trained.run_id, "--gold", str(other), "--out", str(workdir / "rep")]) == 0
    import mlflow

    assert "gold_extra/macro_f1" in mlflow.get_run(trained.run_id).data.metrics
    capsys.readouterr()
    assert main(["compare", "--csv", "--experiment", "shared-baseline"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert table[0]["run_id"] == trained.run_id
    assert float(table[0]["gold_ci_low"]) <= float(table[0]["gold_f1"]) <= float(table[0]["gold_ci_high"])


def test_terminal_report_lists_floors_and_errors(trained, tiny_data, capsys):
    assert main(["eval", "--model", str(trained.model_dir), "--gold", str(tiny_data["gold"])]) == 0
    out = capsys.readouterr().out
    assert "cue_rule" in out and "majority(" in out and "95% CI" in out and "errors" in out
