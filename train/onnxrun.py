"""The torch-free half of inference: tokenising, batching, ONNX Runtime sessions and the per-machine caches.

Everything here imports only numpy, the standard library and (when used) `tokenizers` / `onnxruntime`, so a
model whose chosen mode is an ONNX Runtime one labels without importing torch or transformers (about 4 s of
start-up on a 2-core machine). train/infer.py holds the torch half (preparing, exporting and probing models)
and re-exports these names.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

PRECISIONS = ("fp32", "bf16", "int8")
ENGINES = ("torch", "onnxruntime")
ONNX_PRECISIONS = ("fp32", "int8")  # what the onnxruntime engine runs
PROBE_FILE = "precision-probe.json"


def cache_dir() -> Path:
    """Where araclaim keeps per-machine files: exported models, the precision probe, downloaded models
    ($ARACLAIM_CACHE, else ~/.cache/araclaim)."""
    root = os.environ.get("ARACLAIM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "araclaim")
    return Path(root).expanduser()


def mode_name(precision: str, engine: str) -> str:
    """"int8/onnxruntime": how a (precision, engine) pair is written in records, caches and messages."""
    return f"{precision}/{engine}"


def choose(rates: dict[str, float], allowed: set[str]) -> str:
    """The fastest allowed mode; fp32/torch is always allowed, so the choice is never slower than it."""
    pool = {m: r for m, r in rates.items() if m in allowed or m == "fp32/torch"}
    return max(pool, key=lambda m: (pool[m], m == "fp32/torch"))


def onnx_available() -> bool:
    """True when onnxruntime (to run) and onnx (to export) are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


# --------------------------------------------------------------------------------------------------
# The machine, the model's shape, and the caches keyed by them
# --------------------------------------------------------------------------------------------------

ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8",
             "avx512_fp16")


def cpu_info() -> dict:
    """CPU model name, the ISA flags that decide fp32/bf16/int8 speed (from /proc/cpuinfo on Linux), cores."""
    name, flags = "", []
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not name:
                name = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = value.split()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {"model": name or platform.processor() or platform.machine(),
            "isa": [f for f in ISA_FLAGS if f in flags], "cores": cores}


def native_bf16() -> bool:
    """bf16 matrix units by the CPU's flags (AVX512-BF16 or AMX); torch's own check is infer.bf16_supported."""
    return bool({"avx512_bf16", "amx_bf16"} & set(cpu_info()["isa"]))


def machine_key(threads: int) -> str:
    """What a probe result depends on besides the model: CPU, ISA, library versions, thread count."""
    info = cpu_info()
    return (f"{info['model']}|{','.join(info['isa'])}|torch {_version('torch')}|ort {_version('onnxruntime')}"
            f"|{threads} threads")


def shape_key(config) -> str:
    """The model's size as far as speed goes (not its weights): layers, widths, heads, cue inputs.
    `config` is a transformers config or its config.json as a dict."""
    get = config.get if isinstance(config, dict) else (lambda k, d=None: getattr(config, k, d))
    return (f"{get('model_type', '?')} L{get('num_hidden_layers', '?')} H{get('hidden_size', '?')} "
            f"I{get('intermediate_size', '?')} A{get('num_attention_heads', '?')} cues{get('num_cue_features', 0) or 0}")


