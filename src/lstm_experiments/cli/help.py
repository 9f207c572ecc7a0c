"""``python -m lstm_experiments --help``, answered without Hydra's help machinery.

Hydra's own ``--help`` lists every config group by deep-copying its whole
config store once per group, which alone took over a second here (docs/performance.md). This help
lists our groups from the packaged conf/ files and prints the composed
config; ``--hydra-help`` still gives Hydra's.
"""

from importlib import resources

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
