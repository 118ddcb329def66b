"""Table-driven tests of train/cues.py: Arabic sentence in, features that must fire and must not fire out;
then the rule labeller on the guide's hard cases; then the API's contract."""
from __future__ import annotations

import subprocess
import sys

import pytest

from araclaim.train import cues
from araclaim.train.text import normalize

# (sentence, features that must fire, features that must not fire)
FEATURE_CASES = [
    # --- denial: verbs in every tense, gender and number, with proclitics -------------------------
    ("نفى الوزير الأنباء", {"denial"}, {"not_denied"}),
    ("ونفت وزارة الصحة وجود أي نقص في اللقاحات", {"denial"}, {"not_denied"}),
    ("فنفى المتحدث ذلك جملة وتفصيلا", {"denial"}, set()),
    ("ينفي مسؤولو البلدية أي علاقة لهم بالمقاول", {"denial"}, set()),
    ("وتنفي الشركة أن تكون قد سرحت موظفين", {"denial"}, {"hedge"}),
    ("نفوا جميعا أن يكونوا قد غادروا البلاد", {"denial"}, set()),
    ("وخرج المدير نافيا كل ما نشر", {"denial"}, set()),
    ("وأنكر المتهم التهم الموجهة إليه", {"denial"}, set()),
    ("وكذّبت النائبة ما نُسب إليها من تصريحات", {"denial"}, set()),
    ("فنّدت الهيئة في بيان مطول ما تداولته المواقع", {"denial", "attribution_marker"}, set()),
    ("ودحض الباحث هذه النظرية بالأرقام", {"denial"}, set()),
    ("ورغم نفي الوزارة، أكدت مصادر مطلعة أن الاجتماع عقد", {"denial", "report_verb",
                                                          "attribution_marker"}, {"not_denied"}),
    ("وهذا الادعاء لا أساس له من الصحة", {"denial", "accusation"}, set()),
    ("الوزارة: أنباء إغلاق المدارس عارية عن الصحة", {"denial", "colon_frame"}, set()),
    ("هذه المعلومات غير صحيحة على الإطلاق", {"denial"}, set()),
    ("والحقيقة أن الصورة المتداولة مفبركة", {"falsity"}, {"denial"}),
    # falsity words are their own feature: most sentences with one only mention misinformation (guide §9.1)
    ("وتنتشر الأخبار الكاذبة والمضللة في أوقات الأزمات", {"falsity"}, {"denial"}),
    ("ونفت الوزارة الأنباء المغلوطة عن رفع الأسعار", {"denial", "falsity"}, set()),
    ("ووصفت الشركة الاتهامات بأنها اتهامات بلا دليل", {"denial", "report_verb"}, set()),
    ("وأكد أن ما يتردد مجرد شائعات مغرضة", {"denial", "report_verb"}, set()),
    ("هذا كذب", {"denial"}, set()),
    # --- rejection: a claim vs a proposal --------------------------------------------------------
    ("رفضت الحكومة الاتهامات بعرقلة الهدنة", {"denial", "accusation"}, set()),
    ("ورفض الناطق باسم الخارجية «المزاعم الباطلة»", {"denial", "attribution_marker"}, set()),
    ("رفض البرلمان مشروع القانون", set(), {"denial"}),
    ("رفضت الحكومة مقترح الهدنة الذي قدمه الوسطاء", set(), {"denial"}),
    ("ورفضت الشركة التعليق على الاتهامات", {"accusation"}, {"denial"}),
    # --- negation scope: did not deny, negated facts ----------------------------------------------
    ("ولم ينكر الوزير ما أوردته الصحيفة", {"not_denied", "report_verb"}, {"denial"}),
    ("لم ينفِ المتحدث التقارير", {"not_denied"}, {"denial"}),
    ("لم تنف الوزارة الخبر", {"not_denied"}, {"denial"}),
    ("وهو لا ينفي أنه التقى المبعوث", {"not_denied"}, {"denial"}),
    ("واعترف بالخطأ دون أن ينفي مسؤوليته", {"not_denied", "report_verb"}, {"denial"}),
    ("امتنع قائد الشرطة عن نفي وجود ثغرات", {"not_denied"}, {"denial"}),
    ("ولم ترفض الحكومة الاتهامات", {"not_denied"}, {"denial"}),
    ("لم يرد الكرملين على طلب التعليق", set(), {"denial", "not_denied", "report_verb"}),
    ("ولم تعلن الحكومة عن أي خطة طارئة", set(), {"report_verb"}),
    ("ولم يتم الكشف عن التكلفة", set(), {"report_verb"}),
    # --- reporting verbs -------------------------------------------------------------------------
    ("قال الوزير إن العجز سينخفض", {"report_verb"}, set()),
    ("وقالت رئيسة الوزراء إن الإصلاحات مستمرة", {"report_verb"}, set()),
    ("فيما قال المدرب إن الفريق جاهز", {"report_verb"}, set()),
    ("وأضاف قائلا إن الوضع مستقر", {"report_verb"}, set()),
    ("يقول الخبراء إن الاقتصاد يتعافى", {"report_verb"}, set()),
    ("وأكدت الوزارة التزامها بالمواعيد", {"report_verb"}, set()),
    ("وخرج الرئيس مؤكدا أن البلاد بخير", {"report_verb"}, set()),
    ("أفادت وكالة الأنباء الرسمية بأن الرئيس سيزور ثلاث دول", {"report_verb"}, set()),
    ("وأشارت الدراسة إلى ارتفاع الإصابات", {"report_verb"}, set()),
    ("ووصف رئيس الغرفة التجارية القرار بأنه ضربة قاصمة", {"report_verb"}, set()),
    ("وطالبت النقابة بزيادة الأجور بنسبة 15%", {"report_verb", "has_number"}, set()),
    ("ودعا الأمين العام إلى وقف فوري لإطلاق النار", {"report_verb"}, set()),
    ("وتساءل النائب عن مصير الأموال", {"report_verb"}, set()),
    ("ونقلت وكالة رويترز عن مسؤول قوله إن المحادثات انتهت", {"report_verb"}, set()),
    ("يذكر أن الوزارة كانت قد أعلنت الخطة العام الماضي", {"report_verb"}, {"hedge"}),
    ("وأضاف اللاعب هدفا ثانيا في الدقيقة 80", set(), {"report_verb"}),
    ("الطالب يدرس في الجامعة", set(), {"report_verb"}),
    ("قرأت المقال في المجلة", set(), {"report_verb"}),
    # --- attribution markers ---------------------------------------------------------------------
    ("وبحسب الإحصاءات، ارتفع عدد الزوار", {"attribution_marker"}, set()),
    ("ووفقًا لتقرير البنك المركزي تراجع التضخم", {"attribution_marker"}, set()),
    ("نقلا عن مصادر دبلوماسية", {"attribution_marker"}, set()),
    ("حسبما أعلنت الشرطة", {"attribution_marker", "report_verb"}, set()),
    ("وقال مصدر طلب عدم ذكر اسمه إن الصفقة ألغيت", {"attribution_marker", "report_verb"}, set()),
    ("ليس هذا فحسب، بل ارتفعت الأسعار أيضا", set(), {"attribution_marker"}),
    ("تصرف الأموال حسب الحاجة", set(), {"attribution_marker"}),
    # --- hearsay ---------------------------------------------------------------------------------
    ("يقال إن المدرب سيرحل في نهاية الموسم", {"hearsay"}, set()),
    ("يُعتقد أن الحريق بدأ من المطبخ", {"hearsay"}, set()),
    ("وأفيد بأن الطريق أغلق", {"hearsay"}, set()),
    ("وذكرت تقارير أن الشركة تستعد للاندماج", {"hearsay", "report_verb"}, set()),
    ("وترددت أنباء عن استقالة الوزير", {"hearsay"}, set()),
    ("وانتشرت شائعات عن إغلاق المصنع", {"hearsay"}, {"denial"}),
    ("ونشر الشائعات أسرع من دحضها", set(), {"hearsay"}),
    # --- forecast: a source's vs the writer's ------------------------------------------------------
    ("وتوقع خبراء صندوق النقد أن يتباطأ النمو", {"forecast"}, {"hedge"}),
    ("ورجح محللون أن ترتفع الأسعار", {"forecast"}, set()),
    ("ومن المرجح أن يتباطأ النمو في العام المقبل", {"hedge"}, {"forecast"}),
    ("يتوقع أن ترتفع درجات الحرارة غدا", {"hedge"}, {"forecast"}),
    ("وجاءت النتائج فاقت التوقعات", set(), {"forecast"}),
    # --- accusation ------------------------------------------------------------------------------
    ("واتهمت منظمة حقوقية السلطات باحتجاز صحفيين", {"accusation"}, set()),
    ("ويزعم المدعي أن الشركة أخفت النتائج", {"accusation"}, set()),
    ("وادّعى الحساب أن المصنع سيغلق", {"accusation"}, set()),
    ("ويواجه النائب اتهامات بتلقي رشى", {"accusation"}, set()),
    ("يقف متهما من قبل وزارة العدل", {"accusation"}, set()),
    ("شركة إعلامية تدعى Tenet", set(), {"accusation"}),
    ("أجلت المحكمة قضية المتهم بالتشهير", set(), {"accusation"}),
    # --- hedges and modals -----------------------------------------------------------------------
    ("يبدو أن الوزارة لم تتعلم شيئا", {"hedge"}, set()),
    ("ربما تتأخر الرحلة", {"hedge"}, set()),
    ("قد يكون القرار متسرعا", {"hedge"}, set()),
    ("وقد تشهد الأسواق تقلبات", {"hedge"}, set()),
    ("وقد تم توقيع الاتفاقية", set(), {"hedge"}),
    ("لقد أعلن الفريق تشكيلته", set(), {"hedge"}),
    ("وكانت الوزارة قد تعهدت بإصلاح الطريق", set(), {"hedge"}),
    ("أنشئ أول مركز لعلاج التوحد", set(), {"hedge"}),
    ("يجب على الحكومة أن تراجع سياستها", {"modal"}, set()),
    ("ينبغي وقف إطلاق النار فورا", {"modal"}, set()),
    ("لا بد من إصلاح التعليم", {"modal"}, set()),
    ("من الضروري تعزيز الرقابة", {"modal"}, set()),
    ("آن الأوان لمراجعة القانون", {"modal"}, set()),
    # --- evaluative ------------------------------------------------------------------------------
    ("للأسف، تحولت المنافسة إلى ساحة للشتائم", {"evaluative"}, set()),
    ("كان أداء اللجنة فاشلًا بكل المقاييس", {"evaluative"}, set()),
    ("إنه إنجاز مذهل لفريق صغير", {"evaluative"}, set()),
    ("القرار كارثي على المزارعين", {"evaluative"}, set()),
    ("وهو موقف مخزٍ", {"evaluative"}, set()),
    ("اتخذ القرار المثير للجدل الأسبوع الماضي", {"evaluative"}, set()),
    ("فضيحة جديدة تهز الوزارة", {"evaluative"}, set()),
    ("ارتفع مخزون القمح", set(), {"evaluative"}),
    ("فاز الفريق في الدوري الممتاز", set(), {"evaluative"}),
    # --- questions, exclamations, rhetoric, first person --------------------------------------------
    ("فهل يعقل أن تنتظر القرى عشر سنوات؟!", {"rhetorical", "question", "exclamation"}, set()),
    ("إلى متى يستمر انقطاع الكهرباء؟", {"rhetorical", "question"}, set()),
    ("ما هذا?", {"question"}, {"exclamation"}),
    ("يا له من يوم!", {"exclamation", "evaluative"}, {"question"}),
    ("نرى أن الحل في الحوار", {"first_person"}, set()),
    ("في رأيي، هذا القرار متسرع", {"first_person"}, set()),
    ("برأينا لا بديل عن الإصلاح", {"first_person"}, set()),
    ("أعتقد أن الوقت قد حان", {"first_person"}, set()),
    # --- quotation structure ---------------------------------------------------------------------
    ("قال الوزير: «لن نرفع الأسعار هذا العام»", {"has_quote", "report_verb", "report_before_quote"},
     {"report_after_quote", "bare_quote"}),
    ("«لن نتراجع عن الإصلاحات»، قالت رئيسة الوزراء", {"has_quote", "report_after_quote"},
     {"report_before_quote", "bare_quote"}),
    ("“هذا المعلق لا يستحق ثقة أحد”", {"has_quote", "bare_quote"}, {"report_verb"}),
    ('"لا أحد يصدق هذه الصحيفة بعد اليوم"', {"has_quote", "bare_quote"}, set()),
    ("وكتب الوزير على منصة X: «لن نرفع الأسعار»", {"has_quote", "report_before_quote"}, {"bare_quote"}),
    ("فيلم «The Quiet Harbor» يفوز بالجائزة الكبرى في المهرجان", {"has_quote"}, {"bare_quote"}),
    ("ما يسمى «الإصلاح» لم يتحقق", set(), {"has_quote", "bare_quote"}),
    # --- headline colon frame ----------------------------------------------------------------------
    ("الوزير: الموازنة ستقر الشهر المقبل", {"colon_frame"}, set()),
    ("منظمة الصحة العالمية: الوباء لم ينته بعد", {"colon_frame"}, set()),
    ("عاجل: انفجار في الميناء", set(), {"colon_frame"}),
    ("تبدأ المباراة الساعة 10:30 مساء", {"has_number"}, {"colon_frame"}),
    ("وتشمل الإجراءات: إغلاق المدارس وتعليق الرحلات", set(), {"colon_frame"}),
    # --- plain assertions fire nothing that decides a label ---------------------------------------
    ("افتتحت البلدية صباح الأحد جسرا جديدا", set(), set(cues.FEATURE_NAMES)),
    ("ارتفع عدد المسجلين في الجامعة إلى 48 ألف طالب", {"has_number"},
     set(cues.FEATURE_NAMES) - {"has_number"}),
]


