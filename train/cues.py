"""The cue lexicon of the annotation guide (data/GUIDELINES.md): model features and the rule labeller.

Everything is matched on `text.normalize`d text (no diacritics or tatweel, bare alef, ي for ى, ASCII digits,
'"' for every double quote mark), and every lexicon entry is normalised the same way when the module loads,
so entries below are written in ordinary spelling.

Entry syntax (one string per entry, words separated by spaces):
  word*      the word may carry any suffix (pronouns, plural, case endings): "اتهام*" = اتهام، اتهامات.
  a|b|c      one of several words at this position.
  …          up to three intervening words ("رفض … الاتهامات" = رفضت الحكومة بشدة الاتهامات);
  …N         up to N intervening words ("وصف …8 بأن*" reaches past a long subject and object).
A word after "…" may carry the noun proclitics (و/ف, ب/ك/ل, ال, لل).

Entries come in groups whose kind decides which proclitics the first word may carry:
  _verb    و/ف, then the purposive لـ before an imperfect (ليؤكد، لتنفي)   — ونفت، فقال
  _noun    و/ف, then ب/ك/ل and the article (لل، بال، ال)                    — والنفي، بالتكذيب
  _phrase  و/ف only                                                           — وبحسب، ولا أساس
  _regex   a raw regular expression over normalised text, with a group named "cue".

Features (FEATURE_NAMES order): each value is the number of distinct cue hits in the sentence, capped at
3; the structural features (question, exclamation, has_quote, report_before_quote, report_after_quote,
bare_quote, colon_frame, has_number) have at most one hit, so they are 0/1.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .text import normalize

CAP = 3  # counts above this carry no extra information for a one-sentence decision

FEATURE_NAMES: tuple[str, ...] = (
    "denial",               # rejection of a claim: نفى، أنكر، كذّب، فنّد، دحض، رفض + claim, formulas
    "not_denied",           # a denial cue under negation: لم ينكر، لم ينف، لا ينفي، دون أن ينفي، عدم نفي
    "report_verb",          # قال، ذكر، أفاد، أعلن، أكد، أشار، كشف، أضاف، وصف … بأنه، طالب، دعا ...
    "attribution_marker",   # بحسب، وفقا لـ، نقلا عن، حسبما، في بيان، المتحدث باسم، مصادر مطلعة ...
    "hearsay",              # يقال، قيل، يعتقد، أفيد، أشيع، ترددت أنباء، ذكرت تقارير، انتشرت شائعات ...
    "forecast",             # a source's forecast: توقع، رجح، تنبأ (not the impersonal يتوقع أن)
    "accusation",           # اتهم، زعم، ادعى، اتهامات، مزاعم، المزعوم، حمّل … المسؤولية
    "hedge",                # يبدو، ربما، لعل، من المرجح، من المتوقع، قد + imperfect ...
    "modal",                # يجب، ينبغي، لا بد، من الضروري، يتعين، على الحكومة أن ...
    "evaluative",           # emotive and evaluative words: مذهل، فاشل، كارثي، للأسف، مثير للجدل ...
    "first_person",         # نرى، أعتقد أن، في رأيي، برأينا، نحن ...
    "rhetorical",           # هل يعقل، إلى متى، أليس، فكيف، من يحاسب ...
    "question",             # ؟ or ?
    "exclamation",          # !
    "has_quote",            # a quotation of two or more words in « » “ ” or "
    "report_before_quote",  # a reporting/attribution cue outside the quotes, before one: قال: «...»
    "report_after_quote",   # a reporting/attribution cue after a quote: «...»، قال الوزير
    "bare_quote",           # a quote and no reporting/attribution cue outside it (an embedded tweet)
    "colon_frame",          # headline frame "الوزير: ..." — a short source phrase, a colon, the content
    "has_number",           # any digit (facts carry numbers; not used by the rule)
    # Falsity words (كاذب، مفبرك، زائف، مضلل، مغلوط، ملفق، مختلق، أكاذيب، تضليل): the rule reads them as a denial, as
    # the v1 guide did, but a model gets them apart from `denial`, since in news about misinformation most
    # sentences that carry one only *mention* falsity (guide §9.1) and a shared feature taught models that every
    # falsity word is a denial. Last in the list, so the other features keep their positions.
    "falsity",
)

# Features that make the rule say attributed_claim / opinion (denial is checked first, on its own).
ATTRIBUTION_FEATURES = ("not_denied", "report_verb", "attribution_marker", "hearsay", "forecast",
                        "accusation", "report_before_quote", "report_after_quote", "colon_frame")
OPINION_FEATURES = ("hedge", "modal", "evaluative", "first_person", "rhetorical", "question",
                    "exclamation", "bare_quote")
# Cues that count as a reporting frame around a quote.
_FRAME_FEATURES = ("report_verb", "attribution_marker", "hearsay", "forecast", "accusation")


class _Group(NamedTuple):
    kind: str                 # "verb", "noun", "phrase" or "regex"
    entries: tuple[str, ...]
    needs: tuple[str, ...] = ()  # regex groups: strings one of which every match contains (for the prefilter)


def _verb(*entries: str) -> _Group:
    return _Group("verb", entries)


def _noun(*entries: str) -> _Group:
    return _Group("noun", entries)


def _phrase(*entries: str) -> _Group:
    return _Group("phrase", entries)


def _regex(pattern: str, needs: tuple[str, ...] = ()) -> _Group:
    return _Group("regex", (pattern,), needs)


def _adjectives(*bases: str) -> tuple[str, ...]:
    """Masculine, feminine, accusative and plural forms: فاشل → فاشل، فاشلة، فاشلا، فاشلين، فاشلون.

    Listed explicitly instead of "فاشل*" because an open suffix on a short stem swallows other words."""
    return tuple(b + end for b in bases for end in ("", "ة", "ا", "ين", "ون"))


# --------------------------------------------------------------------------------------------------
# The lexicon
# --------------------------------------------------------------------------------------------------

# Objects that can be true or false. Rejecting one of these is a denial; rejecting a bill, an offer or a
# request (رفض البرلمان مشروع القانون) is an action, not a denial (guide, hard case 13).
_CLAIM_NOUNS = "اتهام*|تهم|تهمة|مزاعم|ادعاء*|شائعات|إشاعات|أنباء|تقرير|تقارير|رواية|انتقادات"
_REJECT_VERBS = "رفض*|يرفض*|ترفض*|رافض*"

# Perfect verbs that begin with ت. After قد they mean "has/had done" (قد تم، كانت قد تراجعت), not "may".
_TA_PERFECTS = ("تم", "تمت", "ترك", "تركت", "تراجع", "تراجعت", "تمكن", "تمكنت", "توقف", "توقفت",
                "تحول", "تحولت", "تجاوز", "تجاوزت", "تعرض", "تعرضت", "تلقى", "تلقت", "تسلم", "تسلمت",
                "تقدم", "تقدمت", "تحقق", "تحققت", "تضاعف", "تضاعفت", "تبين", "تبينت", "تسبب", "تسببت",
                "توفي", "توفيت", "تولى", "تولت", "تزايد", "تزايدت", "تأثر", "تأثرت", "تأخر", "تأخرت",
                "تعهد", "تعهدت", "تبنى", "تبنت", "تكبد", "تكبدت", "تمكنوا", "توصل", "توصلت")

# "Gives cause for worry/pride": an evaluation in the writer's voice, not a source calling for something.
_WORRYING = ("يدعو|تدعو|يبعث|تبعث|مدعاة للقلق|للفخر|للتفاؤل|للاستغراب|للدهشة|للأسف",
             "يدعو|تدعو|يبعث|تبعث|مدعاة إلى|على القلق|الفخر|التفاؤل|الاستغراب|الدهشة|الأسف")

LEXICON: dict[str, tuple[_Group, ...]] = {
    "denial": (
        _verb("نفى", "نفت", "نفوا", "نفيا", "نفين", "ينفي", "تنفي", "ينفون", "ينفيان", "تنفيان",
              "ينف", "تنف", "ينفوا",          # jussive forms: only ever seen after لم (→ not_denied)
              "نفاه", "نفته", "نفاها", "نفتها", "ينفيه", "تنفيه", "نافيا", "نافية",
              "أنكر", "أنكرت", "أنكروا", "ينكر", "تنكر", "ينكرون", "ينكروا", "منكرا",
              "كذب", "كذبت", "كذبوا", "يكذب", "تكذب", "يكذبون", "كذبه", "كذبته", "مكذبا",  # كذب is also
              # the noun "lie": "هذا كذب" is a formula of the guide, so both readings count
              "فند", "فندت", "فندوا", "يفند", "تفند", "مفندا", "فندها",
              "دحض", "دحضت", "دحضوا", "يدحض", "تدحض"),
        _noun("نفي", "نفيه", "نفيها", "إنكار", "تكذيب", "تفنيد"),
        _noun("تكذيبه", "تكذيبها",
              "اتهام*|مزاعم|ادعاء* بلا|دون دليل", "اتهام*|مزاعم|ادعاء* باطل*|الباطل*"),
        _phrase(f"{_REJECT_VERBS} …4 {_CLAIM_NOUNS}",
                f"{_REJECT_VERBS} …4 ما ورد*|نشر*|تردد|نسب*|تداول*|جاء",
                "لا أساس ل*", "لا أساس من الصحة", "بلا أساس",
                # عار alone is "shame" (evaluative); only with عن/من الصحة is it "devoid of truth"
                "عار|عارية|عاري عن|من الصحة", "عار|عارية|عاري تماما عن|من الصحة",
                "غير صحيح|صحيحة", "غير دقيق|دقيقة", "ليس صحيحا", "ليست صحيحة", "لا صحة", "عدم صحة",
                "بعيد|بعيدة عن الحقيقة", "مجاف|مجافية للحقيقة", "لا يمت|تمت … بصلة",
                "جملة وتفصيلا", "مجرد شائعات|إشاعات", "شائعة|شائعات|إشاعة|إشاعات مغرضة",
                "لا يستند|تستند إلى|على أي|أساس*|دليل*"),
    ),
    "falsity": (
        _noun("أكاذيب", "افتراء", "افتراءات", "كاذب", "كاذبة", "كاذبون", "مفبرك", "مفبركة", "ملفق", "ملفقة",
              "زائف", "زائفة", "مختلق", "مختلقة", "مضلل", "مضللة", "مغلوط", "مغلوطة", "تضليل", "تضليلي*",
              "مزيف", "مزيفة", "مزور", "مزورة"),
    ),
    "report_verb": (
        _verb("قال", "قالت", "قالوا", "قلن", "يقول", "تقول", "يقولون", "قائلا", "قائلة", "قائلين",
              "قاله", "قالته", "قالها",
              "ذكر", "ذكرت", "ذكروا", "يذكر", "تذكر", "ذاكرا", "ذكره", "ذكرته", "ذكرها", "ذكرتها",
              "أفاد", "أفادت", "أفادوا",           # not مفيدا/مفيدة: mostly the adjective "useful"
              "أورد", "أوردت", "أوردوا", "يورد", "تورد", "أورده", "أوردته", "أوردها", "أوردتها",
              "أعلن", "أعلنت", "أعلنوا", "يعلن", "تعلن", "يعلنون", "معلنا", "معلنة",
              "أكد", "أكدت", "أكدوا", "يؤكد", "تؤكد", "يؤكدون", "مؤكدا",
              "أشار", "أشارت", "أشاروا", "يشير", "تشير", "يشيرون", "مشيرا", "مشيرة",
              "لفت", "لفتت", "كشف", "كشفت", "كشفوا", "يكشف", "تكشف", "كاشفا", "كاشفة",
              "صرح", "صرحت", "صرحوا", "يصرح", "تصرح", "مصرحا",
              "أضاف", "أضافت", "أضافوا", "يضيف", "تضيف", "مضيفا", "مضيفة",
              "أوضح", "أوضحت", "أوضحوا", "يوضح", "توضح", "موضحا", "موضحة",
              "أردف", "أردفت", "اعتبر", "اعتبرت", "اعتبروا", "معتبرا", "معتبرة",
              "شدد", "شددت", "شددوا", "يشدد", "تشدد", "مشددا", "مشددة",
              "أعرب", "أعربت", "أعربوا", "يعرب", "تعرب", "معربا", "معربة",
              "رأت", "رأوا", "يرى", "ترى", "يرون",   # رأى: see the phrases (it is also the noun رأي)
              "حذر", "حذرت", "حذروا", "يحذر", "تحذر", "محذرا", "محذرة",
              "طالبت", "طالبوا", "يطالب", "تطالب", "يطالبون", "مطالبا",  # الحكومة مطالبة: "must"
              "دعا", "دعت", "دعوا", "يدعو", "تدعو", "يدعون", "داعيا", "لخص", "لخصت",
              "تساءل", "تساءلت", "تساءلوا", "يتساءل", "تتساءل", "متسائلا",
              "نوه", "نوهت", "منوها", "أبلغ", "أبلغت", "أبلغوا",
              "اعترف", "اعترفت", "اعترفوا", "يعترف", "تعترف", "معترفا",
              "بينت", "أبدى", "أبدت", "أجاب", "أجابت",
              "ندد", "نددت", "نددوا", "يندد", "تندد", "استنكر", "استنكرت", "استنكروا",
              "انتقد", "انتقدت", "انتقدوا", "ينتقد", "تنتقد", "منتقدا",
              "غرد", "غردت", "غردوا", "مغردا", "واصفا", "واصفة",
              "اشتكى", "اشتكت", "اشتكوا", "يشتكي", "يشتكون", "عزا", "عزت", "يعزو", "تعزو", "عازيا",
              "أوصى", "أوصت", "يوصي", "توصي", "برر", "بررت", "برروا", "مبررا",  # لا شيء يبرر: the writer
              "نبه", "نبهت", "جادل", "جادلت", "يجادل", "اعترض", "اعترضت", "اعترضوا",
              "تعهد", "تعهدت", "تعهدوا", "يتعهد", "تتعهد", "متعهدا", "توعد", "توعدت", "هدد", "هددت",
              "هددوا", "أرجع", "أرجعت", "أرجعوا",
              "مؤكدين", "مشيرين", "معتبرين", "محذرين", "مطالبين", "منددين"),
        _phrase("مؤكدة أن*", "لافتا|لافتة إلى", "يفيد|تفيد بأن*", "بقوله", "بقولها",
                "الكشف عن",
                "نقل*|ينقل*|تنقل* …4 عن|أن*",            # نقل alone is also "transported"
                "وجد|وجدت …6 أن*",                       # "(the study) found that"
                "وصف*|يصف*|تصف* …10 بأن*|بال*",          # وصف alone is also the noun "description"
                "علق|علقت|يعلق|معلقا …10 بأن*|بالقول",    # علق alone is also "suspended"
                "رد|ردت …6 على|بأن*|بالقول",             # رد alone is also "returned"; the
                # imperfect يرد is left out: لم يرد على طلب التعليق is a negated fact (hard case 3)
                "أظهر*|يظهر|تظهر …6 أن*",                # "showed that" (a study, a video)
                "وطالب", "فطالب", "طالب ب*",             # bare طالب is usually "student"
                "رأى … أن*",
                "كتب|كتبت … على|عبر"),                   # كتب alone is also "books"
    ),
    "attribution_marker": (
        _phrase("بحسب", "حسب", "حسبما", "وفق", "وفقا ل*", "طبقا ل*", "نقلا عن", "استنادا إلى|ل*",
                "على لسان", "على حد قول*|تعبير*", "بتعبير*", "على ذمة", "في رأي", "من وجهة نظر",
                "جاء في", "ورد في", "في بيان", "في تصريح*", "في حديث", "في مقابلة", "في تغريدة",
                "في منشور", "في مؤتمر صحفي", "في تقرير",
                "المتحدث|المتحدثة|الناطق|الناطقة باسم",
                "مصادر|مصدر مطلع*|مقرب*|مسؤول*|رسمي*|أمني*|دبلوماسي*|حكومي*|طبي*|عسكري*|محلي*",
                "مصادر|مصدر في", "طلب|طلبت|فضل|فضلت عدم ذكر|الكشف", "لم يذكر|تذكر اسمه|اسمها"),
    ),
    "hearsay": (
        _verb("يقال", "قيل", "يعتقد", "أفيد", "يشاع", "أشيع", "يروى", "يشتبه", "يتداول"),
        # a mention of rumours as a topic ("نشر الشائعات أسرع من دحضها") is not hearsay (hard case 25)
        _noun("شائعات|إشاعات عن|حول|بأن*"),
        _phrase("انتشرت|تنتشر|سرت|تسري شائعات|إشاعات"),
        _verb("تناقلت", "تناقل", "يتناقل", "تتناقل", "تناقلته", "تناقلتها"),
        _phrase("ذكرت|أفادت|تشير|زعمت تقارير", "تقارير إعلامية|صحفية|إخبارية|غير",
                "أنباء عن", "أنباء غير مؤكدة", "ترددت أنباء", "تردد|ترددت|يتردد أن*", "ما تردد",
                "تداولت|تداول|تداولها … مواقع|وسائل|ناشطون|مدونون|مستخدمون|رواد|حسابات",
                "مصادر|مصدر لم تسم*|يسم*|يكشف|تكشف"),
    ),
    "forecast": (
        _verb("توقع", "توقعت", "توقعوا", "يتوقع", "تتوقع", "يتوقعون", "متوقعا",
              "رجح", "رجحت", "رجحوا", "يرجح", "ترجح", "مرجحا", "تنبأ", "تنبأت", "يتنبأ"),
        _noun("توقعات"),
    ),
    "accusation": (
        _verb("اتهم", "اتهمت", "اتهموا", "يتهم", "تتهم", "يتهمون", "متهما", "متهمة",
              "زعم", "زعمت", "زعموا", "يزعم", "تزعم", "يزعمون", "زاعما", "ادعى", "ادعت", "ادعوا", "مدعيا"),
        _noun("اتهام", "اتهامات", "مزاعم", "ادعاء", "ادعاءات", "مزعوم", "مزعومة"),
        # without the article: "متهم بالفساد"; with it, المتهم is the defendant, a legal status
        _phrase("متهم|متهمة|متهمون|متهمين ب*", "متهم* من قبل"),
        # يدعي and يدعى ("is named": شركة تدعى Tenet) are one word after normalisation, so the
        # imperfect counts only when a أن-clause follows
        _phrase("يدعي|تدعي|يدعون … أن*|بأن*", "حمل*|يحمل* … مسؤولية|المسؤولية"),
    ),
    "hedge": (
        _phrase("يبدو", "على ما يبدو", "ربما", "من المرجح", "من المحتمل", "من الممكن",
                "لعل|لعله|لعلها|لعلهم|لعلنا",  # not لعل*, which would take لعلاج ("for treating")
                "على الأرجح", "من غير المستبعد", "ليس من المستبعد", "لا يستبعد", "يحتمل",
                "من المتوقع", "يتوقع|يرجح أن*"),  # impersonal forecasts, the writer's own guess
        _noun("احتمال", "احتمالات"),
        # قد + imperfect is "may" (قد يكون، قد تشهد); قد + perfect is "has/had" (قد أعلن، قد تم), so the
        # next word must start with ي or ت and not be one of the ت-initial perfects. ن is left out: in news
        # it starts perfects (قد نشر، قد نفذ) far more often than "we may".
        _regex(r"(?<!\w)[وف]?(?P<cue>قد\s+(?!(?:" + "|".join(normalize(w) for w in _TA_PERFECTS)
               + r")(?!\w))[يت]\w+)", needs=("قد",)),
    ),
    "modal": (
        _phrase("يجب", "يتوجب", "يتعين", "ينبغي", "لا بد", "لابد", "من الضروري", "من الواجب",
                "من اللازم", "آن الأوان", "حان الوقت", "من المفترض", "يفترض أن*", "لا مفر من",
                "لا غنى عن", "من الأفضل", "يستحسن", "حري ب*",
                "علينا|عليه|عليها|عليهم أن*",
                "على الحكومة|الدولة|الوزارة|السلطات|الجميع|المجتمع|البرلمان أن*"),
        _noun("ضرورة"),
    ),
    "evaluative": (
        _noun(*_adjectives("مذهل", "فاشل", "كارثي", "مؤسف", "خطير", "رائع", "ممتاز", "مبهر", "عظيم",
                           "سيئ", "مخيب", "مقصر", "مروع", "مرعب", "فظيع", "وحشي", "همجي", "مؤلم",
                           "محزن", "حزين", "مخجل", "معيب", "مشين", "فادح", "ذريع", "صادم", "مقلق",
                           "مجحف", "ظالم", "مستفز", "مدهش", "ممتع", "هزيل", "بائس", "واعد",
                           "عبثي", "سخيف", "مهين", "مريع", "مفجع", "مأساوي", "مخيف", "مدمر", "مثالي"),
              # irregular or noun forms; مخز* would also match مخزون (stock), hence the explicit list
              "مخز", "مخزية", "مخزيا", "سيء", "بشع", "بشعة", "بشاعة", "أسوأ", "كارثة", "كوارث",
              "فضيحة", "فضائح", "مهزلة", "مأساة", "فاجعة", "فوضى", "تقصير", "تخبط"),
        _phrase("للأسف", "مع الأسف", "لسوء الحظ", "غير مقبول*", "غير عادل*", "بلا شك", "لا شك",
                "مثير*|المثير* للجدل|للقلق|للسخرية|للاشمئزاز|للدهشة|للإعجاب|للاستغراب",
                "مشكوك في*", "يا له من", "ما أروع|أجمل|أسوأ", "عار عل*", "وصمة عار", "بامتياز",
                # the writer's certainty is a stance too
                "من الواضح أن*", "واضحا أن*", "بات|أصبح واضحا", "من المؤكد أن*", *_WORRYING),
    ),
    "first_person": (
        # أعتقد and اعتقد ("he believed") are one word after normalisation; with أن right after it, the
        # first person is much the likelier reading
        _phrase("نرى", "أرى أن*", "نعتقد", "أعتقد أن*", "لا أعتقد", "اعتقادي", "في اعتقادي", "أظن",
                "نظن", "في رأيي", "برأيي", "في رأينا", "برأينا", "من وجهة نظري|نظرنا",
                "في تقديري|تقديرنا", "أؤمن", "نؤمن", "نحن", "أنا", "إننا", "إنني", "نطالب", "ندعو",
                "نأمل", "أتمنى", "نتمنى", "أشعر", "نشعر"),
    ),
    "rhetorical": (
        _phrase("هل يعقل", "هل من المعقول", "أليس", "ألا يكفي", "ألم يحن", "إلى متى", "فكيف",
                "كيف يمكن", "كيف يعقل", "ماذا ينتظر*", "من يحاسب", "فهل", "لماذا لا", "أي منطق"),
    ),
}

# A cue hit that overlaps one of these is dropped (same entry syntax, و/ف allowed before the first word).
EXCLUDE: dict[str, tuple[str, ...]] = {
    "report_verb": (
        "يذكر أن*",                                    # "it is worth noting that": the writer's background
        "في أوضح", "أوضح دليل|مثال|علامة|صورة|مؤشر",   # the superlative "clearest"
        "أفاد*|يفيد|تفيد من",                          # "benefited from"
        "أضاف*|يضيف|تضيف … هدفا|هدفين|نقطة|نقاطا",     # "added a goal" (not الهدف, also "the aim")
        "شدد*|يشدد|تشدد الإجراءات|القيود|الرقابة|العقوبات|الحراسة",  # "tightened"
        "رأى|رأت|يرى|ترى النور",                       # "saw the light" (was launched)
        "أن|كي|حتى ترى",                               # "that you see"
        _WORRYING[0], _WORRYING[1],                    # "is worrying": the writer's evaluation
        "رد فعل*",                                     # "reaction"
    ),
    "attribution_marker": (
        "فحسب", "حسب|بحسب الحاجة|الأصول|الطلب|الظروف|الأولوية",   # "only"; "as needed", "duly"
        "وفق|وفقا|طبقا القانون|للقانون|الدستور|للدستور|المعايير|للمعايير|الجدول|للجدول|الخطة|للخطة",
    ),
    "denial": ("رفض*|يرفض*|ترفض* … الرد|التعليق",),    # "declined to comment (on the accusations)"
    "forecast": ("يتوقع|يرجح أن*",                       # impersonal: counted as a hedge instead
                 "فاق*|فاقت|تفوق|يفوق|تجاوز*|دون … التوقعات"),  # "beat expectations": a result
    "hedge": ("كان* … قد",),                             # pluperfect: كانت الوزارة قد تعهدت
    "evaluative": ("الدوري|دوري|الدرجة الممتاز|الممتازة",),   # the Premier League's name
}

# Negators whose scope covers the next word: لم/لا/لن (+ و/ف), عدم, دون أن / بدون أن / من دون أن,
# امتنع (الوزير) عن ("refrained from"),
# optionally through an auxiliary (لم يتم الكشف، لم يعد ينفي، لم يكن ينكر).
_NEGATED = re.compile(r"(?<!\w)(?:[وف]?(?:لم|لا|لن|عدم)|[وف]?(?:ب|من\s+)?دون\s+ان"
                      r"|[وف]?(?:امتنع|امتنعت|امتنعوا|يمتنع|تمتنع)(?:\s+\S+){0,3}\s+عن)"
                      r"(?:\s+(?:يتم|تتم|يعد|تعد|يكن|تكن))?\s+$")

# Headline frame: up to five words, a colon, content. The head may not hold digits (10:30) or sentence
# punctuation. Section labels are not sources, and headlines do not open with a conjunction, so a head
# like "والنتيجة معروفة:" (و/ف + article) is a sentence's own colon. (A dateline written "بيروت: ..."
# cannot be told apart from a source.)
_COLON_FRAME = re.compile(r"^(?P<head>[^:\"؟?!.،,;؛\d]{2,60}?)\s*:\s*\S")
_COLON_LABELS = frozenset(normalize(w) for w in (
    "عاجل", "تحديث", "فيديو", "بالفيديو", "صور", "بالصور", "شاهد", "إنفوجراف", "إنفوغراف", "رأي",
    "تحليل", "مقال", "تقرير", "خاص", "حصري", "مباشر", "متابعة", "اقرأ أيضا", "ملاحظة", "تنويه",
    "تصحيح", "المصدر", "بقلم", "تحرير", "إعداد", "ترجمة", "تصوير", "التاريخ", "المكان", "الساعة",
    "تحقيق", "حوار", "افتتاحية", "كاريكاتير", "قراءة"))
# A head holding one of these introduces a list ("وتشمل الإجراءات: ..."), not a source's words.
_COLON_LIST_WORDS = frozenset(normalize(w) for w in (
    "تشمل", "وتشمل", "يشمل", "ويشمل", "تتضمن", "وتتضمن", "يتضمن", "ويتضمن", "التالي", "التالية",
    "الآتي", "الآتية", "يلي", "منها", "ومنها", "أبرزها", "وأبرزها", "هي", "وهي", "هو", "وهو", "مثل"))
_QUOTE = re.compile(r'"[^"]*"')


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


def _compile(group: _Group) -> re.Pattern:
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

    def __init__(self, group: _Group):
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
_EXCLUSIONS = {f: _compile(_phrase(*entries)) for f, entries in EXCLUDE.items()}
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
    return _NEGATED.search(t, 0, hit.start)


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
    spans = [m.span() for m in _QUOTE.finditer(t)]
    if t.count('"') % 2:
        spans.append((t.rfind('"'), len(t)))
    return [(s, e) for s, e in spans if len(t[s:e].strip('"').split()) >= 2]


def _colon_frame(t: str) -> list[str]:
    m = _COLON_FRAME.match(t)
    if not m:
        return []
    head = m.group("head").strip()
    words = head.split()
    if not 1 <= len(words) <= 5 or head in _COLON_LABELS or words[0] in _COLON_LABELS \
            or _COLON_LIST_WORDS.intersection(words) or re.match("[وف]ال", words[0]):
        return []
    return [head + ":"]


def _quote_structure(t: str, hits: dict[str, list[_Hit]], colon: list[str]) -> dict[str, list[str]]:
    quotes = _quote_spans(t)
    if not quotes:
        return {}
    frames = [h for f in _FRAME_FEATURES for h in hits[f]
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
