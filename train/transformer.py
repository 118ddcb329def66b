"""Fine-tuning a BERT sentence classifier with transformers' Trainer: the whole procedure, top to bottom.

`fit` runs it, for AraBERT and for the tiny BERT alike:

1. the encoder: a local AraBERT copy, the Hugging Face cache or the hub (train/hub.py), or - with
   `transformer.pretrain` set - a tiny BERT whose WordPiece vocabulary and masked-LM warm-up are learned from
   our own training text (train/tiny_bert.py); its tokenizer comes with it;
2. the data: the validated splits as a `datasets.DatasetDict` (Splits.to_hf, train/data.py), tokenised by
   `Dataset.map(batched=True)` exactly as labelling tokenises (train/infer.encode: article context as the
   first segment of a pair; cue features when the cue-fusion head is on);
3. the model: the encoder under a fresh 4-way head, plain or cue-fused (train/fusion_head.py);
4. the Trainer: optional class-weighted loss, linear warm-up/decay, seeded data order, gradient accumulation,
   bf16/fp16 only on a GPU that offers it, evaluation on select every epoch with early stopping on its
   macro-F1 and the best checkpoint restored, checkpoints in the run directory for `--resume`;
5. the result: a TransformerBackend, which Classifier.save writes as an ordinary `save_pretrained` directory
   plus `transformer.json` (preprocessing and cue features, so labelling applies what training applied).
"""
from __future__ import annotations

import functools
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from araclaim.train import context, cues, fusion_head, hub, infer, metrics, tiny_bert
from araclaim.train.data import quiet_datasets
from araclaim.train.errors import ConfigError
from araclaim.train.labels import ID2LABEL, LABEL2ID, LABELS
from araclaim.train.text import PREPROCESSORS
from araclaim.train.transformer_backend import EVAL_BATCH_SIZE, META_FILE, TransformerBackend, load  # noqa: F401

# Names other code and scripts reach through this module, wherever they live now.
from araclaim.train.fusion_head import BertWithCuesConfig, BertWithCuesForSequenceClassification, load_model  # noqa: F401
from araclaim.train.hub import hf_cache_dir, resolve_encoder  # noqa: F401
from araclaim.train.tiny_bert import learn_wordpiece_vocab, pretraining_texts, train_tokenizer  # noqa: F401

log = logging.getLogger(__name__)


