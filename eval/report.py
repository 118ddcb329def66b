"""Render evaluations: a terminal table, a JSON object, a Markdown report with images."""
from __future__ import annotations

import json
from pathlib import Path

from araclaim.eval.harness import Evaluation
from araclaim.train import atomic
from araclaim.train.labels import LABELS
from araclaim.train.plots import confusion_figure, reliability_figure


def _ci(scores: dict, key: str) -> str:
    return f"[{scores[key + '_ci_low']:.3f}, {scores[key + '_ci_high']:.3f}]"


def summary_rows(evals: list[Evaluation]) -> list[list[str]]:
    """One row per labeller: name, n, macro-F1 with CI, accuracy with CI, lenient scores."""
    rows = []
    for ev in evals:
        s = ev.scores
        rows.append([ev.labeller, str(s["n"]), f"{s['macro_f1']:.3f}", _ci(s, "macro_f1"),
                     f"{s['accuracy']:.3f}", _ci(s, "accuracy"), f"{s['lenient_macro_f1']:.3f}",
                     f"{s['lenient_accuracy']:.3f}", f"{s['ece']:.3f}"])
    return rows


SUMMARY_HEADER = ["labeller", "n", "macro_f1", "95% CI", "accuracy", "95% CI", "lenient_f1", "lenient_acc", "ece"]


def review_rows(ev: Evaluation) -> list[list[str]]:
    """Per --review-below threshold: share of sentences queued for review and share of errors caught."""
    return [[f"{r['threshold']:.1f}", f"{r['queued']:.1%}", f"{r['errors_caught']:.1%}", str(r["errors"])]
            for r in ev.scores["review"]]


REVIEW_HEADER = ["review_below", "queued", "errors_caught", "errors"]


def table(header: list[str], rows: list[list[str]]) -> str:
    """Plain aligned text table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)])


def per_class_rows(ev: Evaluation) -> list[list[str]]:
    return [[label, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"])]
            for label, s in ev.scores["per_class"].items()]


def terminal(gold_name: str, model_eval: Evaluation, refs: list[Evaluation], show_errors: int = 15) -> str:
    """Human-readable report for one gold set."""
    s = model_eval.scores
    parts = [f"== {gold_name}: {s['n']} sentences scored, {s['n_skipped']} skipped ==",
             table(SUMMARY_HEADER, summary_rows([model_eval, *refs])), "",
             table(["class", "precision", "recall", "f1", "support"], per_class_rows(model_eval)), "",
             "confusion (rows gold, columns predicted: " + ", ".join(LABELS) + ")"]
    parts += ["  " + " ".join(f"{c:>4}" for c in row) + f"  {label}" for label, row in zip(LABELS, s["confusion"])]
    parts += ["", f"calibration: ECE {s['ece']:.3f} (10 bins); what --review-below would catch:",
              table(REVIEW_HEADER, review_rows(model_eval))]
    errors = model_eval.errors()
    parts.append(f"\n{len(errors)} errors (most confident first{', first ' + str(show_errors) if len(errors) > show_errors else ''}):")
    for e in errors[:show_errors]:
        alt = f"/{e['alt_label']}" if e["alt_label"] else ""
        parts.append(f"  [{e['id']} line {e['line']}] gold {e['gold']}{alt} -> {e['predicted']} "
                     f"({e['confidence']:.2f}): {e['text'][:90]}")
    return "\n".join(parts)


def as_json(model_eval: Evaluation, refs: list[Evaluation]) -> dict:
    """The machine-readable report of one gold set."""
    out = {k: v for k, v in model_eval.scores.items()}
    out["labels"] = list(LABELS)
    out["errors"] = model_eval.errors()
    out["skipped"] = model_eval.skipped()
    out["reference"] = {ev.labeller: {k: ev.scores[k] for k in
                        ("macro_f1", "macro_f1_ci_low", "macro_f1_ci_high", "accuracy",
                         "accuracy_ci_low", "accuracy_ci_high", "lenient_macro_f1", "lenient_accuracy", "ece")}
                        for ev in refs}
    return out


def markdown(gold_name: str, model_name: str, model_eval: Evaluation, refs: list[Evaluation], image: str) -> str:
    """A Markdown report: summary table, per-class table, confusion image, every error, skipped rows."""
    def md(header, rows):
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                          *("| " + " | ".join(r) + " |" for r in rows)])

    errors = model_eval.errors()
    lines = [f"# {gold_name}: {model_name}", "",
             md(SUMMARY_HEADER, summary_rows([model_eval, *refs])), "",
             md(["class", "precision", "recall", "f1", "support"], per_class_rows(model_eval)), "",
             f"![confusion matrix]({image})", "",
             f"Calibration: ECE {model_eval.scores['ece']:.3f} (10 bins).", "",
             f"![reliability diagram]({image.replace('_confusion.png', '_reliability.png')})", "",
             md(REVIEW_HEADER, review_rows(model_eval)), "",
             f"## Errors ({len(errors)}, most confident first)", "",
             md(["id", "line", "gold", "alt", "predicted", "conf", "text"],
                [[str(e["id"]), str(e["line"]), e["gold"], e["alt_label"] or "", e["predicted"],
                  f"{e['confidence']:.2f}", e["text"].replace("|", "\\|")] for e in errors]), "",
             f"## Skipped rows ({len(model_eval.skipped())})", ""]
    lines += [f"- [{r['id']} line {r['line']}] {r['text']} — {r['reason']}" for r in model_eval.skipped()]
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, gold_name: str, model_name: str, model_eval: Evaluation,
                 refs: list[Evaluation]) -> list[Path]:
    """Write `<gold>.md`, `<gold>.json`, `<gold>_confusion.png` and `<gold>_reliability.png` into out_dir, each
    atomically (a parallel or killed eval never leaves a torn report)."""
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    def save_png(fig, path: Path) -> Path:
        with atomic.open_atomic(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=110)
        plt.close(fig)
        return path

    image = save_png(confusion_figure(model_eval.scores["confusion"], f"{gold_name} (n={model_eval.scores['n']})"),
                     out_dir / f"{gold_name}_confusion.png")
    correct = [p == e.label for p, e in zip(model_eval.pred, model_eval.data.examples)]
    reliability = save_png(reliability_figure(model_eval.confidence, correct,
                                              f"{gold_name}: ECE {model_eval.scores['ece']:.3f}"),
                           out_dir / f"{gold_name}_reliability.png")
    md_path = atomic.write_text(out_dir / f"{gold_name}.md", markdown(gold_name, model_name, model_eval, refs, image.name))
    js_path = atomic.write_text(out_dir / f"{gold_name}.json",
                                json.dumps(as_json(model_eval, refs), ensure_ascii=False, indent=2))
    return [md_path, js_path, image, reliability]
