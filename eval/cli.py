"""The `araclaim` command: thin subcommands over train/ and eval/ functions.

User mistakes (bad data, bad config, missing model) print one clear message to stderr and exit 2;
nothing else is caught, so real bugs keep their traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import traceback
import warnings
from pathlib import Path

from araclaim.train.errors import AraclaimError

EPILOG = "Each subcommand has --help. Runs go to $MLFLOW_TRACKING_URI or the repo's mlruns/ (see `araclaim ui`)."


def cmd_train(args) -> int:
    from araclaim.train.config import load_config
    from araclaim.train.pipeline import train

    cfg = load_config(args.config, args.set or [])
    result = train(cfg, resume=args.resume)
    for name, s in result.scores.items():
        ci = f" (95% CI {s['macro_f1_ci_low']:.3f}-{s['macro_f1_ci_high']:.3f})" if "macro_f1_ci_low" in s else ""
        print(f"{name:>16}: macro_f1 {s['macro_f1']:.3f}{ci}  accuracy {s['accuracy']:.3f}  n={s['n']}",
              file=sys.stderr)
    print(f"model saved in {result.model_dir}; logged as {result.model_uri}", file=sys.stderr)
    print(result.run_id)  # stdout carries only the run id, for scripts: RUN=$(araclaim train ...)
    return 0


def cmd_eval(args) -> int:
    from araclaim.eval import evaluate
    from araclaim.train.model_store import load_classifier

    if args.segmentation:
        from araclaim.eval.segment_score import segmentation_report

        for gold in args.gold or [evaluate.DEFAULT_GOLD]:
            print(segmentation_report(gold))
        return 0
    if not args.model:
        raise AraclaimError("--model is required (a run id, runs:/ or models:/ URI, or a model directory)")

    golds = evaluate.load_gold_files(args.gold or [evaluate.DEFAULT_GOLD])
    clf, uri, run_id = load_classifier(args.model)
    results = evaluate.score(clf, args.name or args.model, golds, seed=args.seed)
    files = evaluate.publish(results, args.name or args.model, Path(args.out), run_id)
    if args.errors_out:
        n = evaluate.write_errors(Path(args.errors_out), results)
        print(f"wrote {n} misclassified sentences to {args.errors_out}", file=sys.stderr)
    if args.json:
        print(json.dumps(evaluate.as_json(results), ensure_ascii=False, indent=2))
    else:
        from araclaim.eval.report import terminal

        for res in results:
            print(terminal(res.name, res.model, res.references) + "\n")
    where = f" and logged to run {run_id}" if run_id else ""
    print(f"report written to {args.out}/ ({len(files)} files){where}", file=sys.stderr)
    return 0


def cmd_label(args) -> int:
    from araclaim.eval.label_cli import run_label

    if args.html:
        html = Path(args.html)
        if html.is_dir() or html.resolve() == Path(args.output).resolve() or html.suffix.lower() != ".html":
            raise AraclaimError(f"--html {html}: give a new .html file name, e.g. --html outputs/labelled.html")
    code = run_label(args)
    if args.html:  # the page shows what was labelled, also when some inputs could not be read (exit 1)
        from araclaim.eval.view import read_labelled, write_page

        write_page(read_labelled(args.output), args.html, title=Path(args.output).name)
        print(f"HTML view -> {args.html}", file=sys.stderr)
    return code


def cmd_view(args) -> int:
    from araclaim.eval.view import read_labelled, write_page

    if args.input != "-" and not Path(args.input).is_file():
        raise AraclaimError(f"no such file: {args.input} (give the .jsonl or .csv written by araclaim label)")
    out = args.output or ("-" if args.input == "-" else str(Path(args.input).with_suffix(".html")))
    if out != "-" and Path(out).resolve() == Path(args.input).resolve():
        raise AraclaimError(f"-o {out} is the input; give another file name")
    records = read_labelled(args.input)
    write_page(records, out, title="araclaim" if args.input == "-" else Path(args.input).name)
    if out != "-":
        articles = len({(r.get("source"), r.get("article")) for r in records})
        print(f"{len(records)} sentences of {articles} article(s) -> {out}", file=sys.stderr)
    return 0


def cmd_compare(args) -> int:
    from araclaim.eval.compare import compare_table

    print(compare_table(args.experiment, args.csv))
    return 0


def cmd_ui(args) -> int:
    from araclaim.eval.ui import run_ui

    return run_ui(args.port, args.experiment, args.verbose)


def cmd_data_check(args) -> int:
    from araclaim.train.datacheck import check_paths
    from araclaim.train.paths import project_path

    problems = check_paths(args.paths or [str(project_path("data"))])
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(problems)} problem(s)" if problems else "data OK", file=sys.stderr)
    return 1 if problems else 0


def cmd_data_stats(args) -> int:
    from araclaim.train.datacheck import stats_report
    from araclaim.train.paths import project_path

    print(stats_report(args.paths or [str(project_path("data"))]))
    return 0


def cmd_data_merge_review(args) -> int:
    from araclaim.eval.review import run_merge_review

    return run_merge_review(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="araclaim", description=__doc__.splitlines()[0], epilog=EPILOG)
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO) to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model from a config and log one MLflow run")
    t.add_argument("--config", required=True, help="YAML config, e.g. configs/baseline.yaml")
    t.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one config value, e.g. --set transformer.epochs=2 (repeatable)")
    t.add_argument("--resume", action="store_true", help="continue the last interrupted run of this config")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="score a model on gold files")
    e.add_argument("--model", help="model directory, MLflow run id, runs:/ or models:/ URI")
    e.add_argument("--segmentation", action="store_true",
                   help="score the sentence segmenter against the gold files' hand segmentation (no model)")
    e.add_argument("--gold", action="append", help="gold JSONL (repeatable; default data/gold/article.jsonl)")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    e.add_argument("--out", default="outputs/eval", help="report directory (default outputs/eval)")
    e.add_argument("--errors-out", help="write misclassified sentences as training-format JSONL")
    e.add_argument("--name", help="model name shown in reports (default: the --model value)")
    e.add_argument("--seed", type=int, default=13,
                   help="bootstrap seed (default 13, configs/base.yaml's seed, so CIs match the training run's)")
    e.set_defaults(func=cmd_eval)

    from araclaim.eval.label_cli import add_label_arguments

    lab = sub.add_parser("label", help="split articles into sentences and label each")
    add_label_arguments(lab)
    lab.add_argument("--html", metavar="FILE.html",
                     help="also write a right-to-left HTML page of the labelled articles (as araclaim view)")
    lab.set_defaults(func=cmd_label)

    v = sub.add_parser("view", help="an HTML page of labelled articles, sentences coloured by class")
    v.add_argument("input", help="the .jsonl or .csv written by araclaim label, or - for JSONL on stdin")
    v.add_argument("-o", "--output", help="HTML file (default: the input with .html; stdout for - input; - for stdout)")
    v.set_defaults(func=cmd_view)

    c = sub.add_parser("compare", help="runs side by side, best first")
    c.add_argument("--experiment", default="araclaim", help="MLflow experiment (default araclaim)")
    c.add_argument("--csv", action="store_true", help="CSV instead of a table")
    c.set_defaults(func=cmd_compare)

    u = sub.add_parser("ui", help="the MLflow UI over the project's store; prints the link to the training runs")
    u.add_argument("--port", type=int, default=5000)
    u.add_argument("--experiment", default="araclaim", help="experiment the printed link opens (default araclaim)")
    u.set_defaults(func=cmd_ui)

    d = sub.add_parser("data", help="check or summarise labelled data")
    dsub = d.add_subparsers(dest="data_command", required=True)
    dc = dsub.add_parser("check", help="validate data files (default: the project's data/)")
    dc.add_argument("paths", nargs="*")
    dc.set_defaults(func=cmd_data_check)
    ds = dsub.add_parser("stats", help="counts by split, label, topic and length")
    ds.add_argument("paths", nargs="*")
    ds.set_defaults(func=cmd_data_stats)
    from araclaim.eval.review import add_merge_review_arguments

    dm = dsub.add_parser("merge-review", help="append corrected rows of a review CSV to the training data")
    add_merge_review_arguments(dm)
    dm.set_defaults(func=cmd_data_merge_review)
    return p


QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "MLFLOW_LOGGING_LEVEL": "ERROR",  # mlflow resets its logger level on import
}
# Library progress bars (weight loading, training steps, downloads) only where someone watches: a terminal.
PROGRESS_ENV = {"TQDM_DISABLE": "1", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}


@contextlib.contextmanager
def _quiet_libraries(verbose: bool):
    """Keep MLflow's and pandas' chatter (pickle notices, progress bars) out of user output for one command.

    Warning filters, environment variables and the mlflow logger's level are restored afterwards, so a script
    or a test session that calls `main()` keeps its own settings (FutureWarnings included).
    """
    if verbose:
        yield
        return
    quiet_env = QUIET_ENV if sys.stderr.isatty() else {**QUIET_ENV, **PROGRESS_ENV}
    saved_env = {key: os.environ.get(key) for key in quiet_env}
    mlflow_logger = logging.getLogger("mlflow")
    saved_level = mlflow_logger.level
    with warnings.catch_warnings():
        for key, value in quiet_env.items():
            os.environ.setdefault(key, value)
        mlflow_logger.setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module=r"mlflow\..*")
        warnings.filterwarnings("ignore", message=".*type hints to the .predict. method")
        warnings.filterwarnings("ignore", category=FutureWarning)
        try:
            yield
        finally:
            mlflow_logger.setLevel(saved_level)
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    """Run one `araclaim` command; returns its exit status (2 for a user error, printed without a traceback)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        with _quiet_libraries(args.verbose):
            return args.func(args)
    except AraclaimError as exc:
        print(f"araclaim {args.command}: error: {exc}", file=sys.stderr)
        if args.verbose and exc.__cause__ is not None:  # the underlying error, for a bug report
            traceback.print_exception(exc.__cause__, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"araclaim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
