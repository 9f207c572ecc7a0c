"""load: the GATES plugin's HTTP API under a 50-run sweep and a 1,000-epoch run, served by a real TensorBoard.

Two logdirs, made through the real CLI in the work directory (a temporary
directory: nothing lands in the repository):

- a sweep of ``sizes.load_runs`` jobs (50; 5 at ``--quick``) at 128 units,
  ``-m units=128 seed=0,1,...``, tiny sine data, ``train.epochs=3``, the default
  visualizers plus what the GATES page needs (``gates`` logs the weights,
  ``activations`` the activation panels and the saturation scalars);
- one run of ``sizes.load_long_epochs`` epochs (1,000; 50 at ``--quick``), the
  same model and data, logged every epoch.

Each is served by TensorBoard started as ``lstm-experiments-board`` starts it
(``launcher.tensorboard_command``: ``--samples_per_plugin lstm_gates=100000,images=1000``,
the default ``--load_fast=auto``, so the Rust data server loads the event files).
Once the plugin's ``runs`` route lists every run with every step kept, the
section times, one request at a time over HTTP (a fresh connection each, the
body read to its end):

- ``runs``: ``sizes.load_requests`` requests (200) of the whole index;
- ``weights``: as many, each a random (seeded) run, matrix and step of the sweep;
- ``activations``: half as many, random run and step;

and prints the median and 95th percentile in ms (target: p95 <= 300 ms), and the
resident memory of TensorBoard's processes (the Python server and its data
server, from ``/proc/<pid>/status``: ``VmHWM``, the peak, and ``VmRSS`` once loaded
and after the requests). For the long run: its event file's size, the time the
server took to list all its steps, the ``weights`` and ``activations`` answers
at the last step (20 requests each), 40 more of each at random matrices and
steps (the first request of a series reads it whole, the plugin keeps it for
the next ones), and in a fresh process the Python loader the plugin reads through with
``--load_fast=false`` (``EventMultiplexer`` with the launcher's size guidance):
its load time, peak memory and the routes' answer at the last step.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from bench.common import MB, REPO, child_pids, print_table, status_kib

UNITS = 128
DATA = ["data=sine", "data.n_samples=64", "data.seq_len=20", "train.batch_size=32"]
VIZ = "viz=[kernel,gates,bias,activations]"  # the defaults, plus the GATES page's activations and saturation
SWEEP_EPOCHS = 3
P95_TARGET_MS = 300.0
HOST = "127.0.0.1"
PLUGIN = "lstm_gates"
READY_TIMEOUT_S = 1800.0
POLL_S = 0.5
RSS_SAMPLE_S = 0.1
LAST_STEP_REQUESTS = 20

# Run in a fresh interpreter: the Python loader (what the plugin reads through with --load_fast=false)
# on one logdir, then the plugin's routes at the last step through a werkzeug test client.
LOADER_SCRIPT = r"""
import json, resource, sys, time, urllib.parse
start = time.perf_counter()
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_ingester, data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from werkzeug.test import Client
from werkzeug.wrappers import Response
from lstm_experiments.board import launcher
from lstm_experiments.board.plugin import GatesPlugin
imported = time.perf_counter()
logdir, requests = sys.argv[1], int(sys.argv[2])
guidance = dict(data_ingester.DEFAULT_TENSOR_SIZE_GUIDANCE)
guidance.update(launcher.SAMPLES)
before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
mux = plugin_event_multiplexer.EventMultiplexer(size_guidance=data_ingester.DEFAULT_SIZE_GUIDANCE,
                                                tensor_size_guidance=guidance)
mux.AddRunsFromDirectory(logdir)
mux.Reload()
loaded = time.perf_counter()
provider = data_provider.MultiplexerDataProvider(mux, logdir)
context = base_plugin.TBContext(data_provider=provider, logdir=logdir, multiplexer=mux,
                                sampling_hints=launcher.SAMPLES)
client = Client(application.TensorBoardWSGI([GatesPlugin(context)], data_provider=provider), Response)
def timed(url):
    t = time.perf_counter()
    response = client.get(url)
    body = response.get_data()
    assert response.status_code == 200, body[:300]
    return (time.perf_counter() - t) * 1000, len(body)
index_ms, _ = timed("/data/plugin/lstm_gates/runs")
(run,) = json.loads(client.get("/data/plugin/lstm_gates/runs").get_data())["runs"]
layer = run["layers"][0]
last = run["steps"][-1]
weights = {}
for matrix in layer["matrices"]:
    query = urllib.parse.urlencode({"run": run["run"], "layer": layer["layer"], "matrix": matrix["matrix"], "step": last})
    weights[matrix["matrix"]] = [timed("/data/plugin/lstm_gates/weights?" + query) for _ in range(requests)]
