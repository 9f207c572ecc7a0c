"""What the GATES tab calls a run and where it puts it: its name, its title and its order.

TensorBoard names a run by its event files' directory under the logdir
(``multirun/.../3/tensorboard``). The tab shows it without the ``tensorboard``
that every runner's run directory ends in (``name``), titles it by what sets it
apart (``title``) and sorts runs naturally (``order``):

- a run directory holding Hydra's ``.hydra/overrides.yaml`` is titled by the
  overrides that differ between the runs listed (``units=32``), as the sweep
  report labels its runs (both by ``config.overrides``);
- a single run given as the logdir, whose name is ``.``, by the directory's own name;
- any other run by its name.

``order`` ranks the runs by title with numbers compared as numbers
(``units=32`` < ``units=64`` < ``units=128``), then by TensorBoard's name.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from lstm_experiments.config.overrides import label, natural_key, varying_keys
from lstm_experiments.run.layout import OVERRIDES_FILE, TENSORBOARD_DIR

RUN_SUFFIX = "/" + TENSORBOARD_DIR
HERE = "."


def display_name(run: str) -> str:
    """A run's name without the trailing ``/tensorboard`` that every runner's run directory ends in."""
    if run == TENSORBOARD_DIR:  # TensorBoard started on the run directory itself
        return HERE
    return run[: -len(RUN_SUFFIX)] if run.endswith(RUN_SUFFIX) else run


def run_directory(logdir, run: str) -> Path | None:
    """The run directory of TensorBoard's ``run`` under ``logdir`` (None without a logdir)."""
    if not logdir:
        return None
    root = Path(logdir)
    if run == HERE:  # the logdir holds the event files itself
        return root.parent if root.name == TENSORBOARD_DIR else root
    name = display_name(run)
    return root if name == HERE else root / name


@dataclass(frozen=True)
class _Titled:
    """A run's name and overrides, to label it by ``config.overrides``."""

    name: str
    overrides: list[str]


class RunTitles:
    """Titles and order of the runs listed; each ``overrides.yaml`` read once while it is unchanged."""

    def __init__(self, logdir):
        self.logdir = logdir
        self._overrides = {}  # path -> ((mtime_ns, size), overrides)

    def _read_overrides(self, run_dir: Path | None) -> list[str] | None:
        """The run's Hydra overrides, or None where it has no readable ``.hydra/overrides.yaml``."""
        if run_dir is None:
            return None
        path = run_dir / OVERRIDES_FILE
        try:
            stat = os.stat(path)
            signature = (stat.st_mtime_ns, stat.st_size)
            cached = self._overrides.get(path)
            if cached is not None and cached[0] == signature:
                return cached[1]
            loaded = yaml.safe_load(path.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
        overrides = [str(item) for item in loaded] if isinstance(loaded, list) else None
        self._overrides[path] = (signature, overrides)
        return overrides

    def fallback(self, run: str) -> str:
        """A run's title where no override sets it apart: its name, or for ``.`` its directory's name."""
        name = display_name(run)
        if name != HERE:
            return name
        directory = run_directory(self.logdir, run)
        return (directory.resolve().name if directory is not None else "") or name

    def titles(self, runs) -> dict[str, tuple[str, int]]:
        """{run: (title, order)} for TensorBoard's run names ``runs``."""
        titled = {}
        for run in runs:
            overrides = self._read_overrides(run_directory(self.logdir, run))
            if overrides is not None:
                titled[run] = _Titled(self.fallback(run), overrides)
        keys = varying_keys([t.overrides for t in titled.values()])
        title = {run: label(titled[run].overrides, keys, titled[run].name) if run in titled else self.fallback(run)
                 for run in runs}
        ranked = sorted(runs, key=lambda run: (natural_key(title[run]), natural_key(run)))
        return {run: (title[run], order) for order, run in enumerate(ranked)}
