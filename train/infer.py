"""Fast batch inference for sequence classifiers on CPU (or GPU): the loop `araclaim label` relies on.

`prepare(model, precision, engine)` once, then `predict_logits(model, tokenizer, texts, precision=...)`:
texts are tokenised once without padding, sorted by length, cut into batches padded only to their own
longest sentence, and run under `torch.inference_mode`; the logits come back in input order.
Precisions (measured by scripts/bench_label.py, and on `select` accuracy at training time, before use):

- `fp32`: the model as trained.
- `bf16`: weights cast to bfloat16; on CPUs with AVX512-BF16/AMX (`bf16_supported()`) the matrix
  multiplies run on the bf16 units; elsewhere they are emulated and slower than fp32. Logits come back as float32.
- `int8`: int8 weights, activations quantised per batch, CPU only. Engine `torch`: dynamic quantisation of
  every `nn.Linear` (`torch.ao.quantization.quantize_dynamic`); embeddings, LayerNorm and softmax stay fp32.
  Engine `onnxruntime`: the model exported to ONNX and quantised by ONNX Runtime (MatMul and embedding
  Gather), run by its own int8 kernels.

Engines: `torch` (eager PyTorch) or `onnxruntime` (the same model exported once to ONNX, cached on disk by
the weights' identity; fp32 and int8). ONNX Runtime's GEMM kernels and fused graph avoid most of eager
PyTorch's per-operator overhead, which dominates small models. `probe` times every (precision, engine)
on the actual model and caches the rates per machine (see `choose`).

`threads(n)` sets torch's intra-op thread count for a block and restores the previous count after it, so
a training run or a labelling command never leaves the process (a script, the test session) with its setting.
"""
from __future__ import annotations

import contextlib
import copy
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from araclaim.train.onnxrun import (  # noqa: F401  (the torch-free half, re-exported)
    ENGINES,
    ONNX_PRECISIONS,
    PRECISIONS,
    OnnxClassifier,
    cache_dir,
    choose,
    cpu_info,
    encode,
    machine_key,
    mode_name,
    onnx_available,
    onnx_folder,
    onnx_ready,
    read_probe,
    shape_key,
    softmax,
    write_probe,
)
from araclaim.train import onnxrun


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextlib.contextmanager
def threads(n: int | None = None) -> Iterator[int]:
    """torch uses `n` intra-op threads (0 or None: every core this process may use) inside the block; the
    previous count comes back after it, exception or not. Yields the number set."""
    n = int(n) if n else cpu_count()
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)


def bf16_supported() -> bool:
    """True when this CPU has native bfloat16 matrix units (AVX512-BF16 or AMX) that oneDNN uses."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def modes(device: str = "cpu") -> list[tuple[str, str]]:
    """(precision, engine) pairs this machine can run: torch fp32/bf16/int8 on CPU (int8 is CPU only), and
    onnxruntime fp32/int8 when it is installed."""
    out = [("fp32", "torch"), ("bf16", "torch")] + ([("int8", "torch")] if device == "cpu" else [])
    if device == "cpu" and onnx_available():
        out += [(p, "onnxruntime") for p in ONNX_PRECISIONS]
    return out


def prepare(model: nn.Module, precision: str = "fp32", engine: str = "torch", *, cache_key: str | None = None,
            threads: int | None = None):
    """The model ready for inference at `precision` on `engine` (eval mode).

    torch: the module itself cast to fp32 or bf16 (in place), or a new int8-quantised module. onnxruntime: an
    `OnnxClassifier` over the model exported to ONNX (and quantised for int8), cached under `cache_dir()` by
    `cache_key` (the weights' identity; None: exported afresh into a temporary directory).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    model = model.eval()
    if engine == "onnxruntime":
        if precision not in ONNX_PRECISIONS:
            raise ValueError(f"the onnxruntime engine runs {' and '.join(ONNX_PRECISIONS)}, not {precision}")
        if not onnx_available():
            raise ValueError("the onnxruntime engine needs `pip install onnxruntime onnx`")
        return OnnxClassifier(onnx_file(model.float(), precision, cache_key), model.config.num_labels, threads)
    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        if next(model.parameters()).device.type != "cpu":
            raise ValueError("int8 runs on CPU only; use bf16 on a GPU")
        if "onednn" in torch.backends.quantized.supported_engines:
            torch.backends.quantized.engine = "onednn"  # AMX/VNNI int8 kernels: ~1.7x fbgemm's on Xeons
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao
            return torch.ao.quantization.quantize_dynamic(model.float(), {nn.Linear}, dtype=torch.qint8)
    return model.float()


# --------------------------------------------------------------------------------------------------
# The onnxruntime engine
# --------------------------------------------------------------------------------------------------

_TEMP: list = []
_EXPORTS = __import__("itertools").count()


def _tempdir() -> str:
    """A directory for exports of models that have no saved weights yet (removed at exit)."""
    import tempfile

    if not _TEMP:
        _TEMP.append(tempfile.TemporaryDirectory(prefix="araclaim-onnx-"))
    return _TEMP[0].name


def _input_names(model) -> list[str]:
    names = ["input_ids", "attention_mask", "token_type_ids"]
    return names + ["cue_features"] if getattr(model.config, "num_cue_features", 0) else names


class _Logits(nn.Module):
    """forward(*tensors) -> logits: the positional, tensor-only face the ONNX exporter wants."""

    def __init__(self, model, names):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *tensors):
        return self.model(**dict(zip(self.names, tensors))).logits


