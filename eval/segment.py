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

`skip_reason(text, standalone)` says why a span is not a sentence (see its docstring); `segment(text)` returns
the spans with that reason filled in. `segmentation_report(gold)` scores the rules against the hand
segmentation of the gold article (printed by `araclaim eval --segmentation`).
"""
from __future__ import annotations

import bisect
import functools
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from araclaim.train.errors import DataError
from araclaim.train.text import normalize

MAX_CHARS = 1000  # longest span handed to a model; longer unpunctuated stretches are cut

TERMINALS = ".!?؟…؛"
_RUN = re.compile(r"[.!?؟…؛]+")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_CLOSERS = ")]}»”’\"'"
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u06fa-\u06fc\ufb50-\ufdff\ufe70-\ufefc]")
_LETTER = re.compile(r"[^\W\d_]")

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
# Matches start only where a token starts (lookbehinds), so a long dotted string is scanned once, not per dot.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>«»“”\"]+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
                  r"(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|int|info|io|co|me|tv|news|ly)\b"
                  r"(?:/[^\s]*)?", re.IGNORECASE)
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

AGENCIES = (r"رويترز|أ\s?ف\s?ب|ا\s?ف\s?ب|أ\.ف\.ب|فرانس\s?برس|د\s?ب\s?أ|أ\s?ب|واس|وام|قنا|كونا|بترا|سانا|"
            r"الأناضول|شينخوا|سبوتنيك|AFP|Reuters|AP|dpa|UPI")
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
        pieces = [_trim(line, s, e) for s, e in _line_pieces(line)]
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
        self.urls = [(m.start(), m.end()) for m in _URL.finditer(line)]
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
                and _ARABIC_LETTER.match(before.group(0)[-1]) and _ARABIC_LETTER.match(after.group(0)[0]))


def _skip_closers(line: str, i: int, openers: set[int]) -> int:
    """Skip closing brackets and quote marks that are not the opening mark of a quotation."""
    while i < len(line) and line[i] in _CLOSERS and i not in openers:
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


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
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
        s, e = _trim(line, start, stop)
        if e > s:
            out.append((s, e, True))
        start = stop
    s, e = _trim(line, start, end)
    if e > s:
        out.append((s, e, True))
    return out


# --------------------------------------------------------------------------------------------------
# Lines that are not sentences
# --------------------------------------------------------------------------------------------------

_HANDLE = re.compile(r"(?<![\w@])[@#][\w.]+")
_BYLINE = re.compile(r"^\s*(?:(?:بقلم|كتب|كتبت|كتبه|إعداد|اعداد|تحرير|تصوير|ترجمة|مراسل\w*|المحرر|By|Photo|Credit)"
                     r"\s*[:：]|(?:بقلم|By)\s)", re.IGNORECASE)
_SIGNATURE = re.compile(r"^\s*[-–—]\s*[^()]{1,60}\(\s*@\w+\s*\)")  # – name (@handle) date
_MONTHS = ("يناير|فبراير|مارس|أبريل|ابريل|إبريل|مايو|يونيو|يوليو|أغسطس|اغسطس|سبتمبر|أكتوبر|اكتوبر|نوفمبر|ديسمبر|"
           "كانون|شباط|آذار|اذار|نيسان|أيار|ايار|حزيران|تموز|آب|اب|أيلول|ايلول|تشرين|"
           "January|February|March|April|May|June|July|August|September|October|November|December")
_DATE = re.compile(rf"\d{{1,2}}\s+(?:{_MONTHS})|(?:{_MONTHS})\s*/\s*(?:{_MONTHS})|"
                   r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|"
                   r"\b(?:الأحد|الاثنين|الإثنين|الثلاثاء|الأربعاء|الخميس|الجمعة|السبت)\b", re.IGNORECASE)
_AGENCY = re.compile(rf"\(\s*(?:{AGENCIES})[^()]{{0,20}}\)")

# Words that show a clause (a verb, a copula, a predicate) — their absence makes a short line a title/fragment.
_CLAUSE_WORDS = {normalize(w) for w in (
    # particles, copulas, auxiliaries and predicate markers
    "إن إنه إنها أن أنه أنها لن لم لا ليس ليست ليسوا قد سوف تم يتم سيتم كان كانت كانوا يكون تكون "
    "هو هي هم هناك هنا يجب ينبغي بات باتت صار أصبح أصبحت ظل ظلت لعل ربما "
    "للغاية جدا جداً فيها فيه فيهم عليها عليه منها منه لها له بها به مشكوك "
    # common past-tense news verbs (feminine and plural forms are generated below)
    "قال أعلن أكد نفى نفت كشف أفاد ذكر أشار أضاف دعا طالب رفض وافق قرر بدأ انتهى ارتفع انخفض بلغ وصل "
    "افتتح أطلق استضاف فاز خسر توفي قتل أصيب اعتقل وقع شهد سجل عاد غادر زار التقى استقبل بحث ناقش أقر "
    "حذر اتهم طالب أدان رحب تراجع تقدم انطلق اختتم عقد أصدر نشر حقق تجاوز أوقف منع سمح هاجم اعتبر "
    "وصف أوضح صرح ادعى زعم أنكر كذب"
).split()}
_CLAUSE_WORDS |= {w + s for w in list(_CLAUSE_WORDS) for s in ("ت", "وا") if len(w) >= 3}
_NOT_VERBS = {normalize(w) for w in "يوم يوما يونيو يوليو يناير يد يدا يمين يسار تونس تركيا ترامب تسلا تويتر تيك "
              "تموز تشرين".split()}
# Words after which an indefinite word is not a predicate (prepositions, conjunctions).
_PREPOSITIONS = {normalize(w) for w in "في من إلى على عن مع منذ بين حول ضد عبر لدى نحو بعد قبل خلال أمام وراء "
                 "تحت فوق دون غير بلا عند حتى أو ثم".split()}
_QUANTITY = re.compile(r"(?:إلى|الى|بنسبة)\s*\d|\d\s*[%٪]")  # ارتفاع … إلى 64%
_HEADLINE_COLON = re.compile(r"^\s*[^\s:]+(?:\s+[^\s:]+){0,2}\s*:\s*\S")  # الوزير: الموازنة ستقر


def skip_reason(text: str, standalone: bool = False) -> str | None:
    """Why `text` is not a sentence, or None when it is one. Heuristics, checked in this order:

    - `url`: nothing but links (and punctuation); `handle`: nothing but @handles, #hashtags and links;
    - `byline`: a credit line (`بقلم: …`, `تحرير: …`, `By …`) or a tweet signature `– name (@handle) date`;
    - `dateline`: at most 8 words, and a news agency in brackets without a verb, or a date without a clause;
    - `no_arabic`: no Arabic letter at all (Latin or other script: flagged, not forced into a class);
    - `fragment`: no letters at all, a single word, or at most 3 words without a clause word in a line
      that holds other sentences too (what a stray full stop leaves: `وأوروبا وروسيا.`);
    - `title`: a line of its own, at most 8 words, no terminal punctuation, no @handle or link, and no clause
      word — a bare noun phrase such as `علاقات بوتين بوسائل التواصل الاجتماعي`.
    A line has a clause when it holds a particle, copula or predicate marker (`إن`, `لم`, `ليس`, `للغاية`,
    `فيها`, ...), one of ~80 common news verbs in its past forms, an imperfect verb (a word starting with ي
    after an optional و/ف/ل/س, or a 4-5 letter ت-initial word not shaped like a noun), a nominal predicate
    (a definite word followed by an indefinite one, `مفاوضات الطرفين متعثرة`; a definite first word followed
    by a preposition, `الماء قبل كل شيء`; a quantity, `إلى 64%`), or a `name: …` headline colon.
    So a headline that predicates something is kept (`البرلمان يقر الموازنة`,
    `محادثات ماسك مع بوتين سرية للغاية`); errors lean towards keeping a line, which only costs a forced label.
    """
    bare = _HANDLE.sub(" ", _URL.sub(" ", text))
    words = _words(bare)
    if not _LETTER.search(text):
        return "fragment"
    if not words:
        return "handle" if _HANDLE.search(text) else "url"
    n, verbal = len(words), any(_verbal(w) for w in words)
    clause = verbal or _nominal_predicate(words) or bool(_HEADLINE_COLON.match(text) or _QUANTITY.search(text))
    if _BYLINE.match(text) and n <= 8 or _SIGNATURE.match(text):
        return "byline"
    if n <= 8 and (_AGENCY.search(text) and not verbal or _DATE.search(text) and not clause):
        return "dateline"
    if not _ARABIC_LETTER.search(bare):
        return "no_arabic"
    if n == 1 or (n <= 3 and not clause and not standalone):
        return "fragment"
    if standalone and n <= 8 and not clause and text.rstrip(_CLOSERS)[-1:] not in TERMINALS \
            and not _HANDLE.search(text) and not _URL.search(text):
        return "title"
    return None


def _words(text: str) -> list[str]:
    return [w for w in (_normal_word(t) for t in text.split()) if _LETTER.search(w)]


@functools.lru_cache(maxsize=100_000)
def _normal_word(token: str) -> str:
    """A token normalised and stripped of punctuation; memoised because news words recur (a bounded cache)."""
    return normalize(token).strip(".,،:;؛!?؟…()[]«»\"'“”‘’-–—")


def _nominal_predicate(words: list[str]) -> bool:
    """`مفاوضات الطرفين متعثرة`: a definite (ال) word followed by an indefinite content word; `الماء قبل كل
    شيء`: a definite first word followed by a preposition; `ارتفاع … إلى 64%`: a quantity."""
    if len(words) >= 2 and words[0].startswith("ال") and words[1] in _PREPOSITIONS:
        return True
    for prev, w in zip(words, words[1:]):
        if prev.startswith("ال") and not w.startswith(("ال", "و", "ب", "ل", "ك", "ف")) \
                and w not in _PREPOSITIONS and not any(c.isdigit() for c in w) and _ARABIC_LETTER.match(w):
            return True
    return False


def _verbal(w: str) -> bool:
    """A clause word (with a proclitic و ف ل ب or وقد/ولم allowed), or an imperfect verb (ي…, سي…)."""
    stripped = (w, w[1:] if w[:1] in "وفلب" else w, w[2:] if w[:2] in ("وق", "فق", "ول", "فل") else w)
    if any(c in _CLAUSE_WORDS for c in stripped):
        return True
    stem = w[1:] if w[:1] in "وفلس" and len(w) > 4 else w
    if stem[:1] == "ي" and len(stem) >= 3 and stem not in _NOT_VERBS:
        return True
    stem = w[1:] if w[:1] in "وف" and len(w) > 4 else w
    # ت-initial imperfect (تعلم، وتنسى), leaving out the noun shapes تفعيل, …ة, …ات, …ية
    return (stem[:1] == "ت" and 4 <= len(stem) <= 5 and stem[3:4] != "ي"
            and not stem.endswith(("ة", "ات", "ية", "ه")) and stem not in _NOT_VERBS)


def segment(text: str, max_chars: int = MAX_CHARS) -> list[Span]:
    """Sentence spans of `text` with `skip` set for the ones that are not sentences."""
    return [replace(s, skip=skip_reason(s.text, s.standalone)) for s in split_sentences(text, max_chars)]


# --------------------------------------------------------------------------------------------------
# Scoring against the hand segmentation of the gold article
# --------------------------------------------------------------------------------------------------

def gold_spans(gold_path: str | Path, article_path: str | Path) -> list[tuple[int, int, str, str]]:
    """(start, end, label, text) of every gold record, located in the article (records in line order)."""
    for path, what in ((gold_path, "gold file"), (article_path, "article text the gold file segments")):
        if not Path(path).is_file():
            raise DataError(f"{path}: no such file (the {what}; the article of data/gold/X.jsonl is data/X.txt)")
    text = Path(article_path).read_text(encoding="utf-8-sig")
    bounds = lines(text)
    cursor: dict[int, int] = {}
    out = []
    for lineno, raw in enumerate(Path(gold_path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not raw.strip():
            continue
        line_no, snippet, label = _gold_record(raw, f"{gold_path}:{lineno}")
        if not 1 <= line_no <= len(bounds):
            raise DataError(f"{gold_path}:{lineno}: line {line_no} is not in {article_path}")
        lo, hi = bounds[line_no - 1]
        at = text.find(snippet, cursor.get(line_no, lo), hi)
        if at < 0:
            raise DataError(f"{gold_path}:{lineno}: text is not a substring of line {line_no} of {article_path}")
        cursor[line_no] = at + len(snippet)
        out.append((at, at + len(snippet), label, snippet))
    return out


def _gold_record(raw: str, where: str) -> tuple[int, str, str]:
    try:
        rec = json.loads(raw)
        return int(rec["line"]), str(rec["text"]), str(rec["label"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise DataError(f"{where}: not a gold record with line, text and label") from None


def default_article(gold_path: str | Path) -> Path:
    """data/gold/article.jsonl -> data/article.txt (the text the gold file segments)."""
    gold_path = Path(gold_path)
    return gold_path.parent.parent / f"{gold_path.stem}.txt"


def _prf(pred: set[int], gold: set[int]) -> dict:
    hit = len(pred & gold)
    p = hit / len(pred) if pred else 0.0
    r = hit / len(gold) if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "pred": len(pred), "gold": len(gold), "matched": hit}


def segmentation_scores(gold_path: str | Path, article_path: str | Path | None = None) -> dict:
    """Boundary precision/recall/F1 (all sentence ends, and those inside lines) and skip-detection agreement."""
    article_path = Path(article_path or default_article(gold_path))
    gold = gold_spans(gold_path, article_path)
    text = Path(article_path).read_text(encoding="utf-8-sig")
    spans = segment(text)
    line_ends = {hi for _, hi in lines(text)} | {_trim(text, lo, hi)[1] for lo, hi in lines(text)}
    pred_ends, gold_ends = {s.end for s in spans}, {g[1] for g in gold}
    flagged = {(s.start, s.end): s.skip for s in spans if s.skip}
    gold_skip = {(g[0], g[1]) for g in gold if g[2] == "skip"}
    labelled = {(g[0], g[1]): g for g in gold}
    return {
        "all": _prf(pred_ends, gold_ends),
        "inside_lines": _prf(pred_ends - line_ends, gold_ends - line_ends),
        "skip": _prf(set(flagged), gold_skip) | {"flagged": flagged},
        "missed": sorted(gold_ends - pred_ends), "spurious": sorted(pred_ends - gold_ends),
        "skip_wrong": [(labelled.get(k), r) for k, r in sorted(flagged.items()) if k not in gold_skip],
        "skip_missed": [labelled[k] for k in sorted(gold_skip - set(flagged))],
        "text": text, "article": str(article_path), "n_gold": len(gold), "n_lines": len(lines(text)),
    }


def segmentation_report(gold_path: str | Path, article_path: str | Path | None = None) -> str:
    """Human-readable boundary precision/recall/F1 of the segmenter on the gold article, with its misses."""
    s = segmentation_scores(gold_path, article_path)
    text = s["text"]

    def row(name, d):
        return (f"  {name:<22} precision {d['precision']:.3f}  recall {d['recall']:.3f}  F1 {d['f1']:.3f}"
                f"  (predicted {d['pred']}, gold {d['gold']}, matched {d['matched']})")

    out = [f"Segmentation of {s['article']} against {gold_path} ({s['n_gold']} hand-segmented spans, "
           f"{s['n_lines']} lines)",
           row("sentence ends:", s["all"]),
           row("ends inside lines:", s["inside_lines"]),
           row("skip detection:", s["skip"])]
    out += [f"  missed end:    …{text[max(0, e - 30):e]}|{text[e:e + 20]}…" for e in s["missed"]]
    out += [f"  spurious end:  …{text[max(0, e - 30):e]}|{text[e:e + 20]}…" for e in s["spurious"]]
    out += [f"  flagged {r} but gold says {g[2] if g else 'no such span'}: {g[3] if g else ''}"
            for g, r in s["skip_wrong"]]
    out += [f"  gold skip not flagged: {g[3]}" for g in s["skip_missed"]]
    return "\n".join(out)
