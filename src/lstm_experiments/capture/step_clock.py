"""What a step is, and where in training each one stands (its epoch and batch).

By epoch (the default): a step counts epochs. The first logged step is the
weights when logging began (0, or ``fit``'s ``initial_epoch``), and each epoch
that ends adds one, whichever ``fit`` call it belongs to.

By batch (``log_every_batches``): a step is the optimizer's iteration count,
for every tag of the run, so the batch-level pictures, the epoch metrics and
TensorBoard's charts share one axis. A resumed run's restored optimizer goes
on counting where it stopped.

Either way every logged step knows its position: the epoch it belongs to
(counted like the epoch steps, from 1) and the batches done in that epoch, so
that the GATES slider and hover can say "step 1200 · epoch 3, batch 150".
"""

from dataclasses import dataclass


@dataclass
class StepClock:
    log_every: int = 1
    log_every_batches: int | None = None
    # Epochs done (the epoch steps); None until logging begins.
    epochs_done: int | None = None
    # The optimizer's iterations (batch steps).
    iterations: int = 0
    # Batches done in the epoch running (0 between epochs).
    batch: int = 0
    in_epoch: bool = False

    @property
    def by_batch(self) -> bool:
        return self.log_every_batches is not None

    @property
    def started(self) -> bool:
        return self.epochs_done is not None

    @property
    def step(self) -> int | None:
        if self.epochs_done is None:
            return None
        return self.iterations if self.by_batch else self.epochs_done

    def start(self, epochs_done: int, iterations: int) -> None:
        """Logging begins (or goes on, in a later ``fit``) with the optimizer at ``iterations``."""
        if self.epochs_done is None:
            self.epochs_done = epochs_done
        self.iterations = iterations

    def epoch_begins(self) -> None:
        self.batch, self.in_epoch = 0, True

    def batch_ends(self) -> bool:
        """One more optimizer step; whether the new step is one to log (every ``log_every_batches``)."""
        self.batch += 1
        self.iterations += 1
        return self.by_batch and self.iterations % self.log_every_batches == 0

    def epoch_ends(self, epoch_index: int) -> bool:
        """The epoch that Keras numbers ``epoch_index`` ended; whether its step logs the weights."""
        # The count goes on across fit() calls; an initial_epoch further on moves it there.
        self.epochs_done = max(self.epochs_done + 1, epoch_index + 1)
        self.in_epoch = False
        return not self.by_batch and self.epochs_done % self.log_every == 0

    def position(self) -> tuple[int, int]:
        """(epoch, batch) of the state now: the epoch running (from 1) and its batches done, or the
        epoch that just ended and all its batches; (0, 0) before training."""
        if self.in_epoch:
            return self.epochs_done + 1, self.batch
        return self.epochs_done or 0, self.batch

    def failure_steps(self) -> tuple[int, int]:
        """(the last finite weights' step, the failing batch's step) for a loss gone non-finite now.

        By batch: the iterations before and after the failing batch's update. By epoch, where a
        step is an epoch: the failing epoch's number for the last finite weights and the one after
        for the failing batch, which no epoch step will ever take (training stops there).
        """
        if self.by_batch:
            return self.iterations - 1, self.iterations
        return self.epochs_done + 1, self.epochs_done + 2
