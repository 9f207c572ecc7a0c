"""The epoch metrics a run logs, as Keras names them: the one place their names live.

Every task logs the loss on the training and the validation data; classification
(binary, and next-token prediction on text) adds the accuracy on both. Tags (``metrics/<name>``), the HParams
metrics, the CUSTOM SCALARS charts, what early stopping may monitor and the
report's column order all read these.
"""

LOSSES = ("loss", "val_loss")
ACCURACIES = ("accuracy", "val_accuracy")
# Every metric a run may log, in the order tables list them.
METRIC_NAMES = (*LOSSES, *ACCURACIES)
# The learning rate, logged beside them every epoch by the runner.
LEARNING_RATE = "learning_rate"


def task_metrics(classification: bool) -> tuple[str, ...]:
    """The metrics a task logs: the losses, and for classification the accuracies too."""
    return METRIC_NAMES if classification else LOSSES
