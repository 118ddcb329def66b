"""train/infer.py: length-sorted, dynamically padded batches give the model's own logits, in input order."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from araclaim.train import infer  # noqa: E402

from conftest import TINY  # noqa: E402

TEXTS = [s for sents in TINY.values() for s in sents][:24] + ["نعم", "كلمة " * 200]


@pytest.fixture(scope="module")
def model_and_tokenizer():
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    wp = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    wp.train_from_iterator(TEXTS, vocab_size=300, min_frequency=1, show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=wp._tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                  cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, num_labels=4, max_position_embeddings=160)
    return BertForSequenceClassification(cfg).eval(), tok


def one_by_one(model, tok, texts, max_length=128):
    with torch.inference_mode():
        return np.stack([model(**tok(t, truncation=True, max_length=max_length, return_tensors="pt"))
                         .logits[0].float().numpy() for t in texts])


def test_batched_logits_equal_one_at_a_time_in_input_order(model_and_tokenizer):
    model, tok = model_and_tokenizer
    got = infer.predict_logits(infer.prepare(model, "fp32"), tok, TEXTS, batch_size=5)
    assert got.shape == (len(TEXTS), 4) and got.dtype == np.float32
    assert np.allclose(got, one_by_one(model, tok, TEXTS), atol=1e-4)
    assert infer.predict_logits(model, tok, []).shape == (0, 4)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_stays_close(model_and_tokenizer, precision):
    import copy

    model, tok = model_and_tokenizer
    ref = infer.softmax(infer.predict_logits(model, tok, TEXTS))
    fast = infer.prepare(copy.deepcopy(model), precision)
    got = infer.softmax(infer.predict_logits(fast, tok, TEXTS, precision=precision))
    assert np.abs(got - ref).max() < 0.05


def test_extra_features_are_batched_with_their_sentences(model_and_tokenizer):
    model, tok = model_and_tokenizer
    seen = []

    class WithExtra(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner, self.config = model, model.config

        def forward(self, cue_features=None, **batch):
            seen.append(cue_features[:, 0].tolist())
            return self.inner(**batch)

    feats = np.arange(len(TEXTS), dtype=np.float32)[:, None]
    infer.predict_logits(WithExtra(), tok, TEXTS, batch_size=4, extra={"cue_features": feats})
    lengths = [len(ids) for ids in tok(TEXTS, truncation=True, max_length=128)["input_ids"]]
    assert [int(i) for batch in seen for i in batch] == list(np.argsort(lengths, kind="stable"))


def test_bad_precision_and_threads():
    with pytest.raises(ValueError, match="precision must be one of"):
        infer.prepare(torch.nn.Linear(2, 2), "fp16")
    before = torch.get_num_threads()
    with infer.threads(1) as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ZeroDivisionError), infer.threads(before + 1):
        1 / 0
    assert torch.get_num_threads() == before  # restored on an exception too


def test_torch_free_tokenizer_matches_the_saved_bert_tokenizer(tmp_path):
    """train/onnxrun.FastTokenizer (tokenizer.json, no transformers) encodes as the transformers tokenizer."""
    from araclaim.train import onnxrun, transformer

    tok = transformer.train_tokenizer(TEXTS[:-1], vocab_size=300, max_length=32)
    tok.save_pretrained(tmp_path)
    light = onnxrun.FastTokenizer.load(tmp_path)
    assert light is not None
    long = TEXTS[-1]  # cut to max_length by both
    ref = dict(tok(TEXTS, truncation=True, max_length=32))
    assert infer.encode(light, TEXTS, None, 32) == {k: ref[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
    ctx = ["", TEXTS[0], long] + TEXTS[3:]
    assert infer.encode(light, TEXTS, ctx, 32) == infer.encode(tok, TEXTS, ctx, 32)
    assert light.pad_token_id == tok.pad_token_id and light.cls_token_id == tok.cls_token_id


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_onnxruntime_engine_gives_the_torch_logits(model_and_tokenizer, precision, monkeypatch):
    import copy

    pytest.importorskip("onnxruntime")
    model, tok = model_and_tokenizer
    ref = infer.predict_logits(model, tok, TEXTS)
    runner = infer.prepare(copy.deepcopy(model), precision, "onnxruntime")
    got = infer.predict_logits(runner, tok, TEXTS, batch_size=7)
    tol = 1e-4 if precision == "fp32" else 0.05
    assert np.abs(infer.softmax(got) - infer.softmax(ref)).max() < tol
    # a tokenizer that returns no token types: BERT's default of 0 is fed (same batches: int8 quantises
    # activations per batch)
    monkeypatch.setattr(tok, "model_input_names", ["input_ids", "attention_mask"])
    again = infer.predict_logits(runner, tok, TEXTS, batch_size=7)
    assert np.allclose(again, got, atol=1e-5)
