"""Arabic text normalisation: small pure functions shared by training and labelling.

`normalize` is the one used everywhere (TF-IDF preprocessing, the cue lexicon, the data checks). It only
applies changes that never alter what a sentence says: diacritics and tatweel go, letter variants that
writers use interchangeably are unified, digits and quote marks get one form, spacing is collapsed.
`normalize_taa_marbuta` is provided but deliberately left out of `normalize` (see its docstring).

`arabert_preprocess` reproduces the official AraBERT v02 preprocessing for the transformer path, without
depending on the `arabert` package. Only the standard library is imported, so the module loads instantly.
"""
from __future__ import annotations

import html
import re
import string
import unicodedata

# --------------------------------------------------------------------------------------------------
# Character classes
# --------------------------------------------------------------------------------------------------

# Harakat, tanwin, shadda, sukun and the rarer combining marks of the Arabic block (maddah and hamza
# above/below, subscript alef, ...), the superscript (dagger) alef, the honorific marks U+0610..U+061A
# and the Quranic annotation marks. None of them carries meaning that news text relies on.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed]")
_TATWEEL = "\u0640"

_ALEF_TABLE = str.maketrans({c: "\u0627" for c in "\u0623\u0625\u0622\u0671\u0672\u0673"})  # أ إ آ ٱ ٲ ٳ → ا
_YAA_TABLE = str.maketrans({"\u0649": "\u064a", "\u06cc": "\u064a"})  # ى (alef maqsura), ی (Farsi yeh) → ي
_TAA_TABLE = str.maketrans({"\u0629": "\u0647"})  # ة → ه

_DIGIT_TABLE = str.maketrans(
    {**{chr(0x0660 + i): str(i) for i in range(10)},   # Arabic-Indic ٠..٩
     **{chr(0x06F0 + i): str(i) for i in range(10)},   # Extended (Persian/Urdu) ۰..۹
     "\u066b": ".",                                    # ٫ Arabic decimal separator
     "\u066c": ","})                                   # ٬ Arabic thousands separator

_DOUBLE_QUOTES = "\u00ab\u00bb\u201c\u201d\u201e\u201f\u2033\u2036\uff02"  # « » “ ” „ ‟ ″ ‶ ＂
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a"        # ‘ ’ ‚ ‛ ′ ‵ ‹ ›
_QUOTE_TABLE = str.maketrans({**{c: '"' for c in _DOUBLE_QUOTES}, **{c: "'" for c in _SINGLE_QUOTES}})

# Invisible format characters: joiners, direction marks and embeddings, BOM, soft hyphen, word joiner.
# They are deleted. ZWSP (U+200B) and the Mongolian vowel separator are word-break characters and so
# become a space; every other Unicode space (NBSP, thin spaces, ideographic space, line and paragraph
# separators, tabs, newlines) is collapsed by str.split().
_INVISIBLE = "\u00ad\u061c\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e" \
             "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
_SPACE_TABLE = str.maketrans({**{c: None for c in _INVISIBLE}, "\u200b": " ", "\u180e": " "})


# --------------------------------------------------------------------------------------------------
# Normalisation functions
# --------------------------------------------------------------------------------------------------

def strip_diacritics(text: str) -> str:
    """Remove Arabic diacritics: harakat, tanwin, shadda, sukun, dagger alef and Quranic marks.

    >>> strip_diacritics("الْعَرَبِيَّةُ")
    'العربية'
    """
    return _DIACRITICS.sub("", text)


def strip_tatweel(text: str) -> str:
    """Remove tatweel (kashida, U+0640), the elongation stroke: "جميـــل" → "جميل"."""
    return text.replace(_TATWEEL, "")


def normalize_alef(text: str) -> str:
    """Map the hamza/madda/wasla alef forms أ إ آ ٱ (and wavy-hamza ٲ ٳ) to bare alef ا."""
    return text.translate(_ALEF_TABLE)


def normalize_yaa(text: str) -> str:
    """Map alef maqsura ى (and Farsi yeh ی, typed on Persian keyboards) to yaa ي.

    Writers use ى and ي interchangeably at the end of words (على/علي, إلى/الي), so they are unified.
    """
    return text.translate(_YAA_TABLE)


def normalize_taa_marbuta(text: str) -> str:
    """Map taa marbuta ة to haa ه.

    Not part of `normalize`: final ه is also the pronoun "his/it" (صحته, دراسته), so this merges words that
    news text keeps apart. Available for callers that want the aggressive form.
    """
    return text.translate(_TAA_TABLE)


def normalize_digits(text: str) -> str:
    """Map Arabic-Indic (٠-٩) and Persian (۰-۹) digits to ASCII 0-9, and ٫ ٬ to "." and ","."""
    return text.translate(_DIGIT_TABLE)


def normalize_quotes(text: str) -> str:
    """Map typographic double quotes (« » “ ” „ ‟ ″ ...) to '"' and single ones (‘ ’ ‚ ‛ ′ ‹ › ...) to "'"."""
    return text.translate(_QUOTE_TABLE)