@pytest.mark.parametrize("sentence, fire, silent", FEATURE_CASES, ids=[c[0][:40] for c in FEATURE_CASES])
def test_features(sentence, fire, silent):
    values = dict(zip(cues.FEATURE_NAMES, cues.extract(sentence)))
    fired = {f for f, v in values.items() if v > 0}
    assert fire <= fired, f"missing {fire - fired}; matches: {cues.matches(sentence)}"
    assert not (silent & fired), f"unexpected {silent & fired}; matches: {cues.matches(sentence)}"


# The guide's classes and hard cases (data/GUIDELINES.md §3 and §7), in new words.
RULE_CASES = [
    ("ونفت الشركة في بيان أن تكون قد سرحت أي موظف", "denial"),                 # attributed denial
    ("وقال مصدر في الوزارة إن ما نشرته الصحيفة «لا أساس له من الصحة»", "denial"),  # denial + report
    ("والحقيقة أن الفيديو المتداول مفبرك", "denial"),                           # writer performs it
    ("رفضت النقابة الاتهامات بتحريض العمال", "denial"),                         # reject a claim
    ("الوزارة: أنباء إغلاق المدارس عارية عن الصحة", "denial"),                  # headline denial
    ("ولم ترد السفارة على طلب للتعليق", "assertion"),                           # negated fact
    ("لم يقدم اللاعب تعليقا", "assertion"),                                     # negated fact
    ("رفض البرلمان مشروع القانون", "assertion"),                                # reject a bill
    ("ولم ينكر الوزير ما أوردته الصحيفة عن لقائه المبعوث", "attributed_claim"),  # did not deny
    ("وقال المحلل إن القرار كارثي على صغار المزارعين", "attributed_claim"),      # attributed opinion
    ("يقال إن الشركة تستعد للاندماج", "attributed_claim"),                      # hearsay headline
    ("وتوقع محللون أن تتباطأ صادرات النفط", "attributed_claim"),                # analyst's forecast
    ("ومن المرجح أن يتباطأ النمو في العام المقبل", "opinion"),                  # writer's forecast
    ("فمن يحاسب المسؤولين عن انقطاع الكهرباء كل صيف؟", "opinion"),             # rhetorical question
    ("وتساءل النائب عن مصير الأموال المخصصة للمدارس", "attributed_claim"),       # reported question
    ("«هذا المعلق لا يستحق ثقة أحد»", "opinion"),                               # bare tweet
    ("وكتب الوزير على منصة X: «لن نرفع الأسعار هذا العام»", "attributed_claim"),  # framed tweet
    ("الوزير: الموازنة ستقر الشهر المقبل", "attributed_claim"),                  # headline frame
    ("البرلمان يقر موازنة العام المقبل", "assertion"),                          # headline proposition
    ("وطالبت النقابة بزيادة الأجور بنسبة 15%", "attributed_claim"),              # reported demand
    ("يجب وقف إطلاق النار فورا", "opinion"),                                    # writer's demand
    ("ونفت الوزارة الخبر", "denial"),                                           # proclitic و
    ("فيما قال المدرب إن الفريق جاهز للمباراة", "attributed_claim"),             # فيما قال
    ("وبحسب الإحصاءات، ارتفع عدد السياح بنسبة 12%", "attributed_claim"),         # وبحسب
    ("واتهم الادعاء العام المدير السابق باختلاس 3 ملايين دولار", "attributed_claim"),  # accusation
    ("ويزعم الحساب أن المصنع سيغلق نهائيا", "attributed_claim"),                # زعم
    ("يبدو أن المصنع أغلق منذ أسابيع", "opinion"),                             # speculation
    ("للأسف، تحولت المنافسة الرياضية إلى ساحة لتبادل الشتائم", "opinion"),      # emotive
    ("وتم توقيع الاتفاقية في العاصمة بحضور وزيري الخارجية", "assertion"),        # تم + مصدر
    ("فاز المنتخب على ضيفه بهدفين مقابل هدف", "assertion"),                     # plain fact
    ("ولم يتسن التحقق من صحة الفيديو بشكل مستقل", "assertion"),                 # verification note
]


