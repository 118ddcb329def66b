"""Training throughput and peak memory of tiny-bert and of a BERT-base-sized model on this machine.

Each model trains for a few steps (forward + backward + AdamW step) on random token ids shaped like a
typical news sentence batch: 16 sentences of 48 word-pieces. The reported speed is the median over
the timed steps (after warm-up); peak memory is the process's peak resident set size (RSS), measured
in a fresh subprocess per model so one model's peak does not hide behind the other's.

    .venv/bin/python scripts/bench_train.py                  # both models, ~1-2 minutes on 2 cores
    .venv/bin/python scripts/bench_train.py --threads 1      # single-threaded
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# name -> (how the model is described, timed steps): bert-base steps take seconds on a CPU, so fewer.
MODELS = {
    "tiny-bert": ("configs/tiny-bert.yaml pretrain block", 10),
    "bert-base": ("BertConfig defaults (12 x 768), vocab 64000 like AraBERT v02, random weights", 3),
}
WARMUP_STEPS = 2


def _rss_mb() -> float:
    """Current resident set size (Linux /proc; falls back to the peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _peak_rss_mb()


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _config(name: str):
    from transformers import BertConfig

    if name == "bert-base":
        return BertConfig(vocab_size=64000, num_labels=4)
    sys.path.insert(0, str(REPO))
    from araclaim.train.config import load_config

    cfg = load_config(REPO / "configs/tiny-bert.yaml")
    p = cfg.transformer.pretrain
    return BertConfig(vocab_size=p.vocab_size, hidden_size=p.hidden_size, num_hidden_layers=p.num_layers,
                      num_attention_heads=p.num_heads, intermediate_size=p.intermediate_size,
                      max_position_embeddings=cfg.transformer.max_length, num_labels=4)


def child(name: str, batch: int, seq: int, threads: int) -> dict:
    """Run in a subprocess: build the model, time training steps, report one JSON line."""
    import torch
    from transformers import BertForSequenceClassification

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rss_before = _rss_mb()
    config = _config(name)
    model = BertForSequenceClassification(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
    ids = torch.randint(5, config.vocab_size, (batch, seq))
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 4, (batch,))
    times = []
    for step in range(WARMUP_STEPS + MODELS[name][1]):
        started = time.perf_counter()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= WARMUP_STEPS:
            times.append(time.perf_counter() - started)
    median = statistics.median(times)
    return {"model": name, "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
            "step_s": median, "samples_per_s": batch / median, "peak_rss_mb": _peak_rss_mb(),
            "rss_before_model_mb": rss_before, "steps": len(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="sentences per step (default 16)")
    parser.add_argument("--seq", type=int, default=48, help="word-pieces per sentence (default 48)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0))
                        if hasattr(os, "sched_getaffinity") else os.cpu_count(),
                        help="torch CPU threads (default: every core this process may use)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.batch, args.seq, args.threads)))
        return 0

    python = os.path.relpath(sys.executable, Path.cwd()) if sys.executable.startswith(str(REPO)) else sys.executable
    print("$ " + shlex.join([python, "scripts/bench_train.py", *(argv if argv is not None else sys.argv[1:])]))
    print(f"# {_cpu_name()}, {os.cpu_count()} CPUs, torch threads {args.threads}, "
          f"batch {args.batch} x {args.seq} word-pieces, forward + backward + AdamW, fp32")
    rows = []
    for name in args.models:
        out = subprocess.run([sys.executable, __file__, "--child", name, "--batch", str(args.batch),
                              "--seq", str(args.seq), "--threads", str(args.threads)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            return out.returncode
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print()
    print("| model | params | median step | samples/s | peak RSS | RSS before model |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['params_m']:.1f}M | {r['step_s'] * 1000:.0f} ms | {r['samples_per_s']:.1f} | "
              f"{r['peak_rss_mb']:.0f} MB | {r['rss_before_model_mb']:.0f} MB |")
    print()
    for name in args.models:
        print(f"# {name}: {MODELS[name][0]}; median of {MODELS[name][1]} steps after {WARMUP_STEPS} warm-up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
