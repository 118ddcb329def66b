"""The offline tiny BERT: a WordPiece vocabulary and a masked-LM warm-up learned from our own training text.

`build_tiny_bert` saves encoder and tokenizer to `<run dir>/pretrained` the way a downloaded BERT is saved, so
fine-tuning (train/transformer.py) loads it with `from_pretrained` exactly as it loads AraBERT.
"""
from __future__ import annotations

import logging
from pathlib import Path

from torch import nn
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertTokenizer,
    DataCollatorForLanguageModeling,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    set_seed,
)
from transformers.modeling_outputs import MaskedLMOutput

from araclaim.train import atomic
from araclaim.train.data import quiet_datasets
from araclaim.train.text import PREPROCESSORS

log = logging.getLogger(__name__)

PRETRAINED_DIR = "pretrained"  # tiny BERT encoder + tokenizer inside the run directory


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


def build_tiny_bert(cfg, splits, run_dir: Path, training_args, on_epoch=None) -> Path:
    """Train the tokenizer and MLM-warm the encoder; save both to run_dir/pretrained and return that path.

    `training_args(out_dir, **overrides)` gives the fine-tuning run's TrainingArguments with the masked-LM
    settings laid over them (train/transformer.training_args), so both stages share precision, seed and
    logging. Reused as is when a previous (interrupted) run already finished it.
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
        args = training_args(Path(run_dir) / "pretraining", per_device_train_batch_size=p.mlm_batch_size,
                             gradient_accumulation_steps=1, num_train_epochs=p.mlm_epochs,
                             learning_rate=p.mlm_learning_rate, warmup_steps=0.06, eval_strategy="no",
                             save_strategy="no", load_best_model_at_end=False, metric_for_best_model=None,
                             label_names=None,
                             train_sampling_strategy="group_by_length")  # similar lengths: ~2x less padding
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=p.mlm_probability, seed=cfg.seed)
        trainer = Trainer(model=model, args=args, train_dataset=_mlm_corpus(tokenizer, texts, t.max_length),
                          data_collator=collator, callbacks=[_MlmReport(on_epoch)])
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    model.config.architectures = ["BertForMaskedLM"]  # same weights; loads as the standard class
    with atomic.directory(out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    log.info("tiny BERT: %d word-pieces, %.1fM parameters, saved to %s", len(tokenizer),
             sum(x.numel() for x in model.parameters()) / 1e6, out)
    return out


def _mlm_corpus(tokenizer, texts: list[str], max_length: int):
    """The warm-up text tokenised by `Dataset.map(batched=True)`: unpadded ids; the collator masks and pads."""
    with quiet_datasets() as datasets:
        corpus = datasets.Dataset.from_dict({"text": texts})
        return corpus.map(lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length,
                                                  return_special_tokens_mask=True),
                          batched=True, remove_columns=["text"])


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
