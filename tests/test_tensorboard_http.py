"""A real TensorBoard serves a finished run: its HTTP data API, and the Images dashboard in Chromium."""

import os
import urllib.parse

import pytest

from conftest import TINY, compose_config
from tests.helpers.tensorboard_server import get_json, tensorboard

from lstm_experiments.board import metadata

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


# --------------------------------------------------------------------------- what TensorBoard keeps, and when

GATES_RUNS = "/data/plugin/lstm_gates/runs"
SAMPLED_IMAGE = "gates/lstm/kernel/input"
SAMPLED_SCALAR = "metrics/loss"
# Steps logged by each run: the adding run of the README (31), and more than the data server keeps (120).
LOGGED = {"short": 31, "long": 120}


@pytest.fixture(scope="module")
def sampled_logdir(tmp_path_factory):
    """Two runs logging the GATES data, an image and a scalar at every step, as a run writes them."""
    from test_board_routes import write_gate_steps

    root = tmp_path_factory.mktemp("sampling")
    for name, steps in LOGGED.items():
        write_gate_steps(root / name / "tensorboard", range(steps), images=[SAMPLED_IMAGE], scalars=[SAMPLED_SCALAR])
    return root


def kept_per_run(base):
    """{run name: (GATES steps kept, logged_steps, images kept, scalars kept)} once both runs are loaded."""
    import time

    deadline = time.monotonic() + 60
    while True:
        runs = {entry["name"]: entry for entry in get_json(f"{base}{GATES_RUNS}")["runs"]}
        if set(runs) == set(LOGGED) and all(entry["max_step"] == LOGGED[name] - 1 for name, entry in runs.items()):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.5)
    kept = {}
    for name, entry in runs.items():
        run = entry["run"]
        query = urllib.parse.urlencode({"run": run, "tag": SAMPLED_SCALAR})
        scalars = get_json(f"{base}/data/plugin/scalars/scalars?{query}")
        kept[name] = (entry["kept_steps"], entry["logged_steps"], len(image_steps(base, run, SAMPLED_IMAGE)),
                      len(scalars))
    return kept


def test_which_steps_tensorboard_keeps_by_plugin_and_loader(sampled_logdir):
    """What the README and the GATES banner say: per tag, TensorBoard keeps every datum of a series
    shorter than its reservoir, else a sample of that many with the latest among them. Plain
    ``tensorboard`` loads with its data server: 100 per tag of the GATES tensors, 10 images, 1000
    scalars; ``--load_fast=false`` keeps 10 GATES steps. Where it dropped steps the page is told
    so (``downsampled``) with no count of the logged steps, which TensorBoard does not give."""
    with tensorboard(sampled_logdir, expected_runs=2) as base:
        data_server = kept_per_run(base)
        index = get_json(f"{base}{GATES_RUNS}")
    assert data_server == {"short": (31, 31, 10, 31), "long": (100, None, 10, 120)}
    assert index["downsampled"] is True

    with tensorboard(sampled_logdir, expected_runs=2, extra_args=["--load_fast=false"]) as base:
        python_loader = kept_per_run(base)
    assert python_loader == {"short": (10, None, 10, 31), "long": (10, None, 10, 120)}

    keep_all = ["--samples_per_plugin", f"{metadata.PLUGIN_NAME}={metadata.KEEP_EVERY_STEP},images=1000"]
    with tensorboard(sampled_logdir, expected_runs=2, extra_args=keep_all) as base:
        told = kept_per_run(base)
        index = get_json(f"{base}{GATES_RUNS}")
    assert told == {"short": (31, 31, 31, 31), "long": (120, 120, 120, 120)}
    assert index["downsampled"] is False
