"""Arabic sentence segmentation with character offsets, and detection of lines that are not sentences.

Rules (data/GUIDELINES.md §2.1), applied line by line; every span satisfies `source[start:end] == text`:

- A line break always ends a sentence (\\n, \\r\\n, \\r, U+2028/2029, ...).
- `.` `!` `?` `؟` `…` `؛` (and runs of them: `?!`, `...`) end a sentence when followed by whitespace or the end
  of the line, or, for a typo with no space, when an Arabic letter stands on both sides (`انتهى.وقال`).
- Inside a balanced quotation («» “” "" ‘’, a ”…” pair as machine translation writes it, or '…' between
  spaces) terminal marks do not end the sentence. When a terminal mark is the last thing before the closing
  quote and an independent clause follows, the sentence ends after the closing quote; a following reporting
  verb or attribution (`قال الوزير`, `بحسب البيان`) continues it instead. An unbalanced quote mark is ignored.
- A full stop does not end a sentence in a decimal or date (`3.5`, `25.10.2024`: no space after it), a URL or
  e-mail address, after an abbreviation (`د.` `أ.د.` before a name, `Dr.` `Inc.` `e.g.`, Latin initials such as
  `U.S.` or `J.`), or after a list number at the start of a sentence (`1. البند الأول`). `م.`/`هـ.` after a
  year (`عام 1990 م.`) are era marks and may end a sentence.
- A dateline opening a line (`القاهرة (رويترز) -`) becomes a span of its own.
- A stretch longer than MAX_CHARS with no sentence end is cut (at a comma, else at a space) into pieces
  marked `cut=True`, so memory and model input stay bounded.

`segment(text)` returns the spans with `skip` filled in by eval/skips.py (why a span is not a sentence);
eval/segment_score.py scores the rules against the hand segmentation of the gold article
(printed by `araclaim eval --segmentation`).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from araclaim.eval.skips import (
    AGENCIES,
    ARABIC_LETTER,
    CLOSERS,
    URL,
    skip_reason,
)
from araclaim.train.text import normalize

MAX_CHARS = 1000  # longest span handed to a model; longer unpunctuated stretches are cut

_RUN = re.compile(r"[.!?؟…؛]+")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")

# Quotation pairs, innermost first; the interior of each is protected from terminal marks.
_QUOTE_PATTERNS = (
    re.compile(r"«[^«»\n]*»"),
    re.compile(r"“[^“”\n]*”"),
    re.compile(r"„[^„“”\n]*[“”]"),
    re.compile(r"”[^“”\n]*”"),  # machine translation often uses ” for both ends
    re.compile(r"\"[^\"\n]*\""),
    re.compile(r"‘[^‘’\n]*’(?!\w)"),
    re.compile(r"(?<![\w'])'[^'\n]{1,300}'(?!\w)"),  # straight single quotes, never an apostrophe
)
_URL_TRAILING = ".,;:!?؟،؛…)»”\"'"

# Words before a full stop that make it an abbreviation point (compared after normalize(): alef forms unified).
ARABIC_TITLES = {"د", "ا", "م", "ا.د", "د.م", "ص.ب", "ت", "ج", "ق", "س"}
ERA_MARKS = {"م", "هـ", "ه", "ق.م"}  # after a year they may end the sentence
LATIN_ABBREVIATIONS = {
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Sr", "Jr", "Inc", "Ltd", "Co", "Corp", "vs", "No", "no", "Gen",
    "Col", "Lt", "Gov", "Sen", "Rep", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
    "Nov", "Dec", "approx", "e.g", "i.e", "cf", "Fig", "fig", "p", "pp", "vol", "Vol", "Mt", "Ave",
}
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")

# After `!”` / `.»`: an attribution that belongs to the quote, or a conjunction, so the sentence goes on.
_REPORTING = {normalize(w) for w in (
    "قال قالت يقول تقول قالوا أضاف أضافت يضيف تضيف مضيفا مضيفًا تابع تابعت متابعا أكد أكدت مؤكدا مؤكدًا "
    "أوضح أوضحت موضحا صرح صرحت كتب كتبت ذكر ذكرت بحسب حسب وفق وفقا وفقًا طبقا نقلا أعلن أعلنت أشار أشارت "
    "مشيرا مشيرًا أردف أردفت علق علقت ختم ختمت هتف هتفت ردد رددت يتابع تتابع أجاب أجابت"
    # conjunctions that carry the same sentence on past the quote (guideline §2.1 rule 2: «…» ثم غادر)
    " ثم حتى قبل بعد بينما فيما حيث حين عندما لكن لكنه ولكن مما قبيل إثر"
).split()}

_DATELINE_PREFIX = re.compile(
    rf"^(?:[^\W\d_]+\s+){{0,2}}[^\W\d_]{{1,30}}(?:[،,][^()\n]{{0,40}}?)?\s*\(\s*(?:{AGENCIES})[^()\n]{{0,20}}\)"
    r"\s*[-–—:]\s*")


@dataclass(frozen=True)
class Span:
    """A sentence: `text == source[start:end]`; `cut` when it was cut from an overlong stretch;
    `skip` the reason it is not a sentence (None for sentences)."""

    start: int
    end: int
    text: str
    cut: bool = False
    skip: str | None = None
    standalone: bool = False  # the only span on its line


# --------------------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------------------

def lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, line-break characters excluded."""
    out, start = [], 0
    for m in _LINE_BREAK.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def split_sentences(text: str, max_chars: int = MAX_CHARS) -> list[Span]:
    """Split `text` into sentence spans (whitespace trimmed, empty pieces dropped)."""
    spans = []
    for lo, hi in lines(text):
        line = text[lo:hi]
        pieces = [trim_span(line, s, e) for s, e in _line_pieces(line)]
        pieces = [p for p in pieces if p[0] < p[1]]
        for s, e in pieces:
            for cs, ce, cut in _cut(line, s, e, max_chars):
                spans.append(Span(lo + cs, lo + ce, line[cs:ce], cut=cut, standalone=len(pieces) == 1 and not cut))
    return spans


