"""Benchmark `araclaim label`: the default offline models and bert-base, before and after, against the GEMM bound.

One run prints, side by side:

- the machine: CPU model, the ISA flags that decide fp32/bf16/int8 speed, cores, threads, load average, and
  whether `scripts/experiments.py` (the project's long job) was running;
- the machine's GEMM bound per precision: the best of torch (MKL/oneDNN) and ONNX Runtime (MLAS) on
  bert-base-shaped matrices (fp32, bf16, int8 with activation quantisation);
- throughput (sentences/s, median of --repeats passes after a warm-up) of `eval.label.label_articles` for the
  baseline, tiny-bert and the ensemble (the select/calibrate/test articles with context, and the same sentences
  --presplit), and for bert-base (random weights, 256 dev sentences, --presplit) at each precision/engine and
  `auto` (bf16 on a CPU without bf16 units: 4 sentences, one pass). "before" rows run the code of
  --before (a git revision, default 088a8bf: main before any issue-14 change) from a temporary checkout; every row
  runs in its own process, so imports and caches do not leak between rows. Transformer rows are also given as
  achieved FLOP/s over the GEMM bound of the precision they ran;
- start-up: `araclaim label` of one sentence from a run id, warm (second call), before and after;
- peak RSS of `araclaim label` with 10x and 100x the test articles (memory stays flat in the input).

    .venv/bin/python scripts/bench_label.py                       # ~15-25 min on 2 cores
    .venv/bin/python scripts/bench_label.py --quick               # fewer repeats, no 100x run
    .venv/bin/python scripts/bench_label.py --markdown bench.md   # also write the README's tables

Models: the run ids in outputs/demo/{baseline,tiny-bert,ensemble}.run_id (what `make demo` trains), or
--runs baseline=<id>,tiny-bert=<id>,ensemble=<id>; bert-base is built here (random weights, no hub).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
from bench_common import (  # noqa: E402
    build_bert_base, flops_per_sentence, gemm_bound, machine, markdown, parts_bound, run_model_dir)

ARTICLE_FILES = ("data/articles/select.jsonl", "data/articles/calibrate.jsonl", "data/articles/test.jsonl")

# Words of Arabic news prose (function words weighted by repetition), for generated sentences.
WORDS = (
    "في في في من من من على على إلى إلى أن أن إن عن مع التي الذي هذا هذه ذلك بعد قبل خلال حتى كما لكن و "
    "قال قالت وقال وأضاف وأكد أعلن أعلنت ذكرت أفاد نفى نفت كشف أشار أوضح يرى تقول يعتقد يجب ينبغي يبدو "
    "الحكومة الوزير وزارة الرئيس المجلس البرلمان الشركة الجيش الشرطة المحكمة الصحيفة الوكالة المتحدث "
    "مصدر مسؤول مسؤولون خبراء المعارضة السلطات البنك المركزي الاقتصاد الأسعار التضخم النفط الغاز الموازنة "
    "الانتخابات الحملة الناخبين الأحزاب الاتفاق المفاوضات الهدنة الحرب الأمن الحدود اللاجئين المساعدات "
    "العام الماضي المقبل الأسبوع الشهر اليوم أمس مساء صباح الخميس الأحد منذ نحو أكثر أقل نسبة مليون مليار"
).split()


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """`n` sentences of 5-60 words (log-normal, median ~16 words), ending in a full stop."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        length = int(min(60, max(5, rng.lognormvariate(2.8, 0.45))))
        out.append(" ".join(rng.choice(WORDS) for _ in range(length)) + ".")
    return out


