"""The transformer family's backend at labelling time: predict_proba, configure (precision), save, load.

Kept apart from train/transformer.py (training, model classes), which imports torch and transformers: a
loaded model reads its metadata, tokenizer and config without them, and imports them only when a torch
mode is used. When `--precision auto` finds in the per-machine caches that the fastest allowed mode is an
ONNX Runtime one and the model's export is on disk, labelling never imports torch (train/onnxrun.py).
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np

from araclaim.train import context, cues, onnxrun, text
from araclaim.train.errors import ModelLoadError
from araclaim.train.features import SentenceFeatures
from araclaim.train.labels import LABELS

META_FILE = "transformer.json"  # preprocessing + cue features, beside config.json in the model directory
EVAL_BATCH_SIZE = 64  # inference only: no activations kept, so larger than training batches


def _preprocessor(name: str):
    return {"arabert": text.arabert_preprocess, "normalize": text.normalize}[name]


def _gpu_present() -> bool:
    """Whether an NVIDIA GPU is visible, without importing torch (then the torch path decides)."""
    return Path("/proc/driver/nvidia/gpus").is_dir() and any(Path("/proc/driver/nvidia/gpus").iterdir())


class TransformerBackend:
    """A fine-tuned classifier + its tokenizer + the preprocessing it was trained with.

    Built from a live model (training) or from a model `directory` (loading), in which case the torch model
    and the transformers tokenizer are loaded on first use. `precision` is the inference precision of
    train/infer.py ("fp32" as trained; `araclaim label` switches it through `configure`).
    """

    shares_features = True  # predict_proba takes the call's SentenceFeatures (train/model.py)

    def __init__(self, model=None, tokenizer=None, meta: dict | None = None, precision: str = "fp32", *,
                 directory: Path | None = None, config: dict | None = None):
        self._model = model.eval() if model is not None else None
        self._tokenizer = tokenizer
        self.directory = Path(directory) if directory is not None else None
        self.meta = meta or {}
        self.precision = precision
        self.mode = "fp32/torch"
        self.batch_size = EVAL_BATCH_SIZE
        self.cache_key: str | None = None  # identity of the saved weights, for the exported ONNX cache
        self.runner = None  # an onnxrun.OnnxClassifier when configured onto ONNX Runtime
        self.threads: int | None = None  # set by configure(); None leaves torch's thread count alone
        config = config if config is not None else model.config.to_dict()
        self.config = config
        # probability columns in LABELS order, whatever ids the model config uses
        self._columns = [int(config["label2id"][label]) for label in LABELS]

    @property
    def model(self):
        """The torch model (loaded from `directory` on first use)."""
        if self._model is None:
            from araclaim.train.transformer import load_model

            self._model = load_model(self.directory, self.meta)
            self._columns = [int(self._model.config.label2id[label]) for label in LABELS]
        return self._model

    @model.setter
    def model(self, value) -> None:
        self._model = value

    @property
    def tokenizer(self):
        """The transformers tokenizer (loaded from `directory` on first use)."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.directory, local_files_only=True)
        return self._tokenizer

    def predict_proba(self, texts: list[str], contexts: list[list[str]] | None = None,
                      features: SentenceFeatures | None = None) -> np.ndarray:
        """Softmax over the logits; length-sorted, dynamically padded batches (train/infer.py).

        With a context-reading model, `contexts` (previous sentences per row) become the pair's first segment.
        `features` shares normalised text and cue features with the rest of the call (an ensemble's baseline).
        """
        texts = list(texts)
        features = features or SentenceFeatures()
        prep = features.normalized if self.meta["preprocess"] == "normalize" else _preprocessor(self.meta["preprocess"])
        pairs = None
        if self.meta.get("context_size"):
            rows = context.trim(contexts, self.meta["context_size"], len(texts))
            pairs = [" ".join(prep(s) for s in row) for row in rows]  # joined_contexts, with shared normalisation
        extra = None
        if self.meta["cue_fusion"]:
            extra = {"cue_features": features.cue_matrix(texts).astype(np.float32)}
        inputs = [prep(t) for t in texts]
        if self.runner is not None:
            logits = onnxrun.predict_logits(self.runner, self._light_tokenizer(), inputs, batch_size=self.batch_size,
                                            max_length=self.meta["max_length"], extra=extra, contexts=pairs)
        else:
            from araclaim.train import infer

            scope = infer.threads(self.threads) if self.threads is not None else contextlib.nullcontext()
            with scope:  # the configured thread count holds for this call only
                logits = infer.predict_logits(self.model, self.tokenizer, inputs, batch_size=self.batch_size,
                                              max_length=self.meta["max_length"], precision=self.precision,
                                              extra=extra, contexts=pairs)
        return onnxrun.softmax(logits)[:, self._columns]

    def _light_tokenizer(self):
        if self._tokenizer is None and self.directory is not None:
            light = onnxrun.FastTokenizer.load(self.directory)
            if light is not None:
                return light
        return self.tokenizer

    def configure(self, *, precision: str = "fp32", threads: int | None = None, allowed: set[str] | None = None,
                  engine: str | None = None, log=None) -> dict:
        """Inference settings for batch labelling: CPU threads and the precision (train/infer.py).

        `precision` is fp32, bf16, int8 or auto. auto runs the fastest (precision, engine) among `allowed`
        (mode names such as "int8/onnxruntime" whose select macro-F1 the model's record puts within
        tolerance of fp32; fp32/torch always qualifies), timed by `infer.probe` once per machine and model
        size. An explicit precision runs on its fastest engine (or on `engine`), preferring allowed ones;
        fp32 alone stays on torch, as trained. bf16 is left out of auto on a CPU without bf16 units, where
        it is emulated and always slower than fp32. Returns {"mode", "rates", "reason"} for the caller to
        report. Call it once per loaded model.
        """
        allowed = set(allowed or ()) | {"fp32/torch"}
        if precision not in ("auto", *onnxrun.PRECISIONS):
            raise ValueError(f"precision must be auto or one of {', '.join(onnxrun.PRECISIONS)}, not {precision!r}")
        light = self._configure_light(precision, threads, allowed) if engine is None else None
        if light is not None:
            return light
        from araclaim.train import infer

        threads = self.threads = int(threads or infer.cpu_count())
        with infer.threads(threads):  # the probe and the export run on the labelling thread count
            return self._configure_torch(precision, threads, allowed, engine, log)

    def _configure_torch(self, precision: str, threads: int, allowed: set[str], engine: str | None, log) -> dict:
        from araclaim.train import infer

        device = next(self.model.parameters()).device.type
        available = [infer.mode_name(*m) for m in infer.modes(device)]
        if engine is not None:
            if infer.mode_name(precision, engine) not in available:
                raise ValueError(f"{infer.mode_name(precision, engine)} does not run here (available: {', '.join(available)})")
            candidates, reason = [infer.mode_name(precision, engine)], "as asked"
        else:
            candidates, reason = self._candidates(precision, available, allowed,
                                                  device == "cuda" or infer.bf16_supported())
        rates = {}
        if len(candidates) > 1:
            pairs = [tuple(m.split("/")) for m in candidates]
            rates = infer.probe(self.model, pairs, threads=threads, cache_key=self.cache_key, log=log)
            mode = infer.choose(rates, set(candidates)) if precision == "auto" else max(rates, key=rates.get)
        else:
            mode = candidates[0]
        chosen, chosen_engine = mode.split("/")
        prepared = infer.prepare(self.model, chosen, chosen_engine, cache_key=self.cache_key, threads=threads)
        if chosen_engine == "onnxruntime":
            self.runner = prepared
        else:
            self.model = prepared
        self.precision, self.mode = chosen, mode
        return {"mode": mode, "rates": rates, "reason": reason}

    @staticmethod
    def _candidates(precision: str, available: list[str], allowed: set[str], native_bf16: bool):
        if precision == "auto":
            return ([m for m in available if m in allowed and (native_bf16 or not m.startswith("bf16/"))],
                    "fastest measured mode within 1 point of fp32 select macro-F1")
        # fp32 stays the model as trained (torch); others run on their fastest engine, preferring allowed ones
        candidates = ["fp32/torch"] if precision == "fp32" else [m for m in available if m.startswith(precision + "/")]
        return ([m for m in candidates if m in allowed] or candidates,
                "as trained" if precision == "fp32" else f"fastest engine for {precision}")

    def _configure_light(self, precision: str, threads: int | None, allowed: set[str]) -> dict | None:
        """The choice made from the caches alone, when it is an ONNX Runtime mode whose export exists:
        then torch is never imported. None whenever anything is missing (the full path decides)."""
        if self._model is not None or self.directory is None or _gpu_present() or not onnxrun.onnx_available():
            return None
        if onnxrun.FastTokenizer.load(self.directory) is None:
            return None
        threads = self.threads = int(threads or onnxrun.cpu_info()["cores"])
        available = ["fp32/torch", "bf16/torch", "int8/torch"] + [f"{p}/onnxruntime" for p in onnxrun.ONNX_PRECISIONS]
        candidates, reason = self._candidates(precision, available, allowed, onnxrun.native_bf16())
        rates = onnxrun.read_probe().get(f"{onnxrun.machine_key(threads)} || {onnxrun.shape_key(self.config)}", {})
        if len(candidates) < 2 or any(m not in rates for m in candidates):
            return None
        rates = {m: rates[m] for m in candidates}
        mode = onnxrun.choose(rates, set(candidates)) if precision == "auto" else max(rates, key=rates.get)
        chosen, engine = mode.split("/")
        path = onnxrun.onnx_ready(self.cache_key, chosen)
        if engine != "onnxruntime" or path is None:
            return None
        self.runner = onnxrun.OnnxClassifier(path, len(self._columns), threads)
        self.precision, self.mode = chosen, mode
        return {"mode": mode, "rates": rates, "reason": reason + "; cached probe"}

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        (directory / META_FILE).write_text(json.dumps(self.meta, ensure_ascii=False, indent=2), encoding="utf-8")


