"""Errors the user can fix; the CLI prints them as one line, without a traceback."""


def first_line(error: BaseException, default: str | None = None) -> str:
    """The first line of ``error``'s message (some libraries' run over several), for a one-line error;
    ``default``, or the exception's type name, when it has none."""
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return type(error).__name__ if default is None else default


class UserError(Exception):
    """A bad config value or input file: the message names the key or file and the value."""


class ConfigValueError(UserError):
    """A config value outside its allowed range."""


class DataError(UserError):
    """The data set cannot be built from the given file or settings."""


class TrainingFailed(UserError):
    """Training stopped on a fault (a NaN or inf loss); metrics.json says why."""


class Interrupted(Exception):
    """Training stopped on SIGINT or SIGTERM; a checkpoint was saved and the run can be resumed."""

    def __init__(self, signal_name: str, run_dir):
        super().__init__(
            f"{signal_name}: stopped; checkpoint saved. Resume with: "
            f"python -m lstm_experiments resume={run_dir}"
        )
        self.signal_name = signal_name


class EventFileError(UserError):
    """The pictures cannot be written (a full disk, a file-size limit, a directory that is not
    writable); the message names the directory and the OS's reason. ``GateLogger`` raises it when
    ``fit`` ends, in code of one's own; a run stops on it and says so in metrics.json instead."""
