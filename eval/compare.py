"""`araclaim compare`: the runs of one experiment side by side, best first, from the UI's store."""
from __future__ import annotations

import csv
import io

from araclaim.eval.report import table
from araclaim.train import tracking

# (header, MLflow column) in display order; missing columns print as "-". Metric names: tracking.metric_key.
COLUMNS = [
    ("run", "tags.mlflow.runName"),
    ("config", "tags.config_name"),
    ("family", "tags.model_family"),
    ("context", "params.context"),
    ("select_f1", f"metrics.{tracking.metric_key('select', 'macro_f1')}"),
    ("test_f1", f"metrics.{tracking.metric_key('test', 'macro_f1')}"),
    ("test_ci_low", f"metrics.{tracking.metric_key('test', 'macro_f1_ci_low')}"),
    ("test_ci_high", f"metrics.{tracking.metric_key('test', 'macro_f1_ci_high')}"),
    ("test_ece", f"metrics.{tracking.metric_key('test', 'ece')}"),
    ("gold_f1", f"metrics.{tracking.metric_key('gold_article', 'macro_f1')}"),
    ("gold_ci_low", f"metrics.{tracking.metric_key('gold_article', 'macro_f1_ci_low')}"),
    ("gold_ci_high", f"metrics.{tracking.metric_key('gold_article', 'macro_f1_ci_high')}"),
    ("train_s", "metrics.cost/train_seconds"),
    ("run_id", "run_id"),
]
# Ranked by the selection split only: test and gold are shown beside it, never used to order or choose.
SORT_BY = [f"metrics.{tracking.metric_key('select', 'macro_f1')}"]


def _fmt(value, header: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if isinstance(value, float):  # scores to 3 decimals; seconds (`*_s`) and large values whole
        return f"{value:.0f}" if header.endswith("_s") or value >= 100 else f"{value:.3f}"
    return str(value)


def compare_rows(experiment: str, tracking_uri: str | None = None) -> list[list[str]]:
    """Finished runs as display rows, best first."""
    frame = tracking.search_runs(experiment, tracking_uri)
    if frame.empty:
        return []
    if "status" in frame:
        frame = frame[frame["status"] == "FINISHED"]
    keys = [k for k in SORT_BY if k in frame]
    if keys:
        frame = frame.sort_values(keys, ascending=False, na_position="last")
    return [[_fmt(row.get(col), header) for header, col in COLUMNS] for _, row in frame.iterrows()]


def compare_table(experiment: str, as_csv: bool = False, tracking_uri: str | None = None) -> str:
    """The comparison as an aligned table or CSV text."""
    rows = compare_rows(experiment, tracking_uri)
    header = [h for h, _ in COLUMNS]
    if as_csv:
        buf = io.StringIO()
        csv.writer(buf).writerows([header, *rows])
        return buf.getvalue().rstrip("\n")
    if not rows:
        return f"no finished runs in experiment {experiment!r} (train one: araclaim train --config configs/baseline.yaml)"
    return table(header, rows)
