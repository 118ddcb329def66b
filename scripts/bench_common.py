"""Shared pieces of scripts/bench_label.py: the machine (CPU, ISA flags, the GEMM bound per precision), the models
(run folders, bert-base built offline, FLOPs per sentence, so throughput reads as a share of the bound), and the
Markdown tables written for the README."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
ARTICLE_FILES = ("data/articles/select.jsonl", "data/articles/calibrate.jsonl", "data/articles/test.jsonl")


# --------------------------------------------------------------------------------------------------
# The machine: CPU, load, GEMM bound
# --------------------------------------------------------------------------------------------------

def machine(threads: int) -> dict:
    from araclaim.train.onnxrun import cpu_info

    info = cpu_info()
    busy = subprocess.run(["pgrep", "-f", "scripts/experiments.py"], capture_output=True, text=True).stdout.split()
    return {**info, "threads": threads, "load": os.getloadavg(), "experiments_running": bool(busy)}


def gemm_bound(threads: int, reps: int = 5) -> dict[str, dict[str, float]]:
    """GFLOP/s (GOP/s for int8) per precision and implementation on bert-base shapes; the bound is the max."""
    import warnings

    import numpy as np
    import torch

    torch.set_num_threads(threads)
    warnings.simplefilter("ignore")
    m, k, n = 512, 768, 3072
    flops = 2 * m * k * n

    def best(f):
        f()
        t = float("inf")
        for _ in range(reps):
            s = time.perf_counter()
            f()
            t = min(t, time.perf_counter() - s)
        return flops / t / 1e9

    out: dict[str, dict[str, float]] = {"fp32": {}, "bf16": {}, "int8": {}}
    x, w = torch.randn(m, k), torch.randn(k, n)
    with torch.inference_mode():
        out["fp32"]["torch"] = best(lambda: x @ w)
        xb, wb = x.bfloat16(), w.bfloat16()
        out["bf16"]["torch"] = best(lambda: xb @ wb) if _bf16_fast_enough(xb, wb) else _bf16_small(xb, wb)
        lin = torch.nn.Linear(k, n)
        for engine in ("x86", "onednn"):
            if engine in torch.backends.quantized.supported_engines:
                torch.backends.quantized.engine = engine
                q = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)
                out["int8"][f"torch-{engine}"] = best(lambda q=q: q(x))
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "linear.onnx"
            torch.onnx.export(lin, (x,), str(path), input_names=["x"], output_names=["y"], opset_version=17,
                              dynamo=False)
            quantize_dynamic(str(path), str(path) + ".q", weight_type=QuantType.QInt8)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = threads, 1, 3
            feeds = {"x": x.numpy()}
            for prec, p in (("fp32", path), ("int8", Path(str(path) + ".q"))):
                sess = ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
                out[prec]["onnxruntime"] = best(lambda s=sess: s.run(None, feeds))
    except ImportError:
        pass
    del np
    return out


def _bf16_fast_enough(xb, wb) -> bool:
    """Emulated bf16 (no bf16 units) takes minutes on full-size matrices: time a small one first."""
    start = time.perf_counter()
    xb[:32] @ wb[:, :256]
    return time.perf_counter() - start < 0.01


def _bf16_small(xb, wb) -> float:
    xs, ws = xb[:64], wb[:, :512]
    start = time.perf_counter()
    xs @ ws
    return 2 * 64 * xb.shape[1] * 512 / (time.perf_counter() - start) / 1e9


# --------------------------------------------------------------------------------------------------
# Models: the demo's runs, and bert-base built here
# --------------------------------------------------------------------------------------------------

def run_model_dir(run_id: str) -> Path:
    """The araclaim model directory of a run (outputs/<config>-<run id>/model)."""
    hits = list((REPO / "outputs").glob(f"*-{run_id}/model"))
    if not hits:
        raise SystemExit(f"no outputs/*-{run_id}/model; train it first (make demo)")
    return hits[0]


def build_bert_base(folder: Path, texts: list[str]) -> Path:
    """A bert-base-sized classifier with random weights (12 layers, hidden 768, vocab ~8-16k WordPiece trained
    here, ~1.5 pieces/word as AraBERT on news), saved as an araclaim transformer model directory."""
    if (folder / "araclaim.json").is_file():
        return folder
    import torch
    from araclaim.train.labels import LABELS
    from tokenizers import BertWordPieceTokenizer
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        PreTrainedTokenizerFast,
    )

    wp = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    wp.train_from_iterator(texts, vocab_size=8000, min_frequency=1, show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=wp._tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                  cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=64000, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
                        label2id={lab: i for i, lab in enumerate(LABELS)})
    model = BertForSequenceClassification(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    meta = {"format": 1, "preprocess": "normalize", "max_length": 128, "cue_fusion": False, "context_size": 0,
            "cue_features": None, "labels": list(LABELS), "encoder": "bert-base (random weights, bench)"}
    (folder / "transformer.json").write_text(json.dumps(meta), encoding="utf-8")
    every = ["fp32/torch", "bf16/torch", "int8/torch", "fp32/onnxruntime", "int8/onnxruntime"]
    # Random weights have no accuracy to lose: the record lets auto consider every mode, to show its speed.
    record = {"split": "none (random weights: every mode allowed)", "n": 0, "macro_f1": {m: 1.0 for m in every}}
    (folder / "araclaim.json").write_text(json.dumps({"family": "transformer", "labels": list(LABELS),
                                                      "context_size": 0, "precision": record}), encoding="utf-8")
    return folder


def flops_per_sentence(model_dir: Path, texts: list[str], pairs: bool) -> float:
    """Useful FLOPs of one forward pass per sentence (no padding): linear layers + attention."""
    from araclaim.train.onnxrun import FastTokenizer, _piece_ids

    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tok = FastTokenizer.load(model_dir)
    if tok is None:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_dir)
    from araclaim.train.text import normalize

    pieces = [len(p) + 2 for p in _piece_ids(tok, [normalize(t) for t in texts])]
    if pairs:  # the previous sentence of the article comes along
        pieces = [n + (pieces[i - 1] - 1 if i else 0) for i, n in enumerate(pieces)]
    h, i_, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    per_token = 2 * layers * (4 * h * h + 2 * h * i_)
    return sum(n * per_token + 4 * layers * n * n * h for n in pieces) / len(pieces)


def parts_bound(texts: list[str], reps: int = 5) -> dict[str, float]:
    """Sentences/s of the baseline's parts, each alone on `texts` (presplit, median of `reps`): a plain TF-IDF
    (word 1-2 + char_wb 2-5 grams) + logistic regression fitted on data/train.jsonl, and the cue features. The
    baseline has no dense GEMM; what its parts cost alone is its bound: `serial` (the two one after the other)
    is what a baseline that shares nothing could reach at most."""
    import statistics

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    from araclaim.train import cues

    rows = [json.loads(x) for x in (REPO / "data/train.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    pipe = make_pipeline(make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
                         LogisticRegression(max_iter=300))
    pipe.fit([r["text"] for r in rows], [r["label"] for r in rows])

    def rate(run) -> float:
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return len(texts) / statistics.median(times)

    out = {"tfidf_lr": rate(lambda: pipe.predict_proba(texts)),
           "cues": rate(lambda: [cues.extract(t) for t in texts])}
    out["serial"] = 1 / (1 / out["tfidf_lr"] + 1 / out["cues"])
    return out


def markdown(result: dict, args) -> str:
    """The tables of one run, as the README shows them."""
    m = result["machine"]
    best = {p: max(v.values()) for p, v in result["gemm"].items() if v}
    lines = [f"CPU: **{m['model']}** ({m['cores']} cores, {args.threads} threads; ISA flags: {' '.join(m['isa'])}); "
             f"load average {m['load'][0]:.1f} at the start, `scripts/experiments.py` running: "
             f"{'yes' if m['experiments_running'] else 'no'}. GEMM bound (best of torch and ONNX Runtime, "
             f"512x768 @ 768x3072): fp32 {best.get('fp32', 0):.0f} GFLOP/s, bf16 {best.get('bf16', 0):.1f} GFLOP/s, "
             f"int8 {best.get('int8', 0):.0f} GOP/s.", "",
             "| model | input | before: sentences/s | after: sentences/s (mode) | after / before | after: share of GEMM bound |",
             "|---|---|---|---|---|---|"]
    rows = result.get("rows", [])
    for r in rows:
        if r["code"] != "after" or "median" not in r:
            continue
        ref = next((b for b in rows if b["code"] == "before" and b["name"] == r["name"] and b["input"] == r["input"]
                    and b["precision"] == ("fp32" if r["precision"] == "auto" else r["precision"].split("/")[0])
                    and "median" in b), None)
        frac = f"{100 * r['gemm_fraction']:.0f}%" if r.get("gemm_fraction") == r.get("gemm_fraction") and "gemm_fraction" in r else "-"
        before = f"{ref['median']:.1f}" if ref else "-"
        ratio = f"{r['median'] / ref['median']:.2f}x" if ref else "-"
        label = r["precision"] if r["precision"] != "auto" else f"auto -> {r.get('mode')}"
        lines.append(f"| {r['name']} | {r['input']} | {before} | {r['median']:.1f} ({label}) | {ratio} | {frac} |")
    extra = [b for b in rows if b["code"] == "before" and b["precision"] in ("bf16", "int8") and "median" in b]
    for b in extra:
        lines.append(f"| {b['name']} | {b['input']} | {b['median']:.1f} ({b['precision']}, before) | | | |")
    if result.get("parts"):
        p = result["parts"]
        lines += ["", f"Baseline parts alone on the same presplit sentences (its bound; no dense GEMM): TF-IDF + "
                      f"logistic regression {p['tfidf_lr']:.0f}/s, cue features {p['cues']:.0f}/s, the two in "
                      f"series {p['serial']:.0f}/s."]
    if result.get("startup"):
        lines += ["", "| start-up, one sentence from a run id, warm | before (s) | after (s) |", "|---|---|---|"]
        def secs(v: float) -> str:  # nan: that code could not load the model (see bench_label.startup)
            return f"{v:.2f}" if v == v else "n/a"

        lines += [f"| {k} | {secs(v['before'])} | {secs(v['after'])} |" for k, v in result["startup"].items()]
    if result.get("memory"):
        lines += ["", "| `araclaim label`, ensemble, test articles repeated | sentences | seconds | peak RSS |",
                  "|---|---|---|---|"]
        lines += [f"| {x['factor']}x | {x['sentences']} | {x['seconds']:.1f} | {x['peak_rss_mb']:.0f} MB |"
                  for x in result["memory"]]
    return "\n".join(lines) + "\n"
