"""The config object: extends, --set overrides, and errors that name the file, the key, the value and the fix.

Every constraint of the schema (bounds, allowed values, types, cross-field rules) has a row in CONSTRAINTS;
`test_every_constraint_has_a_row` fails when a field gains a bound without one.
"""
import typing

import pytest
import yaml
from pydantic import BaseModel

from araclaim.train.config import Config, config_from_dict, flatten, load_config, to_yaml
from araclaim.train.errors import ConfigError

from conftest import REPO


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_repo_configs_load():
    for path in sorted((REPO / "configs").glob("*.yaml")):
        if path.name == "base.yaml":
            continue
        cfg = load_config(path)
        assert cfg.name == path.stem


def test_extends_overrides_only_what_differs(tmp_path):
    write(tmp_path, "base.yaml", "seed: 1\nbaseline:\n  C: 1.0\n  min_df: 3\n")
    cfg = load_config(write(tmp_path, "exp.yaml", "extends: base.yaml\nbaseline:\n  C: 8\n"))
    assert (cfg.seed, cfg.baseline.C, cfg.baseline.min_df) == (1, 8.0, 3)
    assert cfg.name == "exp"


def test_set_overrides_parse_yaml_values():
    cfg = load_config(REPO / "configs/baseline.yaml", ["baseline.C=0.5", "baseline.word_ngrams=[1, 3]",
                                                       "tracking.register_as=araclaim"])
    assert cfg.baseline.C == 0.5 and cfg.baseline.word_ngrams == (1, 3)
    assert cfg.tracking.register_as == "araclaim"


def test_defaults_and_conversions():
    cfg = config_from_dict({"data": {"train": "only.jsonl"}, "baseline": {"C": 8}, "transformer": {"pretrain": {}}})
    assert cfg.data.train == ("only.jsonl",)  # one path where a list is expected
    assert cfg.baseline.C == 8.0 and isinstance(cfg.baseline.C, float)
    assert cfg.transformer.pretrain.hidden_size == 128  # an empty section takes every default
    assert cfg.transformer.pretrain is not None and Config().transformer.pretrain is None
    assert (cfg.seed, cfg.context, cfg.baseline.word_ngrams) == (13, "previous", (1, 2))


