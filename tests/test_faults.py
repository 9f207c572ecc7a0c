"""Bad input, faults and interruptions through the real CLI: one-line errors, nothing lost, resumable runs."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest

from conftest import TINY, read_tensors, run_cli

pytestmark = pytest.mark.slow


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


@pytest.mark.parametrize("args, fragments", [
    (["data.sequence_length=5"], ["sequence_length"]),
    (["units=abc"], ["units", "abc"]),
    (["units=0"], ["units=0"]),
    (["units=-3"], ["units=-3"]),
    (["data.seq_len=0"], ["data.seq_len=0"]),
    (["train.epochs=-1"], ["train.epochs=-1"]),
    (["train.batch_size=0"], ["train.batch_size=0"]),
    (["train.learning_rate=0"], ["train.learning_rate=0"]),
    (["train.learning_rate=-0.1"], ["train.learning_rate=-0.1"]),
    (["viz=nope"], ["viz/nope", "kernel", "gates", "bias", "all", "none"]),
    (["viz=[gates,nope]"], ["viz/nope", "kernel"]),
    (["data=nope"], ["data/nope", "random", "sine", "adding", "csv"]),
    (["model=nope"], ["model/nope", "lstm", "gru"]),
    (["resume=/no/such/run"], ["resume=/no/such/run"]),
    (["viz.worker_priority=fast"], ["viz.worker_priority=fast", "idle", "low", "normal"]),
    (["model.recurrent_activation=relu"], ["model.recurrent_activation=relu", "sigmoid", "hard_sigmoid"]),
    (["model.dropout=1.5"], ["model.dropout=1.5", "< 1"]),
    (["train.verbose=3"], ["train.verbose=3"]),
    (["train.early_stopping.patience=-1"], ["train.early_stopping.patience=-1"]),
    (["train.reduce_lr_on_plateau.factor=2"], ["train.reduce_lr_on_plateau.factor=2"]),
])
def test_config_errors(tmp_path, args, fragments):
    assert_one_line_error(run_cli(args, cwd=tmp_path, timeout=60), *fragments)
    # Whether Hydra or our checks refuse it, a run that never trained leaves no directory behind.
    assert not (tmp_path / "outputs").exists()


def csv_args(path, *extra):
    return ["data=csv", f"data.path={path}", "data.target=bytes", "data.seq_len=4", *extra]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


SERIES = "t,bytes,packets\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(40))


@pytest.mark.parametrize("make, fragments", [
    (lambda d: d / "missing.csv", ["missing.csv", "no such file"]),
    (lambda d: d, ["is a directory"]),
    (lambda d: write(d, "empty.csv", ""), ["empty.csv", "empty"]),
    (lambda d: write(d, "header.csv", "t,bytes,packets\n"), ["header.csv", "no data rows"]),
    (lambda d: write(d, "text.csv", SERIES.replace("\n5,5,2\n", "\n5,5,oops\n")),
     ["row 6", "'packets'", "'oops'"]),
    (lambda d: write(d, "blank.csv", SERIES.replace("\n5,5,2\n", "\n5,,2\n")),
     ["blank.csv", "data.missing=drop, ffill or interpolate"]),
    (lambda d: write(d, "short.csv", "t,bytes,packets\n1,2,3\n2,3,4\n"),
     ["short.csv", "2 rows", "data.seq_len + data.horizon = 5"]),
])
def test_csv_errors(tmp_path, make, fragments):
    path = make(tmp_path)
    assert_one_line_error(run_cli(csv_args(path), cwd=tmp_path, timeout=60), *fragments)
    assert not (tmp_path / "outputs").exists()


def test_csv_missing_target_lists_columns(tmp_path):
    path = write(tmp_path, "x.csv", SERIES)
    result = run_cli(["data=csv", f"data.path={path}", "data.target=latency"], cwd=tmp_path, timeout=60)
    assert_one_line_error(result, "data.target=latency", "t, bytes, packets")


def test_blank_cells_with_a_missing_policy_train(tmp_path):
    path = write(tmp_path, "blank.csv", SERIES.replace("\n5,5,2\n", "\n5,,2\n"))
    result = run_cli([*csv_args(path, "data.missing=interpolate"), "units=4", "train.epochs=1"],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


def test_constant_column_trains_without_division_by_zero(tmp_path):
    path = write(tmp_path, "const.csv", "t,bytes,flat\n" + "".join(f"{i},{i % 7},5\n" for i in range(40)))
    result = run_cli([*csv_args(path), "units=4", "train.epochs=1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (metrics_path,) = (tmp_path / "outputs").glob("*/*/metrics.json")
    assert np.isfinite(json.loads(metrics_path.read_text())["val_loss"])


@pytest.mark.parametrize("args, env", [(["units=0", "hydra.verbose=true"], {}),
                                       (["units=0"], {"HYDRA_FULL_ERROR": "1"})])
def test_verbose_shows_the_traceback(tmp_path, args, env):
    result = run_cli(args, cwd=tmp_path, timeout=60, env_extra=env)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "units=0" in result.stderr


DIVERGE = ["train.optimizer=sgd", "train.learning_rate=1e30"]


def test_nan_loss_stops_and_marks_the_run_failed(tmp_path):
    result = run_cli([*TINY, "viz=all", *DIVERGE], cwd=tmp_path)
    line = assert_one_line_error(result, "loss became")
    (run_dir,) = [p for p in (tmp_path / "outputs").glob("*/*") if p.is_dir()]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "failed" and "loss became" in metrics["reason"]
    assert metrics["reason"] in line
    tensors = read_tensors(run_dir / "tensorboard")
    # The initial weights were logged before the fault and are still there.
    assert tensors["gates/lstm/kernel/forget"][0][0] == 0


def test_a_failing_job_does_not_lose_the_sweep(tmp_path):
    result = run_cli(["-m", *TINY, "viz=gates", "train.optimizer=sgd",
                      "train.learning_rate=0.01,1e30"], cwd=tmp_path)
    assert result.returncode == 1
    (sweep,) = [p for p in (tmp_path / "multirun").glob("*/*") if p.is_dir()]
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    assert summary["completed"] == 1 and summary["failed"] == 1
    statuses = {job["job"].split("learning_rate=")[1].split(",")[0]: job["status"] for job in summary["jobs"]}
    assert statuses == {"0.01": "completed", "1e+30": "failed"}
    good = [p for p in sweep.iterdir() if "0.01" in p.name][0]
    assert (good / "model.keras").is_file()


RESUMABLE = ["units=4", "data.n_samples=64", "data.seq_len=6", "train.batch_size=8",
             "train.epochs=25", "viz=[gates,stats]"]


def steps_by_tag(run_dir):
    # Not the records each event file holds once at step 0: HParams' and the CUSTOM SCALARS layout.
    return {tag: [s for s, _ in values] for tag, values in read_tensors(run_dir / "tensorboard").items()
            if not tag.startswith("_hparams_") and tag != "custom_scalars__config__"}


@pytest.mark.parametrize("by_batch", [False, True], ids=["by-epoch", "by-batch"])
def test_sigterm_then_resume_matches_an_uninterrupted_run(tmp_path, by_batch):
    """SIGTERM mid-epoch, then resume=: the same steps as an uninterrupted run, none twice, and the same
    final weights bit for bit; with viz.log_every_batches too, where the first session may have logged
    batches past its last checkpoint (the resumed session writes none of them again)."""
    options = [*RESUMABLE, *(["viz.log_every_batches=4", "viz.background=false"] if by_batch else [])]  # none skipped
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "lstm_experiments", *options, f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    state = run_dir / "checkpoints" / "state.json"
    deadline = time.monotonic() + 120
    while not state.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    assert "resume=" in stderr and "Traceback" not in stderr
    interrupted = json.loads((run_dir / "metrics.json").read_text())
    assert interrupted["status"] == "interrupted" and interrupted["epochs"] < 25

    resume_command = run_cli([f"resume={run_dir}"], cwd=tmp_path)
    assert resume_command.returncode == 0, resume_command.stderr[-2000:]
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
    assert (run_dir / ".hydra" / "config.yaml").read_text().count("epochs: 25") == 1

    straight = tmp_path / "straight"
    assert run_cli([*options, f"hydra.run.dir={straight}"], cwd=tmp_path).returncode == 0
    resumed_steps, straight_steps = steps_by_tag(run_dir), steps_by_tag(straight)
    assert resumed_steps.keys() == straight_steps.keys()
    for tag, steps in resumed_steps.items():
        assert steps == straight_steps[tag], tag  # same steps, in order, none twice
        assert not [s for s, n in Counter(steps).items() if n > 1]
    if not by_batch:
        assert resumed_steps["gates/lstm/recurrent_kernel/forget"] == list(range(26))
    # The resumed part keeps the run's W_0 and fixed colour scale (same seed: same initial weights).
    resumed, reference = read_tensors(run_dir / "tensorboard"), read_tensors(straight / "tensorboard")
    scales = {float(v) for _, v in resumed["scale/lstm/recurrent_kernel"]}
    assert scales == {float(reference["scale/lstm/recurrent_kernel"][0][1])}
    import keras

    final = keras.models.load_model(run_dir / "model.keras")
    initial = keras.models.clone_model(final)
    initial.optimizer = None  # the file holds the weights before the first step, no optimizer state
    initial.load_weights(run_dir / "checkpoints" / "initial.weights.h5")
    forget = [m.get_layer("lstm").cell.recurrent_kernel.numpy()[:, 4:8] for m in (final, initial)]
    expected = np.linalg.norm(forget[0] - forget[1]) / np.linalg.norm(forget[1])
    step, last_change = resumed["stats/lstm/recurrent_kernel/forget/change"][-1]
    assert step == straight_steps["stats/lstm/recurrent_kernel/forget/change"][-1]
    assert float(last_change) == pytest.approx(expected, rel=1e-5)
    # Epoch e's batches depend on (seed, e) alone and the optimizer state is restored: the resumed
    # run ends on exactly the uninterrupted run's weights, and says nothing that reads like a bug.
    uninterrupted = keras.models.load_model(straight / "model.keras")
    for resumed_weights, straight_weights in zip(final.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_array_equal(resumed_weights, straight_weights)
    assert "Skipping variable loading" not in resume_command.stderr + resume_command.stdout
