"""Drive TensorBoard in headless Chromium (Playwright), for the browser test and the README's screenshots.

Uses Debian's ``/usr/bin/chromium``: ``playwright install`` cannot download a
browser here. Playwright is a test dependency, imported only when this runs.
"""

import base64
import json
import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Without these, Chromium keeps trying to reach Google's services, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
LOAD_TIMEOUT_MS = 90_000


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def rendered_images(page) -> list[dict]:
    """Every <img> TensorBoard drew (shadow DOMs included): its src and natural size."""
    return page.evaluate(
        """() => {
            const found = [];
            const walk = (root) => root.querySelectorAll('*').forEach((el) => {
                if (el.tagName === 'IMG') found.push(
                    {src: el.src, width: el.naturalWidth, height: el.naturalHeight, complete: el.complete});
                if (el.shadowRoot) walk(el.shadowRoot);
            });
            walk(document);
            return found;
        }"""
    )


class Browser:
    """A headless Chromium session: ``with Browser() as browser: page = browser.open(url)``."""

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        executable = find_chromium()
        if executable is None:
            raise FileNotFoundError("chromium not found: apt-get install chromium, or set CHROMIUM_PATH")
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        return self

    def open(self, url: str, viewport=VIEWPORT):
        page = self._browser.new_page(viewport=viewport)
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        page.goto(url)
        return page

    def __exit__(self, *exc):
        self._browser.close()
        self._playwright.stop()


def dashboard_url(base: str, dashboard: str, tag_filter: str | None = None) -> str:
    """The URL of a TensorBoard dashboard, optionally with its tag filter (a regex) set."""
    url = f"{base}/#{dashboard}"
    return f"{url}&tagFilter={quote(tag_filter, safe='')}" if tag_filter else url


def blob_key_of(src: str) -> dict:
    """Decode an individualImage URL's blob key: TensorBoard packs [experiment, run, tag, step, index]."""
    (key,) = parse_qs(urlparse(src).query)["blob_key"]
    experiment, run, tag, step, index = json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    return {"run": run, "tag": tag, "step": step, "index": index}


def wait_for_images(page, minimum: int) -> list[dict]:
    """Wait until at least ``minimum`` images have loaded with a real size; return them."""
    page.wait_for_function(
        """(minimum) => {
            let loaded = 0;
            const walk = (root) => root.querySelectorAll('*').forEach((el) => {
                if (el.tagName === 'IMG' && el.src.includes('individualImage')
                    && el.complete && el.naturalWidth > 0) loaded += 1;
                if (el.shadowRoot) walk(el.shadowRoot);
            });
            walk(document);
            return loaded >= minimum;
        }""",
        arg=minimum,
    )
    return [
        {**image, **blob_key_of(image["src"])}
        for image in rendered_images(page)
        if "individualImage" in image["src"] and image["width"] > 0
    ]


def plugin_frame(page, plugin: str, timeout_ms: int = LOAD_TIMEOUT_MS):
    """The iframe in which TensorBoard runs an ES-module plugin's page (data/plugin_entry.html?name=...)."""
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    marker = f"plugin_entry.html?name={plugin}"
    while True:
        frame = next((f for f in page.frames if marker in f.url), None)
        if frame is not None:
            return frame
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {plugin} iframe in {[f.url for f in page.frames]}")
        page.wait_for_timeout(200)


GATES_ROOT = "[data-testid=lstm-gates]"


def wait_for_gates(frame, step: int | None = None) -> None:
    """Wait until the GATES page (board/static) shows ``step`` (default: its slider's step) in every panel.

    The page's hooks: its root's data-complete and data-step, and each canvas' data-step
    (the step it shows; an input above the activations has one when it is what the layer read
    at that step, data-source=layer, and none when it is the model's input at step 0).
    """
    frame.wait_for_function(
        """([root, step]) => {
            const node = document.querySelector(root);
            if (!node || node.dataset.complete !== 'true') return false;
            const want = step === null ? node.dataset.step : String(step);
            const canvases = [...node.querySelectorAll('canvas[data-testid]')]
                .filter((c) => c.dataset.testid !== 'input-panel' || c.dataset.source === 'layer');
            return node.dataset.step === want && canvases.length > 0
                && canvases.every((c) => c.dataset.step === want);
        }""",
        arg=[GATES_ROOT, step],
    )
