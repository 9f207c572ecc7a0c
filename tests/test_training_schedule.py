"""The training schedule a Keras user reaches for: progress (train.verbose), early stopping that
restores the best weights, ReduceLROnPlateau with the learning rate logged, and a last log line
that says how to open the run in TensorBoard. Through the real CLI, read back with TensorBoard's reader."""

import json
import os
import pty
import subprocess
import sys

import numpy as np
import pytest

from conftest import TINY, read_tensors, run_cli

pytestmark = pytest.mark.slow

FORGET = "gates/lstm/kernel/forget"


def test_early_stopping_stops_restores_the_best_weights_and_logs_them_last(tmp_path):
    # No epoch after the first can improve by 1e9: patience 1 stops training after epoch 2,
    # and the best weights are epoch 1's.
    stopped = tmp_path / "stopped"
    result = run_cli([*TINY, "train.epochs=6", "viz=[gates]", "train.early_stopping.patience=1",
                      "train.early_stopping.min_delta=1e9", f"hydra.run.dir={stopped}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((stopped / "metrics.json").read_text())
    assert (metrics["stopped_epoch"], metrics["best_epoch"], metrics["epochs"]) == (2, 1, 2)
    assert "early stopping after epoch 2" in result.stdout + result.stderr
    one_epoch = tmp_path / "one_epoch"
    assert run_cli([*TINY, "train.epochs=1", "viz=[gates]", f"hydra.run.dir={one_epoch}"],
                   cwd=tmp_path).returncode == 0
    import keras

    saved = keras.models.load_model(stopped / "model.keras").get_weights()
    best = keras.models.load_model(one_epoch / "model.keras").get_weights()
    for got, want in zip(saved, best, strict=True):
        np.testing.assert_array_equal(got, want)
    # The last logged step shows the saved model: the same picture as step 1.
    images = dict(read_tensors(stopped / "tensorboard")[FORGET])
    assert sorted(images) == [0, 1, 2]
    assert list(images[2]) == list(images[1]) and list(images[1]) != list(images[0])
    # The run is complete: resuming it changes nothing.
    again = run_cli([f"resume={stopped}"], cwd=tmp_path, timeout=120)
    assert again.returncode == 0 and "already complete (2 epochs)" in again.stdout + again.stderr


def keras_plateau_schedule(val_losses, lr, factor, patience, min_delta=1e-4):
    """The learning rate after each epoch by Keras' ReduceLROnPlateau rule (no cooldown, min_lr 0)."""
    best, wait, rates = np.inf, 0, []
    for value in val_losses:
        if value < best - min_delta:
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                lr, wait = lr * factor, 0
        rates.append(lr)
    return rates


def test_reduce_lr_on_plateau_follows_keras_rule_and_the_rate_is_logged(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli([*TINY, "train.epochs=8", "viz=[stats]", "train.optimizer=sgd", "train.learning_rate=0.5",
                      "train.reduce_lr_on_plateau.factor=0.5", "train.reduce_lr_on_plateau.patience=1",
                      f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    tensors = read_tensors(run_dir / "tensorboard")
    rates = [float(v) for _, v in tensors["metrics/learning_rate"]]
    val_losses = [float(v) for _, v in tensors["metrics/val_loss"]]
    assert [s for s, _ in tensors["metrics/learning_rate"]] == list(range(1, 9))
    expected = keras_plateau_schedule(val_losses, 0.5, 0.5, 1)
    assert rates == pytest.approx(expected, rel=1e-6)
    assert min(rates) < 0.5, "this run should have plateaued at least once"
    assert json.loads((run_dir / "metrics.json").read_text())["learning_rate"] == pytest.approx(rates[-1])


def test_without_a_schedule_the_learning_rate_is_still_logged_every_epoch(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli([*TINY, "viz=[gates]", f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    rates = read_tensors(run_dir / "tensorboard")["metrics/learning_rate"]
    assert [(s, float(v)) for s, v in rates] == [(1, pytest.approx(1e-3)), (2, pytest.approx(1e-3))]
    # One line per epoch through logging (stdout is not a terminal: no progress bar), also in the log
    # file, and the last line says how to open the run in TensorBoard.
    log_lines = (run_dir / "lstm_experiments.log").read_text().splitlines()
    assert any("epoch 1/2 - loss:" in line for line in log_lines)
    assert "━" not in result.stdout and "Epoch 1/2" not in result.stdout
    board = run_dir / "tensorboard"
    assert log_lines[-1].endswith(f"TensorBoard: {board} (open it with: tensorboard --logdir {board}, "
                                  f"or lstm-experiments-board {run_dir})")


def run_on_a_terminal(args, cwd):
    """The CLI with its stdout and stderr on a pseudo-terminal, as in an interactive shell; returns the output."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "lstm_experiments", *args], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=300) == 0, b"".join(chunks)[-2000:]
    return b"".join(chunks).decode(errors="replace")


def test_auto_verbosity_shows_keras_progress_bar_on_a_terminal(tmp_path):
    output = run_on_a_terminal([*TINY, "viz=none", f"hydra.run.dir={tmp_path / 'run'}"], tmp_path)
    assert "Epoch 1/2" in output and "━" in output  # Keras' progress bar
    lines = run_cli([*TINY, "viz=none", "train.verbose=2", f"hydra.run.dir={tmp_path / 'lines'}"], cwd=tmp_path)
    assert lines.returncode == 0 and "Epoch 1/2" in lines.stdout and "━" not in lines.stdout
