"""Spans that are not sentences: bylines, datelines, URLs, handles, titles, fragments, text without Arabic.

`skip_reason(text, standalone)` says why (see its docstring); eval/segment.py fills it into every span.
"""
from __future__ import annotations

import functools
import re

from araclaim.train.text import normalize

# Shared with eval/segment.py: what ends a sentence, closing marks, letters, links.
TERMINALS = ".!?؟…؛"
CLOSERS = ")]}»”’\"'"
ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u06fa-\u06fc\ufb50-\ufdff\ufe70-\ufefc]")
LETTER = re.compile(r"[^\W\d_]")
# Matches start only where a token starts (lookbehinds), so a long dotted string is scanned once, not per dot.
URL = re.compile(r"(?:https?://|www\.)[^\s<>«»“”\"]+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
                  r"(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|int|info|io|co|me|tv|news|ly)\b"
                  r"(?:/[^\s]*)?", re.IGNORECASE)

# News agencies, as written in datelines and credit lines (eval/segment.py splits a dateline off with them).
AGENCIES = (r"رويترز|أ\s?ف\s?ب|ا\s?ف\s?ب|أ\.ف\.ب|فرانس\s?برس|د\s?ب\s?أ|أ\s?ب|واس|وام|قنا|كونا|بترا|سانا|"
            r"الأناضول|شينخوا|سبوتنيك|AFP|Reuters|AP|dpa|UPI")
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
    bare = _HANDLE.sub(" ", URL.sub(" ", text))
    words = _words(bare)
    if not LETTER.search(text):
        return "fragment"
    if not words:
        return "handle" if _HANDLE.search(text) else "url"
    n, verbal = len(words), any(_verbal(w) for w in words)
    clause = verbal or _nominal_predicate(words) or bool(_HEADLINE_COLON.match(text) or _QUANTITY.search(text))
    if _BYLINE.match(text) and n <= 8 or _SIGNATURE.match(text):
        return "byline"
    if n <= 8 and (_AGENCY.search(text) and not verbal or _DATE.search(text) and not clause):
        return "dateline"
    if not ARABIC_LETTER.search(bare):
        return "no_arabic"
    if n == 1 or (n <= 3 and not clause and not standalone):
        return "fragment"
    if standalone and n <= 8 and not clause and text.rstrip(CLOSERS)[-1:] not in TERMINALS \
            and not _HANDLE.search(text) and not URL.search(text):
        return "title"
    return None


def _words(text: str) -> list[str]:
    return [w for w in (_normal_word(t) for t in text.split()) if LETTER.search(w)]


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
                and w not in _PREPOSITIONS and not any(c.isdigit() for c in w) and ARABIC_LETTER.match(w):
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
