"""Labelled-file validation and `araclaim data check`: every problem named with file:line."""
import json

import pytest

from araclaim.eval.cli import main
from araclaim.train.data import load_labelled
from araclaim.train.errors import DataError

from conftest import REPO, write_jsonl

GOOD = {"id": "a", "text": "افتتحت البلدية حديقة جديدة", "label": "assertion"}


@pytest.mark.parametrize("bad_line,needle", [
    ('{"id": "b", "text": "نص ما", "label": "claim"}', "unknown label 'claim'"),
    ('{"id": "b", "label": "denial"}', "missing field 'text'"),
    ('{"id": "b", "text": "   ", "label": "denial"}', "'text' is empty"),
    ('{"id": "b", "text": "نص", "label": "denial"', "invalid JSON"),
    ('["not", "an", "object"]', "expected a JSON object"),
    ('{"id": "a", "text": "نص آخر", "label": "opinion"}', "duplicate id 'a' (first at line 1)"),
    ('{"id": "b", "text": "نص", "label": "opinion", "alt_label": "maybe"}', "unknown alt_label 'maybe'"),
])
def test_bad_gold_line_is_reported_with_file_and_line(tmp_path, bad_line, needle):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(GOOD, ensure_ascii=False) + "\n" + bad_line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_labelled(path)
    assert f"{path}:2: " in str(err.value) and needle in str(err.value)


def test_empty_and_all_skip_files(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="file is empty"):
        load_labelled(empty)
    skips = write_jsonl(tmp_path / "skips.jsonl", [{"text": "بقلم", "label": "skip"}])
    with pytest.raises(DataError, match="every row is labelled 'skip'"):
        load_labelled(skips)


def test_skip_rows_are_counted_not_scored(tmp_path):
    path = write_jsonl(tmp_path / "g.jsonl", [GOOD, {"id": "s", "text": "بقلم مراسلنا", "label": "skip"}])
    data = load_labelled(path)
    assert [e.id for e in data.examples] == ["a"] and [e.id for e in data.skipped] == ["s"]


