"""Benchmark `araclaim label`'s inference against transformers' pipeline, on one bert-base-sized model.

One run, the same sentences (512 by default: data/dev.jsonl texts when there are enough, else generated
Arabic-like news sentences of realistic lengths) and the same randomly initialised bert-base classifier
(12 layers, hidden 768, vocab 64000; a WordPiece tokenizer trained here on the sentences). Sentences/s of:

  (a) pipeline("text-classification"), one sentence per call
  (b) the same pipeline with batch_size=32
  (c) the labeller (eval.label.label_articles, --presplit) in fp32: length-sorted batches, dynamic padding
  (d) the labeller in bf16        (e) the labeller in int8 (dynamic quantisation of the Linear layers)

Configurations are timed round-robin (a b c d e, a b c d e, ...) so load from other processes spreads over
all of them; the table shows medians and the ratio of each median to (a). Agreement of (d) and (e) with
(c)'s predictions is printed too. `--accuracy MODEL_DIR` adds, for a trained transformer model directory,
agreement with fp32 and macro-F1 of each precision on data/dev.jsonl and the gold article.

    .venv/bin/python scripts/bench_label.py                  # ~10-15 min on 2 cores
    .venv/bin/python scripts/bench_label.py --n 512 --repeats 1 --json bench.json
    .venv/bin/python scripts/bench_label.py --repeats 0 --accuracy outputs/tiny-bert-<run>/model
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.label import Article, Options, configure_backend, label_articles  # noqa: E402
from train import atomic, infer  # noqa: E402
from train.labels import LABELS  # noqa: E402
from train.model import Classifier  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# Words of Arabic news prose (function words weighted by repetition), for generated sentences.
WORDS = (
    "في في في من من من على على إلى إلى أن أن إن عن مع التي الذي هذا هذه ذلك بعد قبل خلال حتى كما لكن و "
    "قال قالت وقال وأضاف وأكد أعلن أعلنت ذكرت أفاد نفى نفت كشف أشار أوضح يرى تقول يعتقد يجب ينبغي يبدو "
    "الحكومة الوزير وزارة الرئيس المجلس البرلمان الشركة الجيش الشرطة المحكمة الصحيفة الوكالة المتحدث "
    "مصدر مسؤول مسؤولون خبراء المعارضة السلطات البنك المركزي الاقتصاد الأسعار التضخم النفط الغاز الموازنة "
    "الانتخابات الحملة الناخبين الأحزاب الاتفاق المفاوضات الهدنة الحرب الأمن الحدود اللاجئين المساعدات "
    "المدينة العاصمة البلاد المنطقة الدولة الولايات المتحدة روسيا أوروبا الصين مصر الأردن لبنان السعودية "
    "العام الماضي المقبل الأسبوع الشهر اليوم أمس مساء صباح الخميس الأحد منذ نحو أكثر أقل نسبة مليون مليار "
    "دولار بالمئة ارتفع انخفض بلغ وصل تراجع زيادة ارتفاع انخفاض كبير كبيرة جديد جديدة رسمي رسمية دولي "
    "الدولية المحلية الاجتماعي السياسي الاقتصادي العسكري الإنساني مشروع قرار تقرير بيان تصريحات اتهامات "
    "شائعات تقارير معلومات وثائق تحقيق لجنة قانون مشروع خطة برنامج عقد اجتماع قمة مؤتمر زيارة "
    "وسائل التواصل منصة المواطنين السكان العمال الطلاب المدارس المستشفيات الطرق المياه الكهرباء"
).split()


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """`n` sentences of 5-60 words (log-normal: median ~16, mean ~18 words, as in the gold article), ending
    in a full stop."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        length = int(min(60, max(5, rng.lognormvariate(2.8, 0.45))))
        words = [rng.choice(WORDS) for _ in range(length)]
        if rng.random() < 0.3:
            words.insert(rng.randrange(1, length), str(rng.randint(2, 2025)))
        if rng.random() < 0.4:
            words[rng.randrange(1, length)] += "،"
        out.append(" ".join(words) + ".")
    return out


