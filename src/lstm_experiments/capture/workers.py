"""A single worker thread that runs logging jobs in order, off the training thread.

The training thread only copies the weights to the host and hands them over;
here they are drawn, encoded and written (``viz.worker=thread``), or sent down
the pipe to the drawing process (``viz.worker=process``, which blocks here, not
in training, while that process is busy). The queue is bounded, so if logging
falls behind, training waits rather than piling up weight copies in memory. A
failing job is logged and skipped: logging never takes training down.
"""

import logging
import os
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# Logged steps that may wait for the worker before training blocks.
MAX_PENDING_JOBS = 2
# The worker thread's nice value: on Linux a thread has its own, so TensorFlow's threads keep
# the cores and drawing fills the gaps between batches instead of slowing them.
WORKER_NICE = 10
_STOP = object()


def _lower_this_threads_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


class BackgroundWorker:
    def __init__(self, name: str = "lstm-experiments-logging", max_pending: int = MAX_PENDING_JOBS):
        self._jobs: queue.Queue = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        _lower_this_threads_priority()
        while True:
            job = self._jobs.get()
            try:
                if job is _STOP:
                    return
                function, args = job
                function(*args)
            except Exception:
                log.exception("a logging job failed; training goes on")
            finally:
                self._jobs.task_done()

    def submit(self, function: Callable, *args) -> None:
        self._jobs.put((function, args))

    def try_submit(self, function: Callable, *args) -> bool:
        """``submit`` unless ``max_pending`` jobs already wait: then nothing, and False."""
        try:
            self._jobs.put_nowait((function, args))
            return True
        except queue.Full:
            return False

    def drain(self) -> None:
        """Wait until every submitted job has run."""
        self._jobs.join()

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join()


class InlineWorker:
    """The same interface, running each job at once on the caller's thread (viz.background=false)."""

    def submit(self, function: Callable, *args) -> None:
        try:
            function(*args)
        except Exception:
            log.exception("a logging job failed; training goes on")

    def try_submit(self, function: Callable, *args) -> bool:
        self.submit(function, *args)
        return True

    def drain(self) -> None:
        pass

    def close(self) -> None:
        pass
