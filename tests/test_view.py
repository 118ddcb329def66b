"""The HTML view: `araclaim view` and `araclaim label --html`, rendered in headless Chromium.

The browser tests need Debian's `chromium` (make test installs it); they skip, saying so, where it is not
installed. The page from the end-to-end test is also saved as a screenshot under outputs/view/.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from araclaim.eval.cli import main
from araclaim.eval.view import COLOURS, SKIPPED, read_labelled, render
from araclaim.train.errors import DataError

from conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed and could not be (make test runs "
                             "`apt-get install -y chromium` as root); the HTML view is not rendered")
SCREENSHOT = REPO / "outputs" / "view" / "labelled.png"

ARTICLE_1 = """بقلم: مراسل الشؤون المحلية

نفت وزارة الصحة صحة التقارير المتداولة عن إغلاق المستشفى المركزي. وقال المتحدث باسم الوزارة إن المستشفى يعمل بشكل طبيعي.
افتتحت البلدية حديقة عامة جديدة في الحي الشمالي. يجب على الحكومة أن تراجع سياستها الصحية فورا!
https://example.com/news/""" + "a" * 300 + "\n"
ARTICLE_2 = "ذكرت وكالة الأنباء أن الاجتماع سيعقد غدا. للأسف لم تتعلم الإدارة من أخطائها السابقة.\n"


def rec(text, label, **kw):
    probs = None if label is None else {lab: (0.7 if lab == label else 0.1) for lab in COLOURS}
    return {"article": kw.pop("article", "a1"), "source": "news/a1.txt", "index": 0, "text": text, "label": label,
            "skipped": kw.pop("skipped", None), "warning": None, "probs": probs, "model": "runs:/x/model", **kw}


def test_render_escapes_groups_and_counts():
    page = render([rec("بقلم <b>مراسلنا</b>", None, skipped="byline"), rec("نفت الوزارة \"الخبر\" & غيره", "denial"),
                   rec("قال الوزير", "attributed_claim", article="a2")], title="out <1>.jsonl")
    assert page.startswith("<!doctype html>") and '<html lang="ar" dir="rtl">' in page
    assert "<b>" not in page and "بقلم &lt;b&gt;مراسلنا&lt;/b&gt;" in page
    assert "&quot;الخبر&quot; &amp; غيره" in page and "<title>out &lt;1&gt;.jsonl</title>" in page
    assert page.count("<article ") == 2  # grouped by article, in order of appearance
    assert 'title="denial: 0.70 | assertion: 0.10 | attributed_claim: 0.10 | opinion: 0.10"' in page
    assert 'title="skipped: byline"' in page and "skipped 1 (byline 1)" in page
    assert "<script" not in page and "http" not in page.split("<body>")[0]  # self-contained: no script, no fetch


def test_read_labelled_jsonl_csv_and_errors(tmp_path):
    rows = [rec("نفت الوزارة", "denial"), rec("بقلم مراسلنا", None, skipped="byline")]
    jsonl = tmp_path / "l.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert read_labelled(jsonl) == rows
    csv_path = tmp_path / "l.csv"
    csv_path.write_text("article,source,index,text,label,skipped,prob_denial,prob_opinion\n"
                        "a1,x,0,نفت الوزارة,denial,,0.9,0.1\na1,x,1,بقلم مراسلنا,,byline,,\n", encoding="utf-8")
    got = read_labelled(csv_path)
    assert got[0]["probs"] == {"denial": 0.9, "opinion": 0.1} and got[1]["label"] is None and got[1]["probs"] is None
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl:2: invalid JSON"):
        read_labelled(bad)
    bad.write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl:1: not a labelled sentence .*araclaim label"):
        read_labelled(bad)