def onnx_file(model, precision: str, cache_key: str | None) -> Path:
    """The model as an ONNX file at `precision` (fp32, or int8 by ONNX Runtime's dynamic quantisation),
    exported once per `cache_key` and reused (a `.complete` mark is written last)."""
    folder = onnx_folder(cache_key) if cache_key else Path(_tempdir()) / f"export-{next(_EXPORTS)}"
    path = folder / f"model-{precision}.onnx"
    if (folder / f".complete-{precision}").is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model-fp32.onnx"
    if not (folder / ".complete-fp32").is_file():
        names = _input_names(model)
        batch = {"input_ids": torch.ones(2, 8, dtype=torch.long), "attention_mask": torch.ones(2, 8, dtype=torch.long),
                 "token_type_ids": torch.zeros(2, 8, dtype=torch.long)}
        if "cue_features" in names:
            batch["cue_features"] = torch.zeros(2, model.config.num_cue_features)
        axes = {n: {0: "batch", 1: "tokens"} for n in names if n != "cue_features"} | {"logits": {0: "batch"}}
        if "cue_features" in names:
            axes["cue_features"] = {0: "batch"}
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated; it needs no extra package
            torch.onnx.export(_Logits(model, names).eval(), tuple(batch[n] for n in names), str(fp32),
                              input_names=names, output_names=["logits"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)
        (folder / ".complete-fp32").write_text("", encoding="utf-8")
    if precision == "int8":
        import logging

        from onnxruntime.quantization import QuantType, quantize_dynamic

        logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # its pre-processing advice
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8)  # signed weights: faster than u8
        (folder / ".complete-int8").write_text("", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# The probe: which (precision, engine) is fastest for this model on this machine
# --------------------------------------------------------------------------------------------------

PROBE_BATCH, PROBE_TOKENS = 32, 40  # a typical labelling batch: 32 sentences of ~40 word-pieces


def probe(model, candidates: list[tuple[str, str]], *, threads: int, cache_key: str | None = None,
          budget_s: float = 20.0, log=None) -> dict[str, float]:
    """Sentences/s of `model` at each (precision, engine) of `candidates` on this machine, cached per machine.

    Each mode runs the real model on a fixed synthetic batch (PROBE_BATCH x PROBE_TOKENS): one warm-up, then
    3 timed rounds over all modes in turn (so load from other processes hits them alike), the best of each
    (a mode past `budget_s` stops after 2). Results are stored in `cache_dir()`/
    precision-probe.json under `machine_key` and `shape_key`, so each machine measures a model shape once.
    """
    key = f"{machine_key(threads)} || {shape_key(model.config)}"
    rates = dict(read_probe().get(key, {}))
    todo = [m for m in candidates if mode_name(*m) not in rates]
    if not todo:
        return {mode_name(*m): rates[mode_name(*m)] for m in candidates}
    if log:
        log(f"measuring {', '.join(mode_name(*m) for m in todo)} on this CPU for this model size "
            f"(once; cached in {cache_dir() / onnxrun.PROBE_FILE})")
    gen = torch.Generator().manual_seed(0)
    vocab = int(getattr(model.config, "vocab_size", 1000))
    tokens = min(PROBE_TOKENS, int(getattr(model.config, "max_position_embeddings", PROBE_TOKENS)))
    batch = {"input_ids": torch.randint(5, max(vocab, 6), (PROBE_BATCH, tokens), generator=gen),
             "attention_mask": torch.ones(PROBE_BATCH, tokens, dtype=torch.long),
             "token_type_ids": torch.zeros(PROBE_BATCH, tokens, dtype=torch.long)}
    if getattr(model.config, "num_cue_features", 0):
        batch["cue_features"] = torch.zeros(PROBE_BATCH, model.config.num_cue_features)
    runners = {}
    for precision, engine in todo:
        runnable = prepare(model if engine == "onnxruntime" else copy.deepcopy(model), precision, engine,
                           cache_key=cache_key, threads=threads)
        if engine == "onnxruntime":
            arrays = {k: v.numpy() for k, v in batch.items()}
            runners[mode_name(precision, engine)] = lambda arrays=arrays, session=runnable: session.run(arrays)
        else:
            inputs = {k: (v.to(torch.bfloat16) if precision == "bf16" and v.is_floating_point() else v)
                      for k, v in batch.items()}
            runners[mode_name(precision, engine)] = lambda inputs=inputs, module=runnable: module(**inputs)
    # Round-robin, best of 3 after a warm-up: load from other processes then hits every mode alike.
    best = {m: float("inf") for m in runners}
    spent = dict.fromkeys(runners, 0.0)
    with torch.inference_mode():
        for round_ in range(4):
            for m, run in runners.items():
                if round_ > 1 and spent[m] > budget_s:
                    continue
                start = time.perf_counter()
                run()
                elapsed = time.perf_counter() - start
                spent[m] += elapsed
                if round_:  # the first call is a warm-up (kernel selection, weight packing)
                    best[m] = min(best[m], elapsed)
    rates.update({m: PROBE_BATCH / t for m, t in best.items()})
    del runners
    write_probe(key, rates)
    return {mode_name(*m): rates[mode_name(*m)] for m in candidates}


def _batch_tensors(enc: dict, idx: np.ndarray, lengths: np.ndarray, pad_id: int, device) -> dict:
    """Pad the sentences `idx` to their own longest length: input_ids, attention_mask (+ token_type_ids)."""
    return {k: torch.from_numpy(v).to(device) for k, v in onnxrun.batch_arrays(enc, idx, lengths, pad_id).items()}


def predict_logits(model: nn.Module, tokenizer, texts: list[str], *, batch_size: int = 32, max_length: int = 128,
                   precision: str = "fp32", extra: dict[str, np.ndarray] | None = None,
                   contexts: list[str] | None = None) -> np.ndarray:
    """Logits (n, num_labels) as float32, in the order of `texts`.

    `model` should come from `prepare(model, precision)`. `extra` maps further forward() arguments to
    per-text float arrays (for example {"cue_features": array of shape (n, k)}), batched the same way.
    `contexts` (one string per text) makes each input a (context, sentence) pair (`encode`).
    """
    if isinstance(model, OnnxClassifier):
        return onnxrun.predict_logits(model, tokenizer, texts, batch_size=batch_size, max_length=max_length,
                                      extra=extra, contexts=contexts)
    texts = list(texts)
    if not texts:
        return np.zeros((0, model.config.num_labels), dtype=np.float32)
    enc = encode(tokenizer, texts, contexts, max_length)
    lengths = np.array([len(ids) for ids in enc["input_ids"]])
    order = np.argsort(lengths, kind="stable")
    device = next(model.parameters(), torch.empty(0)).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    float_dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    out = np.empty((len(texts), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            batch = _batch_tensors(enc, idx, lengths, pad_id, device)
            for name, values in (extra or {}).items():
                batch[name] = torch.as_tensor(np.asarray(values)[idx], dtype=float_dtype, device=device)
            out[idx] = model(**batch).logits.float().cpu().numpy()
    return out