def read_probe() -> dict:
    """Every cached probe result: {"<machine> || <shape>": {"mode": sentences/s, ...}}."""
    try:
        return json.loads((cache_dir() / PROBE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_probe(key: str, rates: dict[str, float]) -> None:
    """Store one probe result (atomically; a cache that cannot be written only costs a re-probe)."""
    store = cache_dir() / PROBE_FILE
    cached = read_probe()
    cached[key] = rates
    with contextlib.suppress(OSError):
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cached, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, store)


def onnx_folder(cache_key: str) -> Path:
    """Where the ONNX exports of the weights identified by `cache_key` live (one per library versions)."""
    import hashlib

    key = f"{cache_key}|{_version('torch')}|{_version('onnxruntime')}"
    return cache_dir() / "onnx" / hashlib.sha256(key.encode()).hexdigest()[:24]


def onnx_ready(cache_key: str | None, precision: str) -> Path | None:
    """The exported file for `precision`, when a previous run finished exporting it."""
    if not cache_key:
        return None
    folder = onnx_folder(cache_key)
    return folder / f"model-{precision}.onnx" if (folder / f".complete-{precision}").is_file() else None


# --------------------------------------------------------------------------------------------------
# Tokenising without transformers
# --------------------------------------------------------------------------------------------------

class FastTokenizer:
    """What train/infer needs of a transformers BERT tokenizer, over its saved tokenizer.json directly.

    Attributes `backend_tokenizer`, `cls_token_id`, `sep_token_id`, `pad_token_id`, `model_input_names`;
    calling it tokenises like `tokenizer(texts, truncation=True, max_length=n)` for BERT's [CLS] x [SEP]
    template (a sentence is cut to n - 2 pieces). `load` returns None where this cannot be trusted.
    """

    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(self, backend, special: dict):
        self.backend_tokenizer = backend
        self.cls_token_id = backend.token_to_id(special.get("cls_token") or "[CLS]")
        self.sep_token_id = backend.token_to_id(special.get("sep_token") or "[SEP]")
        self.pad_token_id = backend.token_to_id(special.get("pad_token") or "[PAD]")

    @classmethod
    def load(cls, directory: Path) -> FastTokenizer | None:
        """From a save_pretrained directory with tokenizer.json of a BERT tokenizer; else None."""
        try:
            config = json.loads((directory / "tokenizer_config.json").read_text(encoding="utf-8"))
            if "Bert" not in str(config.get("tokenizer_class", "")) or not (directory / "tokenizer.json").is_file():
                return None
            from tokenizers import Tokenizer

            backend = Tokenizer.from_file(str(directory / "tokenizer.json"))
        except (OSError, ValueError, ImportError):
            return None
        if backend.truncation is not None or backend.padding is not None:
            return None
        tok = cls(backend, config)
        return tok if None not in (tok.cls_token_id, tok.sep_token_id, tok.pad_token_id) else None

    def __call__(self, texts, truncation=True, max_length=512, add_special_tokens=True):
        encs = self.backend_tokenizer.encode_batch(list(texts), add_special_tokens=False)
        if not add_special_tokens:
            return {"input_ids": [e.ids for e in encs]}
        ids = [[self.cls_token_id, *(e.ids[:max_length - 2] if truncation else e.ids), self.sep_token_id]
               for e in encs]
        return {"input_ids": ids, "token_type_ids": [[0] * len(x) for x in ids],
                "attention_mask": [[1] * len(x) for x in ids]}


def _piece_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """Word-piece ids without special tokens, as `tokenizer(texts, add_special_tokens=False)["input_ids"]`.

    A fast tokenizer's Rust backend is called directly: the BatchEncoding that transformers builds around it
    costs more than the tokenisation itself for short sentences.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or backend.truncation is not None or backend.padding is not None:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]


def _single_ids(tokenizer, texts: list[str], max_length: int) -> dict:
    """`dict(tokenizer(texts, truncation=True, max_length=max_length))`, through the Rust backend when no
    sentence needs truncating (the usual case), else through the tokenizer itself."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.truncation is None and backend.padding is None:
        encs = backend.encode_batch(texts)
        if all(len(e.ids) <= max_length for e in encs):
            fields = {"input_ids": "ids", "token_type_ids": "type_ids", "attention_mask": "attention_mask"}
            names = [n for n in getattr(tokenizer, "model_input_names", fields) if n in fields]
            return {n: [getattr(e, fields[n]) for e in encs] for n in names}
    return dict(tokenizer(texts, truncation=True, max_length=max_length))


def encode(tokenizer, texts: list[str], contexts: list[str] | None = None, max_length: int = 128) -> dict:
    """Token ids (unpadded lists) for single sentences, or for (context, sentence) pairs as BERT reads them.

    Pairs are `[CLS] context [SEP] sentence [SEP]` with token types 0/1. The sentence is kept whole when it
    fits; the context gets what is left and keeps its end (the sentences nearest the one being labelled).
    An empty context gives the single-sentence encoding.
    """
    if contexts is None:
        return _single_ids(tokenizer, list(texts), max_length)
    if len(contexts) != len(texts):
        raise ValueError(f"{len(contexts)} contexts for {len(texts)} texts")
    sent = _piece_ids(tokenizer, list(texts))
    ctx = _piece_ids(tokenizer, [c or "" for c in contexts])
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


def batch_arrays(enc: dict, idx: np.ndarray, lengths: np.ndarray, pad_id: int) -> dict[str, np.ndarray]:
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
    batch = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        batch["token_type_ids"] = types
    return batch


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------------
# ONNX Runtime
# --------------------------------------------------------------------------------------------------

class OnnxClassifier:
    """An exported sequence classifier run by ONNX Runtime on numpy arrays (`run`)."""

    def __init__(self, path: Path, num_labels: int, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads or cpu_info()["cores"])
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.path, self.num_labels = Path(path), int(num_labels)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def run(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Logits (float32) of one padded batch. Token types default to 0, as in BERT's forward, for
        tokenizers that do not return them."""
        feeds = {name: batch[name] if name in batch else np.zeros_like(batch["input_ids"]) for name in self.inputs}
        return self.session.run(["logits"], feeds)[0]


def predict_logits(model: OnnxClassifier, tokenizer, texts: list[str], *, batch_size: int = 32,
                   max_length: int = 128, extra: dict[str, np.ndarray] | None = None,
                   contexts: list[str] | None = None) -> np.ndarray:
    """train/infer.predict_logits for an OnnxClassifier: the same length-sorted, dynamically padded batches."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, model.num_labels), dtype=np.float32)
    enc = encode(tokenizer, texts, contexts, max_length)
    lengths = np.array([len(ids) for ids in enc["input_ids"]])
    order = np.argsort(lengths, kind="stable")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out = np.empty((len(texts), model.num_labels), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        batch = batch_arrays(enc, idx, lengths, pad_id)
        for name, values in (extra or {}).items():
            batch[name] = np.asarray(values, dtype=np.float32)[idx]
        out[idx] = model.run(batch)
    return out
