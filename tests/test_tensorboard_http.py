"""A real TensorBoard serves a finished run: its HTTP data API, and the Images dashboard in Chromium."""

import os
import urllib.parse

import pytest

from conftest import TINY, compose_config
from tests.helpers.tensorboard_server import get_json, tensorboard

pytestmark = pytest.mark.slow

GATE_TAGS = [f"gates/lstm/recurrent_kernel/{g}" for g in ("input", "forget", "cell", "output")]
STEPS = list(range(4))  # step 0 plus three epochs


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from lstm_experiments.run.experiment import run_experiment

    run_dir = tmp_path_factory.mktemp("tb") / "run"
    run_experiment(compose_config([*TINY, "viz=all", "train.epochs=3"]), run_dir)
    return run_dir


def image_steps(base, run, tag):
    query = urllib.parse.urlencode({"run": run, "tag": tag, "sample": 0})
    return [e["step"] for e in get_json(f"{base}/data/plugin/images/images?{query}")]


def test_http_api_lists_our_tags_and_keeps_every_step(finished_run):
    with tensorboard(finished_run, extra_args=["--samples_per_plugin", "images=1000"]) as base:
        (run,) = get_json(f"{base}/data/runs")
        images = get_json(f"{base}/data/plugin/images/tags")[run]
        scalars = get_json(f"{base}/data/plugin/scalars/tags")[run]
        histograms = get_json(f"{base}/data/plugin/histograms/tags")[run]
        assert set(GATE_TAGS) <= set(images)
        assert {"kernel/lstm/kernel", "bias/lstm/bias/forget"} <= set(images)
        assert {"metrics/loss", "metrics/val_loss", "scale/lstm/recurrent_kernel"} <= set(scalars)
        assert "histograms/lstm/bias/forget" in histograms
        assert image_steps(base, run, GATE_TAGS[1]) == STEPS


def test_samples_per_plugin_images_zero_keeps_no_images(finished_run):
    """The README warns about this: images=0 used to mean 'all', TensorBoard 2.21 keeps none."""
    with tensorboard(finished_run, extra_args=["--samples_per_plugin", "images=0"]) as base:
        (run,) = get_json(f"{base}/data/runs")
        assert image_steps(base, run, GATE_TAGS[1]) == []


def test_images_dashboard_renders_gate_images_in_chromium(finished_run):
    pytest.importorskip("playwright")
    from tests.helpers.tensorboard_browser import (
        Browser, dashboard_url, find_chromium, wait_for_images,
    )

    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with tensorboard(finished_run) as base, Browser() as browser:
        page = browser.open(dashboard_url(base, "images", "gates/lstm/recurrent_kernel"))
        loaded = wait_for_images(page, len(GATE_TAGS))
        # Each card's title names its tag (Playwright's text locators pierce the shadow DOM).
        titled = {tag: page.get_by_text(tag, exact=True).count() for tag in GATE_TAGS}
    gate_images = {i["tag"]: i for i in loaded if i["tag"] in GATE_TAGS}
    assert set(gate_images) == set(GATE_TAGS)
    assert all(titled.values()), titled
    # The dashboard shows each tag's last step; a tiny (4 x 4) gate block is drawn at 256 x 256.
    assert {i["step"] for i in gate_images.values()} == {STEPS[-1]}
    assert {(i["width"], i["height"]) for i in gate_images.values()} == {(256, 256)}
