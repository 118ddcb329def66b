"""Arabic sentence segmentation with character offsets into the source text.

Boundaries: line breaks; . ! ? ؟ … ؛ followed by space or end — except inside quotes «» “” "",
in decimals (3.5), and after known abbreviations (د. for doctor, single Latin initials such as U.S.).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

TERMINATORS = set(".!?؟…؛")
OPEN_CLOSE = {"«": "»", "“": "”"}
# Tokens that end in a full stop without ending a sentence.
ABBREVIATIONS = {"د", "م", "ص", "ج", "أ", "ق", "ه", "هـ", "Mr", "Dr", "St", "Inc", "Ltd", "vs", "No"}
_WORD_BEFORE = re.compile(r"(\w+)$")


@dataclass(frozen=True)
class Span:
    """A sentence: `text` == source[start:end]."""

    start: int
    end: int
    text: str


def _is_boundary(text: str, i: int, depth: int) -> bool:
    ch = text[i]
    if ch not in TERMINATORS or depth > 0:
        return False
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt and not nxt.isspace() and nxt not in TERMINATORS and nxt not in "»”\"')":
        return False  # 3.5, U.S.A, example.com
    if ch == ".":
        word = _WORD_BEFORE.search(text[max(0, i - 12):i])
        if word and (word.group(1) in ABBREVIATIONS or (len(word.group(1)) == 1 and word.group(1).isascii())):
            return False
    return nxt == "" or nxt.isspace()


def split_sentences(text: str) -> list[Span]:
    """Split `text` into sentence spans (whitespace trimmed, empty pieces dropped)."""
    spans, start, depth, straight_open = [], 0, 0, False
    for i, ch in enumerate(text):
        if ch in OPEN_CLOSE:
            depth += 1
        elif ch in OPEN_CLOSE.values():
            depth = max(0, depth - 1)
        elif ch == '"':
            straight_open = not straight_open
            depth += 1 if straight_open else -1
            depth = max(depth, 0)
        if ch == "\n":
            depth, straight_open = 0, False  # an unclosed quote never runs past its line
            spans.append((start, i))
            start = i + 1
        elif _is_boundary(text, i, depth):
            spans.append((start, i + 1))
            start = i + 1
    spans.append((start, len(text)))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end, text[start:end])