def load(directory: str | Path) -> TransformerBackend:
    """Backend loader used by train.model.Classifier.load (local files only, never the network).

    Reads metadata and config only; the torch model is loaded when first needed (train/transformer.load_model).
    """
    directory = Path(directory)
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise ModelLoadError(f"{directory} has no {META_FILE}; it was not written by araclaim's transformer family")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{meta_path}: unreadable ({exc}); retrain the model or copy it again") from exc
    missing = [k for k in ("preprocess", "max_length", "cue_fusion", "cue_features") if k not in meta]
    if missing or meta["preprocess"] not in ("arabert", "normalize"):
        raise ModelLoadError(f"{meta_path}: not a transformer description written by araclaim (missing or unknown: "
                             f"{', '.join(missing) or 'preprocess ' + repr(meta['preprocess'])}); retrain the model")
    if meta["cue_fusion"] and list(meta["cue_features"]) != list(cues.FEATURE_NAMES):
        raise ModelLoadError(
            f"{directory}: the model was trained on cue features {meta['cue_features']} but train/cues.py now "
            f"extracts {list(cues.FEATURE_NAMES)}; retrain it, or use the code version it was trained with")
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{directory}: cannot read config.json ({exc})") from None
    backend = TransformerBackend(meta=meta, directory=directory, config=config)
    weights = directory / "model.safetensors"
    if weights.is_file():
        stat = weights.stat()
        backend.cache_key = f"{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return backend
