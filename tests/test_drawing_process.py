"""Drawing in a child process: the same event records as on a thread, its log reaches ours, and its death never stops training."""

import logging
import os
import signal

import numpy as np
import pytest

from conftest import read_tensors
from lstm_experiments.capture.drawer import DrawingSpec
from lstm_experiments.config.image_options import image_options
from lstm_experiments.capture.drawing_process import DrawingProcess

IMAGE = image_options({"scale": "fixed", "target_side_px": 32, "min_side_px": 16, "max_side_px": 512, "reduce": "maxabs"})


def values_by_tag(run_dir):
    tensors = read_tensors(run_dir / "tensorboard")
    return {tag: [(step, value.tolist()) for step, value in events] for tag, events in tensors.items()}


def test_process_and_thread_write_the_same_records(run_tiny):
    runs = {}
    for worker in ("process", "thread"):
        run_dir, metrics = run_tiny(["viz=all", f"viz.worker={worker}", "seed=3"])
        assert metrics["status"] == "completed"
        runs[worker] = values_by_tag(run_dir)
    assert runs["process"].keys() == runs["thread"].keys()
    assert any(tag.startswith("gradients/") for tag in runs["process"])
    for tag, events in runs["process"].items():
        assert events == runs["thread"][tag], tag


def test_the_drawing_process_imports_no_tensorflow(tmp_path):
    drawer = DrawingProcess(DrawingSpec(str(tmp_path / "tb"), ("kernel",), IMAGE))
    drawer._call("draw", None)  # a failing call: the child logs, and its modules can be checked after
    assert drawer.sync()
    pid = drawer._process.pid
    with open(f"/proc/{pid}/maps") as maps:
        mapped = maps.read()
    drawer.close()
    assert "_pywrap_tensorflow_internal" not in mapped and "libtensorflow" not in mapped
    assert drawer._process.returncode == 0


@pytest.mark.parametrize("priority", ["idle", "low", "normal"])
def test_the_drawing_process_runs_at_viz_worker_priority(tmp_path, priority):
    drawer = DrawingProcess(DrawingSpec(str(tmp_path / "tb"), ("kernel",), IMAGE), priority=priority)
    assert drawer.sync()  # the child lowers its priority before it answers anything
    pid = drawer._process.pid
    policy, nice = os.sched_getscheduler(pid), os.getpriority(os.PRIO_PROCESS, pid)
    drawer.close()
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    expected = {"idle": (os.SCHED_IDLE, ours), "low": (os.SCHED_OTHER, min(ours + 10, 19)),
                "normal": (os.SCHED_OTHER, ours)}
    assert (policy, nice) == expected[priority]


def test_an_unknown_priority_is_refused(tmp_path):
    with pytest.raises(ValueError, match="viz.worker_priority=fast"):
        DrawingProcess(DrawingSpec(str(tmp_path / "tb"), ("kernel",), IMAGE), priority="fast")


def test_child_errors_are_logged_here_and_drawing_goes_on(tmp_path, caplog):
    from lstm_experiments.capture.snapshot import RecurrentWeights, Snapshot

    drawer = DrawingProcess(DrawingSpec(str(tmp_path / "tb"), ("kernel",), IMAGE))
    with caplog.at_level(logging.INFO):
        drawer.draw("not a snapshot")
        matrices = {"kernel": np.ones((2, 8), np.float32), "recurrent_kernel": np.ones((2, 8), np.float32)}
        drawer.draw(Snapshot(step=0, layers=[RecurrentWeights("lstm", "lstm", 2, matrices)]))
        assert drawer.sync()
    drawer.close()
    failures = [r for r in caplog.records if r.name == "lstm_experiments.capture.drawing_process"]
    assert any("draw failed" in r.getMessage() and "Traceback" in r.getMessage() for r in failures)
    assert [step for step, _ in read_tensors(tmp_path / "tb")["kernel/lstm/kernel"]] == [0]


def test_a_killed_drawing_process_is_reported_once_and_calls_return(tmp_path, caplog):
    drawer = DrawingProcess(DrawingSpec(str(tmp_path / "tb"), ("kernel",), IMAGE))
    assert drawer.sync()
    os.kill(drawer._process.pid, signal.SIGKILL)
    drawer._process.wait()
    with caplog.at_level(logging.ERROR):
        for step in range(3):
            drawer.write_scalars(step, {"metrics/loss": 1.0})
        assert drawer.sync() is False
        drawer.close()
    died = [r for r in caplog.records if "drawing process exited" in r.getMessage()]
    assert len(died) == 1


def test_a_training_run_survives_its_drawing_process_dying(run_tiny, monkeypatch, caplog):
    """Kill the child after the first logged step: training completes, the model is saved."""
    from lstm_experiments.capture import drawing_process

    original = drawing_process.DrawingProcess.draw
    calls = []

    def draw_then_kill(self, snapshot):
        original(self, snapshot)
        calls.append(snapshot.step)
        if len(calls) == 1:
            self.sync()
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait()

    monkeypatch.setattr(drawing_process.DrawingProcess, "draw", draw_then_kill)
    with caplog.at_level(logging.ERROR):
        run_dir, metrics = run_tiny(["viz=[kernel]", "train.epochs=3"])
    assert metrics["status"] == "completed" and (run_dir / "model.keras").exists()
    assert calls == [0, 1, 2, 3]
    tags = read_tensors(run_dir / "tensorboard")
    assert [step for step, _ in tags["kernel/lstm/kernel"]] == [0]
    assert any("drawing process exited" in r.getMessage() for r in caplog.records)


def drawing_children() -> list[int]:
    """PIDs of this process' live drawing processes."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == os.getpid() and b"drawing_process" in cmdline:
            found.append(int(entry))
    return found


def test_a_run_that_fails_before_training_closes_its_early_drawing_process(tmp_path, monkeypatch):
    # The drawing process starts before TensorFlow is imported; a failure in between must not leave it running.
    from conftest import TINY, compose_config
    from lstm_experiments import model as model_module
    from lstm_experiments.run.experiment import run_experiment

    def no_model(*args, **kwargs):
        assert drawing_children(), "the drawing process should already be up while the model is built"
        raise RuntimeError("no model today")

    monkeypatch.setattr(model_module, "build_model", no_model)
    with pytest.raises(RuntimeError, match="no model today"):
        run_experiment(compose_config([*TINY, "viz=gates"]), tmp_path / "run")
    assert drawing_children() == []
    assert not (tmp_path / "run" / "tensorboard").exists()  # it never opened an event file


def test_after_training_the_drawing_process_takes_every_core_for_blas():
    """The child starts with one BLAS thread (CHILD_ENV); ``training_over`` raises them to the usable cores
    for the last step's drawing. Checked in a fresh interpreter with the child's environment, by
    threadpoolctl's own report."""
    import json
    import subprocess
    import sys

    from lstm_experiments.capture.drawing_process import child_environment

    script = ("import json, numpy\nfrom threadpoolctl import threadpool_info\n"
              "from lstm_experiments.capture.drawing_process import use_every_core\n"
              "blas = lambda: [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
              "before = blas(); use_every_core(); print(json.dumps([before, blas()]))")
    out = subprocess.run([sys.executable, "-c", script], env=child_environment(), capture_output=True, text=True,
                         check=True)
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before and set(before) == {1}
    assert set(after) == {len(os.sched_getaffinity(0))}
