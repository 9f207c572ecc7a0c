"""``GateLogger``'s line to its drawer: which drawer, the worker that feeds it in order, and closing both.

The drawer is a ``DrawingProcess`` (the default), a ``Drawer`` in this process
(``worker="thread"`` or ``background=False``), or one already started by the
runner (``attach``). Every call reaches it through the worker, in the order
made (``interfaces``): ``call`` waits when the worker is behind, ``try_call``
does not (a batch step is then skipped, and the caller counts it).
"""

from lstm_experiments.capture.drawer import Drawer
from lstm_experiments.capture.workers import BackgroundWorker, InlineWorker
from lstm_experiments.config.choices import Worker


class DrawingLink:
    def __init__(self, background: bool, worker: Worker, priority: str):
        self.background = background
        self.worker_kind = worker
        self.priority = priority
        self.given = None  # a drawer already made (the runner's), started and closed here
        self.drawer = None
        self.worker = None

    @property
    def open(self) -> bool:
        return self.drawer is not None

    def start(self, spec, on_failure, first_calls=()) -> None:
        """Make the drawer and its worker, open the event file, then ``first_calls`` ((method, args) pairs)."""
        if self.given is not None:
            self.drawer, self.given = self.given, None
        elif self.background and self.worker_kind is Worker.process:
            from lstm_experiments.capture.drawing_process import DrawingProcess

            self.drawer = DrawingProcess(priority=self.priority)
        else:
            self.drawer = Drawer()
        # Before start: opening the event file may already fail.
        self.drawer.on_failure = on_failure
        self.drawer.start(spec)
        self.worker = BackgroundWorker() if self.background else InlineWorker()
        for method, args in first_calls:
            self.call(method, *args)

    def call(self, method: str, *args) -> None:
        """The drawer's ``method(*args)``, after every call made before it (waits when the worker is behind)."""
        self.worker.submit(getattr(self.drawer, method), *args)

    def training_over(self) -> None:
        """Tell the drawer that training has ended (after every call made before), if it listens."""
        if self.drawer is not None and hasattr(self.drawer, "training_over"):
            self.call("training_over")

    def try_call(self, function, *args) -> bool:
        """``function(drawer, *args)`` on the worker unless it is behind: then nothing, and False."""
        return self.worker.try_submit(function, self.drawer, *args)

    def close(self) -> None:
        """Wait for every pending call to be drawn and written, then close the event file."""
        if self.drawer is None:
            if self.given is not None:
                self.given.close()
                self.given = None
            return
        try:
            self.worker.drain()
            self.worker.close()
            self.drawer.sync()
        finally:
            self.drawer.close()
            self.drawer = None
