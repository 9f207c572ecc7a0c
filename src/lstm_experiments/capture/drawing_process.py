"""Runs a run's ``Drawer`` in a process of its own, so drawing never holds the training process' GIL.

On a thread, the visualizers' numpy and protobuf work held the GIL against
Keras' training loop, whose Python between TensorFlow calls then waited for it:
training slowed by about the drawing time even with a core idle. Here the
training process only pickles each snapshot down a pipe (from its logging
thread); a child interpreter (``python -m lstm_experiments.capture.drawing_process``,
no TensorFlow, low CPU priority, one BLAS thread) draws, encodes and writes, in the
order the calls were made.

The child runs at ``viz.worker_priority``: by default Linux' SCHED_IDLE policy,
so it draws on CPU time that training leaves idle, and a TensorFlow thread that
wakes takes its core back at once. At nice 10 the child still delayed those
wake-ups once training kept both cores nearly busy (docs/performance.md,
"SCHED_IDLE rather than nice 10").

The runner starts the child before it imports TensorFlow, and gives it the
run's ``DrawingSpec`` (``start``) once the model is built: the child's own
start-up (Python, numpy, TensorBoard's protos) then runs beside
that single-threaded import instead of beside the first epochs.

The child ignores SIGINT/SIGTERM (the training process handles them and closes
it after the last step), and exits when its pipe closes, so a training process
that is killed leaves no orphan. Its log records are re-logged in the training
process under their own logger names, so they reach Hydra's job log. If the
child dies, training goes on and one line is logged, naming the last step the
child confirmed written (it answers each drawn step) and the event file's
directory. If the child cannot write (a full disk, a file-size limit), that is
the user's to fix: its drawer's ``failure`` comes back here as ``failure``, and
``on_failure`` is called with it, so the run can stop (``GateLogger``).

Why a ``python -m`` child over two pipes, not ``multiprocessing``'s own
process or a one-worker ``ProcessPoolExecutor``: ``fork`` after TensorFlow's
import is unsafe (its threads), and ``spawn`` and ``forkserver`` import the
parent's ``__main__`` again in the child, that is, the user's training script
with its ``import tensorflow``. Measured on the development machine from a
script that imports TensorFlow at its top (three trials each): this child is
ready in 0.36-0.63 s at 38 MB; a spawn-context one-worker executor in
5.1-8.8 s at 614 MB, TensorFlow imported in it. The messages are still
``multiprocessing.connection`` pickles, and the child's log records reach this
process through the standard library's ``QueueHandler``, re-handled here under
their own names.
"""

import logging
import logging.handlers
import os
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from lstm_experiments.config.choices import Priority, parse

# Named, not __name__: in the child this module runs as __main__.
log = logging.getLogger("lstm_experiments.capture.drawing_process")
MODULE = "lstm_experiments.capture.drawing_process"

# viz.worker_priority (config.choices.Priority): how the child lowers its priority
# (SCHED_IDLE falls back to nice 19 off Linux).
LOW_NICE = 10
IDLE_NICE = 19
# The child's numpy work is small matrices; threaded BLAS would only fight TensorFlow for the cores.
# Once training is over (``training_over``) the child takes every core for what is left: the last
# step's drawing, which training waits for (at 1024 units a probe's matrix products ran 1.8x faster
# on 2 threads than on 1 on an idle 2-core machine; docs/performance.md).
CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# How long the parent waits for the child to answer ``sync`` or ``close``: every step queued before
# must be drawn first, and at SCHED_IDLE beside a training that keeps every core busy that can take
# minutes (a logged step of 1024 units with every visualizer is ~2 s of CPU; docs/performance.md).
REPLY_WAIT_S = 600
# After ``close`` was answered (or the pipe broke): the child only has to exit.
EXIT_WAIT_S = 30
# When the pipe breaks: how long to wait for the child's exit status, to say how it died.
STATUS_WAIT_S = 5

# What the parent sends: a drawer method's name and its arguments, or one of these.
SYNC, CLOSE, START, TRAINING_OVER = "sync", "close", "start", "training_over"
# What the child answers, the first element of each reply.
LOG, DRAWN, FAILED, SYNCED, CLOSED = "log", "drawn", "failed", "synced", "closed"


