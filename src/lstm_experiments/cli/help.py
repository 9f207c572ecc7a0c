"""``python -m lstm_experiments --help`` and ``--cfg job``, answered without Hydra's machinery.

Hydra's own ``--help`` lists every config group by deep-copying its whole
config store once per group, which alone took over a second here (docs/performance.md). This help
lists our groups from the packaged conf/ files and prints the composed
config; ``--hydra-help`` still gives Hydra's.

``--cfg job`` (and ``all``) prints the config the run trains with, which is not
quite what Hydra composes: ``input_shape=[10,1]`` sets ``data.seq_len`` and
``data.features``, and ``resume=<run dir>`` runs with that run's own config
(``run_config``). The output is otherwise Hydra's, to the byte; ``--cfg hydra``
and any flag other than ``--resolve`` and ``--package`` are left to Hydra.
"""

from importlib import resources
from typing import NamedTuple

from omegaconf import OmegaConf

HELP_FLAGS = ("--help", "-h")
USAGE = """\
lstm_experiments: train an LSTM from Hydra configs and watch its gates in TensorBoard.

Usage:
  python -m lstm_experiments [key=value ...]           one run, in outputs/<date>/<time>/
  python -m lstm_experiments -m key=a,b [key=value ...]  a sweep, in multirun/<date>/<time>/
  python -m lstm_experiments resume=<run dir>          continue an interrupted run
  python -m lstm_experiments --cfg job                 print the composed config
  python -m lstm_experiments --hydra-help              Hydra's own options

Config groups (group=option; viz also takes a list, viz=[gates,stats]):
"""


def wants_help(argv: list[str]) -> bool:
    return any(arg in HELP_FLAGS for arg in argv)


def config_groups() -> dict[str, list[str]]:
    root = resources.files("lstm_experiments.conf")
    groups = {}
    for folder in sorted(root.iterdir(), key=lambda f: f.name):
        if folder.is_dir() and not folder.name.startswith(("_", ".")):
            options = sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".yaml"))
            if options:
                groups[folder.name] = options
    return groups


def help_text(argv: list[str]) -> str:
    from hydra import compose, initialize_config_module

    overrides = [a for a in argv if a not in HELP_FLAGS and not a.startswith("-")]
    lines = [USAGE]
    lines += [f"  {group}: {', '.join(options)}" for group, options in config_groups().items()]
    with initialize_config_module(version_base="1.3", config_module="lstm_experiments.conf"):
        try:
            cfg = compose(config_name="config", overrides=overrides)
            title = "Config with these overrides" if overrides else "Default config"
        except Exception:
            cfg = compose(config_name="config")
            title = "Default config (the overrides given do not compose on their own)"
    lines += ["", f"{title} (every key can be overridden, e.g. units=128 train.epochs=3):", ""]
    lines.append(OmegaConf.to_yaml(cfg))
    return "\n".join(lines)


CONFIG_FLAGS = ("--cfg", "-c")
PACKAGE_FLAGS = ("--package", "-p")
RESOLVE_FLAG = "--resolve"
# The kinds of --cfg whose printout holds the run's own config.
JOB_CONFIG_KINDS = ("job", "all")
GLOBAL_PACKAGE = "_global_"


class ConfigRequest(NamedTuple):
    kind: str  # job or all
    package: str | None
    resolve: bool
    overrides: list[str]


def config_request(argv: list[str]) -> ConfigRequest | None:
    """``--cfg job|all [--resolve] [--package P] [overrides]``; None for anything else (Hydra answers it)."""
    kind, package, resolve, overrides = None, None, False, []
    args = iter(argv)
    for arg in args:
        if arg in CONFIG_FLAGS:
            kind = next(args, None)
        elif arg in PACKAGE_FLAGS:
            package = next(args, None)
        elif arg == RESOLVE_FLAG:
            resolve = True
        elif arg.startswith("-"):
            return None
        else:
            overrides.append(arg)
    if kind not in JOB_CONFIG_KINDS:
        return None
    return ConfigRequest(kind, None if package == GLOBAL_PACKAGE else package, resolve, overrides)


def config_text(request: ConfigRequest) -> str | None:
    """What ``--cfg`` prints (as Hydra's ``show_cfg`` writes it); None when the overrides do not compose,
    so that Hydra reports that in its own (folded) words. Raises UserError for a value the run refuses."""
    from omegaconf import Container, OmegaConf

    from lstm_experiments.errors import UserError
    from lstm_experiments.run.resume import epochs_to_train_on
    from lstm_experiments.run.train import compose_config, run_config

    try:
        composed = compose_config(request.overrides, with_hydra=request.kind == "all")
    except Exception:
        return None
    cfg = run_config(composed, epochs_to_train_on(composed, request.overrides))
    if cfg is not composed and request.kind == "all":  # a resumed run's own config, under this command's hydra
        cfg = OmegaConf.merge(OmegaConf.create({"hydra": composed.hydra}), cfg)
    shown = cfg if request.package is None else OmegaConf.select(cfg, request.package)
    if shown is None:
        raise UserError(f"package '{request.package}' not found in config")
    if not isinstance(shown, Container):
        return f"{shown}\n"
    if request.resolve:
        OmegaConf.resolve(shown)
    header = f"# @package {request.package}\n" if request.package is not None else ""
    return header + OmegaConf.to_yaml(shown)
