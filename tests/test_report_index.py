"""The report's index.html: one self-contained page, checked in headless Chromium.

A small synthetic sweep (tests/helpers/synthetic_sweep.py: 2 x 2 units x seed, gate images,
one failed run) with two runs renamed to HTML, then the report; the page is opened from a
file:// URL with every request recorded and any that is not the page itself aborted.
"""

import base64
import csv
import html
import re
import shutil

import pytest

from tests.helpers.tensorboard_browser import CHROMIUM_ARGS, find_chromium

HOSTILE = "<img src=x onerror=alert(1)>"
QUOTED = 'a&amp;b "q" \'r\''


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The Report of a synthetic sweep whose runs 1 and 2 are named HOSTILE and QUOTED."""
    from lstm_experiments.report import build_report
    from tests.helpers.synthetic_sweep import make_synthetic_sweep

    sweep = make_synthetic_sweep(tmp_path_factory.mktemp("index") / "sweep", n_runs=4, n_steps=3,
                                 images=True, failed=(3,))
    shutil.move(sweep / "1", sweep / HOSTILE)
    shutil.move(sweep / "2", sweep / QUOTED)
    return build_report(sweep, reader="python", jobs=1, gates=["forget", "input"])


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_index_is_written_last_and_listed(report):
    index = report.out_dir / "index.html"
    assert report.files[-1] == index and index.is_file()
    figures = [p for p in report.files if p.suffix == ".png"]
    assert [f.path for f in report.figures] == figures
    assert len([f for f in report.figures if f.kind == "curve"]) == 5
    assert [f.path.name for f in report.figures if f.kind == "strip"] == [
        "strip_lstm_recurrent_kernel_forget.png", "strip_lstm_recurrent_kernel_input.png"]


def test_index_escapes_and_embeds_without_a_browser(report):
    """The names only ever appear escaped; no script; every src a data: URI, every link the page's
    own anchors or the tables beside it; the CSP lets nothing else load."""
    from lstm_experiments.report.folder import TABLE_FILES
    from lstm_experiments.report.page import CONTENT_SECURITY_POLICY

    text = (report.out_dir / "index.html").read_text()
    assert HOSTILE not in text and html.escape(HOSTILE) in text
    assert QUOTED not in text and html.escape(QUOTED) in text
    assert "<script" not in text.lower()
    assert f'content="{html.escape(CONTENT_SECURITY_POLICY)}"' in text
    sources = re.findall(r'\ssrc="([^"]*)"', text)
    assert len(sources) == len(report.figures)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    links = re.findall(r'\shref="([^"]*)"', text)
    assert links and all(link.startswith("#") or link in TABLE_FILES for link in links), links
    for path in report.files:
        if path.suffix == ".png":
            assert text.count(base64.b64encode(path.read_bytes()).decode()) == 1, path.name


def _cells(page, table_id):
    """Each body row of a table as the exact values: a cell's title if it has one, else its text."""
    return page.evaluate(
        """(id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) =>
            [...tr.cells].map((td) => td.hasAttribute('title') ? td.title : td.textContent))""",
        table_id,
    )


@pytest.mark.slow
def test_index_in_chromium_offline(report):
    """Every image loads from the page itself (with JavaScript on and off), nothing else is
    requested, the tables are the CSVs, each figure comes once, and the HTML-named runs are text."""
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    index = report.out_dir / "index.html"
    url = index.as_uri()
    requests, dialogs = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True)
            context.route("**/*", lambda route: route.continue_() if route.request.url == url
                          else route.abort())
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url, wait_until="load")
            images = page.evaluate(
                """() => [...document.images].map((img) => ({file: img.dataset.file || null,
                    src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth}))""")
            summary, aggregated = _cells(page, "summary-table"), _cells(page, "aggregated-table")
            headers = page.evaluate(
                """() => [...document.querySelectorAll('#summary-table thead th')].map((th) => th.textContent)""")
            run_column = page.evaluate(
                """() => [...document.querySelectorAll('#summary-table tbody tr')].map((tr) => ({
                    text: tr.cells[0].textContent, elements: tr.cells[0].children.length}))""")
            scripts = page.evaluate("() => document.scripts.length")
            headings = page.evaluate(
                """() => [...document.querySelectorAll('section.figure')].map((s) => ({
                    heading: s.querySelector('h3').textContent, file: s.querySelector('img').dataset.file}))""")
            # The page needs no script: with JavaScript off the images load all the same.
            quiet = browser.new_context(java_script_enabled=False, offline=True).new_page()
            quiet.goto(url, wait_until="load")
            widths_without_js = quiet.evaluate("() => [...document.images].map((img) => img.naturalWidth)")
        finally:
            browser.close()

    assert [r for r in requests if r != url and not r.startswith("data:")] == []
    assert dialogs == [] and scripts == 0
    figures = [p.name for p in report.files if p.suffix == ".png"]
    assert sorted(i["file"] for i in images) == sorted(figures)  # every image is a figure, each once
    for image in images:
        assert image["complete"] and image["width"] > 0, image["file"]
        assert image["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(image["src"].split(",", 1)[1]) == (report.out_dir / image["file"]).read_bytes()
    assert len(widths_without_js) == len(figures) and min(widths_without_js) > 0
    assert [h["file"] for h in headings] == figures
    for entry in headings:
        assert entry["heading"].strip(), entry

    summary_csv = read_csv(report.out_dir / "summary.csv")
    assert headers == summary_csv[0]
    assert summary == summary_csv[1:]
    assert aggregated == read_csv(report.out_dir / "aggregated.csv")[1:]
    assert {HOSTILE, QUOTED} <= {r["text"] for r in run_column}
    assert all(r["elements"] == 0 for r in run_column)  # text, not an <img> made from a name


def test_markdown_tables_hold_every_value_whatever_the_run_names(report):
    """summary.md and aggregated.md: narrow tables, every CSV value in them, HTML-named runs as text."""
    from test_sweep_report import check_aggregated_markdown, check_summary_markdown

    check_summary_markdown(report.out_dir)
    check_aggregated_markdown(report.out_dir)


def test_every_statistic_has_a_meaning_on_the_page():
    from lstm_experiments.report.page import STATISTIC_MEANINGS
    from lstm_experiments.tensorboard import tags

    assert list(STATISTIC_MEANINGS) == list(tags.STATISTICS)