def child_environment() -> dict[str, str]:
    """This environment, one BLAS thread, and this package's directory first on the path
    (the child must import the same lstm_experiments, however this process found it)."""
    import lstm_experiments

    package_root = str(Path(lstm_experiments.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, **CHILD_ENV, "PYTHONPATH": path}


class DrawingProcess:
    """The ``Drawer`` interface (draw, prime, write_scalars, write_hparams, flush, close), in a child process."""

    def __init__(self, spec=None, priority: str = "idle"):
        """Start the child; it draws for ``spec`` once given one, here or by ``start`` (until then it
        only imports, which a caller can overlap with its own start-up)."""
        priority = parse(Priority, priority, "viz.worker_priority")  # a ValueError naming the choices
        child_read, parent_write = os.pipe()
        parent_read, child_write = os.pipe()
        self._process = subprocess.Popen(
            [sys.executable, "-m", MODULE, str(child_read), str(child_write), priority.value],
            pass_fds=(child_read, child_write),
            env=child_environment(),
            stdin=subprocess.DEVNULL,
        )
        os.close(child_read)
        os.close(child_write)
        self._out = Connection(parent_write, readable=False)
        self._in = Connection(parent_read, writable=False)
        self._send_lock = threading.Lock()
        self._replies = threading.Condition()
        self._synced = 0
        self._closed = False
        self._dead = False
        # The event file's directory (from ``start``) and the last step the child wrote to it.
        self.logdir: str | None = None
        self.last_drawn_step: int | None = None
        # Why the child stopped writing (``Drawer.failure``), and whom to tell.
        self.failure: str | None = None
        self.on_failure = None
        self._reader = threading.Thread(target=self._read_replies, name="lstm-experiments-drawing-replies",
                                        daemon=True)
        self._reader.start()
        if spec is not None:
            self.start(spec)

    def start(self, spec) -> None:
        """Open the event file and set up the visualizers for ``spec`` (a ``DrawingSpec``)."""
        self.logdir = spec.logdir
        self._call(START, spec)

    # ------------------------------------------------------------------ parent side

    def _read_replies(self) -> None:
        while True:
            try:
                reply = self._in.recv()
            except (EOFError, OSError):
                break
            kind = reply[0]
            if kind == LOG:  # a record the child's QueueHandler prepared (message formatted, no traceback object)
                record = reply[1]
                logging.getLogger(record.name).handle(record)
            elif kind == DRAWN:
                self.last_drawn_step = reply[1]
            elif kind == FAILED:
                self._failed(reply[1])
            else:
                with self._replies:
                    if kind == SYNCED:
                        self._synced = reply[1]
                    elif kind == CLOSED:
                        self._closed = True
                    self._replies.notify_all()
        if not self._closed:
            self._died()

    def _failed(self, message: str) -> None:
        if self.failure is None:
            self.failure = message
            if self.on_failure is not None:
                self.on_failure(message)

    def _died(self) -> None:
        with self._replies:
            first = not self._dead
            self._dead = True
            self._replies.notify_all()
        if first:
            try:
                status = self._process.wait(timeout=STATUS_WAIT_S)
            except subprocess.TimeoutExpired:
                status = None
            log.error("%s", self.death_message(status))

    def death_message(self, status) -> str:
        """The one line logged when the child dies: how, and the last step it wrote, and where."""
        how = f"status {status}"
        if status is not None and status < 0:
            try:
                how = f"killed by {signal.Signals(-status).name}"
            except ValueError:
                pass
        if self.last_drawn_step is None:
            stopped = "before it wrote any step" + (f" to {self.logdir}" if self.logdir else "")
        else:
            stopped = (f"pictures stopped at step {self.last_drawn_step}: {self.logdir} holds "
                       f"the steps up to it")
        return f"the drawing process exited ({how}); {stopped}; training goes on without pictures"

    def _call(self, method: str, *args) -> bool:
        if self._dead:
            return False
        try:
            with self._send_lock:
                self._out.send((method, args))
            return True
        except (BrokenPipeError, OSError, ValueError):
            self._died()
            return False

    def _wait(self, done) -> bool:
        with self._replies:
            ok = self._replies.wait_for(lambda: done() or self._dead, timeout=REPLY_WAIT_S)
            return ok and done()

    def draw(self, snapshot) -> None:
        self._call("draw", snapshot)

    def prime(self, initial: dict) -> None:
        self._call("prime", initial)

    def write_scalars(self, step: int, scalars: dict) -> None:
        self._call("write_scalars", step, scalars)

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        self._call("write_hparams", hparams, list(metric_tags), trial_id)

    def write_text(self, step: int, tag: str, text: str) -> None:
        self._call("write_text", step, tag, text)

    def flush(self) -> None:
        self._call("flush")

    def training_over(self) -> None:
        self._call(TRAINING_OVER)

    def sync(self) -> bool:
        """Wait until the child has done every call made so far; False if it died."""
        with self._replies:
            token = self._synced + 1
        if not self._call(SYNC, token):
            return False
        return self._wait(lambda: self._synced >= token)

    def close(self) -> None:
        """Let the child finish every call, close the event file and exit."""
        if self._call(CLOSE):
            if not self._wait(lambda: self._closed):
                self._died()
        self._out.close()
        try:
            self._process.wait(timeout=EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=STATUS_WAIT_S)
        self._in.close()


# ---------------------------------------------------------------------- child side


class _PipeQueue:
    """The one method ``QueueHandler`` needs of a queue: each prepared record goes down the reply pipe."""

    def __init__(self, reply):
        self.reply = reply

    def put_nowait(self, record: logging.LogRecord) -> None:
        try:
            self.reply(LOG, record)
        except Exception:  # the parent is gone: nowhere left to report
            pass


def serve(incoming: Connection, outgoing: Connection) -> None:
    from lstm_experiments.capture.drawer import Drawer

    lock = threading.Lock()

    def reply(*message) -> None:
        with lock:
            outgoing.send(message)

    handler = logging.handlers.QueueHandler(_PipeQueue(reply))
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)

    drawer = None
    try:
        while True:
            try:
                method, args = incoming.recv()
            except (EOFError, OSError):  # the training process is gone
                return
            if method == SYNC:
                reply(SYNCED, args[0])
                continue
            if method == CLOSE:
                return
            if method == TRAINING_OVER:
                use_every_core()
                continue
            try:
                if method == START:
                    # Told before it opens the event file, which may already fail.
                    drawer = Drawer(on_failure=lambda message: reply(FAILED, message))
                    drawer.start(*args)
                elif drawer is not None:
                    getattr(drawer, method)(*args)  # one of DrawerInterface's methods, by name
                    if method == "draw" and drawer.failure is None:
                        reply(DRAWN, args[0].step)
            except Exception:  # logging never takes training down
                log.exception("drawing: %s failed; training goes on", method)
    finally:
        if drawer is not None:
            try:
                drawer.close()
            except Exception:
                log.exception("drawing: closing the event file failed")
        try:
            reply(CLOSED)
        except (BrokenPipeError, OSError):
            pass


def use_every_core() -> None:
    """As many BLAS threads as this process may run on (threadpoolctl), for the drawing left after training."""
    try:
        from threadpoolctl import threadpool_limits

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        threadpool_limits(limits=cores or 1, user_api="blas")
    except Exception:  # noqa: BLE001 - one thread still draws everything
        log.debug("drawing: could not raise the BLAS threads", exc_info=True)


def lower_priority(priority: str) -> None:
    """This process' CPU priority for ``viz.worker_priority`` (best effort: never an error)."""
    if priority == "idle":
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except (AttributeError, OSError):  # not Linux: the lowest nice instead
            pass
    nice = {"idle": IDLE_NICE, "low": LOW_NICE}.get(priority)
    if nice is not None:
        try:
            os.nice(nice)
        except OSError:
            pass


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Slurm signals every process of a job step: a preemption's SIGUSR2 is for the training
    # process (which stops at the end of the batch, then closes this one); by default it would kill this.
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    lower_priority(argv[2] if len(argv) > 2 else "idle")
    incoming = Connection(int(argv[0]), writable=False)
    outgoing = Connection(int(argv[1]), readable=False)
    serve(incoming, outgoing)


if __name__ == "__main__":
    main(sys.argv[1:])
