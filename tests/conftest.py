"""Shared fixtures: tiny labelled data written to tmp_path, throwaway MLflow stores, real configs shrunk.

Tests run the real code paths on small inputs; nothing is mocked. Every fixture that trains works in
its own tmp_path, so runs, models and the MLflow store never touch the repo.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Our own short sentences, enough for a model to separate the classes by their cues.
TINY = {
    "assertion": [
        "افتتحت البلدية حديقة عامة جديدة في الحي الشمالي",
        "ارتفع عدد الطلاب المسجلين إلى أربعة آلاف طالب",
        "وصل الفريق الوطني إلى العاصمة مساء الخميس",
        "انخفضت أسعار الخضار في السوق المركزي هذا الأسبوع",
        "بدأت أعمال صيانة الطريق الساحلي صباح اليوم",
        "عقد المجلس البلدي جلسته الشهرية في مقره",
        "سجلت المحطة درجة حرارة بلغت أربعين درجة",
        "أغلقت المدارس أبوابها بسبب العاصفة الرملية",
        "تضم المكتبة الجديدة أكثر من عشرة آلاف كتاب",
        "فاز النادي بالمباراة بهدفين مقابل هدف واحد",
    ],
    "denial": [
        "نفت الوزارة صحة التقارير عن إغلاق المستشفى",
        "نفى المتحدث باسم الشركة وجود أي تسريح للعمال",
        "وصفت الهيئة الأنباء المتداولة بأنها لا أساس لها من الصحة",
        "نفى النادي الشائعات حول رحيل المدرب",
        "كذبت الشرطة الرواية المنشورة عن الحادث",
        "نفت البلدية أن تكون قد رفعت رسوم المياه",
        "أنكر المتهم التهم الموجهة إليه أمام المحكمة",
        "دحضت الجامعة المزاعم حول تسريب الامتحانات",
        "نفى الوزير قطعيا ما تردد عن استقالته",
        "قالت الشركة إن الاتهامات عارية عن الصحة",
    ],
    "attributed_claim": [
        "قال وزير المالية إن العجز سينخفض العام المقبل",
        "ذكرت وكالة الأنباء أن الاجتماع سيعقد غدا",
        "أفاد مصدر مطلع بأن المفاوضات وصلت إلى مرحلة متقدمة",
        "بحسب التقرير السنوي ارتفعت الصادرات بنسبة كبيرة",
        "أعلنت الشركة أنها ستفتتح فرعا جديدا في المدينة",
        "أكد المدير أن المشروع سينجز في موعده",
        "يقال إن المدرب يفكر في الاستقالة",
        "توقع خبراء الاقتصاد تباطؤ النمو خلال الربع المقبل",
        "اتهم النائب الحكومة بإهدار المال العام",
        "وفقا للشرطة فإن الحادث وقع في ساعة متأخرة",
    ],
    "opinion": [
        "يجب على الحكومة أن تراجع سياستها الضريبية فورا",
        "للأسف لم تتعلم الإدارة من أخطائها السابقة",
        "إنه قرار فاشل بكل المقاييس",
        "ينبغي أن نعطي الشباب فرصة حقيقية للمشاركة",
        "كيف يمكن لأحد أن يصدق هذه الوعود؟",
        "يبدو أن الأزمة ستطول أكثر مما نتوقع",
        "لا بد من إصلاح شامل لنظام التعليم",
        "هذا أداء مخيب للآمال من فريق كبير",
        "في رأيي إن الخطة تفتقر إلى الواقعية",
        "ما أجمل أن نرى المدينة نظيفة هكذا!",
    ],
}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def tiny_data(tmp_path) -> dict[str, Path]:
    """train/dev/select/gold files in tmp_path/data, in the repo's formats."""
    train, dev, gold = [], [], []
    for label, sents in TINY.items():
        for i, s in enumerate(sents):
            row = {"id": f"{label[:3]}{i}", "text": s, "label": label, "topic": "local_services", "source": "written"}
            (dev if i % 5 == 4 else train).append(row)
    for i, row in enumerate(dev):
        gold.append({"id": f"g{i:02d}", "line": i + 1, "text": row["text"], "label": row["label"]})
    gold[0]["alt_label"] = "opinion"
    gold.append({"id": "gskip", "line": 99, "text": "بقلم مراسلنا", "label": "skip"})
    data = tmp_path / "data"
    return {
        "train": write_jsonl(data / "train.jsonl", train),
        "dev": write_jsonl(data / "dev.jsonl", dev),
        "select": write_jsonl(data / "dev_articles.jsonl", [dict(r, id=f"s{r['id']}") for r in dev]),
        "gold": write_jsonl(data / "gold" / "article.jsonl", gold),
    }


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_data) -> Path:
    """Run inside tmp_path with a throwaway SQLite MLflow store there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlruns.db'}")
    return tmp_path


def shrink(tiny_data: dict[str, Path]) -> list[str]:
    """--set overrides that point a real config at the tiny data."""
    return [f"data.train={tiny_data['train']}", f"data.dev={tiny_data['dev']}",
            f"data.select={tiny_data['select']}", f"data.gold=[{tiny_data['gold']}]"]
