"""Figures logged with runs and written into reports."""
from __future__ import annotations

from collections.abc import Sequence

from araclaim.train.labels import LABELS


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


def reliability_figure(confidence: Sequence[float], correct: Sequence[bool], title: str, n_bins: int = 10):
    """A reliability diagram: accuracy against mean confidence per bin (bar width = bin), with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from araclaim.train.metrics import reliability_bins

    bins = reliability_bins(confidence, correct, n_bins)
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.bar([b["low"] for b in bins], [b["accuracy"] for b in bins], width=1 / n_bins, align="edge",
           edgecolor="black", alpha=0.7, label="accuracy")
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o", color="darkred", label="mean confidence")
    for b in bins:
        ax.text(b["low"] + 0.5 / n_bins, min(b["accuracy"] + 0.02, 0.97), str(b["count"]), ha="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (probability of the predicted class)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
