"""`araclaim label` end to end through the CLI: inputs of every kind, bad input, atomic output, resume, review."""
import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from araclaim.eval.cli import main
from araclaim.eval.harness import evaluate
from araclaim.eval.label import configure_backend
from araclaim.eval.outputs import csv_columns
from araclaim.eval.segment import MAX_CHARS
from araclaim.train.baseline import fit
from araclaim.train.config import BaselineConfig
from araclaim.train.data import load_labelled
from araclaim.train.labels import LABELS
from araclaim.train.model import Classifier

from conftest import REPO, TINY

NEWS = "نفت الوزارة صحة التقارير. قال الوزير إن الخطة جاهزة.\nيجب أن نتحرك الآن!"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny baseline saved as a model directory (no MLflow needed)."""
    texts = [s for sents in TINY.values() for s in sents]
    labels = [lab for lab, sents in TINY.items() for _ in sents]
    backend = fit(BaselineConfig(min_df=1), texts, labels, seed=13)
    return Classifier(backend, "baseline").save(tmp_path_factory.mktemp("model") / "model")


def run(capsys, *argv):
    """Run the CLI; returns (exit code, stderr). No traceback may reach the user."""
    code = main(["label", *map(str, argv)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def rows(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else lambda d: path.write_text(d, encoding="utf-8"))(data)
    return path


def test_every_input_kind_and_the_output_schema(model_dir, tmp_path, capsys, monkeypatch):
    write(tmp_path / "in/a.txt", NEWS)
    write(tmp_path / "in/sub/b.txt", "أعلنت الشركة أنها ستفتتح فرعا جديدا.")
    write(tmp_path / "in/ignored.md", "ليس مدخلا")
    write(tmp_path / "arts.jsonl", json.dumps({"id": "j1", "body": "نفى النادي الشائعات."}, ensure_ascii=False) + "\n")
    write(tmp_path / "arts.csv", "id,body\nc1,كذبت الشرطة الرواية المنشورة.\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("هذا قرار فاشل.".encode())))
    out = tmp_path / "out.jsonl"
    code, err = run(capsys, "--model", model_dir, tmp_path / "in", "-", "-o", out)
    assert code == 0 and "labelled 5 sentences" in err
    recs = rows(out)
    assert [(r["article"], r["index"]) for r in recs] == [("a", 0), ("a", 1), ("a", 2), ("sub/b", 0), ("stdin", 0)]
    assert set(recs[0]) == {"article", "source", "index", "start", "end", "text", "label", "skipped", "warning",
                            "probs", "model"}
    assert NEWS[recs[1]["start"]:recs[1]["end"]] == recs[1]["text"] == "قال الوزير إن الخطة جاهزة."
    assert all(r["label"] in LABELS and set(r["probs"]) == set(LABELS) for r in recs)
    assert recs[0]["model"] == str(model_dir.resolve())
    summary = rows(tmp_path / "out.jsonl.summary.jsonl")
    assert [s["article"] for s in summary] == ["a", "sub/b", "stdin"] and summary[0]["sentences"] == 3
    assert sum(summary[0]["labels"].values()) == 3

    out2 = tmp_path / "out2.jsonl"
    code, _ = run(capsys, "--model", model_dir, tmp_path / "arts.jsonl", tmp_path / "arts.csv", "--text-field", "body",
                  "-o", out2)
    assert code == 0 and [(r["article"], r["text"]) for r in rows(out2)] == [
        ("j1", "نفى النادي الشائعات."), ("c1", "كذبت الشرطة الرواية المنشورة.")]


def test_csv_output_and_review_queue(model_dir, tmp_path, capsys):
    src = write(tmp_path / "a.txt", NEWS + "\nبقلم: سامي الحداد")
    out = tmp_path / "labels.csv"
    code, err = run(capsys, "--model", model_dir, src, "-o", out, "--review-below", "0.99")
    assert code == 0 and "sentences below 0.99" in err
    with out.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        table = list(reader)
    assert reader.fieldnames == csv_columns()
    assert [r["skipped"] for r in table] == ["", "", "", "byline"] and table[3]["label"] == ""
    with (tmp_path / "labels.csv.review.csv").open(encoding="utf-8-sig", newline="") as fh:
        review = list(csv.DictReader(fh))
    assert len(review) == 3 and all(r["correct_label"] == "" and float(r["probability"]) < 0.99 for r in review)
    assert {"text", "predicted", "probability", "correct_label"} <= set(review[0])


@pytest.mark.parametrize("content", ["", "   \n\t\n  "], ids=["empty", "whitespace"])
def test_empty_input_is_a_warning(model_dir, tmp_path, capsys, content):
    src = write(tmp_path / "e.txt", content)
    out = tmp_path / "o.jsonl"
    code, err = run(capsys, "--model", model_dir, src, "-o", out)
    assert code == 0 and "warning" in err and "empty: nothing to label" in err
    assert rows(out) == [] and rows(tmp_path / "o.jsonl.summary.jsonl")[0]["sentences"] == 0


@pytest.mark.parametrize("data,needle", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file"),
    ("نص عربي".encode("cp1256"), "not UTF-8 text"),
], ids=["binary", "cp1256"])
def test_unreadable_file_fails_alone(model_dir, tmp_path, capsys, data, needle):
    bad = write(tmp_path / "in/bad.txt", data)
    write(tmp_path / "in/good.txt", NEWS)
    out = tmp_path / "o.jsonl"
    code, err = run(capsys, "--model", model_dir, tmp_path / "in", "-o", out)
    assert code == 1
    assert f"{bad}: {needle}" in err and "1 input(s) could not be read" in err
    assert {r["article"] for r in rows(out)} == {"good"}


def test_bad_jsonl_records_are_reported_with_line(model_dir, tmp_path, capsys):
    src = write(tmp_path / "a.jsonl", '{"id": "x", "text": "نفى النادي الشائعات."}\n{oops\n{"id": "y"}\n')
    code, err = run(capsys, "--model", model_dir, src, "-o", tmp_path / "o.jsonl")
    assert code == 1
    assert f"{src}:2: invalid JSON" in err and f"{src}:3: no text field 'text'" in err
    assert [r["article"] for r in rows(tmp_path / "o.jsonl")] == ["x"]


def test_bom_and_windows_line_endings(model_dir, tmp_path, capsys):
    text = NEWS.replace("\n", "\r\n") + "\r\n"
    src = write(tmp_path / "w.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))
    code, _ = run(capsys, "--model", model_dir, src, "-o", tmp_path / "o.jsonl")
    recs = rows(tmp_path / "o.jsonl")
    assert code == 0 and [r["text"] for r in recs] == ["نفت الوزارة صحة التقارير.", "قال الوزير إن الخطة جاهزة.",
                                                       "يجب أن نتحرك الآن!"]
    assert all(text[r["start"]:r["end"]] == r["text"] for r in recs)  # offsets into the text after the BOM


def test_text_without_arabic_is_flagged(model_dir, tmp_path, capsys):
    src = write(tmp_path / "en.txt", "This article is written in English. It has two sentences.")
    code, err = run(capsys, "--model", model_dir, src, "-o", tmp_path / "o.jsonl")
    recs = rows(tmp_path / "o.jsonl")
    assert code == 0 and "no Arabic text" in err
    assert [(r["label"], r["skipped"]) for r in recs] == [(None, "no_arabic")] * 2


def test_long_line_without_punctuation_is_cut(model_dir, tmp_path, capsys):
    words = " ".join(["قال", "الوزير", "إن", "الخطة", "جاهزة"] * 4000)[:100_000]
    src = write(tmp_path / "long.txt", words)
    code, err = run(capsys, "--model", model_dir, src, "-o", tmp_path / "o.jsonl")
    recs = rows(tmp_path / "o.jsonl")
    assert code == 0 and "pieces cut" in err
    assert len(recs) >= 100 and all(len(r["text"]) <= MAX_CHARS and r["warning"].startswith("cut") for r in recs)
    assert all(words[r["start"]:r["end"]] == r["text"] for r in recs)


@pytest.mark.parametrize("case", ["missing_dir", "not_a_model", "corrupt_meta", "missing_weights", "run_id"])
def test_bad_model_fails_before_any_input_is_read(tmp_path, capsys, monkeypatch, case):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlruns.db'}")
    model = tmp_path / "m"
    if case != "missing_dir":
        model.mkdir()
    if case == "corrupt_meta":
        (model / "araclaim.json").write_text("{not json", encoding="utf-8")
    if case == "missing_weights":
        (model / "araclaim.json").write_text(json.dumps({"family": "baseline", "labels": list(LABELS)}))
    spec = "runs:/0123456789abcdef0123456789abcdef/model" if case == "run_id" else model
    bad_input = write(tmp_path / "bad.txt", b"\x00\x01binary")  # would print its own error if it were read
    out = tmp_path / "o.jsonl"
    code, err = run(capsys, "--model", spec, bad_input, "-o", out)
    assert code == 2 and "araclaim label: error:" in err and "model" in err
    assert "binary" not in err and not out.exists() and not Path(str(out) + ".partial").exists()


def test_output_directory_is_created_and_bad_output_paths_are_clear(model_dir, tmp_path, capsys):
    src = write(tmp_path / "a.txt", NEWS)
    code, _ = run(capsys, "--model", model_dir, src, "-o", tmp_path / "new/deeper/o.jsonl")
    assert code == 0 and len(rows(tmp_path / "new/deeper/o.jsonl")) == 3
    write(tmp_path / "file", "x")
    code, err = run(capsys, "--model", model_dir, src, "-o", tmp_path / "file/o.jsonl")
    assert code == 2 and "cannot create the output directory" in err
    code, err = run(capsys, "--model", model_dir, src, "-o", src)
    assert code == 2 and "is also an input" in err
    code, err = run(capsys, "--model", model_dir, tmp_path / "nope.txt", "-o", tmp_path / "x.jsonl")
    assert code == 2 and "no such input" in err


def test_interrupted_run_leaves_no_final_file_and_resume_finishes_it(model_dir, tmp_path, capsys, monkeypatch):
    for i in range(4):
        write(tmp_path / f"in/{i}.txt", NEWS)
    out = tmp_path / "o.jsonl"
    calls = {"n": 0}
    real = Classifier.predict_proba

    def flaky(self, texts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, texts)

    monkeypatch.setattr(Classifier, "predict_proba", flaky)
    code, err = run(capsys, "--model", model_dir, tmp_path / "in", "-o", out, "--window", "1")
    assert code == 130 and "--resume" in err
    assert not out.exists() and Path(str(out) + ".partial").exists()
    assert [r["article"] for r in rows(str(out) + ".partial")] == ["0"] * 3 + ["1"] * 3
    monkeypatch.setattr(Classifier, "predict_proba", real)
    code, err = run(capsys, "--model", model_dir, tmp_path / "in", "-o", out, "--resume")
    assert code == 0 and "2 carried over" in err
    fresh = tmp_path / "fresh.jsonl"
    run(capsys, "--model", model_dir, tmp_path / "in", "-o", fresh)
    assert rows(out) == rows(fresh) and not Path(str(out) + ".partial").exists()
    assert rows(str(out) + ".summary.jsonl") == rows(str(fresh) + ".summary.jsonl")


def test_resume_labels_only_new_articles(model_dir, tmp_path, capsys):
    write(tmp_path / "in/a.txt", NEWS)
    out = tmp_path / "o.csv"
    assert run(capsys, "--model", model_dir, tmp_path / "in", "-o", out, "--review-below", "0.99")[0] == 0
    write(tmp_path / "in/b.txt", "نفى النادي الشائعات.")
    code, err = run(capsys, "--model", model_dir, tmp_path / "in", "-o", out, "--resume", "--review-below", "0.99")
    assert code == 0 and "labelled 4 sentences" in err and "1 carried over" in err
    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert [r["article"] for r in csv.DictReader(fh)] == ["a"] * 3 + ["b"]
    with Path(str(out) + ".review.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 4


def test_presplit_takes_each_line_as_a_sentence(model_dir, tmp_path, capsys):
    src = write(tmp_path / "s.txt", "جملة أولى. وجملة ثانية\n\nبقلم: سامي الحداد\n")
    code, _ = run(capsys, "--model", model_dir, src, "-o", tmp_path / "o.jsonl", "--presplit")
    assert code == 0 and [(r["text"], r["skipped"]) for r in rows(tmp_path / "o.jsonl")] == [
        ("جملة أولى. وجملة ثانية", None), ("بقلم: سامي الحداد", None)]


def test_precision_is_a_note_for_the_baseline_and_configure_is_called_when_present(model_dir, tmp_path, capsys):
    src = write(tmp_path / "a.txt", NEWS)
    code, err = run(capsys, "--model", model_dir, src, "-o", tmp_path / "o.jsonl", "--precision", "int8",
                    "--threads", "1")
    assert code == 0 and "no int8 mode; --precision ignored" in err

    class Backend:
        def configure(self, *, precision, threads, allowed=None, log=None):
            self.seen = (precision, threads, allowed)
            return {"mode": f"{precision}/torch", "reason": "as asked"}

    clf = Classifier(Backend(), "transformer")
    with configure_backend(clf, "bf16", 2):
        pass
    assert clf.backend.seen == ("bf16", 2, {"fp32/torch"})  # no accuracy record: fp32 is all auto may use
    clf.precision_record = {"split": "select", "macro_f1": {"fp32/torch": 0.80, "int8/torch": 0.795, "bf16/torch": 0.78}}
    with configure_backend(clf, "auto", None):
        pass
    assert clf.backend.seen == ("auto", None, {"fp32/torch", "int8/torch"})  # bf16 loses 2 points
    assert "precision auto -> auto/torch" in capsys.readouterr().err


def test_gold_article_labels_match_the_eval_harness(model_dir, tmp_path, capsys):
    gold_path = REPO / "data/gold/article.jsonl"
    gold = load_labelled(gold_path)
    expected = dict(zip([e.id for e in gold.examples], evaluate(Classifier.load(model_dir), gold, "m").pred))
    code, _ = run(capsys, "--model", model_dir, gold_path, "--presplit", "-o", tmp_path / "p.jsonl")
    got = {r["article"]: r["label"] for r in rows(tmp_path / "p.jsonl")}
    assert code == 0 and {k: got[k] for k in expected} == expected
    # the normal path segments data/article.txt into the gold sentences and labels them the same way
    code, _ = run(capsys, "--model", model_dir, REPO / "data/article.txt", "-o", tmp_path / "a.jsonl")
    by_text = {r["text"]: r["label"] for r in rows(tmp_path / "a.jsonl")}
    assert code == 0 and {e.id: by_text[e.text] for e in gold.examples} == expected
    skipped = {r["text"] for r in rows(tmp_path / "a.jsonl") if r["skipped"]}
    assert skipped == {e.text for e in gold.skipped}


def test_probabilities_sum_to_one(model_dir, tmp_path, capsys):
    src = write(tmp_path / "a.txt", NEWS)
    run(capsys, "--model", model_dir, src, "-o", tmp_path / "o.jsonl")
    sums = [sum(r["probs"].values()) for r in rows(tmp_path / "o.jsonl")]
    assert np.allclose(sums, 1, atol=1e-3)


def test_memory_does_not_grow_with_the_number_of_articles(model_dir, tmp_path, capsys, monkeypatch):
    import tracemalloc

    monkeypatch.setattr(Classifier, "predict_proba", lambda self, texts: np.full((len(texts), 4), 0.25))

    def peak(n):
        src = tmp_path / f"{n}.jsonl"
        with src.open("w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(json.dumps({"id": str(i), "text": NEWS}, ensure_ascii=False) + "\n")
        tracemalloc.start()
        code, _ = run(capsys, "--model", model_dir, src, "-o", tmp_path / f"{n}.out.jsonl", "--window", "64")
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert code == 0
        return top

    small, large = peak(200), peak(2000)
    assert large < 1.5 * small + 200_000, (small, large)


def test_progress_shows_sentences_per_second_on_a_terminal(capsys):
    from araclaim.eval.label import Progress

    bar = Progress(enabled=True)
    bar.add(sentences=10, articles=1)
    bar.close()
    assert "sentences/s" in capsys.readouterr().err
    quiet = Progress(enabled=False)
    quiet.add(sentences=10)
    quiet.close()
    assert capsys.readouterr().err == ""
