"""The config object: extends, --set overrides, and errors that name the key, the file and the fix."""
import pytest

from train.config import load_config, flatten, to_yaml
from train.errors import ConfigError

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


@pytest.mark.parametrize("text,needle", [
    ("baseline:\n  Cee: 2\n", "unknown key 'baseline.Cee'; did you mean 'baseline.C'"),
    ("sed: 3\n", "unknown key 'sed'; did you mean 'seed'"),
    ("seed: three\n", "seed = 'three' should be int"),
    ("baseline:\n  C: -1\n", "baseline.C = -1.0 is impossible"),
    ("family: svm\n", "family = 'svm' is impossible; use one of baseline, transformer"),
    ("transformer:\n  max_length: 4096\n", "transformer.max_length = 4096 is impossible"),
    ("baseline: 3\n", "baseline must be a mapping"),
    ("baseline:\n  word_ngrams: [3, 1]\n", "baseline.word_ngrams = (3, 1) is impossible"),
])
def test_bad_values_fail_naming_key_and_file(tmp_path, text, needle):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_bad_override_names_the_override():
    with pytest.raises(ConfigError, match=r"--set baseline.C=abc.*baseline.C = 'abc' should be float"):
        load_config(REPO / "configs/baseline.yaml", ["baseline.C=abc"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(REPO / "configs/baseline.yaml", ["baseline.C"])


def test_exponent_without_dot_is_a_number():
    cfg = load_config(REPO / "configs/baseline.yaml", ["transformer.learning_rate=1e-3"])
    assert cfg.transformer.learning_rate == 0.001


def test_missing_file_and_extends_loop(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="loops back"):
        load_config(tmp_path / "a.yaml")


def test_config_is_frozen_and_serialises():
    cfg = load_config(REPO / "configs/baseline.yaml")
    with pytest.raises(Exception):
        cfg.seed = 3
    params = flatten(cfg)
    assert params["baseline.C"] == str(cfg.baseline.C)
    assert "family: baseline" in to_yaml(cfg)
