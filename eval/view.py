"""An HTML page of labelled articles: `araclaim view labelled.jsonl` and `araclaim label ... --html out.html`.

One self-contained, right-to-left page (inline CSS, no script, no external file): each article with its sentences
coloured by class, every class probability on hover (the `title` attribute), non-sentences greyed with their
skip reason, a legend, and label counts per article and in total. `render` is a pure function of the records
that `araclaim label` writes; `read_labelled` reads them back from its JSONL or CSV output.
"""
from __future__ import annotations

import csv
import html
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from araclaim.train import atomic
from araclaim.train.errors import DataError
from araclaim.train.labels import LABELS

# Colour per class: (background, accent). Distinct in hue and also named in each sentence's tag, so the page
# reads without colour vision too. Labels outside LABELS (another label set) get OTHER.
COLOURS = {
    "assertion": ("#dbeafe", "#1d4ed8"),
    "denial": ("#fee2e2", "#b91c1c"),
    "attributed_claim": ("#fef3c7", "#92400e"),
    "opinion": ("#ede9fe", "#6d28d9"),
}
OTHER = ("#e0f2f1", "#00695c")
SKIPPED = ("#f3f4f6", "#6b7280")  # grey: not a sentence, not labelled
# The page is Arabic; the legend glosses the label names for readers who do not know the English keys.
GLOSSES = {"assertion": "إخبار", "denial": "نفي", "attributed_claim": "ادعاء منسوب", "opinion": "رأي"}

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 1rem; max-width: 60rem; font: 17px/1.7 "Noto Naskh Arabic", "Noto Sans Arabic",
  "DejaVu Sans", Tahoma, sans-serif; color: #111827; background: #fff; overflow-wrap: anywhere; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0; }