# (YAML text, a fragment the message must contain). The fragment names the dotted key and the bad value; the
# fix after ';' is checked for the rows where its wording is the point.
CONSTRAINTS = [
    # unknown keys, with did-you-mean at every depth
    ("sed: 3\n", "unknown key 'sed'; did you mean 'seed'?"),
    ("baseline:\n  Cee: 2\n", "unknown key 'baseline.Cee'; did you mean 'baseline.C'?"),
    ("transformer:\n  pretrain:\n    vocb_size: 3\n",
     "unknown key 'transformer.pretrain.vocb_size'; did you mean 'transformer.pretrain.vocab_size'?"),
    ("zzzzzz: 1\n", "unknown key 'zzzzzz'; known keys: name, family, seed"),
    # types
    ("seed: three\n", "seed = 'three' should be int, got str (write numbers without quotes)"),
    ("seed: true\n", "seed = True should be int, got bool"),
    ("transformer:\n  epochs: 2.5\n", "transformer.epochs = 2.5 should be int, got float"),
    ("transformer:\n  learning_rate: fast\n", "transformer.learning_rate = 'fast' should be float"),
    ("baseline:\n  cue_features: 1\n", "baseline.cue_features = 1 should be bool"),
    ("name: 7\n", "name = 7 should be str"),
    ("baseline:\n  word_ngrams: 1\n", "baseline.word_ngrams = 1 should be a list"),
    ("baseline: 3\n", "baseline must be a mapping of keys, got 3"),
    ("transformer:\n  pretrain: 5\n", "transformer.pretrain must be a mapping of keys, got 5"),
    # top level
    ("name: ''\n", "name = '' is impossible"),
    ("family: svm\n", "family = 'svm' is impossible; use one of baseline, transformer, ensemble"),
    ("seed: -1\n", "seed = -1 is impossible; use a whole number in [0, 2**32)"),
    ("seed: 4294967296\n", "seed = 4294967296 is impossible"),
    ("context: paragraph\n", "context = 'paragraph' is impossible; use one of none, previous, window"),
    ("context: window\ncontext_size: 0\n", "context_size = 0 is impossible; use between 1 and 10"),
    ("context: window\ncontext_size: 11\n", "context_size = 11 is impossible"),
    # data
    ("data:\n  train: []\n", "data.train = () is impossible; use at least one JSONL path"),
    ("data:\n  dev: ''\n", "data.dev = '' is impossible"),
    ("data:\n  select: ''\n", "data.select = '' is impossible; use a JSONL path"),
    ("data:\n  calibrate: ''\n", "data.calibrate = '' is impossible"),
    ("data:\n  test: ''\n", "data.test = '' is impossible"),
    ("data:\n  gold: 3\n", "data.gold = 3 should be a list"),
    # baseline
    ("baseline:\n  word_ngrams: [3, 1]\n", "baseline.word_ngrams = [3, 1] is impossible; use [low, high] with 1 <= low"),
    ("baseline:\n  char_ngrams: [0, 4]\n", "baseline.char_ngrams = [0, 4] is impossible"),
    ("baseline:\n  word_ngrams: [1, 2, 3]\n", "baseline.word_ngrams = [1, 2, 3] should have 2 items"),
    ("baseline:\n  min_df: 0\n", "baseline.min_df = 0 is impossible; use at least 1"),
    ("baseline:\n  C: -1\n", "baseline.C = -1 is impossible; use a positive number"),
    ("baseline:\n  C: .inf\n", "baseline.C = inf is impossible"),
    ("baseline:\n  class_weight: auto\n", "baseline.class_weight = 'auto' is impossible; use 'balanced' or null"),
    ("baseline:\n  cue_weight: -2\n", "baseline.cue_weight = -2 is impossible"),
    ("baseline:\n  max_iter: 0\n", "baseline.max_iter = 0 is impossible"),
    ("baseline:\n  context_weight: -1\n", "baseline.context_weight = -1 is impossible"),
    ("baseline:\n  context_folds: 1\n", "baseline.context_folds = 1 is impossible; use at least 2 folds"),
    # transformer
    ("transformer:\n  name_or_path: ''\n", "transformer.name_or_path = '' is impossible"),
    ("transformer:\n  preprocess: farasa\n", "transformer.preprocess = 'farasa' is impossible; use 'arabert' or"),
    ("transformer:\n  max_length: 4096\n", "transformer.max_length = 4096 is impossible; use between 8 and 512"),
    ("transformer:\n  max_length: 4\n", "transformer.max_length = 4 is impossible"),
    ("transformer:\n  epochs: 0\n", "transformer.epochs = 0 is impossible"),
    ("transformer:\n  batch_size: 0\n", "transformer.batch_size = 0 is impossible"),
    ("transformer:\n  learning_rate: 0\n", "transformer.learning_rate = 0 is impossible"),
    ("transformer:\n  learning_rate: 3\n", "transformer.learning_rate = 3 is impossible"),
    ("transformer:\n  weight_decay: -0.01\n", "transformer.weight_decay = -0.01 is impossible; use 0 (off)"),
    ("transformer:\n  weight_decay: 1.5\n", "transformer.weight_decay = 1.5 is impossible"),
    ("transformer:\n  warmup_ratio: 1\n", "transformer.warmup_ratio = 1 is impossible"),
    ("transformer:\n  warmup_ratio: -0.1\n", "transformer.warmup_ratio = -0.1 is impossible"),
    ("transformer:\n  grad_accum_steps: 0\n", "transformer.grad_accum_steps = 0 is impossible"),
    ("transformer:\n  early_stopping_patience: -1\n", "transformer.early_stopping_patience = -1 is impossible"),
    ("transformer:\n  precision: int4\n", "transformer.precision = 'int4' is impossible; use auto, fp32, bf16 or fp16"),
    ("transformer:\n  cpu_threads: -1\n", "transformer.cpu_threads = -1 is impossible"),
    # transformer.pretrain
    ("transformer:\n  pretrain:\n    vocab_size: 50\n", "transformer.pretrain.vocab_size = 50 is impossible"),
    ("transformer:\n  pretrain:\n    hidden_size: 0\n", "transformer.pretrain.hidden_size = 0 is impossible"),
    ("transformer:\n  pretrain:\n    num_layers: 0\n", "transformer.pretrain.num_layers = 0 is impossible"),
    ("transformer:\n  pretrain:\n    num_heads: 0\n", "transformer.pretrain.num_heads = 0 is impossible"),
    ("transformer:\n  pretrain:\n    intermediate_size: 0\n", "transformer.pretrain.intermediate_size = 0 is impossible"),
    ("transformer:\n  pretrain:\n    mlm_epochs: -1\n", "transformer.pretrain.mlm_epochs = -1 is impossible"),
    ("transformer:\n  pretrain:\n    mlm_probability: 1\n", "transformer.pretrain.mlm_probability = 1 is impossible"),
    ("transformer:\n  pretrain:\n    mlm_learning_rate: 0\n", "transformer.pretrain.mlm_learning_rate = 0 is impossible"),
    ("transformer:\n  pretrain:\n    mlm_batch_size: 0\n", "transformer.pretrain.mlm_batch_size = 0 is impossible"),
    ("transformer:\n  pretrain:\n    min_frequency: 0\n", "transformer.pretrain.min_frequency = 0 is impossible"),
    # ensemble, calibration, tracking
    ("ensemble:\n  weight_steps: 1\n", "ensemble.weight_steps = 1 is impossible; use at least 2"),
    ("family: ensemble\nensemble:\n  transformer_model: ''\n", "ensemble.transformer_model = '' is impossible"),
    ("calibration:\n  method: platt\n", "calibration.method = 'platt' is impossible; use one of none, temperature, vector"),
    ("calibration:\n  prior_correction: maybe\n", "calibration.prior_correction = 'maybe' should be bool"),
    ("tracking:\n  uri: ''\n", "tracking.uri = '' is impossible"),
    ("tracking:\n  experiment: ''\n", "tracking.experiment = '' is impossible"),
    ("tracking:\n  register_as: ''\n", "tracking.register_as = '' is impossible"),
    ("tracking:\n  register_as: araclaim\n  alias: ''\n", "tracking.alias = '' is impossible"),
    # cross-field rules
    ("transformer:\n  pretrain:\n    hidden_size: 100\n    num_heads: 3\n",
     "transformer.pretrain.hidden_size = 100 is not divisible by num_heads = 3; pick a hidden_size that is a multiple"),
    ("tracking:\n  alias: champion\n",
     "tracking.alias = 'champion' needs tracking.register_as; also set tracking.register_as"),
    ("context: previous\ncontext_size: 5\n",
     "context_size = 5 is read only with context: window, not previous; set context: window"),
    ("ensemble:\n  transformer_model: abc\n",
     "ensemble.transformer_model = 'abc' is read only by family: ensemble, not baseline"),
]


