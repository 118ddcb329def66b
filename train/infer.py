"""Fast batch inference for sequence classifiers on CPU (or GPU): the loop `araclaim label` relies on.

`prepare(model, precision)` once, then `predict_logits(model, tokenizer, texts, precision=...)`:
texts are tokenised once without padding, sorted by length, cut into batches padded only to their own
longest sentence, and run under `torch.inference_mode`; the logits come back in input order.
Precisions (measured by scripts/bench_label.py, and on dev/gold accuracy, before being offered):

- `fp32`: the model as trained.
- `bf16`: weights cast to bfloat16; on CPUs with AVX512-BF16/AMX (`bf16_supported()`) the matrix
  multiplies run on the bf16 units. Logits are returned as float32.
- `int8`: `torch.ao.quantization.quantize_dynamic` of every `nn.Linear` (int8 weights, activations
  quantised per batch); CPU only; selects the oneDNN quantized engine when present (a process-wide
  setting). Embeddings, LayerNorm and attention softmax stay in fp32.

`threads(n)` sets torch's intra-op thread count for a block and restores the previous count after it, so
a training run or a labelling command never leaves the process (a script, the test session) with its setting.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

PRECISIONS = ("fp32", "bf16", "int8")


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


def prepare(model: nn.Module, precision: str = "fp32") -> nn.Module:
    """The model ready for inference at `precision` (eval mode; a new module for int8, cast in place for bf16)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    model = model.eval()
    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        if next(model.parameters()).device.type != "cpu":
            raise ValueError("int8 dynamic quantization runs on CPU only; use bf16 on a GPU")
        if "onednn" in torch.backends.quantized.supported_engines:
            torch.backends.quantized.engine = "onednn"  # AMX/VNNI int8 kernels: ~1.7x fbgemm's on this CPU
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao
            return torch.ao.quantization.quantize_dynamic(model.float(), {nn.Linear}, dtype=torch.qint8)
    return model.float()


def _batch_tensors(enc: dict, idx: np.ndarray, lengths: np.ndarray, pad_id: int, device) -> dict:
    """Pad the sentences `idx` to their own longest length: input_ids, attention_mask (+ token_type_ids)."""
    width = int(lengths[idx].max())
    ids = np.full((len(idx), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(idx), width), dtype=np.int64)
    types = np.zeros((len(idx), width), dtype=np.int64) if "token_type_ids" in enc else None
    for row, i in enumerate(idx):
        n = lengths[i]
        ids[row, :n] = enc["input_ids"][i]
        mask[row, :n] = 1
        if types is not None:
            types[row, :n] = enc["token_type_ids"][i]
    batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
    if types is not None:
        batch["token_type_ids"] = torch.from_numpy(types)
    return {k: v.to(device) for k, v in batch.items()}


def encode(tokenizer, texts: list[str], contexts: list[str] | None = None, max_length: int = 128) -> dict:
    """Token ids (unpadded lists) for single sentences, or for (context, sentence) pairs as BERT reads them.

    Pairs are `[CLS] context [SEP] sentence [SEP]` with token types 0/1. The sentence is kept whole when it
    fits; the context gets what is left and keeps its end (the sentences nearest the one being labelled).
    An empty context gives the single-sentence encoding.
    """
    if contexts is None:
        return dict(tokenizer(list(texts), truncation=True, max_length=max_length))
    if len(contexts) != len(texts):
        raise ValueError(f"{len(contexts)} contexts for {len(texts)} texts")
    sent = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    ctx = tokenizer([c or "" for c in contexts], add_special_tokens=False)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    ids, types = [], []
    for s, c in zip(sent, ctx):
        s = s[:max_length - 2]
        room = max_length - 3 - len(s)
        c = c[-room:] if room > 0 and c else []
        if c:  # BERT's pair layout, as in next-sentence pre-training
            ids.append([cls, *c, sep, *s, sep])
            types.append([0] * (len(c) + 2) + [1] * (len(s) + 1))
        else:
            ids.append([cls, *s, sep])
            types.append([0] * len(ids[-1]))
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": [[1] * len(x) for x in ids]}


def predict_logits(model: nn.Module, tokenizer, texts: list[str], *, batch_size: int = 32, max_length: int = 128,
                   precision: str = "fp32", extra: dict[str, np.ndarray] | None = None,
                   contexts: list[str] | None = None) -> np.ndarray:
    """Logits (n, num_labels) as float32, in the order of `texts`.

    `model` should come from `prepare(model, precision)`. `extra` maps further forward() arguments to
    per-text float arrays (for example {"cue_features": array of shape (n, k)}), batched the same way.
    `contexts` (one string per text) makes each input a (context, sentence) pair (`encode`).
    """
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


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
