"""Fine-tuning BERT sentence classifiers with transformers' Trainer: AraBERT, or a tiny BERT built here.

One code path for both. `fit` resolves an encoder directory (a local AraBERT copy, the Hugging Face
cache, a download, or - with `transformer.pretrain` set - a tiny BERT whose WordPiece vocabulary and
masked-LM warm-up come from our own train/dev/select text), loads it with `from_pretrained` into
`BertForSequenceClassification` (or the cue-fusion head below), and fine-tunes it: optional
class-weighted loss, linear warm-up/decay, seeded deterministic data order, gradient accumulation,
bf16/fp16 only on a GPU that offers it, evaluation on the select set every epoch with early stopping on
its macro-F1 and the best checkpoint restored, checkpoints under the run directory for `--resume`.

The saved model directory is an ordinary `save_pretrained` directory (config with the label map,
safetensors weights, tokenizer) plus `transformer.json`, which records the preprocessing and the cue
features so that labelling applies exactly what training applied.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from huggingface_hub.dataclasses import strict
from safetensors import SafetensorError
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertModel,
    BertPreTrainedModel,
    BertTokenizer,
    DataCollatorForLanguageModeling,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.modeling_outputs import MaskedLMOutput, SequenceClassifierOutput

from araclaim.train import atomic, context, cues, infer, metrics, text
from araclaim.train.errors import ConfigError, ModelLoadError
from araclaim.train.transformer_backend import EVAL_BATCH_SIZE, META_FILE, TransformerBackend, load  # noqa: F401
from araclaim.train.labels import ID2LABEL, LABEL2ID, LABELS

log = logging.getLogger(__name__)

PREPROCESSORS = {"arabert": text.arabert_preprocess, "normalize": text.normalize}
PROBE_TIMEOUT_S = 3.0  # how long the hub may take to accept a TCP connection before we call it unreachable
PRETRAINED_DIR = "pretrained"  # tiny BERT encoder + tokenizer inside the run directory


# --------------------------------------------------------------------------------------------------
# The cue-fusion head: [CLS] pooled output ++ projected cue features -> linear classifier
# --------------------------------------------------------------------------------------------------

@strict
class BertWithCuesConfig(BertConfig):
    """BertConfig plus the length of the cue-feature vector."""

    model_type = "bert_with_cues"
    num_cue_features: int = 0


class BertWithCuesForSequenceClassification(BertPreTrainedModel):
    """BertForSequenceClassification whose classifier also sees the guide's cue features.

    The cue vector (train/cues.extract of the raw sentence: counts capped at 3) is concatenated to the
    dropped-out pooled [CLS] output, and one linear layer maps the concatenation to the labels; so the
    logits are `W_text . pooled + W_cue . cues + b`. `init_cue_weights` starts `W_cue` and `b` from a
    logistic regression of the labels on the cues alone: fine-tuning then begins from the cue model and
    the encoder learns what the cues miss. (Left at the usual 0.02-scale random start, W_cue cannot grow
    to useful size at BERT learning rates before the text path has fitted the training set, and the
    model ignores the cues - measured: 0.49 vs 0.88 macro-F1 of cues alone on the retired dev_articles set.)
    The encoder is the same `BertModel` under the same `bert.` prefix, so AraBERT or the tiny MLM
    encoder load into it with `from_pretrained` unchanged.
    """

    config_class = BertWithCuesConfig

    def __init__(self, config: BertWithCuesConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size + config.num_cue_features, config.num_labels)
        self.post_init()

    def init_cue_weights(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Set the cue columns of the classifier (num_labels x num_cue_features) and its bias."""
        with torch.no_grad():
            self.classifier.weight[:, self.config.hidden_size:] = torch.as_tensor(weight, dtype=torch.float32)
            self.classifier.bias[:] = torch.as_tensor(bias, dtype=torch.float32)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, cue_features=None,
                labels=None, **kwargs) -> SequenceClassifierOutput:
        pooled = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                           return_dict=True).pooler_output
        fused = torch.cat([self.dropout(pooled), cue_features.to(pooled.dtype)], dim=-1)
        logits = self.classifier(fused)
        loss = nn.functional.cross_entropy(logits.float(), labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def cue_prior(data: "_Encoded") -> tuple[np.ndarray, np.ndarray] | None:
    """Logistic regression of the labels on the cue features alone: (weight, bias) in label-id order.

    None when the training data lacks a class (the coefficients would not cover it).
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray([row["cue_features"] for row in data.rows], dtype=np.float64)
    y = np.asarray([row["labels"] for row in data.rows])
    if len(set(y.tolist())) < len(LABELS):
        return None
    fitted = LogisticRegression(C=1.0, max_iter=3000).fit(x, y)  # C=1: sklearn's default, ~0.88 on the retired dev_articles set
    weight, bias = np.zeros((len(LABELS), x.shape[1])), np.zeros(len(LABELS))
    for row, label_id in enumerate(fitted.classes_):
        weight[label_id], bias[label_id] = fitted.coef_[row], fitted.intercept_[row]
    return weight, bias


AutoConfig.register(BertWithCuesConfig.model_type, BertWithCuesConfig, exist_ok=True)
AutoModelForSequenceClassification.register(BertWithCuesConfig, BertWithCuesForSequenceClassification,
                                            exist_ok=True)


# --------------------------------------------------------------------------------------------------
# Finding the encoder: local directory, HF cache, hub - failing within seconds when none works
# --------------------------------------------------------------------------------------------------

def hf_cache_dir() -> Path:
    """The hub cache as huggingface_hub resolves it, read from the environment *now* (not at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "huggingface")
    return Path(home).expanduser() / "hub"


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def hub_offline() -> bool:
    return _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE")


def _hub_reachable(timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """TCP-connect to the hub (or the HTTPS proxy in front of it) in a thread bounded by `timeout`.

    The thread also bounds DNS resolution, which socket timeouts do not cover.
    """
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    url = urlparse(proxy or os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    outcome: list[str] = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome.append("")
        except OSError as exc:
            outcome.append(f"{host}:{port} {exc}")

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if not outcome:
        return False, f"{host}:{port} did not answer within {timeout:.0f} s"
    return outcome[0] == "", outcome[0]


def _load_error(name: str, reason: str) -> ModelLoadError:
    local = "/path/to/" + (name.rstrip("/").split("/")[-1] or "model")
    return ModelLoadError(
        f"cannot load transformer model {name!r}: {reason}. Looked for it in the Hugging Face cache at "
        f"{hf_cache_dir()} (HF_HOME / HF_HUB_CACHE choose another). To use a local copy, download it where "
        f"there is internet (`hf download {name} --local-dir {local.split('/')[-1]}`), copy the directory here "
        f"and point the config at it: `transformer.name_or_path: {local}` in the YAML, or "
        f"`araclaim train --config ... --set transformer.name_or_path={local}`"
    )


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_encoder(name_or_path: str) -> tuple[str, bool]:
    """Where `from_pretrained` should load from, and whether it must stay offline.

    Order: an existing local directory; the HF cache (no network); then, unless HF_HUB_OFFLINE is set,
    the hub after a 3-second reachability probe. Raises ModelLoadError within seconds otherwise.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise _load_error(name_or_path, f"directory {path} has no config.json (is it a save_pretrained copy?)")
        return str(path), True
    if not _HUB_ID.match(name_or_path):
        raise _load_error(name_or_path, f"no such directory {path}")
    from huggingface_hub import snapshot_download

    from huggingface_hub.errors import EntryNotFoundError

    try:  # a complete enough snapshot in the cache: config + tokenizer files, no network
        snapshot = Path(snapshot_download(name_or_path, cache_dir=str(hf_cache_dir()), local_files_only=True))
        if (snapshot / "config.json").is_file():
            return str(snapshot), True
    except (OSError, ValueError, EntryNotFoundError):  # not cached (LocalEntryNotFoundError), or a bad cache entry
        pass
    if hub_offline():
        raise _load_error(name_or_path, "it is not in the cache and HF_HUB_OFFLINE is set")
    ok, why = _hub_reachable()
    if not ok:
        raise _load_error(name_or_path, f"it is not in the cache and the hub is unreachable ({why})")
    return name_or_path, False


def preflight(cfg) -> None:
    """Checks that need no training, run before an MLflow run is opened: precision and encoder source."""
    _precision(cfg.transformer.precision)
    if cfg.transformer.pretrain is None:
        resolve_encoder(cfg.transformer.name_or_path)


def _from_pretrained(loader, source: str, local_only: bool, name: str, **kwargs):
    try:
        return loader.from_pretrained(source, cache_dir=str(hf_cache_dir()), local_files_only=local_only, **kwargs)
    except ModelLoadError:
        raise
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise _load_error(name, f"loading from {source} failed: {first}") from None


# --------------------------------------------------------------------------------------------------
# Data: encoded sentences, padding collator
# --------------------------------------------------------------------------------------------------

class _Encoded(torch.utils.data.Dataset):
    """Tokenised sentences (unpadded) with optional labels and cue features."""

    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


class _Collator:
    """Dynamic padding for token fields (DataCollatorWithPadding); cue features stacked as floats."""

    def __init__(self, tokenizer):
        self.pad = DataCollatorWithPadding(tokenizer)

    def __call__(self, features: list[dict]) -> dict:
        tokens = [{k: v for k, v in f.items() if k != "cue_features"} for f in features]
        batch = self.pad(tokens)
        if "cue_features" in features[0]:
            batch["cue_features"] = torch.tensor([f["cue_features"] for f in features], dtype=torch.float32)
        return batch


def joined_contexts(contexts: list[list[str]] | None, preprocess: str) -> list[str] | None:
    """Each row's previous sentences as one preprocessed string (the first segment of a BERT pair)."""
    if contexts is None:
        return None
    prep = PREPROCESSORS[preprocess]
    return [" ".join(prep(s) for s in row) for row in contexts]


def _encode(tokenizer, texts: list[str], preprocess: str, max_length: int, cue_fusion: bool,
            labels: list[str] | None = None, contexts: list[list[str]] | None = None) -> _Encoded:
    """Sentences (or context + sentence pairs) tokenised for the Trainer, with cue features and labels."""
    prep = PREPROCESSORS[preprocess]
    enc = infer.encode(tokenizer, [prep(t) for t in texts], joined_contexts(contexts, preprocess), max_length)
    rows = [{key: enc[key][i] for key in enc.keys()} for i in range(len(texts))]
    for i, row in enumerate(rows):
        if cue_fusion:
            row["cue_features"] = [float(v) for v in cues.extract(texts[i])]
        if labels is not None:
            row["labels"] = LABEL2ID[labels[i]]
    return _Encoded(rows)


# --------------------------------------------------------------------------------------------------
# The backend: predict_proba / save / load
# --------------------------------------------------------------------------------------------------

def load_model(directory: Path, meta: dict):
    """The saved torch model of a transformer model directory (on the GPU when there is one).

    safetensors only: a pickled .bin (torch.load) from a shared folder is never read."""
    model_cls = BertWithCuesForSequenceClassification if meta["cue_fusion"] else AutoModelForSequenceClassification
    try:
        model = model_cls.from_pretrained(directory, local_files_only=True, use_safetensors=True)
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ModelLoadError(f"{directory}: cannot load the transformer weights ({first}); retrain the model "
                             "or copy it again") from exc
    if torch.cuda.is_available():
        model = model.to("cuda")
    return model.eval()


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------

def _precision(choice: str) -> str:
    """auto -> bf16 on a GPU that supports it, else fp16 on a GPU, else fp32. Explicit 16-bit needs a GPU."""
    cuda = torch.cuda.is_available()
    if choice == "auto":
        return ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    if choice in ("bf16", "fp16") and not cuda:
        raise ConfigError(f"transformer.precision = {choice} needs a CUDA GPU and none is visible; "
                          "use --set transformer.precision=auto (fp32 on CPU)")
    return choice


class _WeightedLossTrainer(Trainer):
    """Trainer whose loss is cross-entropy with optional class weights, computed here for every model."""

    def __init__(self, *args, class_weights: torch.Tensor | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights
        self.loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides by accumulation steps

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = None if self.class_weights is None else self.class_weights.to(outputs.logits.device)
        loss = nn.functional.cross_entropy(outputs.logits.float(), labels, weight=weight)
        return (loss, outputs) if return_outputs else loss


def _macro_f1(eval_pred) -> dict[str, float]:
    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    pred = [ID2LABEL[int(i)] for i in np.asarray(logits).argmax(axis=-1)]
    gold = [ID2LABEL[int(i)] for i in eval_pred.label_ids]
    return {"macro_f1": metrics.macro_f1(gold, pred), "accuracy": metrics.accuracy(gold, pred)}


class _EpochReport(TrainerCallback):
    """After each epoch's evaluation: train loss, select-set loss/macro-F1 and dev loss/macro-F1 to `on_epoch`.

    The curves form one chart group, `epoch/` (`epoch/select_macro_f1`, `epoch/dev_loss`, ...), with the epoch
    as step: apart from the final scores (`select/macro_f1`, logged once after training), which they must not
    hide, since MLflow shows a metric's value at its highest step in the runs table.
    """

    def __init__(self, on_epoch, select_name: str, dev_name: str | None, dev_data):
        self.on_epoch, self.select_name, self.dev_name, self.dev_data = on_epoch, select_name, dev_name, dev_data
        self.trainer: Trainer | None = None
        self.train_loss: float | None = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.train_loss = float(logs["loss"])

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        row = {f"epoch/{self.select_name}_loss": metrics["eval_loss"],
               f"epoch/{self.select_name}_macro_f1": metrics["eval_macro_f1"]}
        if self.train_loss is not None:
            row["epoch/train_loss"] = self.train_loss
        if self.dev_data is not None and self.trainer is not None:
            dev = self.trainer.predict(self.dev_data, metric_key_prefix="dev").metrics
            row[f"epoch/{self.dev_name}_loss"] = dev["dev_loss"]
            row[f"epoch/{self.dev_name}_macro_f1"] = dev["dev_macro_f1"]
        epoch = int(round(state.epoch or 0))
        log.info("epoch %d: %s", epoch, ", ".join(f"{k}={v:.4f}" for k, v in sorted(row.items())))
        if self.on_epoch is not None:
            self.on_epoch(row, step=epoch)


def _class_weights(labels: list[str]) -> torch.Tensor:
    """n / (k * n_c): every class contributes equally to the loss (classes absent from train get 1)."""
    counts = np.array([labels.count(label) for label in LABELS], dtype=np.float64)
    weights = np.where(counts > 0, len(labels) / (len(LABELS) * np.maximum(counts, 1)), 1.0)
    return torch.tensor(weights, dtype=torch.float32)


def _training_args(tcfg, out_dir: Path, seed: int, precision: str, **overrides) -> TrainingArguments:
    args = dict(
        output_dir=str(out_dir),
        per_device_train_batch_size=tcfg.batch_size,
        per_device_eval_batch_size=EVAL_BATCH_SIZE,
        gradient_accumulation_steps=tcfg.grad_accum_steps,
        num_train_epochs=tcfg.epochs,
        learning_rate=tcfg.learning_rate,
        weight_decay=tcfg.weight_decay,
        lr_scheduler_type="linear",
        warmup_steps=float(tcfg.warmup_ratio),  # a float in [0, 1) is a ratio of all steps (v5)
        seed=seed,
        data_seed=seed,  # shuffling order depends on the seed only, and is restored on --resume
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        save_total_limit=2,  # the best and the latest: enough to resume and to restore the best
        label_names=["labels"],
        use_cpu=not torch.cuda.is_available(),
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        dataloader_num_workers=0,  # tokenised in memory already; workers would only add start-up time
        report_to="none",  # MLflow is train/tracking.py's job, fed through on_epoch
        disable_tqdm=True,
    )
    args.update(overrides)
    return TrainingArguments(**args)


def _meta(cfg) -> dict:
    t = cfg.transformer
    return {"format": 1, "preprocess": t.preprocess, "max_length": t.max_length, "cue_fusion": t.cue_fusion,
            "context_size": context.window_size(cfg.context, cfg.context_size),
            "cue_features": list(cues.FEATURE_NAMES) if t.cue_fusion else None, "labels": list(LABELS),
            "encoder": "tiny-bert (built offline)" if t.pretrain is not None else t.name_or_path}


def _load_classifier(cfg, source: str, local_only: bool):
    """The encoder at `source` under a fresh 4-way head: plain, or with cue fusion."""
    t = cfg.transformer
    name = t.name_or_path if t.pretrain is None else source
    common = dict(num_labels=len(LABELS), id2label=dict(ID2LABEL), label2id=dict(LABEL2ID))
    if not t.cue_fusion:
        return _from_pretrained(AutoModelForSequenceClassification, source, local_only, name, **common)
    base = _from_pretrained(AutoConfig, source, local_only, name).to_dict()
    for key in ("model_type", "architectures", "id2label", "label2id", "num_labels", "transformers_version"):
        base.pop(key, None)
    config = BertWithCuesConfig(**base, **common, num_cue_features=len(cues.FEATURE_NAMES))
    return _from_pretrained(BertWithCuesForSequenceClassification, source, local_only, name, config=config)


def fit(cfg, splits, run_dir: Path, *, resume: bool = False, on_epoch=None) -> TransformerBackend:
    """Fine-tune on splits.train, select the best epoch on splits.select; checkpoints in `run_dir`.

    Runs with `transformer.cpu_threads` torch threads; the process's previous count is restored afterwards.
    """
    with infer.threads(cfg.transformer.cpu_threads) as threads:
        return _fit(cfg, splits, Path(run_dir), resume, on_epoch, threads)


def _fit(cfg, splits, run_dir: Path, resume: bool, on_epoch, threads: int) -> TransformerBackend:
    t = cfg.transformer
    precision = _precision(t.precision)
    log.info("transformer: %s, precision %s, %d CPU threads", t.name_or_path if t.pretrain is None else
             "tiny-bert", precision, threads)
    if t.pretrain is not None:
        source, local_only = str(build_tiny_bert(cfg, splits, run_dir, precision, on_epoch)), True
    else:
        source, local_only = resolve_encoder(t.name_or_path)
    tokenizer = _from_pretrained(AutoTokenizer, source, local_only, t.name_or_path)
    set_seed(cfg.seed)  # the new head's initialisation depends on the seed only
    model = _load_classifier(cfg, source, local_only)

    k = context.window_size(cfg.context, cfg.context_size)

    def encode(data):
        return _encode(tokenizer, data.texts, t.preprocess, t.max_length, t.cue_fusion, data.labels,
                       data.contexts(k) if k else None)

    train_data, select_data = encode(splits.train), encode(splits.select)
    if t.cue_fusion:
        prior = cue_prior(train_data)
        if prior is not None:
            model.init_cue_weights(*prior)
    separate_dev = splits.dev is not None
    dev_data = encode(splits.dev) if separate_dev else None
    report = _EpochReport(on_epoch, splits.select.name, splits.dev.name if separate_dev else None, dev_data)
    callbacks = [report]
    if t.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience))
    trainer = _WeightedLossTrainer(
        model=model,
        args=_training_args(t, run_dir, cfg.seed, precision),
        train_dataset=train_data,
        eval_dataset=select_data,
        data_collator=_Collator(tokenizer),
        compute_metrics=_macro_f1,
        callbacks=callbacks,
        class_weights=_class_weights(splits.train.labels) if t.class_weighted_loss else None,
    )
    trainer.remove_callback(PrinterCallback)  # it prints logs to stdout, which carries only the run id
    report.trainer = trainer
    trainer.train(resume_from_checkpoint=last_complete_checkpoint(run_dir) if resume else None)
    log.info("best checkpoint %s (%s %.4f)", trainer.state.best_model_checkpoint, splits.select.name,
             trainer.state.best_metric or float("nan"))
    return TransformerBackend(trainer.model, tokenizer, _meta(cfg))


# Files the Trainer needs to resume from a checkpoint; trainer_state.json is the last one it writes.
CHECKPOINT_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt")


def last_complete_checkpoint(run_dir: Path) -> str | None:
    """The newest `checkpoint-N` of `run_dir` that a killed run finished writing, or None (start afresh).

    The Trainer writes checkpoints in place, so kill -9 can leave a newer one without its state (or an older
    one half-deleted by rotation); those are removed here and training resumes from the last complete one.
    """
    found = []
    for path in Path(run_dir).glob("checkpoint-*"):
        if path.is_dir() and path.name.split("-")[-1].isdigit():
            found.append((int(path.name.split("-")[-1]), path))
    for _, path in sorted(found, reverse=True):
        if _checkpoint_complete(path):
            return str(path)
        log.warning("removing incomplete checkpoint %s (left by an interrupted run)", path)
        shutil.rmtree(path)
    return None


def _checkpoint_complete(path: Path) -> bool:
    if not all((path / name).is_file() for name in CHECKPOINT_FILES) or not any(path.glob("*.safetensors")):
        return False
    try:
        json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# The tiny BERT: WordPiece on our own text, masked-LM warm-up, saved like any pretrained BERT
# --------------------------------------------------------------------------------------------------

def pretraining_texts(splits) -> list[str]:
    """Text the tiny encoder's vocabulary and masked-LM warm-up learn from: training sentences only.

    Never select, calibrate, test, dev or gold: a vocabulary or language model fitted on the sentences that
    choose or score a model leaks them into it (issue #11).
    """
    seen, out = set(), []
    for data in (splits.train,):
        for sentence in data.texts:
            if sentence not in seen:
                seen.add(sentence)
                out.append(sentence)
    return out


SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def learn_wordpiece_vocab(texts: list[str], vocab_size: int, min_frequency: int = 2) -> list[str]:
    """A WordPiece vocabulary learned from `texts`, the same every time for the same texts.

    The algorithm of tokenizers' WordPieceTrainer (BPE merges over words split by BERT's pre-tokenizer,
    non-initial pieces marked "##"), written out because that trainer breaks ties between equally
    frequent pairs by hash-map order and so returns a different vocabulary from run to run
    (huggingface/tokenizers#1794); here ties go to the alphabetically first pair. Merging stops at
    `vocab_size` entries or when no pair occurs `min_frequency` times.
    """
    import heapq
    from collections import Counter, defaultdict

    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    pre = BertPreTokenizer()
    counts = Counter(w for t in texts for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(t)))
    words = [([w[0]] + ["##" + c for c in w[1:]], n) for w, n in sorted(counts.items())]
    vocab = list(SPECIAL_TOKENS) + sorted({piece for pieces, _ in words for piece in pieces})
    known = set(vocab)
    pairs: Counter = Counter()
    where: dict[tuple[str, str], set[int]] = defaultdict(set)

    def count(i: int, sign: int) -> set:
        pieces, n = words[i]
        touched = set(zip(pieces, pieces[1:]))
        for pair in zip(pieces, pieces[1:]):
            pairs[pair] += sign * n
        for pair in touched:
            (where[pair].add if sign > 0 else where[pair].discard)(i)
        return touched

    for i in range(len(words)):
        count(i, +1)
    heap = [(-n, a, b) for (a, b), n in pairs.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        n, a, b = heapq.heappop(heap)
        if pairs.get((a, b), 0) != -n:
            continue  # stale entry: the pair's count changed since it was pushed
        if -n < min_frequency:
            break
        merged = a + b[2:]
        touched = set()
        for i in sorted(where[(a, b)]):
            touched |= count(i, -1)
            pieces, out, j = words[i][0], [], 0
            while j < len(pieces):
                if j + 1 < len(pieces) and pieces[j] == a and pieces[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(pieces[j])
                    j += 1
            words[i] = (out, words[i][1])
            touched |= count(i, +1)
        for pair in touched:
            if pairs[pair] > 0:
                heapq.heappush(heap, (-pairs[pair], *pair))
        if merged not in known:
            known.add(merged)
            vocab.append(merged)
    return vocab


def train_tokenizer(texts: list[str], vocab_size: int, max_length: int, min_frequency: int = 2) -> BertTokenizer:
    """A cased WordPiece tokenizer whose vocabulary is learned from `texts` (already preprocessed)."""
    vocab = learn_wordpiece_vocab(texts, vocab_size, min_frequency)
    return BertTokenizer(vocab={piece: i for i, piece in enumerate(vocab)}, do_lower_case=False,
                         strip_accents=False, model_max_length=max_length)


def build_tiny_bert(cfg, splits, run_dir: Path, precision: str = "fp32", on_epoch=None) -> Path:
    """Train the tokenizer and MLM-warm the encoder; save both to run_dir/pretrained and return that path.

    Reused as is when a previous (interrupted) run already finished it.
    """
    t, p = cfg.transformer, cfg.transformer.pretrain
    out = Path(run_dir) / PRETRAINED_DIR
    if out.is_dir():  # written atomically below, so a folder that exists is complete
        return out
    prep = PREPROCESSORS[t.preprocess]
    texts = [prep(s) for s in pretraining_texts(splits)]
    tokenizer = train_tokenizer(texts, p.vocab_size, t.max_length, p.min_frequency)
    set_seed(cfg.seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=p.hidden_size, num_hidden_layers=p.num_layers,
                        num_attention_heads=p.num_heads, intermediate_size=p.intermediate_size,
                        max_position_embeddings=t.max_length, pad_token_id=tokenizer.pad_token_id)
    model = _MaskedPositionsMLM(config)
    if p.mlm_epochs > 0:
        enc = tokenizer(texts, truncation=True, max_length=t.max_length, return_special_tokens_mask=True)
        rows = [{key: enc[key][i] for key in enc.keys()} for i in range(len(texts))]
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=p.mlm_probability, seed=cfg.seed)
        args = _training_args(t, Path(run_dir) / "pretraining", cfg.seed, precision,
                              per_device_train_batch_size=p.mlm_batch_size, gradient_accumulation_steps=1,
                              num_train_epochs=p.mlm_epochs, learning_rate=p.mlm_learning_rate,
                              warmup_steps=0.06, eval_strategy="no", save_strategy="no",
                              load_best_model_at_end=False, metric_for_best_model=None, label_names=None,
                              train_sampling_strategy="group_by_length")  # similar lengths: ~2x less padding
        mlm_report = _MlmReport(on_epoch)
        trainer = Trainer(model=model, args=args, train_dataset=_Encoded(rows), data_collator=collator,
                          callbacks=[mlm_report])
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    model.config.architectures = ["BertForMaskedLM"]  # same weights; loads as the standard class
    with atomic.directory(out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    log.info("tiny BERT: %d word-pieces, %.1fM parameters, saved to %s", len(tokenizer),
             sum(x.numel() for x in model.parameters()) / 1e6, out)
    return out


class _MaskedPositionsMLM(BertForMaskedLM):
    """BertForMaskedLM that runs the vocabulary projection only where a token was masked.

    Same weights, same loss; the 85% of positions with label -100 never reach the 128 x vocab_size
    decoder, which is most of the step time of a small model on a CPU.
    """

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        hidden = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                           return_dict=True).last_hidden_state
        if labels is None:
            return MaskedLMOutput(logits=self.cls(hidden))
        masked = labels != -100
        logits = self.cls(hidden[masked])
        loss = (nn.functional.cross_entropy(logits.float(), labels[masked]) if masked.any()
                else hidden.sum() * 0.0)  # a batch with nothing masked (tiny data) contributes no gradient
        return MaskedLMOutput(loss=loss, logits=logits)


class _MlmReport(TrainerCallback):
    """Per-epoch masked-LM loss to `on_epoch` as `pretrain/mlm_loss`."""

    def __init__(self, on_epoch):
        self.on_epoch = on_epoch

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            epoch = int(round(state.epoch or 0))
            log.info("masked-LM epoch %d: mlm_loss=%.4f", epoch, logs["loss"])
            if self.on_epoch is not None:
                self.on_epoch({"pretrain/mlm_loss": float(logs["loss"])}, step=epoch)