@pytest.mark.parametrize("sentence, label", RULE_CASES, ids=[c[0][:40] for c in RULE_CASES])
def test_rule_label(sentence, label):
    assert cues.rule_label(sentence) == label, cues.matches(sentence)


def test_rule_label_covers_every_class():
    assert {label for _, label in RULE_CASES} == {"assertion", "denial", "attributed_claim", "opinion"}


# --- the API's contract ----------------------------------------------------------------------------

SAMPLES = [c[0] for c in FEATURE_CASES] + ["", "   ", "abc", "!!!???", "«»", '"', "١٢٣"]


@pytest.mark.parametrize("sentence", SAMPLES[::7] + SAMPLES[-7:])
def test_extract_returns_one_number_per_feature(sentence):
    values = cues.extract(sentence)
    assert len(values) == len(cues.FEATURE_NAMES)
    assert all(isinstance(v, float) and 0 <= v <= cues.CAP for v in values)


def test_feature_names_are_unique_strings():
    assert len(set(cues.FEATURE_NAMES)) == len(cues.FEATURE_NAMES)
    assert all(isinstance(f, str) and f for f in cues.FEATURE_NAMES)
    assert set(cues.LEXICON) <= set(cues.FEATURE_NAMES)
    assert set(cues.ATTRIBUTION_FEATURES + cues.OPINION_FEATURES) <= set(cues.FEATURE_NAMES)


