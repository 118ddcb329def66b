"""Figures logged with runs and written into reports."""
from __future__ import annotations

from collections.abc import Sequence

from train.labels import LABELS


def confusion_figure(table: Sequence[Sequence[int]], title: str, labels: Sequence[str] = LABELS):
    """A matplotlib Figure of a confusion matrix (rows gold, columns predicted), counts annotated."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers or CI
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    ax.imshow(table, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    peak = max(max(row) for row in table) or 1
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center",
                    color="white" if count > peak / 2 else "black")
    fig.tight_layout()
    return fig