def preflight(cfg) -> None:
    """Checks that need no training, run before an MLflow run is opened: precision and encoder source."""
    _precision(cfg.transformer.precision)
    if cfg.transformer.pretrain is None:
        hub.resolve_encoder(cfg.transformer.name_or_path)


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

    # 1. the encoder and its tokenizer
    source, local_only = _encoder(cfg, splits, run_dir, precision, on_epoch)
    tokenizer = hub.from_pretrained(AutoTokenizer, source, local_only, t.name_or_path)

    # 2. the data: train fits, select chooses the epoch, dev is only reported
    hf, k = splits.to_hf(), context.window_size(cfg.context, cfg.context_size)

    def prepared(name: str, data):
        return tokenise(hf[name], tokenizer, t, data.contexts(k) if k else None)

    train_data, select_data = prepared("train", splits.train), prepared(splits.select.name, splits.select)
    dev_data = prepared(splits.dev.name, splits.dev) if splits.dev is not None else None

    # 3. the model; a cue-fused head starts its cue weights from the cues' own fit
    set_seed(cfg.seed)  # the new head's initialisation depends on the seed only
    model = _load_classifier(cfg, source, local_only)
    if t.cue_fusion:
        prior = fusion_head.cue_prior(train_data["cue_features"][:], train_data["labels"][:])
        if prior is not None:
            model.init_cue_weights(*prior)

    # 4. the Trainer
    report = _EpochReport(on_epoch, splits.select.name, splits.dev.name if dev_data else None, dev_data)
    callbacks = [report]
    if t.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience))
    trainer = _WeightedLossTrainer(
        model=model,
        args=training_args(t, run_dir, cfg.seed, precision),
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

    # 5. the result: the best epoch's model, its tokenizer and the preprocessing it was trained with
    return TransformerBackend(trainer.model, tokenizer, _meta(cfg))


# --------------------------------------------------------------------------------------------------
# 1. The encoder
# --------------------------------------------------------------------------------------------------

def _encoder(cfg, splits, run_dir: Path, precision: str, on_epoch) -> tuple[str, bool]:
    """Where to load the encoder and tokenizer from, and whether offline: the tiny BERT is built there first."""
    t = cfg.transformer
    if t.pretrain is None:
        return hub.resolve_encoder(t.name_or_path)
    args = functools.partial(training_args, t, seed=cfg.seed, precision=precision)
    return str(tiny_bert.build_tiny_bert(cfg, splits, run_dir, args, on_epoch)), True


# --------------------------------------------------------------------------------------------------
# 2. The data
# --------------------------------------------------------------------------------------------------

def tokenise(dataset, tokenizer, tcfg, contexts: list[list[str]] | None = None, batch_size: int = 1000):
    """One split (a `datasets.Dataset` with `text`, and `label` when labelled) as model inputs.

    `Dataset.map(batched=True)` over infer.encode, the encoder labelling uses: input_ids, token_type_ids and
    attention_mask (unpadded), cue_features when `tcfg.cue_fusion`, labels (ids) when the split has them.
    `contexts` (each row's previous sentences, LabelledSet.contexts) make (context, sentence) pairs; they are
    joined beforehand, since a batch may begin in the middle of an article.
    """
    prep = PREPROCESSORS[tcfg.preprocess]
    if contexts is not None:
        dataset = dataset.add_column("context", joined_contexts(contexts, tcfg.preprocess))

    def encode(batch) -> dict:
        pairs = batch["context"] if contexts is not None else None
        enc = infer.encode(tokenizer, [prep(text) for text in batch["text"]], pairs, tcfg.max_length)
        if tcfg.cue_fusion:
            enc["cue_features"] = [[float(v) for v in cues.extract(text)] for text in batch["text"]]
        if "label" in batch:
            enc["labels"] = batch["label"]  # ClassLabel ids, in LABELS order like the model's label2id
        return enc

    with quiet_datasets():
        return dataset.map(encode, batched=True, batch_size=batch_size, remove_columns=dataset.column_names)


def joined_contexts(contexts: list[list[str]] | None, preprocess: str) -> list[str] | None:
    """Each row's previous sentences as one preprocessed string (the first segment of a BERT pair)."""
    if contexts is None:
        return None
    prep = PREPROCESSORS[preprocess]
    return [" ".join(prep(s) for s in row) for row in contexts]


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


# --------------------------------------------------------------------------------------------------
# 3. The model
# --------------------------------------------------------------------------------------------------

def _load_classifier(cfg, source: str, local_only: bool):
    """The encoder at `source` under a fresh 4-way head: plain, or with cue fusion."""
    t = cfg.transformer
    name = t.name_or_path if t.pretrain is None else source
    common = dict(num_labels=len(LABELS), id2label=dict(ID2LABEL), label2id=dict(LABEL2ID))
    if not t.cue_fusion:
        return hub.from_pretrained(AutoModelForSequenceClassification, source, local_only, name, **common)
    base = hub.from_pretrained(AutoConfig, source, local_only, name).to_dict()
    for key in ("model_type", "architectures", "id2label", "label2id", "num_labels", "transformers_version"):
        base.pop(key, None)
    config = fusion_head.BertWithCuesConfig(**base, **common, num_cue_features=len(cues.FEATURE_NAMES))
    return hub.from_pretrained(fusion_head.BertWithCuesForSequenceClassification, source, local_only, name,
                               config=config)


# --------------------------------------------------------------------------------------------------
# 4. The Trainer
# --------------------------------------------------------------------------------------------------

def training_args(tcfg, out_dir: Path, seed: int, precision: str, **overrides) -> TrainingArguments:
    """The fine-tuning run's Trainer settings (`overrides` replace any of them: the masked-LM warm-up's)."""
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
        disable_tqdm=not sys.stderr.isatty(),  # a progress bar per epoch on a terminal; nothing in logs or pipes
    )
    args.update(overrides)
    return TrainingArguments(**args)


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


# --------------------------------------------------------------------------------------------------
# 5. The result, and resuming an interrupted run
# --------------------------------------------------------------------------------------------------

def _meta(cfg) -> dict:
    t = cfg.transformer
    return {"format": 1, "preprocess": t.preprocess, "max_length": t.max_length, "cue_fusion": t.cue_fusion,
            "context_size": context.window_size(cfg.context, cfg.context_size),
            "cue_features": list(cues.FEATURE_NAMES) if t.cue_fusion else None, "labels": list(LABELS),
            "encoder": "tiny-bert (built offline)" if t.pretrain is not None else t.name_or_path}


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
