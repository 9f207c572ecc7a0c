"""``train()`` from Python, in a fresh interpreter: it leaves the caller's process as README's "A whole
experiment from Python" says (the environment, BLAS' threads, op determinism, signal handlers and
logging set back; TensorFlow imported), and its run directory as a command-line run's: ``.hydra/`` and
``lstm_experiments.log``, so that ``resume=`` continues it. A bad value leaves no directory."""

import json
import subprocess
import sys

import pytest

from conftest import TINY

pytestmark = pytest.mark.slow

SCRIPT = """
import io, json, logging, os, signal, sys
from pathlib import Path

import numpy  # noqa: F401 (its BLAS loaded, so that threadpoolctl sees its thread count before train)
from threadpoolctl import threadpool_info

def blas_threads():
    return sorted(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")

def logging_state():
    ours = logging.getLogger("lstm_experiments")
    root = logging.getLogger()
    return [root.level, len(root.handlers), ours.level, len(ours.handlers), ours.propagate]

caller_log = io.StringIO()
logging.basicConfig(stream=caller_log, level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
handlers = {name: signal.getsignal(getattr(signal, name)) for name in ("SIGINT", "SIGTERM")}
before = {"environ": dict(os.environ), "blas": blas_threads(), "logging": logging_state()}

from lstm_experiments import train
from lstm_experiments.errors import UserError

run_dir = Path(sys.argv[1])
overrides = json.loads(sys.argv[2])
metrics = train(overrides, run_dir)

from tensorflow.python.framework import config as tf_config

after = {"environ": dict(os.environ), "blas": blas_threads(), "logging": logging_state()}
resumed = train([f"resume={run_dir}"], epochs=3)
try:
    train(["units=0"], run_dir.parent / "refused")
    refused = "trained"
except UserError as error:
    refused = str(error)
print(json.dumps({
    "before": before, "after": after, "status": metrics["status"], "resumed": resumed,
    "determinism": tf_config.is_op_determinism_enabled(),
    "signals_kept": all(signal.getsignal(getattr(signal, n)) == h for n, h in handlers.items()),
    "tensorflow_imported": "tensorflow" in sys.modules,
    "caller_log": caller_log.getvalue(), "refused": refused,
}))
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("train")
    run_dir = cwd / "run"
    overrides = [*TINY, "viz=[gates,stats]"]
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(run_dir), json.dumps(overrides)], cwd=cwd,
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), run_dir, overrides


def variables_importing_tensorflow_sets():
    """What ``import tensorflow, keras`` adds to os.environ by itself (TF2_BEHAVIOR, TPU_ML_PLATFORM...)."""
    code = ("import json, os\nbefore = dict(os.environ)\nimport tensorflow, keras\n"
            "print(json.dumps(sorted(set(os.environ) - set(before))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_train_sets_back_what_it_changed(session):
    report, _, _ = session
    assert report["status"] == "completed"
    before, after = report["before"]["environ"], report["after"]["environ"]
    # The environment as it was (TF_CPP_MIN_LOG_LEVEL, raised for the import, gone again), but for
    # the variables TensorFlow's own import sets.
    assert "TF_CPP_MIN_LOG_LEVEL" not in after
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) <= variables_importing_tensorflow_sets()
    assert report["after"]["blas"] == report["before"]["blas"]
    assert report["after"]["logging"] == report["before"]["logging"]
    assert report["determinism"] is False
    assert report["signals_kept"]
    assert report["tensorflow_imported"]  # what it cannot undo, as the README says


def test_the_callers_logging_sees_no_more_than_before(session):
    report, run_dir, _ = session
    assert "INFO" not in report["caller_log"], report["caller_log"]
    log = (run_dir / "lstm_experiments.log").read_text()
    assert "epoch 1/2 - loss:" in log and "[lstm_experiments.run.experiment][INFO]" in log


def test_train_leaves_hydras_files_and_resume_continues_the_run(session):
    report, run_dir, overrides = session
    from omegaconf import OmegaConf

    assert list(OmegaConf.load(run_dir / ".hydra" / "overrides.yaml")) == overrides
    assert OmegaConf.load(run_dir / ".hydra" / "config.yaml").units == 4
    resumed = report["resumed"]
    assert resumed["status"] == "completed" and resumed["epochs"] == 3 and resumed["resumed_from_epoch"] == 2
    assert list(OmegaConf.load(run_dir / ".hydra_resume" / "overrides.yaml")) == [f"resume={run_dir}"]
    assert "training on to 3 as asked" in (run_dir / "lstm_experiments.log").read_text()
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 3


def test_a_value_train_refuses_leaves_no_directory(session):
    report, run_dir, _ = session
    assert report["refused"] == "units=0 (must be > 0)"
    assert not (run_dir.parent / "refused").exists()
