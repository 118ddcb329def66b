"""Cue features and the rule labeller: the guide's lexicon (train/lexicon.py) matched on normalised text.

Everything is matched on `text.normalize`d text (no diacritics or tatweel, bare alef, ي for ى, ASCII digits,
'"' for every double quote mark); lexicon entries are normalised the same way when the module loads and
compiled into one matcher per group. A prefilter indexes every entry's first word, so a sentence only runs
the entries whose words occur in it.

Features (FEATURE_NAMES order): each value is the number of distinct cue hits in the sentence, capped at
3; the structural features (question, exclamation, has_quote, report_before_quote, report_after_quote,
bare_quote, colon_frame, has_number) have at most one hit, so they are 0/1.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from araclaim.train.lexicon import (  # noqa: F401  (FEATURE_NAMES and the groups are part of this module's API)
    ATTRIBUTION_FEATURES,
    CAP,
    COLON_FRAME,
    COLON_LABELS,
    COLON_LIST_WORDS,
    EXCLUDE,
    FEATURE_NAMES,
    FRAME_FEATURES,
    LEXICON,
    NEGATED,
    OPINION_FEATURES,
    QUOTE,
    Group,
    phrase,
)
from araclaim.train.text import normalize

# --------------------------------------------------------------------------------------------------
# Compilation
# --------------------------------------------------------------------------------------------------

_CONJ = "(?:[وف])?"
_PREFIX = {
    "verb": _CONJ + "(?:ل(?=[يت]))?",
    "noun": _CONJ + "(?:لل|[بك]?ال|[بلك])?",
    "phrase": _CONJ,
}


def _gap(token: str) -> str:
    """"…" admits up to 3 intervening words, "…N" up to N; the next word may open a quotation and carry
    noun proclitics (رفض الناطق «المزاعم الباطلة»)."""
    return r"\s+(?:\S+\s+){0,%d}?\"?" % int(token[1:] or 3) + _PREFIX["noun"]


def _word(token: str) -> str:
    """Regex for one entry word: alternatives split on '|', a trailing '*' opens the suffix."""
    alts = [re.escape(normalize(w.rstrip("*"))) + (r"\w*" if w.endswith("*") else "")
            for w in token.split("|")]
    return "(?:" + "|".join(sorted(alts, key=len, reverse=True)) + ")"


def _entry(entry: str) -> str:
    out, sep = "", ""
    for token in entry.split():
        if token.startswith("…"):
            sep = _gap(token)
            continue
        out, sep = out + sep + _word(token), r"\s+"
    return out


def _compile(group: Group) -> re.Pattern:
    if group.kind == "regex":
        return re.compile(group.entries[0])
    body = "|".join(sorted((_entry(e) for e in group.entries), key=len, reverse=True))
    return re.compile(rf"(?<!\w){_PREFIX[group.kind]}(?P<cue>{body})(?!\w)")


class _Matcher:
    """A group's pattern, run on a text only over the entries that text can match.

    Every match of an entry contains one spelling of each of the entry's words (proclitics and suffixes
    only add characters around them), and its first word starts at most 4 characters (the longest
    proclitic run, وبال) into a word of the text. An entry whose first word is spelt at no such place, or
    one of whose other words has no spelling in the text, can match nowhere in it; dropping such branches
    from the alternation leaves the result of every search unchanged (the regex engine returns the first
    successful path, and a branch that never succeeds is not on it). So a group runs as the alternation of
    its remaining entries, in the original order - usually none or one - instead of as a long alternation
    that Python's `re` tries entry by entry at every word start. Sub-patterns are compiled on first use.
    """

    def __init__(self, group: Group):
        self.group = group
        self.pattern = _compile(group)
        if group.kind == "regex":
            self.needs = tuple(normalize(n) for n in group.needs)
            return
        regexes = [_entry(e) for e in group.entries]
        order = sorted(range(len(regexes)), key=lambda i: len(regexes[i]), reverse=True)  # _compile's order
        self.regexes = [regexes[i] for i in order]
        self.words = [[tuple(normalize(w.rstrip("*")) for w in token.split("|"))
                       for token in group.entries[i].split() if not token.startswith("…")] for i in order]
        assert all(not group.entries[i].split()[0].startswith("…") for i in order), group  # see _candidates
        self._compiled: dict[tuple[int, ...], re.Pattern] = {}

    def finditer(self, t: str, candidates: set[int] | None):
        """Like `self.pattern.finditer(t)`; `candidates` are the entries whose first word `_candidates`
        found in `t` (None: unknown, run the whole pattern)."""
        if self.group.kind == "regex":
            return self.pattern.finditer(t) if not self.needs or any(n in t for n in self.needs) else ()
        if candidates is None:
            return self.pattern.finditer(t)
        if not candidates:
            return ()
        live = tuple(sorted(pos for pos in candidates
                            if all(any(w in t for w in spellings) for spellings in self.words[pos][1:])))
        if not live:
            return ()
        pattern = self._compiled.get(live)
        if pattern is None:
            if len(self._compiled) > 4096:  # bounded: a long run meets many combinations
                self._compiled.clear()
            body = "|".join(self.regexes[pos] for pos in live)
            pattern = self._compiled[live] = re.compile(rf"(?<!\w){_PREFIX[self.group.kind]}(?P<cue>{body})(?!\w)")
        return pattern.finditer(t)


_PATTERNS = {f: tuple(_Matcher(g) for g in groups) for f, groups in LEXICON.items()}
_EXCLUSIONS = {f: _compile(phrase(*entries)) for f, entries in EXCLUDE.items()}
_PROCLITICS = 4   # longest proclitic run before a first word: و/ف + ب/ك + ال (وبال)
_KEY = 3          # first-word spellings are indexed by their first 3 characters

# First-word spellings made of word characters only: key (first 3 characters) -> [(feature, group number,
# entry position, spelling)]. Such a spelling can only start inside a word (see _word_candidates); the
# others are looked for anywhere with `in`.
_FIRST_WORDS: dict[str, list[tuple[str, int, int, str]]] = {}
_ANYWHERE: list[tuple[str, int, int, str]] = []
for _f, _matchers in _PATTERNS.items():
    for _g, _m in enumerate(_matchers):
        for _pos, _words in enumerate(getattr(_m, "words", ())):
            for _sp in set(_words[0]):
                if re.fullmatch(r"\w+", _sp):
                    _FIRST_WORDS.setdefault(_sp[:_KEY], []).append((_f, _g, _pos, _sp))
                else:
                    _ANYWHERE.append((_f, _g, _pos, _sp))
_WORD_RUN = re.compile(r"\w+")
_BY_WORD: dict[str, tuple[tuple[str, int, int], ...]] = {}  # memo of _word_candidates; words recur a lot
_BY_WORD_MAX = 200_000


def _word_candidates(word: str) -> tuple[tuple[str, int, int], ...]:
    """(feature, group number, entry position) of every first-word spelling found in `word` (a run of word
    characters) at its start or up to _PROCLITICS characters into it."""
    out = _BY_WORD.get(word)
    if out is None:
        out = tuple({(f, g, pos) for k in range(min(_PROCLITICS + 1, len(word))) for n in range(1, _KEY + 1)
                     for f, g, pos, sp in _FIRST_WORDS.get(word[k:k + n], ()) if word.startswith(sp, k)})
        if len(_BY_WORD) >= _BY_WORD_MAX:
            _BY_WORD.clear()
        _BY_WORD[word] = out
    return out


def _candidates(t: str) -> dict[tuple[str, int], set[int]]:
    """(feature, group number) -> positions of the entries whose first word is spelt where a match could
    start: at a word start or up to _PROCLITICS characters into the word (anywhere, for spellings that do
    not begin with a word character)."""
    found: dict[tuple[str, int], set[int]] = {}
    for word in _WORD_RUN.findall(t):
        for f, g, pos in _word_candidates(word):
            found.setdefault((f, g), set()).add(pos)
    for f, g, pos, sp in _ANYWHERE:
        if sp in t:
            found.setdefault((f, g), set()).add(pos)
    return found


# --------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------

class _Hit(NamedTuple):
    start: int
    end: int
    cue: str


def _lexical_hits(t: str, feature: str, candidates: dict | None = None) -> list[_Hit]:
    """Hits of one feature's groups, minus excluded spans, one per start position (the longest).

    `candidates` is `_candidates(t)`, computed once per sentence for every feature (see _Matcher)."""
    if candidates is None:
        candidates = _candidates(t)
    hits = [_Hit(m.start(), m.end(), m.group("cue")) for g, matcher in enumerate(_PATTERNS[feature])
            for m in matcher.finditer(t, candidates.get((feature, g), ()))]
    if hits and feature in _EXCLUSIONS:
        banned = [m.span() for m in _EXCLUSIONS[feature].finditer(t)]
        hits = [h for h in hits if not any(s < h.end and h.start < e for s, e in banned)]
    best: dict[int, _Hit] = {}
    for h in hits:
        if h.start not in best or h.end > best[h.start].end:
            best[h.start] = h
    return sorted(best.values())


def _negator(t: str, hit: _Hit) -> re.Match | None:
    """The negator right before a hit, if any."""
    return NEGATED.search(t, 0, hit.start)


def _split_negated(t: str, denials: list[_Hit]) -> tuple[list[_Hit], list[_Hit]]:
    """Denial hits in the scope of a negator become not_denied hits ("لم ينف"), the rest stay denials."""
    kept, negated = [], []
    for h in denials:
        m = _negator(t, h)
        if m:
            negated.append(_Hit(m.start(), h.end, t[m.start():h.end]))
        else:
            kept.append(h)
    return kept, negated


def _quote_spans(t: str) -> list[tuple[int, int]]:
    """Quotations of two or more words; an unclosed final quote runs to the end. One quoted word is a
    scare quote or a name, not speech."""
    spans = [m.span() for m in QUOTE.finditer(t)]
    if t.count('"') % 2:
        spans.append((t.rfind('"'), len(t)))
    return [(s, e) for s, e in spans if len(t[s:e].strip('"').split()) >= 2]


def _colon_frame(t: str) -> list[str]:
    m = COLON_FRAME.match(t)
    if not m:
        return []
    head = m.group("head").strip()
    words = head.split()
    if not 1 <= len(words) <= 5 or head in COLON_LABELS or words[0] in COLON_LABELS \
            or COLON_LIST_WORDS.intersection(words) or re.match("[وف]ال", words[0]):
        return []
    return [head + ":"]


def _quote_structure(t: str, hits: dict[str, list[_Hit]], colon: list[str]) -> dict[str, list[str]]:
    quotes = _quote_spans(t)
    if not quotes:
        return {}
    frames = [h for f in FRAME_FEATURES for h in hits[f]
              if not any(s <= h.start < e for s, e in quotes)]
    before = [h.cue for h in frames if any(h.end <= s for s, _ in quotes)]
    after = [h.cue for h in frames if any(h.start >= e for _, e in quotes)]
    out = {"has_quote": [t[s:e] for s, e in quotes][:1],
           "report_before_quote": before[:1], "report_after_quote": after[:1]}
    # bare: no frame, and the quotation is the sentence's main content (a film title in quotes is not)
    quoted = sum(len(t[s:e].replace(" ", "")) for s, e in quotes)
    if not frames and not colon and 2 * quoted >= len(t.replace(" ", "")):
        out["bare_quote"] = [t[quotes[0][0]:quotes[0][1]]]
    return out


def _analyse(text: str, normalized: str | None = None) -> dict[str, list[str]]:
    """Every feature's cue strings, in FEATURE_NAMES order (empty lists for features that did not fire).

    `normalized` is `normalize(text)` when the caller already has it."""
    t = normalize(text) if normalized is None else normalized
    candidates = _candidates(t)
    hits = {f: _lexical_hits(t, f, candidates) for f in LEXICON}
    hits["denial"], hits["not_denied"] = _split_negated(t, hits["denial"])
    # a negated reporting verb reports that nothing was said: a negated fact (لم تعلن الحكومة عن خطة)
    hits["report_verb"] = [h for h in hits["report_verb"] if not _negator(t, h)]
    found = {f: [h.cue for h in hs] for f, hs in hits.items()}
    found["colon_frame"] = _colon_frame(t)
    found.update(_quote_structure(t, hits, found["colon_frame"]))
    found["question"] = ["؟"] if re.search("[؟?]", t) else []
    found["exclamation"] = ["!"] if "!" in t else []
    found["has_number"] = re.findall(r"\d+", t)[:1]
    return {f: found.get(f, []) for f in FEATURE_NAMES}


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------

def matches(text: str) -> dict[str, list[str]]:
    """The cue strings that fired, per feature, for explaining a decision (features that fired only).

    >>> matches("ونفت الوزارة الأنباء")
    {'denial': ['نفت']}
    """
    return {f: cues for f, cues in _analyse(text).items() if cues}


def extract(text: str, *, normalized: str | None = None) -> list[float]:
    """One value per FEATURE_NAMES entry: the number of distinct cue hits, capped at CAP (3); the
    structural features are 0/1. `normalized` is `text.normalize(text)` when the caller already has it
    (train/features.py shares it between consumers)."""
    return [float(min(CAP, len(cues))) for cues in _analyse(text, normalized).values()]


def rule_label(text: str) -> str:
    """The transparent cue-word rule, with the guide's precedence denial > attributed_claim > opinion >
    assertion: a denial cue (not under negation) or a falsity word → denial; else any attribution cue (reporting verb,
    source phrase, hearsay, a source's forecast, accusation, headline colon frame, "did not deny", a
    reporting frame around a quote) → attributed_claim; else any opinion cue (modal, hedge, evaluative
    word, first person, rhetorical question, ? or !, bare quote) → opinion; else assertion."""
    fired = {f for f, cues in _analyse(text).items() if cues}
    if fired.intersection(("denial", "falsity")):
        return "denial"
    if fired.intersection(ATTRIBUTION_FEATURES):
        return "attributed_claim"
    if fired.intersection(OPINION_FEATURES):
        return "opinion"
    return "assertion"