def _line_pieces(line: str) -> list[tuple[int, int]]:
    """Untrimmed (start, end) pieces of one line: a leading dateline, then sentences."""
    start, pieces = 0, []
    m = _DATELINE_PREFIX.match(line)
    if m and m.end() < len(line):
        pieces.append((0, m.end()))
        start = m.end()
    for end in boundaries(line, start):
        pieces.append((start, end))
        start = end
    pieces.append((start, len(line)))
    return pieces


def boundaries(line: str, start: int = 0) -> list[int]:
    """Offsets in `line` (one line, no line breaks) where a sentence ends, after `start`."""
    scan = _Scan(line)
    out, seg_start = [], start
    for m in _RUN.finditer(line, start):
        end = _run_end(scan, m.start(), m.end(), seg_start)
        if end is not None and end > seg_start and (not out or end > out[-1]):
            out.append(end)
            seg_start = end
    return [e for e in out if e < len(line)]


class _Scan:
    """One line's quotation pairs and URL spans, looked up in O(log n) as terminal runs are visited in order."""

    def __init__(self, line: str):
        self.line = line
        self.pairs = sorted(quote_pairs(line))  # laminar: nested or disjoint
        self.openers = {o for o, _ in self.pairs}
        self.urls = [(m.start(), m.end()) for m in URL.finditer(line)]
        self._url_starts = [u for u, _ in self.urls]
        self._next, self._open = 0, []

    def url_at(self, a: int) -> tuple[int, int] | None:
        """The URL span containing position a, if any."""
        k = bisect.bisect_right(self._url_starts, a) - 1
        return self.urls[k] if k >= 0 and a < self.urls[k][1] else None

    def enclosing(self, a: int, b: int) -> tuple[int, int] | None:
        """Innermost pair with open < a and b <= close; calls must come with non-decreasing a and b."""
        while self._next < len(self.pairs) and self.pairs[self._next][0] < a:
            pair = self.pairs[self._next]
            while self._open and self._open[-1][1] < pair[0]:
                self._open.pop()
            self._open.append(pair)
            self._next += 1
        while self._open and self._open[-1][1] < b:
            self._open.pop()
        return self._open[-1] if self._open else None


def quote_pairs(line: str) -> list[tuple[int, int]]:
    """(open, close) positions of balanced quotation marks in one line, inner pairs included."""
    masked, pairs = line, []
    for _ in range(4):  # each pass finds the innermost pairs left, then masks them
        found = _disjoint([(m.start(), m.end() - 1) for pat in _QUOTE_PATTERNS for m in pat.finditer(masked)])
        if not found:
            break
        pairs += found
        chars = list(masked)
        for o, c in found:
            chars[o:c + 1] = "_" * (c - o + 1)
        masked = "".join(chars)
    return pairs