def test_view_command(tmp_path, capsys):
    labelled = tmp_path / "out.jsonl"
    labelled.write_text(json.dumps(rec("نفت الوزارة", "denial"), ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["view", str(labelled)]) == 0
    assert "نفت الوزارة" in (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "1 sentences of 1 article(s) -> " in capsys.readouterr().err
    assert main(["view", str(labelled), "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("<!doctype html>")
    assert main(["view", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["view", str(labelled), "-o", str(labelled)]) == 2


def chromium(*args: str, user_data_dir, timeout: int = 90) -> str:
    """Run headless Chromium with no network side-traffic and a fresh profile; its stdout."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={user_data_dir}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


# Added to a copy of the page by the test only (the page itself has no script): what the browser laid out.
PROBE = """<script>
const root = document.documentElement;
const colours = {};
for (const li of document.querySelectorAll("li.s")) {
  const key = li.dataset.label || "skipped";
  (colours[key] = colours[key] || new Set()).add(getComputedStyle(li).backgroundColor);
}
const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > root.clientWidth + 1
  || e.getBoundingClientRect().left < -1).map(e => e.tagName + "." + e.className);
const probe = document.createElement("pre");
probe.id = "probe";
probe.textContent = JSON.stringify({scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, dir: root.dir,
  colours: Object.fromEntries(Object.entries(colours).map(([k, v]) => [k, [...v]])), outside: wide,
  text: document.body.innerText});
document.body.appendChild(probe);
</script>"""


def probe(page: str, tmp_path, width: int) -> dict:
    """Lay the page out at `width` CSS pixels and return what PROBE measured."""
    path = tmp_path / f"probe-{width}.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium("--dump-dom", f"--window-size={width},900", path.as_uri(), user_data_dir=tmp_path / "profile")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    import html

    return json.loads(html.unescape(found.group(1)))


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@needs_chromium
def test_label_html_renders_in_chromium(tmp_path, trained_baseline, capsys):
    result, _ = trained_baseline
    news = tmp_path / "news"
    news.mkdir()
    (news / "health.txt").write_text(ARTICLE_1, encoding="utf-8")
    (news / "meeting.txt").write_text(ARTICLE_2, encoding="utf-8")
    out, page_path = tmp_path / "labelled.jsonl", tmp_path / "labelled.html"
    assert main(["label", "--model", str(result.model_dir), str(news), "-o", str(out), "--html", str(page_path)]) == 0
    assert f"HTML view -> {page_path}" in capsys.readouterr().err
    records = read_labelled(out)
    page = page_path.read_text(encoding="utf-8")
    labelled = [r for r in records if r["label"]]
    assert {r["skipped"] for r in records if not r["label"]} >= {"byline", "url"}

    # narrow (headless Chromium's smallest window, 500 px) and desktop: nothing may stick out sideways
    for width in (500, 1000):
        seen = probe(page, tmp_path, width)
        assert abs(seen["clientWidth"] - width) <= 20, seen["clientWidth"]  # the layout width we asked for
        assert seen["scrollWidth"] <= seen["clientWidth"], (width, seen["outside"])
        assert not seen["outside"], (width, seen["outside"])
    assert seen["dir"] == "rtl"
    text = seen["text"]
    for needle in ("health", "meeting", "skipped: byline", "skipped: url", "بقلم: مراسل الشؤون المحلية",
                   *COLOURS, "نفي", "رأي"):
        assert needle in text, needle
    for r in labelled:
        assert r["text"] in text
    # one colour per class, the one the legend promises, and grey for non-sentences
    for label, found in seen["colours"].items():
        assert found == [rgb(SKIPPED[0]) if label == "skipped" else rgb(COLOURS[label][0])], label
    assert set(seen["colours"]) == {r["label"] for r in labelled} | {"skipped"}
    assert len({c[0] for c in seen["colours"].values()}) == len(seen["colours"])
    # the probability on hover
    for r in labelled:
        top = f"{r['label']}: {r['probs'][r['label']]:.2f}"
        assert re.search(rf'title="{re.escape(top)} \|', page), top

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    chromium(f"--screenshot={SCREENSHOT}", "--window-size=1000,1100", page_path.as_uri(),
             user_data_dir=tmp_path / "profile")
    assert SCREENSHOT.stat().st_size > 10_000
