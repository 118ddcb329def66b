"""Convert baseline models saved by an older araclaim (`baseline.joblib`, a pickle) to `baseline.skops`.

araclaim no longer loads pickles: unpickling runs whatever code the file carries. This script does unpickle,
once, so use it only on model folders you made yourself; anything else, retrain. Every `baseline.joblib`
under the given folders (ensemble members included) is loaded, written as `baseline.skops` (atomically),
checked to load through araclaim's allow-list with identical probabilities, and then removed.

    .venv/bin/python scripts/convert_baseline_model.py outputs/baseline-<run id>/model --i-trust-this-file
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train import atomic  # noqa: E402
from train.baseline import FILE, LEGACY_FILE, BaselineBackend, load  # noqa: E402

PROBE = ["نفت الوزارة صحة التقارير", "قال الوزير إن الخطة جاهزة", "يجب أن نتحرك الآن", "افتتحت البلدية حديقة"]


def convert(legacy: Path) -> Path:
    """Rewrite one `baseline.joblib` as `baseline.skops` beside it; returns the new file."""
    import joblib
    import skops.io
    from sklearn.pipeline import Pipeline

    saved = joblib.load(legacy)  # the one unpickling the user vouched for with --i-trust-this-file
    if isinstance(saved, Pipeline):  # saved before article context existed
        saved = {"pipeline": saved, "stacker": None, "context_size": 0, "context_weight": 1.0}
    old = BaselineBackend(saved["pipeline"], saved["stacker"], saved["context_size"], saved["context_weight"])
    target = atomic.write_bytes(legacy.with_name(FILE), skops.io.dumps(
        {"pipeline": old.pipeline, "stacker": old.stacker, "context_size": old.context_size,
         "context_weight": old.context_weight}))
    if not (load(legacy.parent).predict_proba(PROBE) == old.predict_proba(PROBE)).all():
        target.unlink()
        raise SystemExit(f"{legacy}: the converted model predicts differently; left as it was")
    legacy.unlink()
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path, help="model folders (searched recursively)")
    ap.add_argument("--i-trust-this-file", action="store_true", required=True,
                    help="confirm that you made these files: unpickling runs any code they carry")
    args = ap.parse_args(argv)
    found = [p for folder in args.folders for p in sorted(folder.rglob(LEGACY_FILE))]
    if not found:
        print(f"no {LEGACY_FILE} under {', '.join(map(str, args.folders))}", file=sys.stderr)
        return 1
    for legacy in found:
        print(f"{legacy} -> {convert(legacy)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
