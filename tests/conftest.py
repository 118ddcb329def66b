"""Shared fixtures: tiny labelled data written to tmp_path, throwaway MLflow stores, real configs shrunk.

Tests run the real code paths on small inputs; nothing is mocked. Every fixture that trains works in
its own tmp_path, so runs, models and the MLflow store never touch the repo.
"""
from __future__ import annotations

import json
import sys
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


def as_articles(rows: list[dict], prefix: str, genre: str = "wire", size: int = 4) -> list[dict]:
    """Rows regrouped into articles of `size` sentences, in the article-corpus format."""
    out = []
    for i, row in enumerate(rows):
        art = f"{prefix}{i // size:02d}"
        out.append({"id": f"{art}-{i % size + 1:02d}", "article": art, "genre": genre, "index": i % size + 1,
                    "text": row["text"], "label": row["label"]})
    return out


def make_tiny_data(root: Path) -> dict[str, Path]:
    """Sentence corpus (train/dev), article splits (train/select/calibrate/test) and a gold article under
    root/data, in the repo's formats."""
    train, dev, gold = [], [], []
    for label, sents in TINY.items():
        for i, s in enumerate(sents):
            row = {"id": f"{label[:3]}{i}", "text": s, "label": label, "topic": "local_services", "source": "written"}
            (dev if i % 5 == 4 else train).append(row)
    for i, row in enumerate(dev):
        gold.append({"id": f"g{i:02d}", "article": "reference", "line": i + 1, "text": row["text"],
                     "label": row["label"]})
    gold[0]["alt_label"] = "opinion"
    gold.append({"id": "gskip", "article": "reference", "line": 99, "text": "بقلم مراسلنا", "label": "skip"})
    # articles mix the classes, as real ones do: interleave by class before grouping
    mixed = [train[j * 8 + i] for i in range(8) for j in range(4)]
    data = root / "data"
    return {
        "train": write_jsonl(data / "train.jsonl", train),
        "articles_train": write_jsonl(data / "articles" / "train.jsonl", as_articles(mixed, "tr")),
        "dev": write_jsonl(data / "dev.jsonl", dev),
        "select": write_jsonl(data / "articles" / "select.jsonl", as_articles(dev, "se")),
        "calibrate": write_jsonl(data / "articles" / "calibrate.jsonl", as_articles(dev, "ca")),
        "test": write_jsonl(data / "articles" / "test.jsonl", as_articles(dev, "te")),
        "gold": write_jsonl(data / "gold" / "article.jsonl", gold),
    }


def save_tiny_baseline(directory: Path) -> Path:
    """A baseline fitted on the TINY sentences (no context), saved to `directory`: a model folder for tests."""
    from araclaim.train.baseline import fit
    from araclaim.train.config import BaselineConfig
    from araclaim.train.model import Classifier

    texts = [s for sents in TINY.values() for s in sents]
    labels = [lab for lab, sents in TINY.items() for _ in sents]
    return Classifier(fit(BaselineConfig(min_df=1), texts, labels, seed=13), "baseline").save(directory)


@pytest.fixture
def tiny_data(tmp_path) -> dict[str, Path]:
    return make_tiny_data(tmp_path)


@pytest.fixture(scope="session", autouse=True)
def araclaim_cache(tmp_path_factory):
    """Exported models, the precision probe and downloaded models go to a throwaway cache, not ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("araclaim-cache")
        mp.setenv("ARACLAIM_CACHE", str(path))
        yield path


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """One throwaway SQLite store for the session: creating a store runs ~5 s of DB migrations."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


@pytest.fixture
def experiment(request) -> str:
    """An experiment name of this test's own, so runs of other tests never show up in its queries."""
    return "test-" + request.node.name.replace("[", "-").replace("]", "")


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_data, mlflow_store, experiment) -> Path:
    """Run inside tmp_path; MLflow runs go to the session's throwaway store, in this test's experiment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    monkeypatch.setenv("ARACLAIM_TEST_EXPERIMENT", experiment)
    from araclaim.train.tracking import connect

    connect()  # an earlier test may have pointed MLflow's process-wide URI elsewhere
    return tmp_path


def shrink(tiny_data: dict[str, Path], experiment: str | None = None) -> list[str]:
    """--set overrides that point a real config at the tiny data (and this test's experiment)."""
    import os

    experiment = experiment or os.environ.get("ARACLAIM_TEST_EXPERIMENT", "araclaim-tests")
    return [f"data.train=[{tiny_data['train']}, {tiny_data['articles_train']}]", f"data.dev={tiny_data['dev']}",
            f"data.select={tiny_data['select']}", f"data.calibrate={tiny_data['calibrate']}",
            f"data.test={tiny_data['test']}", f"data.gold=[{tiny_data['gold']}]",
            f"tracking.experiment={experiment}"]


@pytest.fixture(scope="session")
def trained_baseline(tmp_path_factory, mlflow_store):
    """One baseline trained on the tiny data for the whole session (read-only use, please)."""
    from araclaim.train.config import load_config
    from araclaim.train.pipeline import train

    root = tmp_path_factory.mktemp("trained")
    data = make_tiny_data(root)
    cfg = load_config(REPO / "configs/baseline.yaml", shrink(data, "shared-baseline") + ["baseline.min_df=1"])
    result = train(cfg, runs_dir=root / "outputs")
    return result, data


def araclaim(*args) -> list[str]:
    """The `araclaim` command line, run as its own process with this venv's Python (for parallel runs and kills)."""
    return [sys.executable, "-m", "araclaim.eval.cli", *map(str, args)]


def train_args(tiny_data: dict[str, Path], config: str = "baseline", *extra: str) -> list[str]:
    """`train` arguments for a config shrunk to the tiny data (baseline: no context stacking, seconds to fit)."""
    sets = shrink(tiny_data) + (["baseline.min_df=1", "context=none"] if config.startswith("baseline") else [])
    return ["train", "--config", str(REPO / f"configs/{config}.yaml"),
            *[arg for s in [*sets, *extra] for arg in ("--set", s)]]
