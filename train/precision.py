"""What each inference precision costs in accuracy, measured once at training time on `select`.

`araclaim label --precision auto` (eval/label.py) may only pick a (precision, engine) mode whose select
macro-F1 is within 1 point of fp32; the record written here travels with the model (araclaim.json).
"""
from __future__ import annotations

import copy
import logging

from araclaim.train import metrics
from araclaim.train.data import LabelledSet
from araclaim.train.model import Classifier

log = logging.getLogger(__name__)

BF16_EMULATED_MAX_PARAMS = 20_000_000  # above this, bf16 emulated on a CPU without bf16 units is too slow to measure


def measure(clf: Classifier, data: LabelledSet) -> dict | None:
    """Macro-F1 on `data` (the select split) and agreement with fp32 of every inference mode the model's
    backend can run here (train/infer.modes), for `araclaim label --precision auto` to choose from.

    None for backends without modes (the baseline). bf16 is not measured where it is emulated (a CPU
    without bf16 units) for models larger than BF16_EMULATED_MAX_PARAMS: it would take longer than training.
    Each mode runs on a copy, so `clf` itself stays fp32.
    """
    if not callable(getattr(clf.backend, "configure", None)):
        return None
    from araclaim.train import infer

    backends = [m.backend for m in getattr(clf.backend, "members", [])] or [clf.backend]
    transformer = next(b for b in backends if hasattr(b, "model"))
    device = next(transformer.model.parameters()).device.type
    params = sum(p.numel() for p in transformer.model.parameters())
    contexts = data.contexts(clf.context_size)
    ref = clf.predict(data.texts, contexts)
    record = {"split": data.name, "n": len(data.texts), "macro_f1": {"fp32/torch": metrics.macro_f1(data.labels, ref)},
              "agreement": {"fp32/torch": 1.0}, "not_measured": {}}
    for precision, engine in infer.modes(device):
        mode = infer.mode_name(precision, engine)
        if mode == "fp32/torch":
            continue
        if precision == "bf16" and device == "cpu" and not infer.bf16_supported() and params > BF16_EMULATED_MAX_PARAMS:
            record["not_measured"][mode] = "bf16 is emulated on the training CPU (no bf16 units)"
            continue
        variant = copy.deepcopy(clf)
        variant.backend.configure(precision=precision, engine=engine, threads=None)
        pred = variant.predict(data.texts, contexts)
        record["macro_f1"][mode] = metrics.macro_f1(data.labels, pred)
        record["agreement"][mode] = sum(a == b for a, b in zip(pred, ref)) / max(len(ref), 1)
        log.info("precision %s: %s macro-F1 %.4f (fp32 %.4f), agreement %.3f", mode, data.name,
                 record["macro_f1"][mode], record["macro_f1"]["fp32/torch"], record["agreement"][mode])
        del variant
    return record
