"""One typed, validated, frozen config object, loaded from YAML.

A config file may `extends: other.yaml` (path relative to the file) and override only what differs;
`--set a.b=value` overrides single values on top (value parsed as YAML). The schema is one pydantic v2
model tree (frozen, unknown keys forbidden, strict types, bounds on every number, cross-field checks),
validated before any work: an unknown key, a wrong type or an impossible value raises ConfigError naming
the file, the dotted key, the value and the fix. Defaults live here, each with the reason for its value;
configs/*.yaml choose.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from araclaim.train.calibration import METHODS as CALIBRATION_METHODS
from araclaim.train.config_errors import describe
from araclaim.train.config_files import (  # noqa: F401
    anchor_data_paths,
    apply_overrides,
    override_data_keys,
    read_yaml,
)
from araclaim.train.context import MODES as CONTEXT_MODES
from araclaim.train.errors import ConfigError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

FAMILIES = ("baseline", "transformer", "ensemble")
PREPROCESSING = ("arabert", "normalize")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


# --- value types: strict (no "3" for 3, no 1 for true), with the few conversions YAML needs ---------

def _number(value: Any) -> Any:
    """YAML 1.1 reads 1e-3 (no dot) as a string; accept it as the number it is."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def _paths(value: Any) -> Any:
    """A single path where a list is expected; a YAML list becomes the tuple the model stores."""
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, list) else value


def _pair(value: Any) -> Any:
    """[low, high] from YAML; a range needs exactly two numbers."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise _bad_value("should have 2 items", "use [low, high], e.g. [1, 2]")
        return tuple(value)
    return value


def _ordered(value: tuple[int, int]) -> tuple[int, int]:
    """An n-gram range runs from a shortest to a longest n-gram, both at least 1."""
    if not 1 <= value[0] <= value[1]:
        raise _bad_value("is impossible", "use [low, high] with 1 <= low <= high")
    return value


def _bad_value(why: str, fix: str) -> PydanticCustomError:
    """A field's own error; the message is assembled in _message with the key and value."""
    return PydanticCustomError("bad_value", "{why}", {"why": why, "fix": fix})


# a finite number: YAML's .inf or .nan would slip past every bound or turn every comparison false
Float = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]
Paths = Annotated[tuple[str, ...], BeforeValidator(_paths)]
NgramRange = Annotated[tuple[int, int], BeforeValidator(_pair), AfterValidator(_ordered)]


def _field(default: Any, fix: str | None = None, **bounds: Any) -> Any:
    """A field with its default, its bounds, and the fix an error message suggests (else built from bounds)."""
    return Field(default, json_schema_extra={"fix": fix} if fix else None, **bounds)


def _one_of(values: tuple[str, ...]) -> str:
    return f"one of {', '.join(values)}"


class _Section(BaseModel):
    # frozen: a config is a value, shared by every stage of a run; strict: `seed: "3"` is a typo, not 3
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def to_dict(self) -> dict:
        """Plain nested dict (tuples kept), for YAML and MLflow params."""
        return self.model_dump()


class DataConfig(_Section):
    """Where the labelled files are. A relative path in a config inside the project is relative to the project
    root (train/paths.py), from whatever directory the command runs; in a config file elsewhere, to that file's
    folder; in `--set`, to the working directory.

    The protocol (issue #11): fit on `train`, choose epochs/variants on `select`, fit probability calibration
    and ensemble weights on `calibrate`, and only *report* `dev`, `test` and `gold`. The article splits are
    cut by whole articles (data/articles/, scripts/split_articles.py), so no article is on two sides.
    """

    # Written sentences plus the training articles: both teach; only articles carry context.
    train: Paths = _field(("data/train.jsonl", "data/articles/train.jsonl"), "at least one JSONL path", min_length=1)
    # Held-out written sentences: reported (how well the written style is learnt), never used to decide.
    dev: Optional[str] = _field("data/dev.jsonl", "a JSONL path, or null for none", min_length=1)
    # Whole articles with a real-news class mix: early stopping and model selection read this, nothing else.
    select: str = _field("data/articles/select.jsonl", "a JSONL path", min_length=1)
    # Whole articles: temperature/vector scaling, prior correction and ensemble weights are fitted here.
    calibrate: str = _field("data/articles/calibrate.jsonl", "a JSONL path", min_length=1)
    # Whole articles, reported only: the honest number for the project's domain.
    test: str = _field("data/articles/test.jsonl", "a JSONL path", min_length=1)
    # Final-score sets: logged, never used for any decision.
    gold: Paths = ("data/gold/article.jsonl",)


