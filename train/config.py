"""One typed, validated, frozen config object, loaded from YAML.

A config file may `extends: other.yaml` (path relative to the file) and override only what differs;
`--set a.b=value` overrides single values on top (value parsed as YAML). Validation happens before
any work: an unknown key, a wrong type or an impossible value raises ConfigError naming the key, the
file and the fix. Defaults live here, each with the reason for its value; configs/*.yaml choose.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from train.calibration import METHODS as CALIBRATION_METHODS
from train.context import MODES as CONTEXT_MODES
from train.errors import ConfigError
from train.paths import anchored, is_inside_project

FAMILIES = ("baseline", "transformer", "ensemble")


@dataclass(frozen=True)
class DataConfig:
    """Where the labelled files are. A relative path in a config inside the project is relative to the project
    root (train/paths.py), from whatever directory the command runs; in a config file elsewhere, to that file's
    folder; in `--set`, to the working directory.

    The protocol (issue #11): fit on `train`, choose epochs/variants on `select`, fit probability calibration
    and ensemble weights on `calibrate`, and only *report* `dev`, `test` and `gold`. The article splits are
    cut by whole articles (data/articles/, scripts/split_articles.py), so no article is on two sides.
    """

    # Written sentences plus the training articles: both teach; only articles carry context.
    train: tuple[str, ...] = ("data/train.jsonl", "data/articles/train.jsonl")
    # Held-out written sentences: reported (how well the written style is learnt), never used to decide.
    dev: str | None = "data/dev.jsonl"
    # Whole articles with a real-news class mix: early stopping and model selection read this, nothing else.
    select: str = "data/articles/select.jsonl"
    # Whole articles: temperature/vector scaling, prior correction and ensemble weights are fitted here.
    calibrate: str = "data/articles/calibrate.jsonl"
    # Whole articles, reported only: the honest number for the project's domain.
    test: str = "data/articles/test.jsonl"
    # Final-score sets: logged, never used for any decision.
    gold: tuple[str, ...] = ("data/gold/article.jsonl",)


@dataclass(frozen=True)
class BaselineConfig:
    """TF-IDF n-grams (+ cue features) and logistic regression: the floor every model must beat."""

    word_ngrams: tuple[int, int] = (1, 2)  # bigrams catch "نفى المتحدث"-style cue pairs
    char_ngrams: tuple[int, int] = (2, 5)  # char n-grams absorb Arabic clitics and inflection
    min_df: int = 2  # a feature seen once is noise at 3k sentences
    C: float = 4.0  # chosen on dev; weaker regularisation underfits the cue features less
    class_weight: str | None = "balanced"  # train classes are near-balanced; keep rare denials honest
    cue_features: bool = True  # the guide's cue lexicon (train/cues.py): the knowledge that transfers
    cue_weight: float = 2.0  # scale of cue features next to ~unit-norm TF-IDF rows
    max_iter: int = 3000  # lbfgs converges well inside this on the corpus
    # With article context: scale of the context block (previous sentences' predicted probabilities and cue
    # features, continuation markers); the same scale as the cue block, for the same reason.
    context_weight: float = 2.0
    # Folds for the out-of-fold predictions of previous sentences that the context block is trained on
    # (stacking): in-fold predictions would be near-perfect and teach the model to trust them blindly.
    context_folds: int = 3


@dataclass(frozen=True)
class PretrainConfig:
    """Build-it-yourself encoder for offline runs: WordPiece + masked-LM warm-up on our own text."""

    vocab_size: int = 4000  # ~4k sentences: frequent words stay whole, rare ones split into pieces
    hidden_size: int = 128  # BERT-mini width (0.9M parameters): minutes on a CPU; 256 was no better
    num_layers: int = 2  # BERT-mini depth
    num_heads: int = 2  # 64-dim heads, as in BERT-base
    intermediate_size: int = 512  # BERT's 4x feed-forward ratio
    # A short warm-up: on ~4k sentences masked-LM barely gets past unigram statistics, and 10 epochs
    # gave a worse starting point for fine-tuning than 3 (configs/tiny-bert.yaml has the numbers).
    mlm_epochs: int = 3
    mlm_probability: float = 0.15  # BERT's masking rate
    mlm_learning_rate: float = 1e-3  # a small model from scratch takes a high rate
    mlm_batch_size: int = 32  # sentences per masked-LM step; small corpus, so many steps per epoch
    min_frequency: int = 2  # a word-piece must occur twice to enter the vocabulary (no one-off noise)


@dataclass(frozen=True)
class TransformerConfig:
    """Fine-tuning a BertForSequenceClassification (AraBERT or the offline tiny BERT)."""

    # Hub id or local directory; a directory wins, so an offline copy works with no network.
    name_or_path: str = "aubmindlab/bert-base-arabertv02"
    # Build the encoder from scratch (tiny-bert) instead of loading `name_or_path`.
    pretrain: PretrainConfig | None = None
    # "arabert": the official v02 preprocessing; "normalize": train/text.normalize only.
    preprocess: str = "arabert"
    max_length: int = 128  # news sentences fit in 128 word-pieces; longer ones are truncated
    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 3e-5  # BERT-base fine-tuning sweet spot (2e-5..5e-5)
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1  # linear warm-up then linear decay
    grad_accum_steps: int = 1
    class_weighted_loss: bool = False  # train is balanced; turn on for skewed corpora
    early_stopping_patience: int = 2  # epochs without select-set macro-F1 gain
    precision: str = "auto"  # auto: bf16/fp16 on a GPU that offers it, fp32 on CPU
    cue_fusion: bool = False  # concatenate cue features to the pooled output (custom head)
    # CPU threads for torch; 0: every core this process may use (torch's default counts physical
    # cores only, which on a 2-vCPU machine is often 1 and halves throughput).
    cpu_threads: int = 0


@dataclass(frozen=True)
class EnsembleConfig:
    """Baseline + transformer, each temperature-scaled on the select set, then mixed."""

    # Mixing weights tried for the transformer (baseline gets 1 - w); 11 steps of 0.1 is fine enough
    # for a ~360-sentence select set, where finer steps only fit noise.
    weight_steps: int = 11
    # A trained transformer (run id, runs:/ or models:/ URI, or model directory) to reuse as the
    # transformer member instead of training one: ensembling then costs seconds, not minutes.
    transformer_model: str | None = None


@dataclass(frozen=True)
class CalibrationConfig:
    """Probability calibration, fitted on `data.calibrate` (never on select, test or gold)."""

    # temperature: one scalar, keeps every decision, fixes over-confidence (the measured problem: ECE ~0.23).
    # vector: per-class scale and bias; also shifts class priors. none: raw model probabilities.
    method: str = "temperature"
    prior_correction: bool = False  # per-class multipliers matching calibrate's class shares


@dataclass(frozen=True)
class TrackingConfig:
    """MLflow: where runs go. Null `uri` means $MLFLOW_TRACKING_URI, else the repo's local store."""

    uri: str | None = None
    experiment: str = "araclaim"
    register_as: str | None = None  # registered model name; null: do not register
    alias: str | None = None  # e.g. "champion" -> models:/NAME@champion


@dataclass(frozen=True)
class Config:
    """A whole experiment. `name` defaults to the config file's stem."""

    name: str = "unnamed"
    family: str = "baseline"
    seed: int = 13  # data order, initialisation, cross-validation folds and bootstrap CIs
    # Article context a model reads with each sentence (train/context.py): none, the previous sentence, or a
    # window of `context_size` previous sentences. "وأضاف أن…" needs its speaker; one sentence back has it
    # most of the time, so `previous` is the default; the ablation is in scripts/experiments.py.
    context: str = "previous"
    context_size: int = 3  # sentences read by `context: window`
    data: DataConfig = field(default_factory=DataConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# --- validation of values that types cannot express -------------------------------------------

_CHECKS = {
    "family": (lambda v: v in FAMILIES, f"one of {', '.join(FAMILIES)}"),
    "context": (lambda v: v in CONTEXT_MODES, f"one of {', '.join(CONTEXT_MODES)}"),
    "context_size": (lambda v: 1 <= v <= 10, "between 1 and 10 previous sentences"),
    "calibration.method": (lambda v: v in CALIBRATION_METHODS, f"one of {', '.join(CALIBRATION_METHODS)}"),
    "baseline.context_weight": (lambda v: v >= 0, "0 or a positive scale such as 2.0"),
    "baseline.context_folds": (lambda v: v >= 2, "at least 2 folds"),
    "transformer.preprocess": (lambda v: v in ("arabert", "normalize"), "'arabert' or 'normalize'"),
    "transformer.precision": (lambda v: v in ("auto", "fp32", "bf16", "fp16"), "auto, fp32, bf16 or fp16"),
    "transformer.max_length": (lambda v: 8 <= v <= 512, "between 8 and 512 (BERT's position limit)"),
    "transformer.epochs": (lambda v: v >= 1, "at least 1"),
    "transformer.batch_size": (lambda v: v >= 1, "at least 1"),
    "transformer.learning_rate": (lambda v: 0 < v < 1, "a small positive number such as 3e-5"),
    "transformer.warmup_ratio": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "transformer.grad_accum_steps": (lambda v: v >= 1, "at least 1"),
    "transformer.early_stopping_patience": (lambda v: v >= 0, "0 (off) or more epochs"),
    "transformer.pretrain.num_heads": (lambda v: v >= 1, "at least 1"),
    "transformer.cpu_threads": (lambda v: v >= 0, "0 (every available core) or a thread count"),
    "transformer.pretrain.vocab_size": (lambda v: v >= 100, "at least 100 (special tokens + Arabic letters)"),
    "transformer.pretrain.mlm_epochs": (lambda v: v >= 0, "0 (no masked-LM warm-up) or more epochs"),
    "transformer.pretrain.mlm_batch_size": (lambda v: v >= 1, "at least 1"),
    "transformer.pretrain.min_frequency": (lambda v: v >= 1, "at least 1"),
    "transformer.pretrain.mlm_probability": (lambda v: 0 < v < 1, "in (0, 1), e.g. 0.15"),
    "ensemble.weight_steps": (lambda v: v >= 2, "at least 2 (weights 0 and 1)"),
    "baseline.C": (lambda v: v > 0, "a positive number such as 4.0"),
    "baseline.min_df": (lambda v: v >= 1, "at least 1"),
    "baseline.class_weight": (lambda v: v in (None, "balanced"), "'balanced' or null"),
    "baseline.word_ngrams": (lambda v: 1 <= v[0] <= v[1], "[low, high] with 1 <= low <= high"),
    "baseline.char_ngrams": (lambda v: 1 <= v[0] <= v[1], "[low, high] with 1 <= low <= high"),
}


def _check_values(cfg: Config, source: str) -> None:
    for key, (ok, want) in _CHECKS.items():
        value = _get(cfg, key)
        if value is not None and not ok(value):
            raise ConfigError(f"{source}: {key} = {value!r} is impossible; use {want}")
    pre = cfg.transformer.pretrain
    if pre is not None and pre.hidden_size % pre.num_heads:
        raise ConfigError(
            f"{source}: transformer.pretrain.hidden_size = {pre.hidden_size} is not divisible by "
            f"num_heads = {pre.num_heads}; pick a hidden_size that is a multiple of num_heads"
        )


def _get(obj, dotted: str):
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


# --- building dataclasses from plain dicts, with precise errors -----------------------------

def _build(cls, raw: dict, prefix: str, source: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'config'} must be a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in raw:
        if key not in fields:
            lower = {name.lower(): name for name in fields}
            close = difflib.get_close_matches(str(key).lower(), lower, n=1, cutoff=0.5)
            hint = f"did you mean '{prefix}{lower[close[0]]}'?" if close else f"known keys: {', '.join(fields)}"
            raise ConfigError(f"{source}: unknown key '{prefix}{key}'; {hint}")
    kwargs = {k: _coerce(hints[k], v, f"{prefix}{k}", source) for k, v in raw.items()}
    return cls(**kwargs)


def _coerce(tp, value, key: str, source: str):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(args[0], value, key, source)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value if value is not None else {}, f"{key}.", source)
    if origin is tuple:
        return _coerce_tuple(tp, value, key, source)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):
        try:  # YAML 1.1 reads 1e-3 (no dot) as a string; accept it as the number it is
            return float(value)
        except ValueError:
            pass
    if tp in (int, float, str, bool) and (type(value) is not tp):
        raise ConfigError(
            f"{source}: {key} = {value!r} should be {tp.__name__}, got {type(value).__name__}"
            + (" (write numbers without quotes)" if isinstance(value, str) else "")
        )
    return value