@pytest.mark.parametrize("text,needle", CONSTRAINTS, ids=[c[1].split(" ")[0].strip("'") for c in CONSTRAINTS])
def test_bad_values_fail_naming_file_key_value_and_fix(tmp_path, text, needle):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert needle in str(err.value)
    assert str(err.value).startswith(f"{path}: ")


def _constrained_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted keys of fields with a bound, an allowed-values list or a validator."""
    out = set()
    for name, info in model.model_fields.items():
        inner = info.annotation
        args = [a for a in typing.get_args(inner) if a is not type(None)]
        if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            inner = args[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out |= _constrained_fields(inner, f"{prefix}{name}.")
            continue
        literal = typing.Literal in {typing.get_origin(a) for a in [inner, *typing.get_args(inner)]}
        if info.metadata or literal:
            out.add(f"{prefix}{name}")
    return out


def test_every_constraint_has_a_row():
    tested = {needle.split(" ")[0] for _, needle in CONSTRAINTS}
    missing = _constrained_fields(Config) - tested
    assert not missing, f"add a CONSTRAINTS row for: {sorted(missing)}"


def test_several_problems_are_reported_together(tmp_path):
    path = write(tmp_path, "bad.yaml", "family: svm\ncontext: paragraph\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}: ") for line in lines)


def test_cross_field_rules_accept_the_consistent_config():
    cfg = config_from_dict({"context": "window", "context_size": 5, "family": "ensemble",
                            "ensemble": {"transformer_model": "abc"},
                            "tracking": {"register_as": "araclaim", "alias": "champion"},
                            "transformer": {"pretrain": {"hidden_size": 96, "num_heads": 3}}})
    assert (cfg.context_size, cfg.tracking.alias, cfg.transformer.pretrain.hidden_size) == (5, "champion", 96)


def test_bad_override_names_the_override():
    with pytest.raises(ConfigError, match=r"--set baseline.C=abc.*baseline.C = 'abc' should be float"):
        load_config(REPO / "configs/baseline.yaml", ["baseline.C=abc"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(REPO / "configs/baseline.yaml", ["baseline.C"])
    with pytest.raises(ConfigError, match="'seed' is not a section"):
        load_config(REPO / "configs/baseline.yaml", ["seed.x=1"])


def test_exponent_without_dot_is_a_number():
    cfg = load_config(REPO / "configs/baseline.yaml", ["transformer.learning_rate=1e-3"])
    assert cfg.transformer.learning_rate == 0.001


def test_missing_file_bad_yaml_and_extends_loop(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write(tmp_path, "list.yaml", "- 1\n- 2\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "broken.yaml", "seed: [1\n"))
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="loops back"):
        load_config(tmp_path / "a.yaml")


def test_config_is_frozen_and_serialises():
    cfg = load_config(REPO / "configs/tiny-bert.yaml")
    with pytest.raises(Exception):
        cfg.seed = 3
    with pytest.raises(Exception):
        cfg.transformer.pretrain.hidden_size = 3
    params = flatten(cfg)
    assert params["baseline.C"] == str(cfg.baseline.C)
    assert params["baseline.word_ngrams"] == "[1, 2]" and params["transformer.pretrain.num_heads"] == "2"
    assert "family: transformer" in to_yaml(cfg)
    # the logged YAML is a config again, equal to the one that wrote it
    assert config_from_dict(yaml.safe_load(to_yaml(cfg))) == cfg
