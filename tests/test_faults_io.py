"""I/O faults through the real CLI: a full disk, killed processes, unwritable and unreadable paths.

Each fault the user must act on ends in one line (``error: ...``, exit status 1,
no traceback), and what was written before it stays readable: every step
logged before the fault reads back with TensorBoard's own reader.

How the faults are made (the tests run as root, for whom permission bits do
not apply):

- a full disk: a file-size limit (``RLIMIT_FSIZE``) on the CLI process and its
  drawing process, small enough that the event file reaches it after a few
  steps but the checkpoint and metrics.json still fit. Python ignores
  ``SIGXFSZ``, so the write fails with ``EFBIG`` ("File too large"), as a full
  disk fails with ``ENOSPC``;
- unwritable and unreadable paths: the CLI runs without the two capabilities
  that let root ignore permission bits (``CAP_DAC_OVERRIDE``,
  ``CAP_DAC_READ_SEARCH``, dropped from its bounding set), so a mode of 0o555
  or 0o000 means what it says; where that cannot be done the test is skipped;
- killed processes: ``kill -9`` of the drawing process, or of the whole
  process group (training and drawing processes at once, as an out-of-memory
  kill or a scheduler would).
"""

import ctypes
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TINY, read_tensors, run_cli
from test_faults import assert_one_line_error

pytestmark = pytest.mark.slow

GATE_TAG = "gates/lstm/recurrent_kernel/forget"