def article_rows(files=ARTICLE_FILES) -> list[tuple[str, list[str]]]:
    """(article id, sentences in order) of the article splits."""
    arts: dict[str, list[str]] = {}
    for name in files:
        for line in (REPO / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                arts.setdefault(f"{Path(name).stem}:{row['article']}", []).append(row["text"])
    return list(arts.items())


def dev_sentences(n: int) -> list[str]:
    rows = [json.loads(x) for x in (REPO / "data/dev.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r["text"] for r in rows][:n]


# --------------------------------------------------------------------------------------------------
# Worker: one configuration in its own process (run with --worker SPEC)
# --------------------------------------------------------------------------------------------------

def worker(spec: dict) -> dict:
    """Load a model with the code at spec["src"], label the spec's input `repeats` times, report the rates."""
    import importlib

    sys.path.insert(0, spec["src"])
    prefix = package_prefix(spec["src"])
    label_mod = importlib.import_module(prefix + "eval.label")
    Article, Options, label_articles = label_mod.Article, label_mod.Options, label_mod.label_articles
    configure_backend = label_mod.configure_backend
    Classifier = importlib.import_module(prefix + "train.model").Classifier

    clf = Classifier.load(spec["model"])
    precision = spec["precision"]
    if spec["engine"]:
        clf.backend.configure(precision=precision, engine=spec["engine"], threads=spec["threads"])
    else:
        scoped = configure_backend(clf, precision, spec["threads"])
        if hasattr(scoped, "__enter__"):  # a context manager since #12 (a list before): held for the whole run
            scoped.__enter__()
    if spec["input"] == "presplit":
        texts = json.loads(Path(spec["data"]).read_text(encoding="utf-8"))
        articles = [Article(f"a{i}", "bench", "\n".join(texts[i:i + 20])) for i in range(0, len(texts), 20)]
        presplit = True
    else:
        articles = [Article(a, "bench", "\n".join(s)) for a, s in json.loads(Path(spec["data"]).read_text(encoding="utf-8"))]
        presplit = False

    def run(items):
        n = 0
        for done in label_articles(clf, items, "bench", Options(presplit=presplit)):
            n += sum(1 for r in done.records if r["label"])
        return n

    run(articles[:2])  # warm-up: caches, kernels, weight packing
    rates = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        n = run(articles)
        rates.append(n / (time.perf_counter() - start))
    backends = [m.backend for m in getattr(clf.backend, "members", [])] or [clf.backend]
    mode = next((getattr(b, "mode", None) for b in backends if hasattr(b, "configure")), None)
    if mode is None and any(hasattr(b, "configure") for b in backends):
        mode = f"{precision}/torch"
    return {"rates": rates, "median": statistics.median(rates), "sentences": n, "mode": mode or "-",
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": "torch" in sys.modules}


def package_prefix(src: str) -> str:
    """How the code at `src` names its packages: `araclaim.` since issue 13 installed train/ and eval/ as
    araclaim.train and araclaim.eval, nothing before (the "before" checkout of the benchmark)."""
    pyproject = Path(src) / "pyproject.toml"
    return "araclaim." if pyproject.is_file() and '"araclaim.train"' in pyproject.read_text(encoding="utf-8") else ""


def run_worker(spec: dict, timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=spec["src"], TQDM_DISABLE="1", TRANSFORMERS_VERBOSITY="error")
    proc = subprocess.run([PY, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=timeout)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["stderr"] = proc.stderr
    return out


# --------------------------------------------------------------------------------------------------
# Start-up and memory
# --------------------------------------------------------------------------------------------------

def startup(src: str, run_id: str, cache: Path) -> float:
    """Seconds for `araclaim label --model <run id>` of one sentence, warm (the second of two calls)."""
    cache.mkdir(parents=True, exist_ok=True)
    one = cache / "one.txt"
    one.write_text("وقال المتحدث باسم الوزارة إن الخطة جاهزة.\n", encoding="utf-8")
    # cwd is not the repository: `python -m` puts the cwd first on sys.path, and PYTHONPATH must choose the code
    env = dict(os.environ, PYTHONPATH=src, ARACLAIM_CACHE=str(cache / "araclaim"),
               MLFLOW_TRACKING_URI=os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{REPO / 'mlruns/mlflow.db'}")
    times = []
    for _ in range(2):
        start = time.perf_counter()
        proc = subprocess.run([PY, "-m", package_prefix(src) + "eval.cli", "label", "--model", run_id, str(one), "-o", str(cache / "o.jsonl")],
                              capture_output=True, text=True, cwd=cache, env=env)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            return float("nan")
    return times[-1]


def peak_rss(run_id: str, factor: int, tmp: Path) -> tuple[int, float, float]:
    """(sentences, seconds, peak RSS MB) of `araclaim label` over the test articles repeated `factor` times."""
    rows = [json.loads(x) for x in (REPO / "data/articles/test.jsonl").read_text(encoding="utf-8").splitlines() if x]
    arts: dict[str, list[str]] = {}
    for r in rows:
        arts.setdefault(r["article"], []).append(r["text"])
    src = tmp / f"x{factor}.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(factor):
            for a, s in arts.items():
                fh.write(json.dumps({"id": f"{a}-{i}", "text": "\n".join(s)}, ensure_ascii=False) + "\n")
    code = ("import resource, sys; from araclaim.eval.cli import main; rc = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")
    start = time.perf_counter()
    proc = subprocess.run([PY, "-c", code, "label", "--model", run_id, str(src), "-o", str(tmp / "x.jsonl")],
                          capture_output=True, text=True, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return 0, seconds, float("nan")
    n = sum(1 for _ in (tmp / "x.jsonl").open(encoding="utf-8"))
    return n, seconds, int(proc.stdout.strip().splitlines()[-1]) / 1024


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _pre_rename_names():
    """Our pickled types (skops) named as before train/ became araclaim.train (issue 13), while inside."""
    import araclaim.train
    import araclaim.train.baseline as baseline
    import araclaim.train.text as text

    aliases = {"train": araclaim.train, "train.baseline": baseline, "train.text": text}
    saved = {k: sys.modules.get(k) for k in aliases}
    sys.modules.update(aliases)
    baseline.CueFeatures.__module__, text.normalize.__module__ = "train.baseline", "train.text"
    try:
        yield
    finally:
        baseline.CueFeatures.__module__, text.normalize.__module__ = "araclaim.train.baseline", "araclaim.train.text"
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def model_for(src: str, model_dir: Path, tmp: Path) -> Path:
    """`model_dir`, or for code from before the package rename a copy whose baseline files name our types
    the old way (same pipeline, same numbers): the "before" rows label with the very same model."""
    if package_prefix(src) or not any(Path(model_dir).rglob("baseline.skops")):
        return Path(model_dir)
    import skops.io

    from araclaim.train.baseline import TRUSTED_TYPES

    copy = tmp / f"before-{Path(model_dir).parent.name}-{Path(model_dir).name}"
    if not copy.exists():
        shutil.copytree(model_dir, copy)
        for f in copy.rglob("baseline.skops"):
            saved = skops.io.load(f, trusted=list(TRUSTED_TYPES))
            with _pre_rename_names():
                f.write_bytes(skops.io.dumps(saved))
    return copy


def before_checkout(rev: str) -> str:
    folder = Path(tempfile.mkdtemp(prefix="araclaim-before-"))
    archive = subprocess.run(["git", "archive", rev, "train", "eval"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return str(folder)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--before", default="088a8bf",
                   help="git revision of the 'before' rows (default 088a8bf: main before any issue-14 change)")
    p.add_argument("--runs", help="baseline=<id>,tiny-bert=<id>,ensemble=<id> (default: outputs/demo/*.run_id)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--bert-n", type=int, default=256, help="sentences for bert-base rows (default 256)")
    p.add_argument("--quick", action="store_true", help="1 repeat, 128 bert-base sentences, no 100x memory run")
    p.add_argument("--skip", default="", help="comma-separated sections to skip: offline,bert,startup,memory")
    p.add_argument("--json", help="write every number to this file")
    p.add_argument("--markdown", help="write the tables as Markdown to this file (for the README)")
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.quick:
        args.repeats, args.bert_n = 1, 128
    skip = set(filter(None, args.skip.split(",")))
    sys.path.insert(0, str(REPO))
    tmp = Path(tempfile.mkdtemp(prefix="araclaim-bench-"))
    before = before_checkout(args.before)
    after = str(REPO)
    runs = dict(x.split("=") for x in args.runs.split(",")) if args.runs else {
        m: (REPO / f"outputs/demo/{m}.run_id").read_text().strip()
        for m in ("baseline", "tiny-bert", "ensemble") if (REPO / f"outputs/demo/{m}.run_id").is_file()}
    result: dict = {"machine": machine(args.threads)}
    mach = result["machine"]
    print(f"CPU: {mach['model']}; ISA: {' '.join(mach['isa'])}; {mach['cores']} cores, {args.threads} threads; "
          f"load average {mach['load'][0]:.2f}; scripts/experiments.py running: {mach['experiments_running']}",
          flush=True)
    bound = gemm_bound(args.threads)
    result["gemm"] = bound
    best = {prec: max(v.values()) for prec, v in bound.items() if v}
    print("GEMM bound (GFLOP/s; int8 GOP/s incl. activation quantisation), 512x768 @ 768x3072: " + "; ".join(
        f"{prec} {best[prec]:.0f} ({', '.join(f'{k} {v:.0f}' for k, v in impl.items())})" for prec, impl in bound.items()
        if impl), flush=True)

    rows = []
    data_articles, data_presplit = tmp / "articles.json", tmp / "presplit.json"
    arts = article_rows()
    data_articles.write_text(json.dumps(arts, ensure_ascii=False), encoding="utf-8")
    data_presplit.write_text(json.dumps([s for _, ss in arts for s in ss], ensure_ascii=False), encoding="utf-8")
    common = {"threads": args.threads, "repeats": args.repeats, "engine": None}

    def row(name, model_dir, code, precision, data, inp, engine=None, pairs=False, flops=None, timeout=3600):
        src = before if code == "before" else after
        spec = {**common, "src": src, "model": str(model_for(src, model_dir, tmp)),
                "precision": precision, "data": str(data), "input": inp, "engine": engine}
        out = run_worker(spec, timeout)
        out.update({"name": name, "code": code, "precision": precision if not engine else f"{precision}/{engine}",
                    "input": inp})
        if flops and "median" in out:
            prec = (out.get("mode") or precision).split("/")[0]
            out["gemm_fraction"] = out["median"] * flops / 1e9 / best.get(prec, float("nan"))
        rows.append(out)
        shown = f"{out['median']:8.1f}/s  mode {out.get('mode')}" if "median" in out else f"error: {out['error']}"
        print(f"  {name:<10} {code:<6} {out['precision']:<18} {inp:<9} {shown}", flush=True)
        return out

    if "offline" not in skip:
        result["parts"] = parts = parts_bound([s for _, ss in arts for s in ss], reps=args.repeats)
        print(f"baseline parts alone (presplit): TF-IDF+LR {parts['tfidf_lr']:.0f}/s, cue features "
              f"{parts['cues']:.0f}/s, in series {parts['serial']:.0f}/s", flush=True)
        print("offline models (sentences/s, median):", flush=True)
        for name in ("baseline", "tiny-bert", "ensemble"):
            if name not in runs:
                continue
            model_dir = run_model_dir(runs[name])
            f_art = flops_per_sentence(run_model_dir(runs["tiny-bert"]), [s for _, ss in arts for s in ss], True) \
                if name != "baseline" and "tiny-bert" in runs else None
            f_pre = flops_per_sentence(run_model_dir(runs["tiny-bert"]), [s for _, ss in arts for s in ss], False) \
                if name != "baseline" and "tiny-bert" in runs else None
            for inp, data, fl in (("articles", data_articles, f_art), ("presplit", data_presplit, f_pre)):
                row(name, model_dir, "before", "fp32", data, inp, flops=fl)
                row(name, model_dir, "after", "auto", data, inp, flops=fl)
    if "bert" not in skip:
        print(f"bert-base, random weights, {args.bert_n} dev sentences, --presplit:", flush=True)
        texts = dev_sentences(args.bert_n) if len(dev_sentences(args.bert_n)) >= args.bert_n else generate_sentences(args.bert_n)
        bert = build_bert_base(REPO / "outputs/bench/bert-base/model", dev_sentences(10_000) + generate_sentences(2000))
        data = tmp / "bert.json"
        data.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        flops = flops_per_sentence(bert, texts, False)
        small = tmp / "bert-small.json"  # emulated bf16 (no bf16 units) takes minutes for a few sentences
        small.write_text(json.dumps(texts[:4], ensure_ascii=False), encoding="utf-8")
        native = {"avx512_bf16", "amx_bf16"} & set(mach.get("isa", []))
        row("bert-base", bert, "before", "fp32", data, "presplit", flops=flops)
        common["repeats"] = args.repeats if native else 1
        row("bert-base", bert, "before", "bf16", data if native else small, "presplit", flops=flops)
        common["repeats"] = args.repeats
        row("bert-base", bert, "before", "int8", data, "presplit", flops=flops)
        row("bert-base", bert, "after", "fp32", data, "presplit", flops=flops)
        row("bert-base", bert, "after", "int8", data, "presplit", engine="torch", flops=flops)
        row("bert-base", bert, "after", "fp32", data, "presplit", engine="onnxruntime", flops=flops)
        row("bert-base", bert, "after", "int8", data, "presplit", engine="onnxruntime", flops=flops)
        row("bert-base", bert, "after", "auto", data, "presplit", flops=flops)
    result["rows"] = [{k: v for k, v in r.items() if k != "stderr"} for r in rows]

    if "startup" not in skip:
        print("start-up, one sentence from a run id, warm (s):", flush=True)
        result["startup"] = {}
        for name, run in runs.items():
            result["startup"][name] = {code: startup(src, run, tmp / f"s-{code}-{name}")
                                       for code, src in (("before", before), ("after", after))}
            print(f"  {name:<10} before {result['startup'][name]['before']:.2f}  after "
                  f"{result['startup'][name]['after']:.2f}", flush=True)
    if "memory" not in skip and "ensemble" in runs:
        print("peak RSS of araclaim label (ensemble, after):", flush=True)
        result["memory"] = []
        for factor in (10,) if args.quick else (10, 100):
            n, seconds, rss = peak_rss(runs["ensemble"], factor, tmp)
            result["memory"].append({"factor": factor, "sentences": n, "seconds": seconds, "peak_rss_mb": rss})
            print(f"  {factor:>3}x test articles: {n} sentences in {seconds:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(markdown(result, args), encoding="utf-8")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(before, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