def normalize_whitespace(text: str) -> str:
    """Delete invisible format characters (ZWJ, ZWNJ, LRM, RLM, BOM, bidi embeddings, soft hyphen), turn
    ZWSP into a space, collapse every run of Unicode whitespace (NBSP included) to one space, and strip."""
    return " ".join(text.translate(_SPACE_TABLE).split())


# Every mapping applied after NFKC, as one table: diacritics and tatweel deleted, alef/yaa forms unified,
# digits mapped, invisible characters deleted or turned into spaces. No target of the table is itself a key,
# so applying it in one go equals applying the steps one after another.
def _as_str_table(table: dict[int, object]) -> dict[str, str]:
    """A `str.maketrans` table as character -> replacement string ("" for a deletion)."""
    return {chr(k): "" if v is None else v if isinstance(v, str) else chr(v) for k, v in table.items()}


_POST_NFKC: dict[str, str] = {
    **{chr(c): "" for c in range(0x0600, 0x0700) if _DIACRITICS.match(chr(c))},
    _TATWEEL: "",
    **_as_str_table(_ALEF_TABLE), **_as_str_table(_YAA_TABLE), **_as_str_table(_DIGIT_TABLE),
    **_as_str_table(_SPACE_TABLE),
}
_QUOTES: dict[str, str] = _as_str_table(_QUOTE_TABLE)


def _char_class(chars) -> re.Pattern:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


_POST_NFKC_CHARS = _char_class(_POST_NFKC)
_QUOTE_CHARS = _char_class(_QUOTES)


def _replace_chars(text: str, pattern: re.Pattern, table: dict[str, str]) -> str:
    """`text` with every character of `table` replaced; the same result as `str.translate`, but it only
    touches the few distinct characters present (translate with a dict table costs ~0.5 µs per character of
    Arabic text, which made it a quarter of the baseline's labelling time)."""
    for char in set(pattern.findall(text)):
        text = text.replace(char, table[char])
    return text


def _normalize_once(text: str) -> str:
    text = _replace_chars(text, _QUOTE_CHARS, _QUOTES)   # before NFKC, which would split ″ into two primes
    text = unicodedata.normalize("NFKC", text)          # presentation forms (ﻻ ﺃ) and ligatures → letters
    # diacritics, tatweel, alef forms, yaa, digits, invisible characters (see _POST_NFKC), then spacing
    return " ".join(_replace_chars(text, _POST_NFKC_CHARS, _POST_NFKC).split())


def _is_fixed_point(out: str) -> bool:
    """True when `_normalize_once(out) == out` for an output of `_normalize_once`.

    Such an output holds no character of the post-NFKC table and no irregular spacing, so another pass
    could only change it through a quote mark (NFKC can produce one) or through NFKC itself (deleting a
    combining mark can leave a composable pair). Both are cheap to check, which saves the second pass.
    """
    return _QUOTE_CHARS.search(out) is None and unicodedata.is_normalized("NFKC", out)


def normalize(text: str) -> str:
    """The normalisation used by both training and labelling.

    Steps, in order: quote marks, Unicode NFKC (folds Arabic presentation forms and ligatures such as ﻻ ﷲ
    and full-width characters into ordinary letters), diacritics, tatweel, alef forms, alef maqsura/yaa,
    digits, whitespace. Deterministic and idempotent: normalize(normalize(x)) == normalize(x). (Deleting a
    combining mark can, for odd inputs, leave two characters that NFKC would compose; the pipeline is
    re-run until nothing changes, which takes at most one extra pass on real text.)
    """
    out = _normalize_once(str(text))
    if _is_fixed_point(out):
        return out
    for _ in range(3):
        again = _normalize_once(out)
        if again == out:
            break
        out = again
    return out


# --------------------------------------------------------------------------------------------------
# AraBERT v02 preprocessing
# --------------------------------------------------------------------------------------------------

_AB_LINK, _AB_MAIL, _AB_USER = " [رابط] ", " [بريد] ", " [مستخدم] "

# The URL patterns, applied one after the other, each replacing its matches with " [رابط] ".
_AB_URLS = tuple(re.compile(p) for p in (
    # A "name.tld/path" shape, with optional scheme and www. '@' is allowed before the dot, so this one
    # also turns most e-mail addresses into [رابط] before the e-mail patterns get a chance.
    r"(?:https?://.)?(?:www\.)?[-a-zA-Z0-9@:%._+~#=]{2,256}\.[a-z]{2,6}\b[-a-zA-Z0-9@:%_+.~#?&/=]*",
    r"https?://[-a-zA-Z0-9_./~?=%&]+",
    r"www[-a-zA-Z0-9_?=%&/.~]+",
    r"[a-zA-Z]+\.com",
    r"http\S*",           # anything still starting with "http" up to the next space, even mid-word
    r"www\S*",
    r"://",
))
# (The package's list also holds a PHP-style pattern ending in "$@iS"; "$" followed by "@" can never match,
# so it is a no-op and omitted here.)
_AB_MAILS = (re.compile(r"[\w-]+@(?:[\w-]+\.)+[\w-]+"), re.compile(r"\S+@\S+"))
_AB_MENTION = re.compile(r"@\w+")
_AB_HTML_BR = re.compile("<br />")
_AB_HTML_TAG = re.compile(r"</?[^>]+>")   # greedy up to the next '>', across newlines: "a < b > c" → "a c"
_AB_HINDI = str.maketrans({chr(0x0660 + i): str(i) for i in range(10)})   # ٠..٩ only, not ۰..۹
_AB_REPEAT = re.compile(r"(\D)\1{2,}")    # 3+ copies of a non-digit (letters, punctuation, spaces) → 2

