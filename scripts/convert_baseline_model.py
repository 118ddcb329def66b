"""Convert baseline models saved by an older araclaim to today's `baseline.skops`.

Two kinds: `baseline.joblib` (a pickle, before skops) and `baseline.skops` written before the packages were
renamed to araclaim.train (its types are named `train.baseline.CueFeatures`). araclaim no longer loads
pickles: unpickling runs whatever code the file carries. This script does, once, so use it only on model
folders you made yourself; anything else, retrain. Every such file under the given folders (ensemble members
included) is loaded, written as `baseline.skops` (atomically), checked to load through araclaim's allow-list
with identical probabilities, and the pickle is removed.

    .venv/bin/python scripts/convert_baseline_model.py outputs/baseline-<run id>/model --i-trust-this-file
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import araclaim.train
import araclaim.train.baseline
import araclaim.train.text
from araclaim.train import atomic
from araclaim.train.baseline import FILE, LEGACY_FILE, PRE_RENAME_TYPES, BaselineBackend, load

# Old files name our types by their module before the rename (train.baseline); those names resolve to today's.
for _old in ("train", "train.baseline", "train.text"):
    sys.modules.setdefault(_old, sys.modules["araclaim." + _old])

PROBE = ["نفت الوزارة صحة التقارير", "قال الوزير إن الخطة جاهزة", "يجب أن نتحرك الآن", "افتتحت البلدية حديقة"]


def convert(legacy: Path) -> Path:
    """Rewrite one old file as today's `baseline.skops` beside it (the original is kept until the new one
    predicts identically); returns the new file."""
    import joblib
    import skops.io
    from sklearn.pipeline import Pipeline

    if legacy.name == FILE:  # a skops file with the pre-rename type names
        saved = skops.io.load(legacy, trusted=[*PRE_RENAME_TYPES, *araclaim.train.baseline.TRUSTED_TYPES])
    else:
        saved = joblib.load(legacy)  # the one unpickling the user vouched for with --i-trust-this-file
    if isinstance(saved, Pipeline):  # saved before article context existed
        saved = {"pipeline": saved, "stacker": None, "context_size": 0, "context_weight": 1.0}
    old = BaselineBackend(saved["pipeline"], saved["stacker"], saved["context_size"], saved["context_weight"])
    original = legacy.read_bytes()
    target = atomic.write_bytes(legacy.with_name(FILE), skops.io.dumps(
        {"pipeline": old.pipeline, "stacker": old.stacker, "context_size": old.context_size,
         "context_weight": old.context_weight}))
    if not (load(legacy.parent).predict_proba(PROBE) == old.predict_proba(PROBE)).all():
        if legacy == target:
            atomic.write_bytes(target, original)
        else:
            target.unlink()
        raise SystemExit(f"{legacy}: the converted model predicts differently; left as it was")
    if legacy != target:
        legacy.unlink()
    return target


def _pre_rename(path: Path) -> bool:
    import skops.io

    return bool(set(skops.io.get_untrusted_types(file=path)) & set(PRE_RENAME_TYPES))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path, help="model folders (searched recursively)")
    ap.add_argument("--i-trust-this-file", action="store_true", required=True,
                    help="confirm that you made these files: unpickling runs any code they carry")
    args = ap.parse_args(argv)
    found = [p for folder in args.folders for name in (LEGACY_FILE, FILE) for p in sorted(folder.rglob(name))
             if name == LEGACY_FILE or _pre_rename(p)]
    if not found:
        print(f"no {LEGACY_FILE} under {', '.join(map(str, args.folders))}", file=sys.stderr)
        return 1
    for legacy in found:
        print(f"{legacy} -> {convert(legacy)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
