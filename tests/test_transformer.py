"""The transformer family end to end, on models small enough to train in seconds.

configs/arabert.yaml runs with a tiny BERT saved to a directory the way a downloaded AraBERT is; the
offline tiny-bert config is shrunk with --set overrides. Same code paths as the real runs: nothing mocked
except an injected crash to interrupt training.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from araclaim.train import tracking
from araclaim.train.config import load_config
from araclaim.train.errors import ConfigError, ModelLoadError
from araclaim.train.labels import LABELS
from araclaim.train.model import Classifier
from araclaim.train.pipeline import load_splits, train

from conftest import REPO, TINY, shrink, write_jsonl

transformer = pytest.importorskip("araclaim.train.transformer")

# Shrink the real configs: a 1-layer, 32-wide BERT and two short epochs.
SMALL = ["transformer.epochs=2", "transformer.batch_size=8", "transformer.learning_rate=0.001",
         "transformer.early_stopping_patience=0", "transformer.max_length=32"]
TINY_BERT = SMALL + ["transformer.pretrain.hidden_size=32", "transformer.pretrain.num_layers=1",
                     "transformer.pretrain.num_heads=2", "transformer.pretrain.intermediate_size=64",
                     "transformer.pretrain.vocab_size=300", "transformer.pretrain.mlm_epochs=1"]
PROBE = ["نفت الشركة صحة الأنباء", "قال الوزير إن الخطة جاهزة", "يجب أن نتحرك الآن!", "افتتحت البلدية حديقة"]


def local_bert(directory: Path) -> Path:
    """A random-weight BERT saved like a downloaded bert-base-arabertv02: config, weights, vocab.txt."""
    import torch
    from transformers import BertConfig, BertForMaskedLM

    from araclaim.train.text import arabert_preprocess

    words = sorted({w for sents in TINY.values() for s in sents for w in arabert_preprocess(s).split()})
    directory.mkdir(parents=True)
    (directory / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n",
                                         encoding="utf-8")
    (directory / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False, "model_max_length": 512}))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words) + 5, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertForMaskedLM(config).save_pretrained(directory)
    return directory


def test_arabert_config_trains_from_a_local_directory(workdir, tiny_data, tmp_path):
    import mlflow

    bert = local_bert(tmp_path / "bert-base-arabertv02")
    cfg = load_config(REPO / "configs/arabert.yaml",
                      shrink(tiny_data) + SMALL + [f"transformer.name_or_path={bert}"])
    assert cfg.transformer.preprocess == "arabert" and cfg.transformer.pretrain is None
    result = train(cfg)

    meta = json.loads((result.model_dir / transformer.META_FILE).read_text(encoding="utf-8"))
    assert meta["preprocess"] == "arabert" and meta["max_length"] == 32
    config = json.loads((result.model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["id2label"] == {str(i): label for i, label in enumerate(LABELS)}

    client = mlflow.MlflowClient()
    run = client.get_run(result.run_id)
    assert run.data.tags["model_family"] == run.data.params["family"] == "transformer"
    assert run.data.tags["encoder"] == str(bert) == run.data.params["transformer.name_or_path"]
    assert not any(k.startswith(("baseline.", "transformer.pretrain")) for k in run.data.params)
    for key in ("epoch/train_loss", "epoch/dev_loss", "epoch/dev_macro_f1", "epoch/select_loss",
                "epoch/select_macro_f1"):
        assert [m.step for m in client.get_metric_history(result.run_id, key)] == [1, 2], key
    # the final score, not the last epoch's, is what the runs table shows
    assert run.data.metrics["dev/macro_f1"] == pytest.approx(result.scores["dev"]["macro_f1"])

    # (d) the logged pyfunc model: labels and per-class probabilities, same as the saved directory
    out = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").predict(pd.DataFrame({"text": PROBE}))
    probs = [f"prob_{label}" for label in LABELS]
    assert list(out.columns) == ["label"] + probs
    np.testing.assert_allclose(out[probs].to_numpy(), Classifier.load(result.model_dir).predict_proba(PROBE),
                               atol=1e-6)
    assert out[probs].sum(axis=1).round(6).eq(1).all()


@pytest.mark.parametrize("how", ["HF_HUB_OFFLINE", "hub unreachable"])
def test_arabert_without_weights_or_hub_fails_within_seconds(workdir, tiny_data, tmp_path, monkeypatch, how):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    if how == "HF_HUB_OFFLINE":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens there
    cfg = load_config(REPO / "configs/arabert.yaml", shrink(tiny_data))
    started = time.monotonic()
    with pytest.raises(ModelLoadError) as err:
        train(cfg)
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "aubmindlab/bert-base-arabertv02" in message
    assert str(tmp_path / "empty-hf-home" / "hub") in message
    assert "--set transformer.name_or_path=" in message
    assert tracking.search_runs("araclaim").empty  # failed before any MLflow run was opened


def test_local_directory_that_is_not_a_model_fails_clearly(tmp_path):
    (tmp_path / "weights").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        transformer.resolve_encoder(str(tmp_path / "weights"))
    with pytest.raises(ModelLoadError, match="no such directory"):
        transformer.resolve_encoder(str(tmp_path / "missing"))


def test_resume_after_interruption_matches_an_uninterrupted_run(workdir, tiny_data, monkeypatch):
    cfg = load_config(REPO / "configs/tiny-bert.yaml", shrink(tiny_data) + TINY_BERT + ["transformer.epochs=3"])
    full = train(cfg, runs_dir="full")

    class Killed(Exception):
        pass

    log_metrics = tracking.log_metrics

    def crash_in_epoch_two(values, step=None):  # epoch 1's checkpoint exists, epoch 2's does not
        if step == 2 and "epoch/train_loss" in values:
            raise Killed
        log_metrics(values, step)

    monkeypatch.setattr(tracking, "log_metrics", crash_in_epoch_two)
    with pytest.raises(Killed):
        train(cfg, runs_dir="runs")
    monkeypatch.setattr(tracking, "log_metrics", log_metrics)
    (run_dir,) = Path("runs").iterdir()
    assert [p.name for p in run_dir.glob("checkpoint-*")] and not (run_dir / "model").exists()
    assert run_dir.name.endswith(".partial")

    resumed = train(cfg, resume=True, runs_dir="runs")
    assert run_dir.name == f"tiny-bert-{resumed.run_id}.partial" and not run_dir.exists()
    assert resumed.model_dir == Path("runs") / f"tiny-bert-{resumed.run_id}" / "model"
    for split in ("dev", "select", "test", "gold_article"):
        assert resumed.scores[split]["macro_f1"] == full.scores[split]["macro_f1"], split
    texts = load_splits(cfg).dev.texts + PROBE
    np.testing.assert_allclose(Classifier.load(resumed.model_dir).predict_proba(texts),
                               Classifier.load(full.model_dir).predict_proba(texts), atol=1e-6)


@pytest.mark.parametrize("cue_fusion", [False, True])
def test_saved_model_reloads_with_identical_probabilities(tiny_data, tmp_path, cue_fusion):
    extra = [f"transformer.cue_fusion={str(cue_fusion).lower()}"]
    if cue_fusion:  # exercise the other training options on the way
        extra += ["transformer.class_weighted_loss=true", "transformer.grad_accum_steps=2"]
    cfg = load_config(REPO / "configs/tiny-bert.yaml", shrink(tiny_data) + TINY_BERT + extra)
    splits = load_splits(cfg)
    epochs = []
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:  # tiny-bert trains on one thread (cpu_threads: 1); the caller's count comes back afterwards
        backend = transformer.fit(cfg, splits, tmp_path / "run", on_epoch=lambda m, step: epochs.append((step, m)))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    fine_tune = [m for _, m in epochs if "epoch/train_loss" in m]
    assert len(fine_tune) == 2
    assert {"epoch/train_loss", "epoch/dev_loss", "epoch/dev_macro_f1", "epoch/select_macro_f1"} <= set(fine_tune[0])

    texts = splits.dev.texts + PROBE
    before = Classifier(backend, "transformer").predict_proba(texts)
    directory = Classifier(backend, "transformer").save(tmp_path / "model")
    reloaded = Classifier.load(directory)
    np.testing.assert_array_equal(reloaded.predict_proba(texts), before)
    assert before.shape == (len(texts), len(LABELS))
    np.testing.assert_allclose(before.sum(axis=1), 1, atol=1e-6)

    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == ("bert_with_cues" if cue_fusion else "bert")
    if cue_fusion:  # the head really reads the cue features
        import torch

        model = reloaded.backend.model
        from datasets import Dataset

        inputs = transformer.tokenise(Dataset.from_dict({"text": PROBE[:1]}), reloaded.backend.tokenizer, cfg.transformer)
        batch = transformer._Collator(reloaded.backend.tokenizer)(list(inputs))
        with torch.inference_mode():
            base = model(**batch).logits
            batch["cue_features"] = batch["cue_features"] + 1
            assert not torch.allclose(base, model(**batch).logits)


def hand_encoded(tokenizer, data, tcfg, k: int) -> list[dict]:
    """The rows the former hand encoding (`_encode`) gave: infer.encode over the whole split at once, with
    joined article contexts as first segments, cue features of the raw sentence, and label ids."""
    from araclaim.train import cues, infer
    from araclaim.train.labels import LABEL2ID
    from araclaim.train.text import PREPROCESSORS

    prep = PREPROCESSORS[tcfg.preprocess]
    contexts = [" ".join(prep(s) for s in row) for row in data.contexts(k)] if k else None
    enc = infer.encode(tokenizer, [prep(t) for t in data.texts], contexts, tcfg.max_length)
    rows = [{key: enc[key][i] for key in enc} for i in range(len(data.texts))]
    for row, text, label in zip(rows, data.texts, data.labels):
        if tcfg.cue_fusion:
            row["cue_features"] = [float(v) for v in cues.extract(text)]
        row["labels"] = LABEL2ID[label]
    return rows


@pytest.mark.parametrize("extra", [["context=none", "transformer.cue_fusion=false"],
                                   ["context=previous", "transformer.cue_fusion=true"],
                                   ["context=window", "context_size=3", "transformer.max_length=48"]])
def test_dataset_map_encodes_exactly_as_the_hand_encoding(tiny_data, extra):
    from araclaim.train import context

    cfg = load_config(REPO / "configs/tiny-bert.yaml", shrink(tiny_data) + TINY_BERT + extra)
    splits, k = load_splits(cfg), context.window_size(cfg.context, cfg.context_size)
    hf = splits.to_hf()
    tokenizer = transformer.train_tokenizer(splits.train.texts, 300, cfg.transformer.max_length)
    inputs = {}
    for name, data in (("train", splits.train), ("select", splits.select), ("gold_article", splits.gold[0])):
        # batches of 3 cut the 4-sentence articles: a row's context must not depend on where its batch starts
        inputs[name] = transformer.tokenise(hf[name], tokenizer, cfg.transformer, data.contexts(k) if k else None,
                                            batch_size=3)
        assert list(inputs[name]) == hand_encoded(tokenizer, data, cfg.transformer, k), name
        assert inputs[name].cache_files == []  # tokenised in memory: nothing written beside the data or in a cache
    pairs = [row for row in inputs["select"] if 1 in row["token_type_ids"]]
    assert bool(pairs) == bool(k)  # with context, sentences after an article's first are (context, sentence) pairs
    assert max(len(row["input_ids"]) for row in inputs["select"]) <= cfg.transformer.max_length


def test_tiny_bert_learns_only_from_training_text(workdir, tiny_data):
    only = {name: f"هذه جملة لا تظهر إلا في ملف {name}" for name in ("gold", "select", "calibrate", "test", "dev")}
    for name, sentence in only.items():
        write_jsonl(tiny_data[name], [{"id": "x1", "article": "a", "genre": "wire", "index": 1, "text": sentence,
                                       "label": "assertion"}])
    cfg = load_config(REPO / "configs/tiny-bert.yaml", shrink(tiny_data) + TINY_BERT)
    corpus = transformer.pretraining_texts(load_splits(cfg))
    assert not set(only.values()) & set(corpus)
    assert TINY["denial"][0] in corpus


def test_sixteen_bit_precision_without_a_gpu_is_a_config_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(ConfigError, match="transformer.precision"):
        transformer._precision("bf16")
    assert transformer._precision("auto") == "fp32"


@pytest.mark.parametrize("name", ["arabert", "arabert-cues", "tiny-bert", "tiny-bert-plain"])
def test_transformer_configs_load_and_validate(name):
    cfg = load_config(REPO / f"configs/{name}.yaml")
    assert cfg.family == "transformer" and cfg.name == name
    assert (cfg.transformer.pretrain is None) == name.startswith("arabert")
    assert cfg.transformer.preprocess == ("arabert" if name.startswith("arabert") else "normalize")
    assert cfg.transformer.cue_fusion == name.endswith(("cues", "tiny-bert"))


def test_resume_skips_a_checkpoint_that_a_kill_left_half_written(tmp_path):
    def checkpoint(step, files):
        path = tmp_path / f"checkpoint-{step}"
        path.mkdir()
        for name, text in files.items():
            (path / name).write_text(text, encoding="utf-8")
        return path

    complete = {"model.safetensors": "w", "optimizer.pt": "o", "scheduler.pt": "s", "trainer_state.json": "{}"}
    checkpoint(2, complete)
    torn_state = checkpoint(3, {**complete, "trainer_state.json": '{"global_st'})
    no_state = checkpoint(4, {"model.safetensors": "w"})
    assert transformer.last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-2")
    assert not no_state.exists() and not torn_state.exists()
    assert transformer.last_complete_checkpoint(tmp_path / "empty") is None
