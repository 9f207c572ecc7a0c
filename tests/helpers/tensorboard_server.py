"""Start a local TensorBoard on a free port and wait until it serves; used by tests and screenshots."""

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get_json(url: str, timeout_seconds: float = START_TIMEOUT_SECONDS):
    """GET ``url`` as JSON, retrying while the server starts."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(POLL_SECONDS)


def post_json(url: str, payload) -> dict:
    """POST a JSON body (the HParams plugin reads its request this way) and decode the JSON reply."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def tensorboard(logdir: Path, expected_runs: int = 1, extra_args=()) -> Iterator[str]:
    """Serve ``logdir`` on 127.0.0.1; yields the base URL once ``expected_runs`` runs are loaded."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
         "--host", HOST, "--port", str(port), *extra_args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while len(get_json(f"{base}/data/runs")) < expected_runs:
            if time.monotonic() > deadline:
                raise TimeoutError(f"TensorBoard at {base} did not load {expected_runs} runs")
            time.sleep(POLL_SECONDS)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