def _coerce_tuple(tp, value, key: str, source: str):
    if isinstance(value, str):
        value = [value]  # a single path where a list is expected
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{source}: {key} = {value!r} should be a list")
    args = typing.get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(args[0], v, key, source) for v in value)
    if len(value) != len(args):
        raise ConfigError(f"{source}: {key} = {value!r} should have {len(args)} items")
    return tuple(_coerce(a, v, key, source) for a, v in zip(args, value))


# --- files and overrides ----------------------------------------------------------------------

def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    if not path.is_file():
        raise ConfigError(f"config file {path} not found (configs live in configs/*.yaml)")
    if path.resolve() in chain:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    if not is_inside_project(path):
        raw = _anchor_data_paths(raw, None, path.resolve().parent)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    base = _read_yaml(path.parent / parent, chain + (path.resolve(),))
    return _merge(base, raw)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _anchor_data_paths(raw: dict, keys: set[str] | None, base: Path) -> dict:
    """`raw` with the relative paths of its `data` section (only `keys` of it, when given) made absolute
    against `base`, so they no longer depend on where the command runs."""
    data = raw.get("data")
    if not isinstance(data, dict):
        return raw
    fixed = {}
    for key, value in data.items():
        if keys is not None and key not in keys:
            fixed[key] = value
        elif isinstance(value, str):
            fixed[key] = anchored(value, base)
        elif isinstance(value, list):
            fixed[key] = [anchored(v, base) if isinstance(v, str) else v for v in value]
        else:
            fixed[key] = value
    return {**raw, "data": fixed}


