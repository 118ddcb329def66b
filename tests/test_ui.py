"""`araclaim ui` in headless Chromium: the printed link opens the training runs with their metrics grouped by
split, and a run's confusion matrix is one click away.

Needs Debian's `chromium` (make test installs it) and Playwright's Python package (the dev extra), which drives
that chromium: no browser is downloaded. Skips, saying why, where either is missing. The runs view is saved as
outputs/ui/runs.png, the screenshot in the README's "Compare in the UI".
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from araclaim.eval.ui import say_store, training_runs_link
from araclaim.train.config import load_config
from araclaim.train.pipeline import train

from conftest import REPO, araclaim, make_tiny_data, shrink

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the dev extra has it
    sync_playwright = None
MISSING = ("Debian's chromium is not installed and could not be (make test runs `apt-get install -y chromium` as "
           "root); the UI is not opened" if CHROMIUM is None else
           "playwright is not installed (pip install -e '.[dev]')" if sync_playwright is None else None)
needs_browser = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
SCREENSHOT = REPO / "outputs" / "ui" / "runs.png"
WAIT_MS = 120_000  # the UI's first page on two busy cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """A throwaway store with two quick baseline runs (with and without cue features) in experiment araclaim."""
    root = tmp_path_factory.mktemp("ui")
    data = make_tiny_data(root)
    uri = f"sqlite:///{root / 'store' / 'mlflow.db'}"
    for config in ("baseline", "baseline-ngrams"):
        sets = shrink(data, "araclaim") + ["baseline.min_df=1", "context=none", f"tracking.uri={uri}"]
        train(load_config(REPO / f"configs/{config}.yaml", sets), runs_dir=root / "outputs")
    return uri


@pytest.fixture
def ui(store, tmp_path):
    """`araclaim ui` over the store, started from a directory outside the repo; yields (link, stderr text)."""
    port = free_port()
    out, err = tmp_path / "ui.out", tmp_path / "ui.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen(araclaim("ui", "--port", port), cwd=tmp_path, stdout=stdout, stderr=stderr,
                                env={**os.environ, "MLFLOW_TRACKING_URI": store}, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while not out.read_text().strip() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert out.read_text().strip(), f"no link printed (exit {proc.poll()}):\n{err.read_text()[-3000:]}"
        yield out.read_text().strip(), err.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the UI and its server
        proc.wait(timeout=30)


@needs_browser
def test_ui_link_opens_the_runs_with_grouped_metrics_and_a_confusion_matrix(ui, store):
    link, said = ui
    db = store[len("sqlite:///"):]
    assert f"over the store {db}" in said and "experiment 'araclaim': 2 run(s)" in said
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/#/experiments/\d+/runs\?workflowType=machine_learning"
                        r"&compareRunsMode=CHART", link)
    assert "Warning" not in said and "\x1b[" not in said  # no library warnings, no raw colour codes

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        page.goto(link)
        page.get_by_role("link", name="baseline-ngrams", exact=True).wait_for()
        page.get_by_role("link", name="baseline", exact=True).wait_for()
        page.get_by_text("gold_article", exact=True).first.wait_for()
        text = page.inner_text("body")
        assert "/runs" in page.url and "Detect Issues" not in text  # the training runs, not GenAI traces
        for group in ("select", "test", "gold_article", "gold_article_ci", "gold_article_per_class", "cost"):
            assert re.search(rf"^{group}\n\(\d+\)$", text, re.M), group  # a chart section per metric group
        _close_assistant(page)
        page.get_by_placeholder("Search metric charts").fill("/macro_f1")  # the README's walk-through
        page.get_by_text("calibrate/lenient_macro_f1", exact=True).first.wait_for(state="detached")
        page.wait_for_timeout(1000)  # the charts' bars animate in
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        page.get_by_role("link", name="baseline-ngrams", exact=True).click()
        page.get_by_text("Macro-F1 select", exact=False).first.wait_for()  # the run's description
        page.get_by_role("tab", name="Artifacts").click()
        page.get_by_text("confusion_gold_article.png", exact=True).click()
        page.get_by_text("gold_article (n=8)").or_(page.locator("img[src^='blob:']")).first.wait_for()
        # the preview is the PNG fetched from the store's artifacts, shown as a blob: image
        page.wait_for_function("[...document.images].some(i => i.src.startsWith('blob:') && i.naturalWidth > 300)")
        browser.close()


def _close_assistant(page) -> None:
    """MLflow 3 opens its assistant panel on a browser's first visit; close it for the screenshot."""
    close = page.get_by_role("button", name="Close", exact=True)  # the panel's only button labelled so
    if close.count():
        close.first.click()
        close.first.wait_for(state="hidden", timeout=10_000)


def test_links_for_an_experiment_and_for_none():
    assert training_runs_link("http://h:1/", "7") == \
        "http://h:1/#/experiments/7/runs?workflowType=machine_learning&compareRunsMode=CHART"
    assert training_runs_link("http://h:1", None) == "http://h:1/#/experiments?workflowType=machine_learning"


def test_a_store_without_runs_is_named_and_warned_about(capsys):
    say_store("the store /x/mlflow.db", "araclaim", None, 0)
    assert "over the store /x/mlflow.db" in capsys.readouterr().err
    say_store("the store /x/mlflow.db", "araclaim", "3", 0)
    assert "warning: experiment 'araclaim' has no runs in this store" in capsys.readouterr().err
    say_store("the store /x/mlflow.db", "araclaim", "3", 2)
    assert "warning" not in capsys.readouterr().err
