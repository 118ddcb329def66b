"""The cue lexicon of the annotation guide (data/GUIDELINES.md), as data: what train/cues.py matches.

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
  phrase   و/ف only                                                           — وبحسب، ولا أساس
  _regex   a raw regular expression over normalised text, with a group named "cue".

Features (FEATURE_NAMES order): each value is the number of distinct cue hits in the sentence, capped at
3; the structural features (question, exclamation, has_quote, report_before_quote, report_after_quote,
bare_quote, colon_frame, has_number) have at most one hit, so they are 0/1.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from araclaim.train.text import normalize

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
FRAME_FEATURES = ("report_verb", "attribution_marker", "hearsay", "forecast", "accusation")


class Group(NamedTuple):
    kind: str                 # "verb", "noun", "phrase" or "regex"
    entries: tuple[str, ...]
    needs: tuple[str, ...] = ()  # regex groups: strings one of which every match contains (for the prefilter)


def _verb(*entries: str) -> Group:
    return Group("verb", entries)


def _noun(*entries: str) -> Group:
    return Group("noun", entries)


def phrase(*entries: str) -> Group:
    return Group("phrase", entries)


def _regex(pattern: str, needs: tuple[str, ...] = ()) -> Group:
    return Group("regex", (pattern,), needs)


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

LEXICON: dict[str, tuple[Group, ...]] = {
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
        phrase(f"{_REJECT_VERBS} …4 {_CLAIM_NOUNS}",
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
        phrase("مؤكدة أن*", "لافتا|لافتة إلى", "يفيد|تفيد بأن*", "بقوله", "بقولها",
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
        phrase("بحسب", "حسب", "حسبما", "وفق", "وفقا ل*", "طبقا ل*", "نقلا عن", "استنادا إلى|ل*",
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
        phrase("انتشرت|تنتشر|سرت|تسري شائعات|إشاعات"),
        _verb("تناقلت", "تناقل", "يتناقل", "تتناقل", "تناقلته", "تناقلتها"),
        phrase("ذكرت|أفادت|تشير|زعمت تقارير", "تقارير إعلامية|صحفية|إخبارية|غير",
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
        phrase("متهم|متهمة|متهمون|متهمين ب*", "متهم* من قبل"),
        # يدعي and يدعى ("is named": شركة تدعى Tenet) are one word after normalisation, so the
        # imperfect counts only when a أن-clause follows
        phrase("يدعي|تدعي|يدعون … أن*|بأن*", "حمل*|يحمل* … مسؤولية|المسؤولية"),
    ),
    "hedge": (
        phrase("يبدو", "على ما يبدو", "ربما", "من المرجح", "من المحتمل", "من الممكن",
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
        phrase("يجب", "يتوجب", "يتعين", "ينبغي", "لا بد", "لابد", "من الضروري", "من الواجب",
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
        phrase("للأسف", "مع الأسف", "لسوء الحظ", "غير مقبول*", "غير عادل*", "بلا شك", "لا شك",
                "مثير*|المثير* للجدل|للقلق|للسخرية|للاشمئزاز|للدهشة|للإعجاب|للاستغراب",
                "مشكوك في*", "يا له من", "ما أروع|أجمل|أسوأ", "عار عل*", "وصمة عار", "بامتياز",
                # the writer's certainty is a stance too
                "من الواضح أن*", "واضحا أن*", "بات|أصبح واضحا", "من المؤكد أن*", *_WORRYING),
    ),
    "first_person": (
        # أعتقد and اعتقد ("he believed") are one word after normalisation; with أن right after it, the
        # first person is much the likelier reading
        phrase("نرى", "أرى أن*", "نعتقد", "أعتقد أن*", "لا أعتقد", "اعتقادي", "في اعتقادي", "أظن",
                "نظن", "في رأيي", "برأيي", "في رأينا", "برأينا", "من وجهة نظري|نظرنا",
                "في تقديري|تقديرنا", "أؤمن", "نؤمن", "نحن", "أنا", "إننا", "إنني", "نطالب", "ندعو",
                "نأمل", "أتمنى", "نتمنى", "أشعر", "نشعر"),
    ),
    "rhetorical": (
        phrase("هل يعقل", "هل من المعقول", "أليس", "ألا يكفي", "ألم يحن", "إلى متى", "فكيف",
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
NEGATED = re.compile(r"(?<!\w)(?:[وف]?(?:لم|لا|لن|عدم)|[وف]?(?:ب|من\s+)?دون\s+ان"
                      r"|[وف]?(?:امتنع|امتنعت|امتنعوا|يمتنع|تمتنع)(?:\s+\S+){0,3}\s+عن)"
                      r"(?:\s+(?:يتم|تتم|يعد|تعد|يكن|تكن))?\s+$")

# Headline frame: up to five words, a colon, content. The head may not hold digits (10:30) or sentence
# punctuation. Section labels are not sources, and headlines do not open with a conjunction, so a head
# like "والنتيجة معروفة:" (و/ف + article) is a sentence's own colon. (A dateline written "بيروت: ..."
# cannot be told apart from a source.)
COLON_FRAME = re.compile(r"^(?P<head>[^:\"؟?!.،,;؛\d]{2,60}?)\s*:\s*\S")
COLON_LABELS = frozenset(normalize(w) for w in (
    "عاجل", "تحديث", "فيديو", "بالفيديو", "صور", "بالصور", "شاهد", "إنفوجراف", "إنفوغراف", "رأي",
    "تحليل", "مقال", "تقرير", "خاص", "حصري", "مباشر", "متابعة", "اقرأ أيضا", "ملاحظة", "تنويه",
    "تصحيح", "المصدر", "بقلم", "تحرير", "إعداد", "ترجمة", "تصوير", "التاريخ", "المكان", "الساعة",
    "تحقيق", "حوار", "افتتاحية", "كاريكاتير", "قراءة"))
# A head holding one of these introduces a list ("وتشمل الإجراءات: ..."), not a source's words.
COLON_LIST_WORDS = frozenset(normalize(w) for w in (
    "تشمل", "وتشمل", "يشمل", "ويشمل", "تتضمن", "وتتضمن", "يتضمن", "ويتضمن", "التالي", "التالية",
    "الآتي", "الآتية", "يلي", "منها", "ومنها", "أبرزها", "وأبرزها", "هي", "وهي", "هو", "وهو", "مثل"))
QUOTE = re.compile(r'"[^"]*"')