class BaselineConfig(_Section):
    """TF-IDF n-grams (+ cue features) and logistic regression: the floor every model must beat."""

    word_ngrams: NgramRange = (1, 2)  # bigrams catch "نفى المتحدث"-style cue pairs
    char_ngrams: NgramRange = (2, 5)  # char n-grams absorb Arabic clitics and inflection
    min_df: int = _field(2, ge=1)  # a feature seen once is noise at 3k sentences
    # C and cue_weight chosen on `select` (data v2, no context): C 8 / weight 0.5 0.791, C 4 / 0.5 0.786,
    # C 8 / 1.0 0.784, C 4 / 0.25 0.782, C 4 / 2.0 (the v1 setting) 0.763; n-grams alone 0.778. With article
    # data a lighter cue block lets the n-grams say when a cue word is only mentioned.
    C: Float = _field(8.0, "a positive number such as 8.0", gt=0)
    # train classes are near-balanced; keep rare denials honest
    class_weight: Optional[Literal["balanced"]] = _field("balanced", "'balanced' or null")
    cue_features: bool = True  # the guide's cue lexicon (train/cues.py): the knowledge that transfers
    # scale of cue features next to ~unit-norm TF-IDF rows
    cue_weight: Float = _field(0.5, "0 or a positive scale such as 0.5", ge=0)
    max_iter: int = _field(3000, ge=1)  # lbfgs converges well inside this on the corpus
    # With article context: scale of the context block (previous sentences' predicted probabilities and cue
    # features, continuation markers); the same scale as the cue block, for the same reason.
    context_weight: Float = _field(0.5, "0 or a positive scale such as 0.5", ge=0)
    # Folds for the out-of-fold predictions of previous sentences that the context block is trained on
    # (stacking): in-fold predictions would be near-perfect and teach the model to trust them blindly.
    context_folds: int = _field(3, "at least 2 folds", ge=2)


class PretrainConfig(_Section):
    """Build-it-yourself encoder for offline runs: WordPiece + masked-LM warm-up on our own text."""

    # ~4k sentences: frequent words stay whole, rare ones split into pieces
    vocab_size: int = _field(4000, "at least 100 (special tokens + Arabic letters)", ge=100)
    # BERT-mini width (0.9M parameters): minutes on a CPU; 256 was no better
    hidden_size: int = _field(128, ge=1)
    num_layers: int = _field(2, ge=1)  # BERT-mini depth
    num_heads: int = _field(2, ge=1)  # 64-dim heads, as in BERT-base
    intermediate_size: int = _field(512, ge=1)  # BERT's 4x feed-forward ratio
    # A short warm-up: on ~4k sentences masked-LM barely gets past unigram statistics, and 10 epochs
    # gave a worse starting point for fine-tuning than 3 (configs/tiny-bert.yaml has the numbers).
    mlm_epochs: int = _field(3, "0 (no masked-LM warm-up) or more epochs", ge=0)
    mlm_probability: Float = _field(0.15, "a rate in (0, 1), e.g. 0.15", gt=0, lt=1)  # BERT's masking rate
    # a small model from scratch takes a high rate
    mlm_learning_rate: Float = _field(1e-3, "a small positive number such as 1e-3", gt=0, lt=1)
    # sentences per masked-LM step; small corpus, so many steps per epoch
    mlm_batch_size: int = _field(32, ge=1)
    # a word-piece must occur twice to enter the vocabulary (no one-off noise)
    min_frequency: int = _field(2, ge=1)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> "PretrainConfig":
        # BERT splits the hidden vector evenly across attention heads
        if self.hidden_size % self.num_heads:
            raise _impossible("hidden_size", self.hidden_size, f"is not divisible by num_heads = {self.num_heads}",
                              "pick a hidden_size that is a multiple of num_heads")
        return self


