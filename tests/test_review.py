"""`araclaim data merge-review`: validate a reviewed queue and fold it into the training data."""
import argparse
import csv
import json

import pytest

from araclaim.eval.cli import main
from araclaim.eval.review import add_merge_review_arguments, run_merge_review
from araclaim.train.data import load_labelled
from araclaim.train.errors import DataError

from conftest import REPO

COLUMNS = ["article", "source", "index", "text", "predicted", "probability", "correct_label"]


def queue(path, rows):
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for i, (text, predicted, correct) in enumerate(rows):
            w.writerow({"article": "a", "source": "a.txt", "index": i, "text": text, "predicted": predicted,
                        "probability": 0.4, "correct_label": correct})
    return path


def merge(*argv):
    parser = argparse.ArgumentParser()
    add_merge_review_arguments(parser)
    return run_merge_review(parser.parse_args([str(a) for a in argv]))


@pytest.fixture
def train(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"id": "t1", "text": "نفى النادي الشائعات", "label": "denial", "topic": "sport",
                                "source": "written"}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_reviewed_rows_are_appended_with_new_ids(tmp_path, train, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": "جملة من الذهب", "label": "assertion"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    q = queue(tmp_path / "q.csv", [
        ("قال الوزير إن الخطة جاهزة", "assertion", "attributed_claim"),   # corrected
        ("هذا قرار فاشل", "opinion", "Opinion "),                          # confirmed (case, spaces)
        ("نفى النادي الشائعات.", "denial", "denial"),                      # duplicate of train (normalised)
        ("جملة من الذهب", "assertion", "assertion"),                      # held out: would leak
        ("بقلم: سامي", "assertion", "skip"),                              # not a sentence
        ("لم يراجع", "assertion", ""),                                    # unreviewed
        ("قال الوزير إن الخطة جاهزة", "assertion", "attributed_claim"),   # duplicate within the queue
    ])
    assert merge(q, "--train", train, "--holdout", gold, "--topic", "politics") == 0
    err = capsys.readouterr().err
    assert "added 2 reviewed sentence(s) (1 corrected, 1 confirmed)" in err
    assert "2 duplicate(s)" in err and "1 held-out" in err and "1 marked skip" in err and "1 unreviewed" in err
    rows = [json.loads(line) for line in train.read_text(encoding="utf-8").splitlines()]
    assert [r["label"] for r in rows] == ["denial", "attributed_claim", "opinion"]
    assert all(r["source"] == "review" and r["topic"] == "politics" and r["id"].startswith("review-")
               for r in rows[1:])
    assert len({r["id"] for r in rows}) == 3
    load_labelled(train, allow_skip=False)  # still a valid training file
    assert not (tmp_path / "train.jsonl.partial").exists()


def test_bad_label_is_reported_with_file_and_line_and_nothing_is_written(tmp_path, train):
    before = train.read_bytes()
    q = queue(tmp_path / "q.csv", [("نص", "assertion", "assertion"), ("نص آخر", "assertion", "claim"),
                                   ("", "opinion", "opinion")])
    with pytest.raises(DataError) as err:
        merge(q, "--train", train)
    assert f"{q}:3: unknown correct_label 'claim'" in str(err.value) and f"{q}:4: empty text" in str(err.value)
    assert train.read_bytes() == before


def test_missing_column_and_missing_file(tmp_path, train):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nنص,opinion\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column"):
        merge(bad, "--train", train)
    with pytest.raises(DataError, match="no such file"):
        merge(tmp_path / "nope.csv", "--train", train)


def test_dry_run_writes_nothing_and_a_missing_train_file_is_created(tmp_path, capsys):
    q = queue(tmp_path / "q.csv", [("قال الوزير إن الخطة جاهزة", "assertion", "attributed_claim")])
    target = tmp_path / "new" / "train.jsonl"
    held = tmp_path / "held.jsonl"
    held.write_text(json.dumps({"text": "جملة أخرى", "label": "assertion"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert merge(q, "--train", target, "--dry-run", "--holdout", held) == 0
    assert "would add 1" in capsys.readouterr().err and not target.exists()
    assert merge(q, "--train", target, "--holdout", held) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["label"] == "attributed_claim"


GOLD_SENTENCE = json.loads((REPO / "data/gold/article.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]


def test_from_another_directory_the_project_holdouts_still_protect_gold(tmp_path, train, monkeypatch, capsys):
    """Run elsewhere with an absolute --train: the default held-out files are the project's, not ./data (issue 12)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    before = train.read_bytes()
    q = queue(tmp_path / "q.csv", [(GOLD_SENTENCE, "assertion", "assertion")])
    assert main(["data", "merge-review", str(q), "--train", str(train)]) == 0
    assert "0 reviewed sentence(s)" in capsys.readouterr().err
    assert train.read_bytes() == before


def test_a_holdout_with_a_broken_line_is_an_error_and_nothing_is_written(tmp_path, train, capsys):
    held = tmp_path / "held.jsonl"
    held.write_text(json.dumps({"text": "جملة سليمة", "label": "assertion"}, ensure_ascii=False) + "\n"
                    + '{"text": "قال الوزير إن الخطة جاهزة", "label": \n', encoding="utf-8")
    before = train.read_bytes()
    q = queue(tmp_path / "q.csv", [("قال الوزير إن الخطة جاهزة", "assertion", "attributed_claim")])
    assert main(["data", "merge-review", str(q), "--train", str(train), "--holdout", str(held)]) == 2
    err = capsys.readouterr().err
    assert f"{held}:2: invalid JSON" in err and "Traceback" not in err
    assert train.read_bytes() == before


@pytest.mark.parametrize("what", ["missing file", "empty directory", "unreadable file"])
def test_a_holdout_that_protects_nothing_is_an_error(tmp_path, train, capsys, what):
    held = tmp_path / "held"
    if what == "empty directory":
        held.mkdir()
    elif what == "unreadable file":
        held = tmp_path / "held.jsonl"
        held.write_bytes(b"\xff\xfe\x00not utf-8")
    q = queue(tmp_path / "q.csv", [("قال الوزير إن الخطة جاهزة", "assertion", "attributed_claim")])
    before = train.read_bytes()
    assert main(["data", "merge-review", str(q), "--train", str(train), "--holdout", str(held)]) == 2
    assert str(held) in capsys.readouterr().err and train.read_bytes() == before