def _override_data_keys(overrides) -> set[str] | None:
    """The `data` keys that `--set` overrides name (None: the whole section)."""
    keys: set[str] = set()
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if key == "data":
            return None
        if key.startswith("data."):
            keys.add(key.split(".")[1])
    return keys


def apply_overrides(raw: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Apply `a.b=value` strings (value parsed as YAML) to a raw config dict."""
    raw = _merge({}, raw)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set transformer.epochs=2")
        key, text = item.split("=", 1)
        node = raw
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: '{part}' is not a section")
        node[parts[-1]] = yaml.safe_load(text)
    return raw


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load, merge, override and validate a config file.

    >>> cfg = load_config("configs/baseline.yaml", ["baseline.C=2.0"])
    >>> cfg.baseline.C
    2.0
    """
    path = Path(path)
    raw = _read_yaml(path)
    raw.setdefault("name", path.stem)
    source = str(path) + (f" (with --set {' '.join(overrides)})" if overrides else "")
    raw = apply_overrides(raw, overrides)
    keys = _override_data_keys(overrides)
    if keys is None or keys:  # a path typed on the command line is relative to where the user is
        raw = _anchor_data_paths(raw, keys, Path.cwd())
    cfg = _build(Config, raw, "", source)
    _check_values(cfg, source)
    return cfg


def config_from_dict(raw: dict, source: str = "<dict>") -> Config:
    """Build and validate a Config from a plain dict (tests, saved runs)."""
    cfg = _build(Config, raw, "", source)
    _check_values(cfg, source)
    return cfg


def to_yaml(cfg: Config) -> str:
    """The fully resolved config as YAML (logged with every run)."""
    return yaml.safe_dump(_plain(cfg.to_dict()), allow_unicode=True, sort_keys=False)


def flatten(cfg: Config) -> dict[str, str]:
    """Dotted key -> value, for MLflow params (so runs compare column by column)."""
    out: dict[str, str] = {}

    def walk(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = "null" if value is None else str(_plain(value))

    walk(cfg.to_dict(), "")
    return out


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