class TransformerConfig(_Section):
    """Fine-tuning a BertForSequenceClassification (AraBERT or the offline tiny BERT)."""

    # Hub id or local directory; a directory wins, so an offline copy works with no network.
    name_or_path: str = _field("aubmindlab/bert-base-arabertv02", "a hub id or a local directory", min_length=1)
    # Build the encoder from scratch (tiny-bert) instead of loading `name_or_path`.
    pretrain: Optional[PretrainConfig] = None
    # "arabert": the official v02 preprocessing; "normalize": train/text.normalize only.
    preprocess: Literal[PREPROCESSING] = _field("arabert", "'arabert' or 'normalize'")
    # news sentences fit in 128 word-pieces; longer ones are truncated
    max_length: int = _field(128, "between 8 and 512 (BERT's position limit)", ge=8, le=512)
    epochs: int = _field(4, ge=1)
    batch_size: int = _field(32, ge=1)
    # BERT-base fine-tuning sweet spot (2e-5..5e-5)
    learning_rate: Float = _field(3e-5, "a small positive number such as 3e-5", gt=0, lt=1)
    # AdamW's decoupled decay; negative decay would push weights away from zero
    weight_decay: Float = _field(0.01, "0 (off) or a small decay such as 0.01", ge=0, lt=1)
    warmup_ratio: Float = _field(0.1, "a share of all steps in [0, 1)", ge=0, lt=1)  # linear warm-up then linear decay
    grad_accum_steps: int = _field(1, ge=1)
    class_weighted_loss: bool = False  # train is balanced; turn on for skewed corpora
    # epochs without select-set macro-F1 gain
    early_stopping_patience: int = _field(2, "0 (off) or more epochs", ge=0)
    # auto: bf16/fp16 on a GPU that offers it, fp32 on CPU
    precision: Literal[PRECISIONS] = _field("auto", "auto, fp32, bf16 or fp16")
    cue_fusion: bool = False  # concatenate cue features to the pooled output (custom head)
    # CPU threads for torch; 0: every core this process may use (torch's default counts physical
    # cores only, which on a 2-vCPU machine is often 1 and halves throughput).
    cpu_threads: int = _field(0, "0 (every available core) or a thread count", ge=0)


class EnsembleConfig(_Section):
    """Baseline + transformer, each temperature-scaled on the select set, then mixed."""

    # Mixing weights tried for the transformer (baseline gets 1 - w); 11 steps of 0.1 is fine enough
    # for a ~360-sentence select set, where finer steps only fit noise.
    weight_steps: int = _field(11, "at least 2 (weights 0 and 1)", ge=2)
    # A trained transformer (run id, runs:/ or models:/ URI, or model directory) to reuse as the
    # transformer member instead of training one: ensembling then costs seconds, not minutes.
    transformer_model: Optional[str] = _field(None, "a run id, runs:/ or models:/ URI, or model directory",
                                              min_length=1)


class CalibrationConfig(_Section):
    """Probability calibration, fitted on `data.calibrate` (never on select, test or gold)."""

    # temperature: one scalar, keeps every decision, fixes over-confidence (the measured problem: ECE ~0.23).
    # vector: per-class scale and bias; also shifts class priors. none: raw model probabilities.
    method: Literal[CALIBRATION_METHODS] = _field("temperature", _one_of(CALIBRATION_METHODS))
    prior_correction: bool = False  # per-class multipliers matching calibrate's class shares