def _disjoint(found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep the earliest of overlapping candidate pairs (patterns may claim the same marks)."""
    out, last = [], -1
    for o, c in sorted(found):
        if o > last:
            out.append((o, c))
            last = c
    return out


def _run_end(scan: _Scan, a: int, b: int, seg_start: int) -> int | None:
    """Where the sentence ends for the terminal run line[a:b], or None if it does not end there."""
    line = scan.line
    url = scan.url_at(a)
    if url and line[a:url[1]].strip(_URL_TRAILING):
        return None  # inside a URL; only its trailing punctuation may end a sentence
    pair = scan.enclosing(a, b)
    if pair:
        if b != pair[1]:
            return None
        end = _skip_closers(line, pair[1] + 1, scan.openers)
        if end < len(line) and not line[end].isspace():
            return None
        return None if _attribution_follows(line, end) else end
    end = _skip_closers(line, b, scan.openers)
    if end == len(line) or line[end].isspace():
        return None if _not_a_stop(line, a, b, seg_start) else end
    if end == b and _missing_space(line, a, b):
        return b  # انتهى.وقال
    return None


def _missing_space(line: str, a: int, b: int) -> bool:
    """A terminal mark glued between two Arabic words of 2+ letters (not `أ.د.`)."""
    before = re.search(r"[^\W\d_]+$", line[max(0, a - 20):a])
    after = re.match(r"[^\W\d_]+", line[b:b + 20])
    return bool(before and after and len(before.group(0)) > 1 and len(after.group(0)) > 1
                and ARABIC_LETTER.match(before.group(0)[-1]) and ARABIC_LETTER.match(after.group(0)[0]))


def _skip_closers(line: str, i: int, openers: set[int]) -> int:
    """Skip closing brackets and quote marks that are not the opening mark of a quotation."""
    while i < len(line) and line[i] in CLOSERS and i not in openers:
        i += 1
    return i


def _attribution_follows(line: str, i: int) -> bool:
    """True when the first word after position i is a reporting verb or attribution (`قال`, `بحسب`)."""
    m = re.match(r"\s*([^\W\d_]+)", line[i:i + 40])
    if not m:
        return False
    word = normalize(m.group(1))
    return word in _REPORTING or (word[:1] in "وف" and word[1:] in _REPORTING)


def _not_a_stop(line: str, a: int, b: int, seg_start: int) -> bool:
    """A single full stop that is an abbreviation point or a list number, not a sentence end."""
    if line[a:b] != ".":
        return False
    m = re.search(r"[^\s(\[«“\"]+$", line[max(seg_start, a - 40):a])
    if not m:
        return False
    token = m.group(0)
    if token.isdigit():
        return line[seg_start:a - len(token)].strip() == ""  # "1." opening a sentence is a list number
    if token in LATIN_ABBREVIATIONS or _INITIALS.match(token):
        return True
    word = normalize(token)
    if word in ERA_MARKS and re.search(r"\d\s*$", line[max(seg_start, a - 12):a - len(token)]):
        return False  # عام 1990 م. : an era mark may end the sentence
    return word in ARABIC_TITLES or word in ERA_MARKS


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cut(line: str, start: int, end: int, max_chars: int) -> list[tuple[int, int, bool]]:
    """Cut an overlong piece at a comma (else a space, else anywhere) into pieces of at most max_chars."""
    if end - start <= max_chars:
        return [(start, end, False)]
    out = []
    while end - start > max_chars:
        window = line[start + max_chars // 2:start + max_chars]
        at = max(window.rfind("،"), window.rfind(","), window.rfind("؛"), window.rfind(";"))
        at = at + 1 if at >= 0 else window.rfind(" ")
        stop = start + max_chars // 2 + at if at > 0 else start + max_chars
        s, e = trim_span(line, start, stop)
        if e > s:
            out.append((s, e, True))
        start = stop
    s, e = trim_span(line, start, end)
    if e > s:
        out.append((s, e, True))
    return out


def segment(text: str, max_chars: int = MAX_CHARS) -> list[Span]:
    """Sentence spans of `text` with `skip` set for the ones that are not sentences."""
    return [replace(s, skip=skip_reason(s.text, s.standalone)) for s in split_sentences(text, max_chars)]
