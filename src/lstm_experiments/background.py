"""A single worker thread that runs logging jobs in order, off the training thread.

The training thread only copies the weights to the host and hands them over;
drawing, encoding and writing happen here. The queue is bounded, so if logging
falls behind, training waits rather than piling up weight copies in memory. A
failing job is logged and skipped: logging never takes training down.
"""

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# Logged steps that may wait for the worker before training blocks.
MAX_PENDING_JOBS = 2
_STOP = object()


class BackgroundWorker:
    def __init__(self, name: str = "lstm-experiments-logging", max_pending: int = MAX_PENDING_JOBS):
        self._jobs: queue.Queue = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
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

    def drain(self) -> None:
        pass

    def close(self) -> None:
        pass
