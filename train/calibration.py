"""Probability calibration fitted on the `calibrate` split: temperature or vector scaling.

A model trained on balanced written sentences is over-confident on real articles (ECE about 0.23 on
fact-checking text before this existed). Both methods rescale the model's log-probabilities and keep its
ranking of classes per sentence close to the original:

- `temperature`: one scalar T, probabilities ∝ p^(1/T) (Guo et al. 2017). Never changes the argmax.
- `vector`: a per-class scale a_c and bias b_c, probabilities ∝ exp(a_c log p_c + b_c). It can also
  correct class priors (and so can change some argmax decisions), at 8 parameters instead of 1.

Fitted by minimising negative log-likelihood on `calibrate`, never on the selection split. Pure numpy/scipy.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from araclaim.train.labels import LABELS

METHODS = ("none", "temperature", "vector")
_EPS = 1e-12
_L2 = 1e-2  # pulls vector scaling towards the identity: a few hundred sentences must not buy 8 free knobs


def _log(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probs, dtype=np.float64), _EPS, 1.0))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _targets(gold: list[str], labels=LABELS) -> np.ndarray:
    return np.array([labels.index(g) for g in gold])


def nll(probs: np.ndarray, gold: list[str], labels=LABELS) -> float:
    """Mean negative log-likelihood of `gold` under `probs` (columns in `labels` order)."""
    idx = _targets(gold, labels)
    return float(-_log(probs)[np.arange(len(idx)), idx].mean())


@dataclass(frozen=True)
class Calibrator:
    """A fitted rescaling of probability tables; `apply` maps raw probabilities to calibrated ones."""

    method: str = "none"
    temperature: float = 1.0
    scale: tuple[float, ...] = ()
    bias: tuple[float, ...] = ()

    def apply(self, probs: np.ndarray) -> np.ndarray:
        if self.method == "none" or len(probs) == 0:
            return probs
        z = _log(probs)
        if self.method == "temperature":
            return _softmax(z / self.temperature)
        return _softmax(z * np.asarray(self.scale) + np.asarray(self.bias))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict | None) -> "Calibrator":
        if not raw:
            return cls()
        return cls(method=raw["method"], temperature=float(raw.get("temperature", 1.0)),
                   scale=tuple(raw.get("scale", ())), bias=tuple(raw.get("bias", ())))


def fit_temperature(probs: np.ndarray, gold: list[str], labels=LABELS) -> float:
    """The temperature in [0.05, 20] with the lowest NLL of `gold` (bounded 1-D search on log T)."""
    from scipy.optimize import minimize_scalar

    z, idx = _log(probs), _targets(gold, labels)

    def loss(log_t):
        p = _softmax(z / np.exp(log_t))
        return -np.log(np.clip(p[np.arange(len(idx)), idx], _EPS, 1.0)).mean()

    best = minimize_scalar(loss, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(best.x))


def fit_vector(probs: np.ndarray, gold: list[str], labels=LABELS) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-class (scale, bias) minimising NLL + a small L2 pull towards scale 1, bias 0 (L-BFGS)."""
    from scipy.optimize import minimize

    z, idx = _log(probs), _targets(gold, labels)
    k = z.shape[1]
    onehot = np.eye(k)[idx]

    def loss(theta):
        a, b = theta[:k], theta[k:]
        p = _softmax(z * a + b)
        value = -np.log(np.clip(p[np.arange(len(idx)), idx], _EPS, 1.0)).mean()
        value += _L2 * (np.sum((a - 1) ** 2) + np.sum(b ** 2))
        diff = (p - onehot) / len(idx)
        grad = np.concatenate([(diff * z).sum(axis=0) + 2 * _L2 * (a - 1), diff.sum(axis=0) + 2 * _L2 * b])
        return value, grad

    theta0 = np.concatenate([np.ones(k), np.zeros(k)])
    best = minimize(loss, theta0, jac=True, method="L-BFGS-B")
    return tuple(float(v) for v in best.x[:k]), tuple(float(v) for v in best.x[k:])


def fit(method: str, probs: np.ndarray, gold: list[str], labels=LABELS) -> Calibrator:
    """Fit `method` on raw probabilities of the calibrate split and their gold labels."""
    if method not in METHODS:
        raise ValueError(f"calibration method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "none" or not gold:
        return Calibrator()
    if method == "temperature":
        return Calibrator("temperature", temperature=fit_temperature(probs, gold, labels))
    scale, bias = fit_vector(probs, gold, labels)
    return Calibrator("vector", scale=scale, bias=bias)


def confidence_and_correct(probs: np.ndarray, gold: list[str], labels=LABELS) -> tuple[list[float], list[bool]]:
    """Probability of the predicted class and whether it was right, per row (inputs of metrics.ece)."""
    probs = np.asarray(probs)
    top = probs.argmax(axis=1)
    return [float(c) for c in probs.max(axis=1)], [labels[t] == g for t, g in zip(top, gold)]
