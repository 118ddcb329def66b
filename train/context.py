"""Article context: which earlier sentences of the same article a sentence is read with.

A sentence such as "وأضاف أن الصور مفبركة" or "لكن المقطع في الحقيقة يعود إلى مباراة قديمة" is labelled by the
guide (§10) with the article read up to it, so models get the same view: the previous sentence(s) of the same
article, in file order. Rows are grouped by their `article` value; a row with no article (a standalone written
sentence, `--presplit` input, a single sentence) has no context. Pure functions, no I/O.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence

MODES = ("none", "previous", "window")


def window_size(mode: str, size: int) -> int:
    """How many previous sentences a mode reads: none 0, previous 1, window `size`."""
    if mode not in MODES:
        raise ValueError(f"context mode must be one of {', '.join(MODES)}, not {mode!r}")
    return {"none": 0, "previous": 1, "window": size}[mode]


def previous_indices(groups: Sequence[Hashable | None], k: int) -> list[list[int]]:
    """Per row, the indices of up to `k` earlier rows of the same group, oldest first (file order).

    >>> previous_indices(["a", "a", "b", "a", None], 2)
    [[], [0], [], [0, 1], []]
    """
    seen: dict[Hashable, list[int]] = {}
    out: list[list[int]] = []
    for i, group in enumerate(groups):
        if group is None or k <= 0:
            out.append([])
            continue
        earlier = seen.setdefault(group, [])
        out.append(earlier[-k:])
        earlier.append(i)
    return out


def contexts(groups: Sequence[Hashable | None], texts: Sequence[str], k: int) -> list[list[str]]:
    """Per row, the texts of up to `k` earlier rows of the same group, oldest first."""
    if len(groups) != len(texts):
        raise ValueError(f"{len(groups)} groups for {len(texts)} texts")
    return [[texts[j] for j in idx] for idx in previous_indices(groups, k)]


def trim(rows: Sequence[Sequence[str]] | None, n: int, count: int) -> list[list[str]]:
    """Each context cut to its last `n` sentences; `count` empty contexts when `rows` is None."""
    if rows is None:
        return [[] for _ in range(count)]
    if len(rows) != count:
        raise ValueError(f"{len(rows)} contexts for {count} texts")
    return [list(r)[-n:] if n > 0 else [] for r in rows]
