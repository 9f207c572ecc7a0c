"""A run opens in TensorBoard without warnings. Its checkpoint folder is ``checkpoints/``: TensorBoard's
projector reads a file called ``checkpoint`` beside a run's event files (and in the folder above) as
TensorFlow's checkpoint index, and for the folder runs used to have it printed
``WARNING:tensorflow:FailedPreconditionError: .../checkpoint; Is a directory ... Checkpoint ignored``
every time it looked. An older run with ``checkpoint/`` still warns, which shows the projector did look."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import train_tiny

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 120
# Long enough for the projector's background look at every run, started by the plugin listing.
PROJECTOR_LOOK_SECONDS = 3
WARNING = "Checkpoint ignored"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def served_stderr(command: list[str], port: int) -> str:
    """Start ``command``, ask what a browser asks first (runs, plugins, the projector's runs), stop it;
    returns everything it printed on stderr."""
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{base}/data/runs", timeout=10).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "TensorBoard did not start"
                time.sleep(0.5)
        for path in ("/data/plugins_listing", "/data/plugins_listing", "/data/plugin/projector/runs"):
            urllib.request.urlopen(f"{base}{path}", timeout=60).read()
        time.sleep(PROJECTOR_LOOK_SECONDS)  # its look runs in the background: once, after every request
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    return stderr


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """outputs/new: a run as made now; outputs/old: the same run with the folder named as before."""
    root = tmp_path_factory.mktemp("quiet") / "outputs"
    new, _ = train_tiny(root / "new", ["viz=[gates]", "train.epochs=1"])
    old, _ = train_tiny(root / "old", ["viz=[gates]", "train.epochs=1"])
    (old / "checkpoints").rename(old / "checkpoint")
    assert (new / "checkpoints" / "latest.keras").is_file() and not (new / "checkpoint").exists()
    return root


def test_tensorboard_opens_a_run_without_warnings(outputs):
    port = free_port()
    stderr = served_stderr([sys.executable, "-m", "tensorboard.main", "--logdir", str(outputs), "--host", HOST,
                            "--port", str(port)], port)
    warned = [line for line in stderr.splitlines() if WARNING in line]
    assert any(f"{outputs / 'old'}/" in line for line in warned), stderr[-3000:]  # it looked
    assert not [line for line in warned if f"{outputs / 'new'}/" in line], warned


def test_the_gates_board_opens_a_run_without_a_line_on_stderr_but_its_own(outputs):
    port = free_port()
    stderr = served_stderr([sys.executable, "-m", "lstm_experiments.board.launcher", str(outputs / "new"),
                            "--port", str(port), "--host", HOST], port)
    assert WARNING not in stderr and "WARNING" not in stderr, stderr[-3000:]