# Characters that are neither ASCII letters/digits, nor the core Arabic letters (ء..غ, ف..ي, ٠..٩), nor
# '[' and ']' get a space on each side; this separates punctuation, and also pads every space.
_AB_PAD = re.compile("([^0-9a-zA-Z\u0621-\u063a\u0641-\u064a\u0660-\u0669\\[\\]])")
_AB_LETTERS = "\u0621-\u063a\u0641-\u064a\u0660-\u066c"
_AB_NUM_WORD = re.compile(rf"(\d+)([{_AB_LETTERS}]+)")   # \d is Unicode-wide, as in the package
_AB_WORD_NUM = re.compile(rf"([{_AB_LETTERS}]+)(\d+)")

# After padding, every character outside this set becomes a space (emojis, Latin accents, Persian letters
# and digits, '&', most symbols). '/' has been turned into '-' before this step.
_AB_KEPT_PUNCT = "".join(c for c in string.punctuation if c not in "&/") + "·ـ—٪’،؟୍“؛”ۚ»«–…‘"
_AB_REJECT = re.compile("[^0-9a-zA-Z\u0621-\u063a\u0640-\u066c\u0671-\u0674\\s"
                        + "".join(re.escape(c) for c in _AB_KEPT_PUNCT) + "]")


def arabert_preprocess(text: str) -> str:
    """Exact equivalent of `ArabertPreprocessor(model_name="bert-base-arabertv02").preprocess(text)`
    (arabert 1.0.1), the non-Farasa v02 path with its default options, without the package.

    Reproduced, in the package's order:
      1. `html.unescape` of entities (&amp; &quot; &#1575; ...);
      2. removal of the 8 tashkeel marks (fathatan .. sukun, shadda; pyarabic's list, so U+0653..U+065F,
         the dagger alef and Quranic marks are kept) and of tatweel;
      3. URLs → " [رابط] " (seven patterns in sequence; e-mail addresses usually end up here too because
         the first pattern allows '@'), then e-mails → " [بريد] ", then @mentions → " [مستخدم] ";
      4. `<br />` and any `<...>` span → space;
      5. Arabic-Indic digits ٠-٩ → 0-9 (Persian ۰-۹ are not mapped and are dropped in step 9);
      6. any non-digit repeated 3+ times → 2 copies ("جداااا" → "جداا", "!!!" → "!!");
      7. spaces around every character other than ASCII letters/digits, the core Arabic letters and
         brackets; then spaces between a digit run and an Arabic letter run, either order ("2020م");
      8. "/" → "-" (the v02 vocabulary has no slash);
      9. every character outside the kept set (ASCII letters/digits, Arabic letters U+0621-U+063A,
         U+0640-U+066C, U+0671-U+0674, whitespace and a fixed punctuation list) → space: emojis are
         removed (keep_emojis is off for v02), as are Persian letters (پ چ ژ گ ک ی) and '&';
     10. U+FE0F dropped, whitespace collapsed, stripped.
    Not done for v02: alef/yaa/taa-marbuta normalisation, quote unification, Farasa segmentation.
    """
    text = html.unescape(str(text))
    text = strip_tatweel(_strip_tashkeel8(text))
    text = _ab_replace_links(text)
    text = _AB_HTML_TAG.sub(" ", _AB_HTML_BR.sub(" ", text))
    text = _AB_REPEAT.sub(r"\1\1", text.translate(_AB_HINDI))
    text = _ab_pad(text).replace("/", "-")
    text = _AB_REJECT.sub(" ", text)
    return " ".join(text.replace("\ufe0f", "").split())


def _strip_tashkeel8(text: str) -> str:
    """pyarabic's strip_tashkeel: the eight marks U+064B..U+0652 only."""
    return re.sub("[\u064b-\u0652]", "", text)


def _ab_replace_links(text: str) -> str:
    for pattern in _AB_URLS:
        text = pattern.sub(_AB_LINK, text)
    for pattern in _AB_MAILS:
        text = pattern.sub(_AB_MAIL, text)
    return _AB_MENTION.sub(_AB_USER, text)


def _ab_pad(text: str) -> str:
    text = _AB_PAD.sub(r" \1 ", text)
    text = _AB_NUM_WORD.sub(r" \1 \2 ", text)
    return _AB_WORD_NUM.sub(r" \1 \2 ", text)


PREPROCESSORS = {"arabert": arabert_preprocess, "normalize": normalize}  # transformer.preprocess -> function