def test_counts_are_capped():
    sentence = "للأسف قرار كارثي وفاشل ومخز ومؤسف ومروع"
    assert dict(zip(cues.FEATURE_NAMES, cues.extract(sentence)))["evaluative"] == cues.CAP


def test_matches_explains_the_fired_features():
    found = cues.matches("ونفت الوزارة، في بيان، ما تردد عن إغلاق المستشفى")
    assert found["denial"] == ["نفت"]
    assert "في بيان" in found["attribution_marker"]
    assert all(found.values())                                   # only features that fired
    assert set(found) == {f for f, v in zip(cues.FEATURE_NAMES, cues.extract(
        "ونفت الوزارة، في بيان، ما تردد عن إغلاق المستشفى")) if v}


def test_not_denied_names_the_negator():
    assert cues.matches("ولم ينكر الوزير الخبر")["not_denied"] == ["ولم ينكر"]


@pytest.mark.parametrize("sentence", [c[0] for c in FEATURE_CASES[::5]])
def test_features_do_not_depend_on_spelling_variants(sentence):
    assert cues.extract(sentence) == cues.extract(normalize(sentence))


def test_every_lexicon_entry_matches_itself():
    """Each plain entry (no gap, alternatives or open suffix) is found in a sentence made of it."""
    for feature, groups in cues.LEXICON.items():
        for group in groups:
            for entry in group.entries:
                if group.kind == "regex" or any(c in entry for c in "…|*"):
                    continue
                found = cues.matches(f"ثم {entry} هنا")
                assert feature in found or (feature == "denial" and "not_denied" in found), (feature, entry)


def test_modules_import_no_heavy_dependencies():
    code = ("import sys, train.text, train.cues; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'numpy', 'torch', 'sklearn', 'transformers', 'scipy', 'pandas'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
