"""The `araclaim label` command: its arguments, the checks made before the model loads, the run, the report."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from araclaim.eval.inputs import Failure, read_inputs
from araclaim.eval.label import (
    PRECISIONS,
    Labelled,
    Options,
    Progress,
    configure_backend,
    label_articles,
)
from araclaim.eval.outputs import Outputs
from araclaim.train.errors import AraclaimError


def add_label_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `araclaim label`."""
    parser.add_argument("--model", required=True, help="model directory, MLflow run id, runs:/ or models:/ URI")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help=".txt, .jsonl or .csv files, directories (recursive), or - for stdin")
    parser.add_argument("-o", "--output", required=True,
                        help="output file (.jsonl, or .csv); its directory is created when missing")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="output format (default: from the -o suffix)")
    parser.add_argument("--text-field", default="text", help="text field/column of .jsonl/.csv inputs (default text)")
    parser.add_argument("--id-field", default="id", help="id field/column of .jsonl/.csv inputs (default id)")
    parser.add_argument("--presplit", action="store_true",
                        help="each input line/record is one sentence: no segmentation, no skip detection")
    parser.add_argument("--review-below", type=float, metavar="P",
                        help="also write sentences whose top probability is below P to a review CSV")
    parser.add_argument("--review-out", help="review CSV path (default <output>.review.csv)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the articles already in the output (or its .partial) and label the rest")
    parser.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                        help="transformer inference precision (default auto: the fastest mode on this CPU among those "
                             "within 1 point of fp32 select macro-F1, measured once per machine; the baseline is fp32)")
    parser.add_argument("--threads", type=int, help="CPU threads for inference (default: all cores)")
    parser.add_argument("--batch-size", type=int,
                        help="sentences per model call (default: the whole window; transformers still run "
                             "length-sorted batches of 64 inside it)")
    parser.add_argument("--window", type=int, default=2048,
                        help="sentences pooled across articles before predicting (default 2048)")


def _check_args(args) -> tuple[Path, str]:
    """Validate everything that can be checked before the model loads; returns (output, format)."""
    if args.review_below is not None and not 0 < args.review_below <= 1:
        raise AraclaimError(f"--review-below {args.review_below}: give a probability in (0, 1]")
    for name in ("threads", "batch_size", "window"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise AraclaimError(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    missing = [p for p in args.inputs if p != "-" and not Path(p).exists()]
    if missing:
        raise AraclaimError(f"no such input: {', '.join(missing)}")
    out = Path(args.output)
    if out.is_dir():
        raise AraclaimError(f"-o {out} is a directory; give a file name such as {out / 'labelled.jsonl'}")
    if any(p != "-" and Path(p).resolve() == out.resolve() for p in args.inputs):
        raise AraclaimError(f"-o {out} is also an input; write the labels to another file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AraclaimError(f"cannot create the output directory {out.parent}: {exc.strerror or exc}") from None
    return out, args.format or ("csv" if out.suffix.lower() == ".csv" else "jsonl")


def run_label(args) -> int:
    """`araclaim label`: check arguments, load the model once, stream every article through it."""
    out, fmt = _check_args(args)
    from araclaim.train.model_store import load_classifier

    clf, uri, _ = load_classifier(args.model)
    with configure_backend(clf, args.precision, args.threads):
        return _label(args, clf, uri, out, fmt)


def _label(args, clf, uri: str, out: Path, fmt: str) -> int:
    outputs = Outputs(out, fmt, args.review_below, Path(args.review_out) if args.review_out else None)
    progress = Progress()
    opts = Options(batch_size=args.batch_size, window=args.window, presplit=args.presplit,
                   on_batch=lambda n: progress.add(sentences=n))
    try:
        opts.skip = outputs.start(args.resume, uri)
        items = read_inputs(args.inputs, text_field=args.text_field, id_field=args.id_field, exclude=outputs.paths())
        failures = _stream(label_articles(clf, items, uri, opts), outputs, progress)
        progress.close()
        outputs.commit()
    except BaseException:
        progress.close()
        outputs.close()
        if outputs.main.partial.exists():
            print(f"araclaim label: stopped; finished articles are kept in {outputs.main.partial} "
                  f"(rerun with --resume to continue)", file=sys.stderr)
        raise
    return _report(outputs, out, progress, failures)


def _stream(results: Iterable[Labelled | Failure], outputs: Outputs, progress: Progress) -> list[Failure]:
    """Write each labelled article as it comes; report failures and warnings on stderr; return the failures."""
    failures = []
    for item in results:
        if isinstance(item, Failure):
            failures.append(item)
            print(f"araclaim label: {item.where}: {item.message}", file=sys.stderr)
            continue
        outputs.write(item)
        progress.add(articles=1)
        for w in item.summary["warnings"]:
            print(f"araclaim label: warning: {item.article.source} [{item.article.id}]: {w}", file=sys.stderr)
    return failures


def _report(outputs: Outputs, out: Path, progress: Progress, failures: list[Failure]) -> int:
    c = outputs.counts
    resumed = f" ({c['resumed']} carried over by --resume)" if c["resumed"] else ""
    print(f"labelled {c['sentences'] - c['skipped']:,} sentences ({c['skipped']:,} skipped as non-sentences) in "
          f"{c['articles']:,} article{'' if c['articles'] == 1 else 's'}{resumed} -> {out} ({progress.rate():.1f} sentences/s); "
          f"summary {outputs.summary.path}", file=sys.stderr)
    if outputs.review:
        print(f"{c['review']:,} sentences below {outputs.review_below} -> {outputs.review.path}", file=sys.stderr)
    if not failures:
        return 0
    print(f"araclaim label: {len(failures)} input(s) could not be read; the rest were labelled:", file=sys.stderr)
    for f in failures:
        print(f"  {f.where}: {f.message}", file=sys.stderr)
    return 1
