"""A calibrated ensemble of the baseline and the transformer.

Each member is temperature-scaled on the `calibrate` split (so their confidences mean the same thing),
then the two probability tables are mixed with the weight that maximises calibrate macro-F1. Selection
(`select`) and the reported splits play no part. Saved as two ordinary model directories plus
`ensemble.json`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from araclaim.train import baseline, calibration, context, metrics
from araclaim.train.errors import ModelLoadError
from araclaim.train.features import SentenceFeatures
from araclaim.train.labels import LABELS
from araclaim.train.model import Classifier

FILE = "ensemble.json"


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Rescale probabilities as if logits were divided by `temperature` (rows renormalised)."""
    return calibration.Calibrator("temperature", temperature=temperature).apply(probs)


def fit_weight(p_base: np.ndarray, p_tf: np.ndarray, gold: list[str], steps: int) -> float:
    """Transformer weight in [0, 1] maximising macro-F1 (ties: the more even mix)."""
    def score(w):
        pred = [LABELS[i] for i in (w * p_tf + (1 - w) * p_base).argmax(axis=1)]
        return (metrics.macro_f1(gold, pred), -abs(w - 0.5))

    return float(max(np.linspace(0.0, 1.0, steps), key=score))


class EnsembleBackend:
    """Weighted mix of two tempered members; columns in LABELS order."""

    def __init__(self, members: list[Classifier], temperatures: list[float], weight: float):
        self.members, self.temperatures, self.weight = members, temperatures, weight

    shares_features = True  # predict_proba takes the call's SentenceFeatures (train/model.py)

    def predict_proba(self, texts: list[str], contexts: list[list[str]] | None = None,
                      features: SentenceFeatures | None = None) -> np.ndarray:
        """The weighted mix; both members read the same normalised text and cue features (`features`)."""
        features = features or SentenceFeatures()
        base, tf = (temper(m.predict_proba(texts, contexts, features=features), t)
                    for m, t in zip(self.members, self.temperatures))
        return (1 - self.weight) * base + self.weight * tf

    def configure(self, *, precision: str = "fp32", threads: int | None = None, allowed: set[str] | None = None,
                  engine: str | None = None, log=None) -> dict:
        """Pass labelling precision/threads on to the members that support them (the transformer); `allowed`
        comes from the ensemble's own record (its select macro-F1 per mode of that member). Returns the
        transformer member's choice."""
        chosen = {}
        for member in self.members:
            hook = getattr(member.backend, "configure", None)
            if callable(hook):
                chosen = hook(precision=precision, threads=threads, allowed=allowed, engine=engine, log=log)
        return chosen

    def save(self, directory: Path) -> None:
        for i, member in enumerate(self.members):
            member.save(Path(directory) / f"member{i}")
        meta = {"temperatures": self.temperatures, "weight": self.weight,
                "members": [m.family for m in self.members]}
        (Path(directory) / FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def fit(cfg, splits, run_dir: Path, *, resume: bool, on_epoch) -> EnsembleBackend:
    """Train both members on the same data, then temper and mix them on the calibrate split."""
    k = context.window_size(cfg.context, cfg.context_size)
    base = baseline.fit(cfg.baseline, splits.train.texts, splits.train.labels, cfg.seed, splits.train.groups, k)
    members = [Classifier(base, "baseline", context_size=k), _transformer_member(cfg, splits, run_dir, resume, on_epoch)]
    cal = splits.calibrate
    probs = [m.predict_proba(cal.texts, cal.contexts(max(k, m.context_size)), calibrated=False) for m in members]
    temps = [calibration.fit_temperature(p, cal.labels) for p in probs]
    tempered = [temper(p, t) for p, t in zip(probs, temps)]
    weight = fit_weight(tempered[0], tempered[1], cal.labels, cfg.ensemble.weight_steps)
    on_epoch({"ensemble/weight_transformer": weight, "ensemble/temperature_baseline": temps[0],
              "ensemble/temperature_transformer": temps[1]})
    return EnsembleBackend(members, temps, weight)


def _transformer_member(cfg, splits, run_dir: Path, resume: bool, on_epoch) -> Classifier:
    """Train the transformer member, or load the one `ensemble.transformer_model` names."""
    if cfg.ensemble.transformer_model:
        from araclaim.train.model_store import load_classifier

        member, _, _ = load_classifier(cfg.ensemble.transformer_model, cfg.tracking.uri)
        member.adjust = None  # the ensemble calibrates its members itself
        member.calibrator = calibration.Calibrator()
        return member
    from araclaim.train import transformer  # torch and transformers: only when training

    k = context.window_size(cfg.context, cfg.context_size)
    return Classifier(transformer.fit(cfg, splits, run_dir, resume=resume, on_epoch=on_epoch), "transformer",
                      context_size=k)


def load(directory: str | Path) -> EnsembleBackend:
    """Backend loader used by train.model.Classifier.load."""
    directory = Path(directory)
    meta = json.loads((directory / FILE).read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or not {"members", "temperatures", "weight"} <= set(meta):
        raise ModelLoadError(f"{directory / FILE}: not an ensemble description written by araclaim; retrain it")
    members = [Classifier.load(directory / f"member{i}") for i in range(len(meta["members"]))]
    return EnsembleBackend(members, meta["temperatures"], meta["weight"])