@pytest.mark.parametrize("bad_line,needle", [
    ('{"text": "x", "label": "nope"}', ":2: unknown label 'nope'"),
    ('{"label": "denial"}', ":2: missing field 'text'"),
    ("{oops", ":2: invalid JSON"),
])
def test_eval_cli_rejects_bad_gold_without_traceback(tmp_path, capsys, bad_line, needle):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(GOOD, ensure_ascii=False) + "\n" + bad_line + "\n", encoding="utf-8")
    code = main(["eval", "--model", str(tmp_path), "--gold", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}{needle}" in err
    assert "Traceback" not in err


# --- araclaim data check ---------------------------------------------------------------------

def row(i, text, label="assertion", **kw):
    return {"id": f"t{i}", "text": text, "label": label, "topic": "economy", "source": "written", **kw}


def test_repo_data_passes_check(capsys):
    assert main(["data", "check", str(REPO / "data")]) == 0


@pytest.mark.parametrize("name,rows,dev_rows,needle", [
    ("dup", [row(1, "ارتفعت الأسعار اليوم"), row(2, "ارتفعت الأسعار اليوم")], [], "train.jsonl:2: duplicate of"),
    ("normdup", [row(1, "ارتفعت الأسعار اليوم"), row(2, "ارتفعت  الاسعار اليوم!")], [], "normalised duplicate"),
    ("leak", [row(1, "ارتفعت الأسعار اليوم في السوق")], [row(9, "ارتفعت الأسعار اليوم في السوق")], "train.jsonl:1: leak of"),
    ("ngram", [row(1, "قال الوزير إن الحكومة ستخفض الضرائب على الشركات الصغيرة")],
     [row(9, "وأضاف أن الحكومة ستخفض الضرائب على الشركات الصغيرة قريبا")], "leak: shares"),
    ("template", [row(1, "أعلنت الشركة اليوم أنها ستفتتح فرعا جديدا في المدينة"),
                  row(2, "وأعلنت الشركة اليوم أنها ستفتتح فرعا جديدا في الريف")], [], "template repetition"),
    ("field", [{"id": "t1", "text": "ارتفعت الأسعار", "label": "assertion"}], [], "missing field(s) topic, source"),
    ("label", [row(1, "ارتفعت الأسعار", label="fact")], [], "unknown label 'fact'"),
    ("blank", [row(1, "   ")], [], "'text' is empty"),
])
def test_data_check_finds_planted_defects(tmp_path, capsys, name, rows, dev_rows, needle):
    write_jsonl(tmp_path / "train.jsonl", rows)
    if dev_rows:
        write_jsonl(tmp_path / "dev.jsonl", dev_rows)
    code = main(["data", "check", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert needle in err
    assert str(tmp_path) in err


def test_data_check_flags_gold_leak(tmp_path, capsys):
    write_jsonl(tmp_path / "train.jsonl", [row(1, "نفت الوزارة صحة التقارير عن إغلاق المستشفى المركزي")])
    write_jsonl(tmp_path / "gold" / "article.jsonl",
                [{"id": "g1", "line": 1, "text": "نفت الوزارة صحة التقارير عن إغلاق المستشفى", "label": "denial"}])
    assert main(["data", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "train.jsonl:1: leak" in err and "gold/article.jsonl:1" in err


def test_data_stats_counts(tmp_path, capsys):
    write_jsonl(tmp_path / "train.jsonl", [row(1, "ارتفعت الأسعار اليوم"), row(2, "نفت الوزارة ذلك", "denial")])
    assert main(["data", "stats", str(tmp_path / "train.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "2 sentences" in out and "assertion 1 (50%)" in out and "economy 2 (100%)" in out


def test_repo_article_corpus_meets_every_shape_target():
    from araclaim.train import shape
    from araclaim.train.datacheck import article_shape

    figures = article_shape([str(REPO / "data")])
    assert shape.check_targets(figures) == [], shape.report(figures)


@pytest.mark.parametrize("text, denial, opinion, falsity", [
    ("ونفت الوزارة صحة الخبر", True, False, False),
    ("فنّدت الهيئة ما نُشر", True, False, False),
    ("الصورة مركبة من لقطتين", False, False, False),
    ("يبدو أن الخبر مضلل", False, True, True),
    ("وانتشرت شائعة عن إغلاق المدارس", False, False, True),
    ("هل هذا معقول؟", False, True, False),
    ("وفند الفريق الاتهامات", True, False, False),   # proclitic و + فند
])
def test_shape_cue_detectors(text, denial, opinion, falsity):
    from araclaim.train import shape

    assert (shape.has_core_denial(text), shape.has_core_opinion(text), shape.has_falsity(text)) == (denial, opinion, falsity)


def test_article_records_need_genre_and_consecutive_index(tmp_path):
    from araclaim.train.datacheck import check_paths

    rows = [{"id": "x-01", "article": "x", "genre": "wire", "index": 1, "text": "افتتحت البلدية حديقة عامة جديدة", "label": "assertion"},
            {"id": "x-03", "article": "x", "genre": "gossip", "index": 3, "text": "وقال المدير إن الحديقة ستفتح غدا", "label": "attributed_claim"}]
    path = write_jsonl(tmp_path / "data" / "articles" / "select.jsonl", rows)
    problems = check_paths([str(path)])
    assert any("unknown genre 'gossip'" in p for p in problems)
    assert any("index 3 of article 'x' should be 2" in p for p in problems)


def test_leak_between_article_splits_but_not_between_training_files(tmp_path):
    from araclaim.train.datacheck import check_paths

    shared = "أعلنت الهيئة العامة للطيران المدني عن تعليق الرحلات إلى المدينة"
    art = {"article": "a", "genre": "wire", "index": 1, "label": "assertion"}
    data = tmp_path / "data"
    write_jsonl(data / "articles" / "train.jsonl", [dict(art, id="a-01", text=shared)])
    write_jsonl(data / "articles" / "test.jsonl", [dict(art, id="a-01", text=shared + " صباح اليوم")])
    write_jsonl(data / "train.jsonl", [{"id": "w1", "text": shared + " مساء", "label": "assertion", "topic": "t",
                                        "source": "written"}])
    problems = check_paths([str(data)])
    assert any("test.jsonl" in p and "leak" in p for p in problems)
    assert not any("data/train.jsonl" in p.split(":")[0] and "articles/train.jsonl" in p for p in problems)


def test_splits_load_into_a_dataset_dict_with_a_class_label(tiny_data):
    from araclaim.train.config import load_config
    from araclaim.train.labels import LABEL2ID, LABELS
    from araclaim.train.pipeline import load_splits

    from conftest import shrink

    splits = load_splits(load_config(REPO / "configs/baseline.yaml", shrink(tiny_data)))
    hf = splits.to_hf()
    assert list(hf) == ["train", "dev", "select", "calibrate", "test", "gold_article"]
    for name, dataset in hf.items():
        assert dataset.column_names == ["text", "label", "alt_label", "article", "index"], name
        assert dataset.features["label"].names == list(LABELS)
        assert dataset.split == name and dataset.cache_files == []  # in memory: nothing written to any cache
    rows = {name: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            for name, path in tiny_data.items()}
    # the two training files as one split, in file order; skip rows are left out as in LabelledSet
    assert hf["train"]["text"][:] == [r["text"] for r in rows["train"] + rows["articles_train"]]
    gold = [r for r in rows["gold"] if r["label"] != "skip"]
    assert hf["gold_article"].num_rows == len(gold) == len(rows["gold"]) - 1
    assert hf["gold_article"]["label"][:] == [LABEL2ID[r["label"]] for r in gold]  # ids are the models' ids
    assert hf["gold_article"]["alt_label"][:] == [r.get("alt_label") for r in gold]
    assert hf["gold_article"][0]["alt_label"] == "opinion"
    assert hf["select"][0]["article"] == rows["select"][0]["article"] and hf["select"]["index"][:4] == [1, 2, 3, 4]
    assert hf["dev"][0]["article"] is None and hf["dev"][0]["index"] is None  # sentence files have neither


def test_a_non_integer_index_is_named_with_file_line_and_key(tmp_path):
    from araclaim.train.data import to_hf_dataset

    path = write_jsonl(tmp_path / "a.jsonl", [{**GOOD, "article": "x", "index": 1},
                                             {"id": "b", "text": "نص", "label": "opinion", "article": "x", "index": "2"}])
    with pytest.raises(DataError, match=rf"{path}:2: 'index' is '2'; it must be"):
        to_hf_dataset(load_labelled(path))


def test_two_held_out_files_with_one_split_name_are_refused(tmp_path):
    from araclaim.train.data import to_hf_dataset_dict

    one = load_labelled(write_jsonl(tmp_path / "a" / "test.jsonl", [GOOD]))
    two = load_labelled(write_jsonl(tmp_path / "b" / "test.jsonl", [GOOD]))
    with pytest.raises(DataError, match="share a split name"):
        to_hf_dataset_dict([("test", one), ("test", two)])


def test_the_dataset_dict_and_its_mlflow_record_need_no_network(tiny_data, monkeypatch):
    import socket

    import mlflow

    from araclaim.train.config import load_config
    from araclaim.train.pipeline import load_splits

    from conftest import shrink

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    hf = load_splits(load_config(REPO / "configs/baseline.yaml", shrink(tiny_data))).to_hf()
    entry = mlflow.data.from_huggingface(hf["train"], path="json", data_files={"train": [str(tiny_data["train"])]},
                                         targets="label", name="train")
    assert entry.digest and entry.profile["num_rows"] == hf["train"].num_rows