class TrackingConfig(_Section):
    """MLflow: where runs go. Null `uri` means $MLFLOW_TRACKING_URI, else the repo's local store."""

    uri: Optional[str] = _field(None, "a tracking URI such as sqlite:///mlruns/mlflow.db, or null", min_length=1)
    experiment: str = _field("araclaim", "an experiment name", min_length=1)
    # registered model name; null: do not register
    register_as: Optional[str] = _field(None, "a registered model name such as araclaim, or null", min_length=1)
    # e.g. "champion" -> models:/NAME@champion
    alias: Optional[str] = _field(None, "an alias such as champion, or null", min_length=1)

    @model_validator(mode="after")
    def _alias_needs_a_model(self) -> "TrackingConfig":
        # an alias points at a version of a registered model; without register_as there is none
        if self.alias and not self.register_as:
            raise _impossible("alias", self.alias, "needs tracking.register_as",
                              "also set tracking.register_as (e.g. --set tracking.register_as=araclaim)")
        return self


class Config(_Section):
    """A whole experiment. `name` defaults to the config file's stem."""

    name: str = _field("unnamed", "a short name such as baseline", min_length=1)
    family: Literal[FAMILIES] = _field("baseline", _one_of(FAMILIES))
    # data order, initialisation, cross-validation folds and bootstrap CIs (numpy seeds are 32-bit)
    seed: int = _field(13, "a whole number in [0, 2**32)", ge=0, lt=2**32)
    # Article context a model reads with each sentence (train/context.py): none, the previous sentence, or a
    # window of `context_size` previous sentences. "وأضاف أن…" needs its speaker; one sentence back has it
    # most of the time, so `previous` is the default; the ablation is in scripts/experiments.py.
    context: Literal[CONTEXT_MODES] = _field("previous", _one_of(CONTEXT_MODES))
    # sentences read by `context: window`
    context_size: int = _field(3, "between 1 and 10 previous sentences", ge=1, le=10)
    data: DataConfig = DataConfig()
    baseline: BaselineConfig = BaselineConfig()
    transformer: TransformerConfig = TransformerConfig()
    ensemble: EnsembleConfig = EnsembleConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    tracking: TrackingConfig = TrackingConfig()

    @model_validator(mode="after")
    def _options_that_are_read(self) -> "Config":
        # A value that would be silently ignored is a mistake in the config: say so instead.
        default_size = type(self).model_fields["context_size"].default
        if self.context != "window" and self.context_size != default_size:
            raise _impossible("context_size", self.context_size,
                              f"is read only with context: window, not {self.context}",
                              f"set context: window, or leave context_size at its default {default_size}")
        if self.ensemble.transformer_model and self.family != "ensemble":
            raise _impossible("ensemble.transformer_model", self.ensemble.transformer_model,
                              f"is read only by family: ensemble, not {self.family}",
                              "set family: ensemble (configs/ensemble.yaml), or drop ensemble.transformer_model")
        return self


def _impossible(key: str, value: Any, why: str, fix: str) -> PydanticCustomError:
    """A cross-field error; `key` is relative to the model that raises it (the loc adds the prefix)."""
    return PydanticCustomError("cross_field", "{key} {why}", {"key": key, "value": value, "why": why, "fix": fix})


def _validate(raw: Any, source: str) -> Config:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        # every problem at once, one line each, so a config is fixed in one pass
        raise ConfigError("\n".join(f"{source}: {describe(err, Config)}" for err in exc.errors())) from None


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load, merge, override and validate a config file.

    >>> cfg = load_config("configs/baseline.yaml", ["baseline.C=2.0"])
    >>> cfg.baseline.C
    2.0
    """
    path = Path(path)
    raw = read_yaml(path)
    raw.setdefault("name", path.stem)
    source = str(path) + (f" (with --set {' '.join(overrides)})" if overrides else "")
    raw = apply_overrides(raw, overrides)
    keys = override_data_keys(overrides)
    if keys is None or keys:  # a path typed on the command line is relative to where the user is
        raw = anchor_data_paths(raw, keys, Path.cwd())
    return _validate(raw, source)


def config_from_dict(raw: dict, source: str = "<dict>") -> Config:
    """Build and validate a Config from a plain dict (tests, saved runs)."""
    return _validate(raw, source)


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