query = urllib.parse.urlencode({"run": run["run"], "layer": layer["layer"], "step": last})
activations = [timed("/data/plugin/lstm_gates/activations?" + query) for _ in range(requests)]
print(json.dumps({"import_s": imported - start, "load_s": loaded - imported, "runs_ms": index_ms,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_before_load_mb": before_kib / 1024, "kept_steps": run["kept_steps"],
                  "logged_steps": run["logged_steps"], "last_step": last,
                  "weights": weights, "activations": activations}))
"""


# ---------------------------------------------------------------------------------------- processes


def _server_helpers():
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.helpers import tensorboard_server

    return tensorboard_server


def _cli(args: list[str], cwd: Path) -> float:
    """Run ``python <args>`` in ``cwd``; its wall seconds (raises with its stderr's tail on failure)."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)[:300]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += child_pids(current)
    return pids


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


class Memory(threading.Thread):
    """Samples the summed VmRSS of a process and its descendants; reads each one's VmHWM on demand."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_total_kib, self._stop = pid, 0, threading.Event()
        self.names: dict[int, str] = {}

    def run(self):
        while not self._stop.is_set():
            total = 0
            for pid in _tree(self.pid):
                self.names.setdefault(pid, _name(pid))
                total += status_kib(pid).get("VmRSS", 0)
            self.peak_total_kib = max(self.peak_total_kib, total)
            self._stop.wait(RSS_SAMPLE_S)

    def snapshot(self) -> dict:
        """{process name: {rss_mb, peak_mb}} for every live process of the tree, and their sum."""
        processes = {}
        for pid in _tree(self.pid):
            status = status_kib(pid)
            if status:
                processes[f"{self.names.get(pid) or _name(pid)} ({pid})"] = {
                    "rss_mb": status.get("VmRSS", 0) / 1024, "peak_mb": status.get("VmHWM", 0) / 1024}
        return {"processes": processes,
                "rss_mb": sum(p["rss_mb"] for p in processes.values()),
                "peak_mb": sum(p["peak_mb"] for p in processes.values()),
                "sampled_peak_total_mb": self.peak_total_kib / 1024}

    def stop(self):
        self._stop.set()


class Board:
    """TensorBoard as ``lstm-experiments-board LOGDIR`` starts it, on a free port of 127.0.0.1."""

    def __init__(self, logdir: Path, log_file: Path):
        from lstm_experiments.board import launcher

        self.server = _server_helpers()
        self.port = self.server.free_port()
        self.command = launcher.tensorboard_command(str(logdir), self.port, ["--host", HOST])
        self.base = f"http://{HOST}:{self.port}"
        self.log_file = log_file

    def __enter__(self):
        self._log = open(self.log_file, "wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT)
        self.memory = Memory(self.process.pid)
        self.memory.start()
        return self

    def __exit__(self, *exc):
        self.memory.stop()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def runs(self) -> list[dict]:
        return self.server.get_json(f"{self.base}/data/plugin/{PLUGIN}/runs").get("runs", [])

    def wait_loaded(self, runs: int, steps: int) -> tuple[float, list[dict]]:
        """Seconds from the start until the plugin lists ``runs`` runs, each with ``steps`` steps kept."""
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"TensorBoard exited ({self.process.returncode}); see {self.log_file}")
            try:
                listed = self.runs()
            except OSError:
                listed = []
            if len(listed) >= runs and all(r["kept_steps"] == steps == r["logged_steps"] for r in listed):
                return time.perf_counter() - self.started, listed
            if time.perf_counter() - self.started > READY_TIMEOUT_S:
                raise TimeoutError(f"TensorBoard at {self.base} lists {len(listed)} runs: "
                                   f"{[(r['run'], r['kept_steps']) for r in listed[:5]]}")
            time.sleep(POLL_S)


# ---------------------------------------------------------------------------------------- requests


def timed_get(url: str) -> tuple[float, int]:
    """(ms from the request to the last byte of the body, body bytes); a fresh connection each time."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
        status = response.status
    ms = (time.perf_counter() - start) * 1000
    if status != 200:
        raise RuntimeError(f"{url}: {status}")
    return ms, len(body)


def _row(measure: str, timings: list[tuple[float, int]], target: float | None = P95_TARGET_MS) -> dict:
    ms = np.array([t for t, _ in timings])
    row = {"measure": measure, "n": len(ms), "median_ms": float(np.median(ms)),
           "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max()),
           "kb": float(np.median([b for _, b in timings]) / 1024)}
    if target is not None:
        row.update(target_p95_ms=target, met=row["p95_ms"] <= target)
    return row


def _url(base: str, route: str, **params) -> str:
    return f"{base}/data/plugin/{PLUGIN}/{route}?{urllib.parse.urlencode(params)}"


def weights_urls(base: str, runs: list[dict], n: int, rng: random.Random) -> list[str]:
    urls = []
    for _ in range(n):
        run = rng.choice(runs)
        layer = rng.choice(run["layers"])
        matrix = rng.choice(layer["matrices"])
        urls.append(_url(base, "weights", run=run["run"], layer=layer["layer"], matrix=matrix["matrix"],
                         step=rng.choice(run["steps"])))
    return urls


def activations_urls(base: str, runs: list[dict], n: int, rng: random.Random) -> list[str]:
    urls = []
    for _ in range(n):
        run = rng.choice(runs)
        layer = rng.choice([layer for layer in run["layers"] if layer["activations"]])
        urls.append(_url(base, "activations", run=run["run"], layer=layer["layer"], step=rng.choice(run["steps"])))
    return urls


# ---------------------------------------------------------------------------------------- the two logdirs


def make_sweep(runs: int, workdir: Path) -> tuple[Path, float, list[str]]:
    sweep = workdir / "sweep"
    args = ["-m", "lstm_experiments", "-m", f"units={UNITS}", f"seed={','.join(str(s) for s in range(runs))}",
            *DATA, f"train.epochs={SWEEP_EPOCHS}", VIZ, f"hydra.sweep.dir={sweep}"]
    return sweep, _cli(args, workdir), args


def make_long_run(epochs: int, workdir: Path) -> tuple[Path, float, list[str]]:
    run_dir = workdir / "long"
    args = ["-m", "lstm_experiments", f"units={UNITS}", *DATA, f"train.epochs={epochs}", VIZ, "viz.log_every=1",
            f"hydra.run.dir={run_dir}"]
    return run_dir, _cli(args, workdir), args


def python_loader(logdir: Path, requests: int) -> dict:
    result = subprocess.run([sys.executable, "-c", LOADER_SCRIPT, str(logdir), str(requests)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"the Python loader failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _memory_note(label: str, snapshot: dict) -> str:
    parts = ", ".join(f"{name} {p['rss_mb']:.0f} MB (peak {p['peak_mb']:.0f})"
                      for name, p in snapshot["processes"].items())
    return (f"{label}: RSS {snapshot['rss_mb']:.0f} MB, peak {snapshot['peak_mb']:.0f} MB "
            f"(summed peak sampled every {RSS_SAMPLE_S} s: {snapshot['sampled_peak_total_mb']:.0f} MB): {parts}")


def measure_sweep(sizes, workdir: Path) -> tuple[list[dict], list[str], dict]:
    sweep, sweep_s, args = make_sweep(sizes.load_runs, workdir)
    steps = SWEEP_EPOCHS + 1
    files = list(sweep.glob("*/tensorboard/events.out.tfevents.*"))
    event_bytes = sum(f.stat().st_size for f in files)
    rng = random.Random(0)
    with Board(sweep, workdir / "tensorboard_sweep.log") as board:
        ready_s, listed = board.wait_loaded(sizes.load_runs, steps)
        loaded = board.memory.snapshot()
        first = timed_get(_url(board.base, "runs"))
        index = [timed_get(_url(board.base, "runs")) for _ in range(sizes.load_requests)]
        weights = [timed_get(url) for url in weights_urls(board.base, listed, sizes.load_requests, rng)]
        activations = [timed_get(url) for url in activations_urls(board.base, listed, sizes.load_requests // 2, rng)]
        after = board.memory.snapshot()
        command = board.command
    rows = [
        _row(f"sweep: runs ({sizes.load_runs} runs), first after load", [first], None),
        _row(f"sweep: runs ({sizes.load_runs} runs)", index),
        _row("sweep: weights, random run/matrix/step", weights),
        _row("sweep: activations, random run/step", activations),
    ]
    notes = [
        f"sweep: python {' '.join(args[:-1])} hydra.sweep.dir=<workdir>/sweep ({sweep_s:.0f} s); "
        f"{len(files)} event files, {event_bytes / MB:.1f} MB",
        f"TensorBoard: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command))}; every run with its "
        f"{steps} steps listed {ready_s:.1f} s after the start",
        _memory_note("TensorBoard once loaded", loaded),
        _memory_note(f"TensorBoard after the {2 * sizes.load_requests + sizes.load_requests // 2} requests", after),
    ]
    detail = {"sweep_s": sweep_s, "sweep_command": ["python", *args], "tensorboard_command": command,
              "ready_s": ready_s, "event_bytes": event_bytes, "memory_loaded": loaded, "memory_after": after}
    return rows, notes, detail


def measure_long_run(sizes, workdir: Path) -> tuple[list[dict], list[str], dict]:
    epochs = sizes.load_long_epochs
    run_dir, run_s, args = make_long_run(epochs, workdir)
    (event_file,) = (run_dir / "tensorboard").glob("events.out.tfevents.*")
    size = event_file.stat().st_size
    steps = epochs + 1
    with Board(run_dir, workdir / "tensorboard_long.log") as board:
        ready_s, (entry,) = board.wait_loaded(1, steps)
        loaded = board.memory.snapshot()
        layer = entry["layers"][0]
        last = entry["steps"][-1]
        index = [timed_get(_url(board.base, "runs")) for _ in range(LAST_STEP_REQUESTS)]
        weights = {m["matrix"]: [timed_get(_url(board.base, "weights", run=entry["run"], layer=layer["layer"],
                                                matrix=m["matrix"], step=last)) for _ in range(LAST_STEP_REQUESTS)]
                   for m in layer["matrices"]}
        activations = [timed_get(_url(board.base, "activations", run=entry["run"], layer=layer["layer"], step=last))
                       for _ in range(LAST_STEP_REQUESTS)]
        # Then other steps, as the page's slider and prefetcher ask: the first of each series reads it whole.
        rng = random.Random(0)
        scattered = {
            "weights, random matrix/step": [timed_get(url) for url in weights_urls(
                board.base, [entry], 2 * LAST_STEP_REQUESTS, rng)],
            "activations, random step": [timed_get(url) for url in activations_urls(
                board.base, [entry], 2 * LAST_STEP_REQUESTS, rng)],
        }
        after = board.memory.snapshot()
    loader = python_loader(run_dir, LAST_STEP_REQUESTS)
    rows = [_row(f"{epochs} epochs: runs (1 run, {steps} steps)", index)]
    rows += [_row(f"{epochs} epochs: weights {matrix}, step {last}", timings) for matrix, timings in weights.items()]
    rows.append(_row(f"{epochs} epochs: activations, step {last}", activations))
    rows += [_row(f"{epochs} epochs: {name}", timings) for name, timings in scattered.items()]
    rows += [_row(f"{epochs} epochs, --load_fast=false in-process: weights {matrix}", [tuple(t) for t in timings],
                  None) for matrix, timings in loader["weights"].items()]
    rows.append(_row(f"{epochs} epochs, --load_fast=false in-process: activations",
                     [tuple(t) for t in loader["activations"]], None))
    notes = [
        f"long run: python {' '.join(args[:-1])} hydra.run.dir=<workdir>/long ({run_s:.0f} s); event file "
        f"{size / MB:.1f} MB ({size / steps / 1024:.0f} KB per logged step, {steps} steps)",
        f"long run, TensorBoard (launcher's flags, data server): every step listed {ready_s:.1f} s after the start",
        _memory_note("long run, TensorBoard once loaded", loaded),
        _memory_note("long run, TensorBoard after the requests", after),
        f"long run, Python loader (EventMultiplexer, the launcher's size guidance; what the plugin reads with "
        f"--load_fast=false), fresh process: Reload {loader['load_s']:.1f} s, peak RSS {loader['peak_rss_mb']:.0f} MB "
        f"({loader['rss_before_load_mb']:.0f} MB before), {loader['kept_steps']}/{loader['logged_steps']} steps kept; "
        f"its runs route {loader['runs_ms']:.0f} ms; routes timed through werkzeug's test client, no HTTP",
    ]
    detail = {"long_s": run_s, "long_command": ["python", *args], "event_file_bytes": size, "steps": steps,
              "ready_s": ready_s, "memory_loaded": loaded, "memory_after": after,
              "python_loader": {k: v for k, v in loader.items() if k not in ("weights", "activations")}}
    return rows, notes, detail


def run(sizes, workdir: Path) -> dict:
    title = (f"load: the GATES routes over HTTP, a {sizes.load_runs}-run sweep and a {sizes.load_long_epochs}-epoch "
             f"run at units={UNITS} (one request at a time)")
    columns = ["measure", "n", "median_ms", "p95_ms", "max_ms", "kb", "target_p95_ms", "met"]
    sweep_rows, sweep_notes, sweep = measure_sweep(sizes, workdir)
    long_rows, long_notes, long = measure_long_run(sizes, workdir)
    rows = sweep_rows + long_rows
    notes = sweep_notes + long_notes + [
        "ms: from the request to the body's last byte, a fresh connection each; kb: the median answer's size; "
        "p95: numpy.percentile(ms, 95)"]
    print_table(title, columns, rows, notes)
    return {"rows": rows, "notes": notes, "sweep": sweep, "long": long, "p95_target_ms": P95_TARGET_MS}