def cli(args, cwd, preexec_fn=None, timeout=300):
    """``run_cli`` with a ``preexec_fn`` (a resource limit, dropped capabilities) for the CLI process."""
    return subprocess.run([sys.executable, "-m", "lstm_experiments", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=preexec_fn)


def start_cli(args, cwd):
    """The CLI as a process group of its own (so that it can be killed whole), output piped."""
    return subprocess.Popen([sys.executable, "-m", "lstm_experiments", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def event_steps(logdir: Path, tag: str = GATE_TAG) -> list[int]:
    """The steps of ``tag`` in the event files written so far, read with the project's record reader
    (up to a record still being written)."""
    from tensorboard.compat.proto import event_pb2

    from lstm_experiments.tensorboard.records import RecordError, read_records

    steps = []
    for path in sorted(Path(logdir).glob("events.out.tfevents.*")):
        try:
            for record in read_records(path):
                event = event_pb2.Event.FromString(record)
                if any(value.tag == tag for value in event.summary.value):
                    steps.append(event.step)
        except RecordError:
            pass
    return steps


def wait_for(condition, process, timeout=120, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended before {what}: {process.communicate()[1][-2000:]}")
        time.sleep(0.02)
    pytest.fail(f"no {what} after {timeout} s")


def children(pid: int, name: bytes) -> list[int]:
    """Live child processes of ``pid`` whose command line holds ``name``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid and name in cmdline:
                found.append(int(entry))
    return found


def whole_records(path: Path) -> int:
    from lstm_experiments.tensorboard.records import read_records

    return sum(1 for _ in read_records(path))  # raises RecordError at a cut or corrupt record


# --------------------------------------------------------------------------- a full disk

# Bytes any one file may grow to. The event file holds about 20 KB per logged step with the
# default visualizers at TINY's size (measured: 123 KB for steps 0-5), so it reaches this at
# step 3 or 4; the checkpoint (28 KB), metrics.json and the log stay below it.
FILE_SIZE_LIMIT = 80_000
FULL_DISK_RUN = [*TINY, "train.epochs=12", "viz.worker_priority=normal"]


def file_size_limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def test_a_full_disk_stops_the_run_in_one_line_and_keeps_every_step(tmp_path):
    """The writer in the drawing process; the inline and thread paths are the test after this one's
    (the same ``Drawer`` in the training process; with ``viz.background=false`` through the CLI too,
    which took 12 s more and found nothing new)."""
    run_dir = tmp_path / "run"
    result = cli([*FULL_DISK_RUN, f"hydra.run.dir={run_dir}"], tmp_path, preexec_fn=file_size_limit)
    logdir = run_dir / "tensorboard"
    line = assert_one_line_error(result, f"cannot write the event file in {logdir}", "File too large")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["reason"] in line
    assert f"{logdir}: File too large" in metrics["reason"]
    assert metrics["epochs"] < 12 and not (run_dir / "model.keras").exists()
    (event_file,) = logdir.glob("events.out.tfevents.*")
    assert event_file.stat().st_size <= FILE_SIZE_LIMIT
    whole_records(event_file)  # cut back to its last whole record: no partial one at the end
    tensors = read_tensors(logdir)
    steps = [step for step, _ in tensors[GATE_TAG]]
    assert len(steps) >= 2 and steps == list(range(len(steps)))
    # Every tag of each step written is there, the metrics of the epochs before it too.
    for tag, values in tensors.items():
        if tag.startswith(("gates/", "kernel/", "bias/", "scale/")):
            assert [s for s, _ in values] == steps, tag
    assert [s for s, _ in tensors["metrics/loss"]][: len(steps) - 1] == steps[1:]


def test_a_checkpoint_that_cannot_be_written_stops_the_run_in_one_line(tmp_path):
    """A limit below the checkpoint's size (28 KB) but above the initial weights' (21 KB): the
    first checkpoint save fails, the run says where, and no partial file is left."""
    limit = 25_000

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run_dir = tmp_path / "run"
    result = cli([*TINY, "viz=none", f"hydra.run.dir={run_dir}"], tmp_path, preexec_fn=small_files)
    line = assert_one_line_error(result, f"cannot write the checkpoint in {run_dir / 'checkpoint'}", "File too large")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["reason"] in line
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == ["initial.weights.h5"]


class FailingDisk:
    """``records._write_all`` that writes half a record and fails with ENOSPC from the ``after``-th call on."""

    def __init__(self, monkeypatch, after: int):
        from lstm_experiments.tensorboard import records

        self.calls, self.after, self.original = 0, after, records._write_all
        monkeypatch.setattr(records, "_write_all", self)

    def __call__(self, file, data):
        self.calls += 1
        if self.calls >= self.after:
            self.original(file, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.original(file, data)


@pytest.mark.parametrize("worker, guarded", [("thread", True), ("thread", False), ("inline", True)])
def test_gate_logger_stops_fit_when_its_thread_cannot_write(tmp_path, monkeypatch, worker, guarded):
    """The thread worker (and inline drawing) in-process: fit stops; the run's guard, or fit, says why."""
    import keras
    import numpy as np

    from lstm_experiments import GateLogger
    from lstm_experiments.errors import EventFileError
    from lstm_experiments.run.guard import TrainingGuard

    disk = FailingDisk(monkeypatch, after=6)  # version, step 0, then (scalars, step) per epoch: epoch 2
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 5, 2)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3, name="lstm"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    guard = TrainingGuard() if guarded else None
    logger = GateLogger(tmp_path / "tb", visualizers=("gates",), background=worker != "inline", worker="thread")
    if guarded:
        logger.attach(guard)
    callbacks = [guard, logger] if guarded else [logger]
    if guarded:
        history = model.fit(x, y, epochs=30, batch_size=4, verbose=0, callbacks=callbacks)
        assert guard.failure == f"cannot write the event file in {tmp_path / 'tb'}: No space left on device"
        assert len(history.history["loss"]) < 30
    else:
        with pytest.raises(EventFileError, match=r"cannot write the event file in .*tb: No space left"):
            model.fit(x, y, epochs=30, batch_size=4, verbose=0, callbacks=callbacks)
    (event_file,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    assert disk.calls == disk.after  # nothing tried after the failure
    assert whole_records(event_file) == disk.after - 1  # the half-written record was cut off
    steps = [step for step, _ in read_tensors(tmp_path / "tb")["gates/lstm/recurrent_kernel/forget"]]
    assert steps == [0, 1]  # the 6th record is epoch 2's (its scalars or its step)


# --------------------------------------------------------------------------- killed processes

EPOCHS = 20
KILLED_RUN = [*TINY, f"train.epochs={EPOCHS}", "viz=[gates,stats]", "viz.worker_priority=normal"]


def test_a_killed_drawing_process_leaves_training_going_and_says_where_pictures_stopped(tmp_path):
    run_dir = tmp_path / "run"
    process = start_cli([*KILLED_RUN, f"hydra.run.dir={run_dir}"], tmp_path)
    try:
        wait_for(lambda: len(event_steps(run_dir / "tensorboard")) >= 3, process, what="3 logged steps")
        (drawer,) = children(process.pid, b"drawing_process")
        os.kill(drawer, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stdout + stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs"] == EPOCHS
    assert (run_dir / "model.keras").is_file()
    said = [line for line in (stdout + stderr).splitlines() if "drawing process" in line]
    assert len(said) == 1, said
    (line,) = said
    assert "killed by SIGKILL" in line and str(run_dir / "tensorboard") in line
    step = int(line.split("pictures stopped at step ")[1].split(":")[0])
    steps = [s for s, _ in read_tensors(run_dir / "tensorboard")[GATE_TAG]]
    # Every step up to the one named is there; the child may have written one more before it
    # could say so; it was killed long before the last.
    assert step >= 2 and steps[: step + 1] == list(range(step + 1))
    assert steps in (list(range(step + 1)), list(range(step + 2))) and steps[-1] < EPOCHS


def test_a_killed_run_reads_back_reports_and_resumes(tmp_path):
    """kill -9 of the training and drawing processes mid-run, the event file cut in a record; then
    TensorBoard's reader, the report and ``resume=`` carry on from the last whole record."""
    from lstm_experiments.tensorboard.records import frame

    run_dir = tmp_path / "run"
    process = start_cli([*KILLED_RUN, f"hydra.run.dir={run_dir}"], tmp_path)
    state = run_dir / "checkpoints" / "state.json"
    try:
        wait_for(lambda: state.exists() and len(event_steps(run_dir / "tensorboard")) >= 3, process,
                 what="3 logged steps and a checkpoint")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert children(process.pid, b"drawing_process") == []
    (event_file,) = (run_dir / "tensorboard").glob("events.out.tfevents.*")
    # Whether or not the kill cut a record, the file now ends in one cut halfway (what a kill
    # in the middle of a write leaves).
    cut = frame(b"x" * 4000)
    with open(event_file, "ab") as handle:
        handle.write(cut[: len(cut) // 2])
    assert not (run_dir / "metrics.json").exists()  # killed: nothing said how it ended
    before = [s for s, _ in read_tensors(run_dir / "tensorboard")[GATE_TAG]]
    assert len(before) >= 3 and before == list(range(len(before)))

    report = subprocess.run([sys.executable, "-m", "lstm_experiments.report", str(run_dir), "--reader", "python",
                             "--out", str(tmp_path / "report")], capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "Traceback" not in report.stderr
    summary = (tmp_path / "report" / "summary.csv").read_text()
    assert "ends in a truncated record, read up to it" in summary

    checkpointed = json.loads(state.read_text())["epoch"]
    resumed = run_cli([f"resume={run_dir}"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
    files = sorted((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert len(files) == 2
    steps = [s for s, _ in read_tensors(run_dir / "tensorboard")[GATE_TAG]]
    # The resumed file goes on after the checkpoint's epoch; none is written twice. Steps after
    # the last one written and up to the checkpoint (drawing lags training) are not redone.
    assert len(set(steps)) == len(steps)
    assert steps == before + list(range(checkpointed + 1, EPOCHS + 1))
    assert before[-1] <= checkpointed


# --------------------------------------------------------------------------- unwritable, unreadable

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def without_permission_override():
    """preexec_fn: as root, drop the capabilities that ignore permission bits (from the bounding set,
    so the exec'd CLI and its drawing process never have them)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture(scope="module")
def permissions(tmp_path_factory):
    """The preexec_fn under which mode bits hold for the CLI; skips where they cannot be made to."""
    probe = tmp_path_factory.mktemp("probe") / "secret"
    probe.write_text("x")
    probe.chmod(0)
    try:
        result = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}).read()"], capture_output=True,
                                text=True, timeout=60, preexec_fn=without_permission_override)
    except subprocess.SubprocessError as error:
        pytest.skip(f"cannot drop CAP_DAC_OVERRIDE for the CLI ({error}), and root reads any file")
    if "PermissionError" not in result.stderr:
        pytest.skip("permission bits do not stop this process (root keeps CAP_DAC_OVERRIDE here)")
    return without_permission_override


def test_a_run_directory_under_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    run_dir = tmp_path / "file" / "run"
    assert_one_line_error(cli(["units=4", f"hydra.run.dir={run_dir}"], tmp_path, timeout=60), str(run_dir))


@pytest.mark.parametrize("existing", [False, True], ids=["cannot-create", "exists-read-only"])
def test_an_unwritable_run_directory_is_one_line(tmp_path, permissions, existing):
    parent = tmp_path / "read_only"
    run_dir = parent / "run"
    run_dir.mkdir(parents=True) if existing else parent.mkdir()
    (run_dir if existing else parent).chmod(0o555)
    result = cli(["units=4", f"hydra.run.dir={run_dir}"], tmp_path, preexec_fn=permissions, timeout=60)
    assert_one_line_error(result, str(run_dir), "Permission denied")


def test_an_unwritable_tensorboard_directory_stops_the_run_in_one_line(tmp_path, permissions):
    run_dir = tmp_path / "run"
    (run_dir / "tensorboard").mkdir(parents=True)
    (run_dir / "tensorboard").chmod(0o555)
    result = cli([*TINY, f"hydra.run.dir={run_dir}"], tmp_path, preexec_fn=permissions)
    assert_one_line_error(result, f"cannot write the event file in {run_dir / 'tensorboard'}: Permission denied")
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "failed"


SERIES = "t,bytes,packets\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(40))


def csv_args(path, *extra):
    return ["data=csv", f"data.path={path}", "data.target=bytes", "data.seq_len=4", *extra]


def test_a_read_only_csv_trains(tmp_path, permissions):
    folder = tmp_path / "read_only"
    folder.mkdir()
    (folder / "series.csv").write_text(SERIES)
    (folder / "series.csv").chmod(0o444)
    folder.chmod(0o555)
    run_dir = tmp_path / "run"
    result = cli([*csv_args(folder / "series.csv"), "units=4", "train.epochs=1", "viz=none",
                  f"hydra.run.dir={run_dir}"], tmp_path, preexec_fn=permissions)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("case", ["unreadable", "unsearchable-folder"])
def test_an_unreadable_csv_is_one_line_naming_data_path(tmp_path, permissions, case):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "series.csv"
    path.write_text(SERIES)
    (path if case == "unreadable" else folder).chmod(0o000 if case == "unreadable" else 0o600)
    result = cli(csv_args(path), tmp_path, preexec_fn=permissions, timeout=60)
    assert_one_line_error(result, f"data.path={path}: cannot be read (Permission denied)")


def test_a_directory_as_data_path_is_one_line_naming_it(tmp_path):
    result = run_cli(csv_args(tmp_path), cwd=tmp_path, timeout=60)
    assert_one_line_error(result, f"data.path={tmp_path}: is a directory")
