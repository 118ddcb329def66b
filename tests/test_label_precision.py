"""`araclaim label --precision` really switches a transformer's inference precision."""
import json
import subprocess
import sys

import pytest

from araclaim.eval.cli import main
from araclaim.train.config import load_config
from araclaim.train.pipeline import train

from conftest import REPO, shrink

pytest.importorskip("araclaim.train.transformer")
from test_transformer import TINY_BERT  # noqa: E402  (the shrunken tiny-bert settings)


def test_bf16_and_int8_label_like_fp32(workdir, tiny_data, capsys):
    import torch

    if not torch.backends.mkldnn.is_available():
        pytest.skip("no oneDNN on this CPU build")
    result = train(load_config(REPO / "configs/tiny-bert.yaml", shrink(tiny_data) + TINY_BERT))
    article = workdir / "news.txt"
    article.write_text("نفت الوزارة صحة التقارير. قال الوزير إن الخطة جاهزة. يجب أن نتحرك الآن!\n"
                       "افتتحت البلدية حديقة جديدة في الحي.", encoding="utf-8")
    outputs = {}
    for precision in ("fp32", "bf16", "int8"):
        out = workdir / f"{precision}.jsonl"
        assert main(["label", "--model", str(result.model_dir), str(article), "-o", str(out),
                     "--precision", precision]) == 0
        outputs[precision] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    fp32 = outputs["fp32"]
    for precision in ("bf16", "int8"):
        rows = outputs[precision]
        assert [r["text"] for r in rows] == [r["text"] for r in fp32]
        agree = sum(a["label"] == b["label"] for a, b in zip(rows, fp32)) / len(fp32)
        assert agree >= 0.75, precision
    # reduced precision changes the numbers a little, so the switch really happened
    assert any(a["probs"] != b["probs"] for a, b in zip(outputs["bf16"], fp32))

    # training measured select macro-F1 per inference mode; auto picks among those within 1 point and says so
    record = json.loads((result.model_dir / "araclaim.json").read_text(encoding="utf-8"))["precision"]
    assert record["split"] == "select" and record["agreement"]["fp32/torch"] == 1.0
    assert {"int8/torch", "bf16/torch"} <= set(record["macro_f1"])
    capsys.readouterr()
    assert main(["label", "--model", str(result.model_dir), str(article), "-o", str(workdir / "auto.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "precision auto -> " in err and "select macro-F1 within 1 point of fp32" in err
    chosen = err.split("precision auto -> ")[1].split(" ")[0]
    assert record["macro_f1"][chosen] >= record["macro_f1"]["fp32/torch"] - 0.01

    # the next run finds the probe (and the export) in the per-machine cache; an ONNX Runtime choice then
    # labels without importing torch, and gives the same labels
    code = ("import sys; from araclaim.eval.cli import main; rc = main(sys.argv[1:]); "
            "print('torch' in sys.modules); sys.exit(rc)")
    again = subprocess.run([sys.executable, "-c", code, "label", "--model", str(result.model_dir), str(article),
                            "-o", str(workdir / "again.jsonl")], capture_output=True, text=True, cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert f"precision auto -> {chosen}" in again.stderr
    if chosen.endswith("/onnxruntime"):
        assert "cached probe" in again.stderr and again.stdout.strip() == "False"
    labels = [json.loads(line)["label"] for line in (workdir / "auto.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [json.loads(line)["label"] for line in (workdir / "again.jsonl").read_text(encoding="utf-8").splitlines()] == labels