.meta, .source { color: #4b5563; font-size: .85rem; margin: 0; }
.legend, .counts { display: flex; flex-wrap: wrap; gap: .35rem .6rem; list-style: none; padding: 0; margin: .5rem 0; }
.legend li, .counts li { display: inline-flex; align-items: center; gap: .3rem; font-size: .85rem; }
.swatch { display: inline-block; width: 1rem; height: 1rem; border-radius: 3px; border: 2px solid; }
article { border-top: 1px solid #d1d5db; margin-top: 1.25rem; padding-top: .75rem; }
ol.sentences { list-style: none; padding: 0; margin: .5rem 0 0; }
li.s { margin: .3rem 0; padding: .25rem .6rem; border-inline-start: 4px solid; border-radius: 4px; }
li.s .tag { display: inline-block; margin-inline-start: .5rem; padding: 0 .4rem; border-radius: 3px;
  font: 12px/1.6 "DejaVu Sans Mono", monospace; color: #fff; white-space: nowrap; }
li.skipped { color: #6b7280; font-size: .9rem; }
li.skipped .tag { color: #374151; background: #e5e7eb; }
"""


def _css_class(label: str) -> str:
    return "lab-" + re.sub(r"[^a-z0-9_-]", "-", str(label).lower())


def _colour_rules(labels: Sequence[str]) -> str:
    rules = []
    for label in labels:
        bg, accent = COLOURS.get(label, OTHER)
        cls = _css_class(label)
        rules.append(f"li.{cls} {{ background: {bg}; border-color: {accent}; }}\n"
                     f"li.{cls} .tag, .swatch.{cls} {{ background: {accent}; border-color: {accent}; }}")
    rules.append(f"li.skipped {{ background: {SKIPPED[0]}; border-color: {SKIPPED[1]}; }}\n"
                 f".swatch.skipped {{ background: {SKIPPED[0]}; border-color: {SKIPPED[1]}; }}")
    return "\n".join(rules)


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _hover(rec: dict) -> str:
    """The title text: every class probability, highest first (and any warning)."""
    probs = rec.get("probs") or {}
    parts = [f"{lab}: {p:.2f}" for lab, p in sorted(probs.items(), key=lambda kv: -kv[1])]
    text = " | ".join(parts) if parts else str(rec.get("label"))
    return text + (f" | warning: {rec['warning']}" if rec.get("warning") else "")


def _sentence(rec: dict) -> str:
    text = _esc(rec.get("text"))
    if rec.get("label") is None:
        reason = rec.get("skipped") or "not labelled"
        return (f'<li class="s skipped" title="{_esc("skipped: " + reason)}">{text}'
                f'<bdi class="tag">skipped: {_esc(reason)}</bdi></li>')
    label = rec["label"]
    probs = rec.get("probs") or {}
    top = f" {probs[label]:.2f}" if label in probs else ""
    return (f'<li class="s {_css_class(label)}" title="{_esc(_hover(rec))}" data-label="{_esc(label)}">{text}'
            f'<bdi class="tag">{_esc(label)}{top}</bdi></li>')


def _counts(recs: list[dict], labels: Sequence[str]) -> str:
    labelled = Counter(r["label"] for r in recs if r.get("label") is not None)
    skipped = Counter(r.get("skipped") or "not labelled" for r in recs if r.get("label") is None)
    items = [f'<li><span class="swatch {_css_class(lab)}"></span><bdi>{_esc(lab)} {labelled[lab]}</bdi></li>'
             for lab in labels if labelled[lab]]
    if skipped:
        why = ", ".join(f"{_esc(k)} {v}" for k, v in sorted(skipped.items()))
        items.append(f'<li><span class="swatch skipped"></span><bdi>skipped {sum(skipped.values())} ({why})</bdi></li>')
    return f'<ul class="counts">{"".join(items)}</ul>'


def _group(records: Iterable[dict]) -> dict[tuple[str, str], list[dict]]:
    """Records by (source, article), articles in order of first appearance, sentences in file order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for rec in records:
        groups.setdefault((str(rec.get("source") or ""), str(rec.get("article") or "")), []).append(rec)
    return groups


def render(records: Iterable[dict], title: str = "araclaim", labels: Sequence[str] = LABELS) -> str:
    """The whole page for `araclaim label`'s records (dicts with article, source, text, label, skipped, probs).

    Every value from the records is HTML-escaped; labels outside `labels` are appended in order of appearance.

    >>> page = render([{"article": "a", "text": "نفت الوزارة <الخبر>", "label": "denial",
    ...                 "probs": {"denial": 0.9, "assertion": 0.1}}])
    >>> 'dir="rtl"' in page and "&lt;الخبر&gt;" in page and 'title="denial: 0.90 | assertion: 0.10"' in page
    True
    """
    groups = _group(records)
    recs = [r for group in groups.values() for r in group]
    labels = list(labels) + sorted({r["label"] for r in recs if r.get("label") is not None} - set(labels))
    total = Counter(r["label"] for r in recs if r.get("label") is not None)
    n_skipped = sum(1 for r in recs if r.get("label") is None)
    models = sorted({str(r["model"]) for r in recs if r.get("model")})
    # English runs sit in <bdi> so the right-to-left page does not reorder their words and numbers
    legend = "".join(f'<li><span class="swatch {_css_class(lab)}"></span><bdi>{_esc(lab)} ({total[lab]})</bdi>'
                     f'{" " + GLOSSES[lab] if lab in GLOSSES else ""}</li>' for lab in labels)
    legend += f'<li><span class="swatch skipped"></span><bdi>skipped ({n_skipped})</bdi> ليست جملة</li>'
    articles = []
    for i, ((source, article), group) in enumerate(groups.items(), 1):
        articles.append(
            f'<article id="article-{i}"><h2><bdi>{_esc(article)}</bdi></h2>'
            + (f'<p class="source"><bdi>{_esc(source)}</bdi></p>' if source and source != article else "")
            + _counts(group, labels)
            + f'<ol class="sentences">{"".join(_sentence(r) for r in group)}</ol></article>')
    meta = (f"<bdi>{len(groups)} article{'' if len(groups) == 1 else 's'} · {len(recs) - n_skipped} sentences "
            f"labelled · {n_skipped} skipped" + (f" · model {_esc(', '.join(models))}" if models else "") + "</bdi>")
    return ("<!doctype html>\n"
            f'<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_CSS}{_colour_rules(labels)}</style></head>\n"
            f'<body><header><h1><bdi>{_esc(title)}</bdi></h1><p class="meta">{meta}</p>'
            f'<ul class="legend">{legend}</ul><p class="meta">مرّر المؤشر فوق جملة لرؤية احتمال كل صنف.</p></header>\n'
            f'<main>{"".join(articles)}</main></body></html>\n')


# --- reading labelled files back ----------------------------------------------------------------

REQUIRED = ("article", "text", "label")


def read_labelled(path: str | Path) -> list[dict]:
    """Records of an `araclaim label` output (.jsonl, or .csv by suffix; "-" reads JSONL from stdin).

    Raises DataError naming file:line for a record that is not one.
    """
    name = str(path)
    if name != "-" and Path(name).suffix.lower() == ".csv":
        return _read_csv(Path(name))
    if name == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = Path(name).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{name}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    out = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{name}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        out.append(_checked(rec, f"{name}:{lineno}"))
    return out


def _read_csv(path: Path) -> list[dict]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read as CSV ({getattr(exc, 'strerror', None) or exc})") from None
    out = []
    for lineno, row in enumerate(rows, 2):  # line 1 is the header
        rec = {k: (v if v != "" else None) for k, v in row.items() if k and not k.startswith("prob_")}
        probs = {k[len("prob_"):]: v for k, v in row.items() if k and k.startswith("prob_") and v not in ("", None)}
        try:
            rec["probs"] = {lab: float(v) for lab, v in probs.items()} or None
        except ValueError:
            raise DataError(f"{path}:{lineno}: a prob_ column is not a number") from None
        out.append(_checked(rec, f"{path}:{lineno}"))
    return out


def _checked(rec, where: str) -> dict:
    if not isinstance(rec, dict) or any(k not in rec for k in REQUIRED):
        raise DataError(f"{where}: not a labelled sentence (needs fields {', '.join(REQUIRED)}); "
                        "pass the output of `araclaim label`")
    if not isinstance(rec.get("probs"), (dict, type(None))):
        raise DataError(f"{where}: probs should be an object of class -> probability")
    return rec


def write_page(records: list[dict], out: str | Path, title: str) -> None:
    """Render `records` into `out` ("-": stdout), creating its directory."""
    page = render(records, title)
    if str(out) == "-":
        sys.stdout.write(page)
        return
    atomic.write_text(out, page)  # creates the directory; a killed run leaves the previous page