def load_sentences(n: int, seed: int, source: str = "auto") -> tuple[list[str], str]:
    """data/dev.jsonl texts when it has at least n (source auto/dev), else generated; returns (texts, origin)."""
    dev = REPO / "data/dev.jsonl"
    if source != "generated" and dev.is_file():
        texts = [json.loads(line)["text"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(texts) >= n:
            return texts[:n], f"{dev.relative_to(REPO)} (first {n})"
    return generate_sentences(n, seed), f"generated ({len(WORDS)}-word list, seed {seed})"


def build_tokenizer(texts: list[str], vocab_size: int):
    """A BERT WordPiece tokenizer trained on `texts` (small vocab, so words split into pieces as in AraBERT)."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import PreTrainedTokenizerFast

    wp = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    wp.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1, show_progress=False)
    return PreTrainedTokenizerFast(tokenizer_object=wp._tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)


def fit_tokenizer(texts: list[str], tokens_per_word: float):
    """The largest-vocabulary tokenizer (from a fixed ladder) that splits words into `tokens_per_word` pieces
    on average, as AraBERT's 64k vocabulary does on news (~1.5); returns (tokenizer, vocab size, ratio)."""
    words = sum(len(t.split()) for t in texts)
    for vocab in (16000, 8000, 4000, 2500, 1500, 1000, 600, 400, 300, 200):
        tok = build_tokenizer(texts, vocab)
        ratio = sum(len(ids) - 2 for ids in tok(texts)["input_ids"]) / words
        if ratio >= tokens_per_word:
            break
    return tok, vocab, ratio


def build_model(vocab_size: int = 64000, seed: int = 0):
    """bert-base-sized sequence classifier with random weights (4 labels)."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_size, num_labels=len(LABELS),
                        id2label=dict(enumerate(LABELS)), label2id={lab: i for i, lab in enumerate(LABELS)})
    return BertForSequenceClassification(config).eval()


class InferBackend:
    """The transformer backend's inference path over train.infer: `configure` + `predict_proba`.

    What train/transformer.py's backend does once it routes through train.infer (preprocessing and cue
    features included), so the bench and `--accuracy` run the same code as `araclaim label`.
    """

    def __init__(self, model, tokenizer, *, preprocess=None, cue_fusion: bool = False, max_length: int = 128,
                 batch_size: int = 32, columns=None):
        self.base, self.tokenizer = model, tokenizer
        self.model, self.precision = model, "fp32"
        self.preprocess, self.cue_fusion = preprocess, cue_fusion
        self.max_length, self.batch_size = max_length, batch_size
        self.columns = columns if columns is not None else list(range(len(LABELS)))

    @classmethod
    def from_transformer(cls, backend, batch_size: int = 32) -> "InferBackend":
        """Wrap a loaded train.transformer backend (its model, tokenizer, preprocessing and label order)."""
        from train.transformer import PREPROCESSORS

        meta = backend.meta
        return cls(backend.model, backend.tokenizer, preprocess=PREPROCESSORS[meta["preprocess"]],
                   cue_fusion=meta["cue_fusion"], max_length=meta["max_length"], batch_size=batch_size,
                   columns=[int(backend.model.config.label2id[lab]) for lab in LABELS])

    def configure(self, *, precision: str = "fp32", threads: int | None = None) -> None:
        # threads: main() holds infer.threads(--threads) around the whole benchmark
        self.model = infer.prepare(copy.deepcopy(self.base), precision)
        self.precision = precision

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        extra = None
        if self.cue_fusion:
            from train import cues

            extra = {"cue_features": np.array([cues.extract(t) for t in texts], dtype=np.float32)}
        inputs = [self.preprocess(t) for t in texts] if self.preprocess else list(texts)
        logits = infer.predict_logits(self.model, self.tokenizer, inputs, batch_size=self.batch_size,
                                      max_length=self.max_length, precision=self.precision, extra=extra)
        return infer.softmax(logits)[:, self.columns]


def label_with(clf, texts: list[str], batch_size: int, per_article: int = 20) -> list[str]:
    """Run texts through eval.label.label_articles (presplit articles of `per_article` lines); labels in order."""
    articles = [Article(f"a{i}", "bench", "\n".join(texts[i:i + per_article]))
                for i in range(0, len(texts), per_article)]
    out = []
    for done in label_articles(clf, articles, "bench", Options(batch_size=batch_size, presplit=True)):
        out += [r["label"] for r in done.records]
    return out


def make_runners(model, tokenizer, args):
    """name -> (description, callable(texts) returning predicted labels)."""
    from transformers import pipeline

    pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1)
    kw = {"truncation": True, "max_length": args.max_length}
    runners = {
        "a": ("pipeline, one sentence per call", lambda texts: [pipe(t, **kw)[0]["label"] for t in texts]),
        "b": ("pipeline, batch_size=32", lambda texts: [r["label"] for r in pipe(texts, batch_size=32, **kw)]),
    }
    for key, precision in (("c", "fp32"), ("d", "bf16"), ("e", "int8")):
        clf = Classifier(InferBackend(model, tokenizer, max_length=args.max_length, batch_size=args.batch_size),
                         "transformer")
        args.scope.enter_context(configure_backend(clf, precision, args.threads))
        runners[key] = (f"araclaim label, {precision}",
                        lambda texts, clf=clf: label_with(clf, texts, args.label_batch))
    return runners


def bench(runners, texts: list[str], repeats: int) -> dict:
    """Warm-up call each, then round-robin timings; per-config median sentences/s, all runs, last predictions."""
    for _, fn in runners.values():
        fn(texts[:16])  # one-time set-up (oneDNN kernels, weight packing) is not timed
    runs = {k: [] for k in runners}
    preds = {}
    for r in range(repeats):
        for key, (desc, fn) in runners.items():
            start = time.perf_counter()
            preds[key] = fn(texts)
            rate = len(texts) / (time.perf_counter() - start)
            runs[key].append(rate)
            print(f"  repeat {r + 1}/{repeats} ({key}) {desc}: {rate:.1f} sentences/s", file=sys.stderr, flush=True)
    return {"median": {k: statistics.median(v) for k, v in runs.items()}, "runs": runs, "preds": preds}


def report(result, runners, texts, tokenizer, source, args) -> str:
    med = result["median"]
    base = med["a"]
    tokens = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]]
    lines = [f"{len(texts)} sentences from {source}; tokens/sentence mean {np.mean(tokens):.1f}, "
             f"max {max(tokens)}; bert-base (random weights, vocab 64000); {torch.get_num_threads()} threads; "
             f"bf16 units: {'yes' if infer.bf16_supported() else 'no'}; {args.repeats} repeats, median",
             f"{'':3}{'configuration':<36}{'sentences/s':>12}{'vs (a)':>9}"]
    for key, (desc, _) in runners.items():
        lines.append(f"({key}) {desc:<36}{med[key]:>12.1f}{med[key] / base:>8.2f}x")
    ref = result["preds"]["c"]
    for key in ("d", "e"):
        agree = np.mean([p == q for p, q in zip(result["preds"][key], ref)])
        lines.append(f"agreement of ({key}) with (c) on these sentences (random weights): {agree:.3f}")
    return "\n".join(lines)


def accuracy_table(model_dir: str, args) -> str:
    """Agreement with fp32 and macro-F1 of each precision on dev and gold, for a trained transformer."""
    from train import metrics
    from train.data import load_labelled

    clf32 = Classifier.load(model_dir)
    names = ("data/dev.jsonl", "data/articles/select.jsonl", "data/gold/article.jsonl")
    sets = [load_labelled(REPO / p) for p in names if (REPO / p).exists()]
    lines = [f"accuracy of {model_dir} by precision (agreement with fp32, macro-F1, change in points)"]
    ref = {data.name: clf32.predict(data.texts) for data in sets}  # the backend's own predict_proba
    for data in sets:
        lines.append(f"  fp32 through train.infer agrees with the backend's own predict on {data.name}: "
                     f"{np.mean([p == q for p, q in zip(ref[data.name], _infer_fp32(clf32).predict(data.texts))]):.3f}")
    for precision in ("fp32", "bf16", "int8"):
        clf = Classifier(InferBackend.from_transformer(clf32.backend), "transformer", clf32.labels, clf32.adjust)
        args.scope.enter_context(configure_backend(clf, precision, args.threads))
        for data in sets:
            pred = clf.predict(data.texts)
            ref.setdefault(data.name, pred)
            f1 = metrics.macro_f1(data.labels, pred)
            f1_32 = metrics.macro_f1(data.labels, ref[data.name])
            agree = np.mean([p == q for p, q in zip(pred, ref[data.name])])
            lines.append(f"  {precision:<5} {data.name:<14} n={len(pred):<4} agreement {agree:.3f}  "
                         f"macro-F1 {f1:.3f} ({100 * (f1 - f1_32):+.1f})")
    return "\n".join(lines)


def _infer_fp32(clf32):
    clf = Classifier(InferBackend.from_transformer(clf32.backend), "transformer", clf32.labels, clf32.adjust)
    clf.backend.configure(precision="fp32")
    return clf


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=512, help="sentences (default 512)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed repeats per configuration (default 3; 0 skips timing, e.g. with --accuracy)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--batch-size", type=int, default=32, help="model batch size of the labeller (default 32)")
    p.add_argument("--label-batch", type=int, default=64, help="sentences per predict_proba call (default 64)")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--tokens-per-word", type=float, default=1.5,
                   help="WordPiece pieces per word to aim for (AraBERT on news: ~1.5)")
    p.add_argument("--source", choices=("auto", "dev", "generated"), default="auto",
                   help="sentences: data/dev.jsonl when it has --n of them (auto), or always generated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--accuracy", metavar="MODEL_DIR", help="also measure bf16/int8 accuracy change of this model")
    p.add_argument("--json", help="write the numbers to this file")
    args = p.parse_args(argv)
    with infer.threads(args.threads) as args.threads, contextlib.ExitStack() as args.scope:
        if args.repeats > 0:
            result = speed(args)
            if args.json:
                atomic.write_text(args.json, json.dumps({k: result[k] for k in ("median", "runs")}, indent=2))
        if args.accuracy:
            print(accuracy_table(args.accuracy, args))
    return 0


def speed(args) -> dict:
    """The timed comparison (a)-(e); prints the table and returns the numbers."""
    texts, source = load_sentences(args.n, args.seed, args.source)
    tokenizer, vocab, ratio = fit_tokenizer(texts, args.tokens_per_word)
    source += f"; WordPiece vocabulary {vocab} ({ratio:.2f} pieces/word)"
    runners = make_runners(build_model(seed=args.seed), tokenizer, args)
    result = bench(runners, texts, args.repeats)
    print(report(result, runners, texts, tokenizer, source, args))
    return result


if __name__ == "__main__":
    sys.exit(main())
