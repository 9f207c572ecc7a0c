"""Composing configs: the schema catches mistakes, viz choices combine, no TensorFlow needed."""

import subprocess
import sys

import pytest
from hydra.errors import ConfigCompositionException

from conftest import compose_config

VIZ_FLAGS = ("kernel", "gates", "bias", "histograms", "stats", "delta", "activations", "gradients")


def enabled(cfg):
    return {name for name in VIZ_FLAGS if cfg.viz[name]}


def test_default_config():
    cfg = compose_config()
    assert cfg.units == 32 and cfg.seed == 0
    assert cfg.data.name == "sine"
    assert cfg.model.cell == "lstm" and cfg.model.layers == 1
    assert enabled(cfg) == {"kernel", "gates", "bias"}
    assert cfg.viz.log_every == 1


@pytest.mark.parametrize(
    "choice, expected",
    [
        ("viz=gates", {"gates"}),
        ("viz=kernel", {"kernel"}),
        ("viz=bias", {"bias"}),
        ("viz=[kernel,bias]", {"kernel", "bias"}),
        ("viz=[gates,stats]", {"gates", "stats"}),
        ("viz=histograms", {"histograms"}),
        ("viz=delta", {"delta"}),
        ("viz=activations", {"activations"}),
        ("viz=gradients", {"gradients"}),
        ("viz=all", set(VIZ_FLAGS)),
        ("viz=none", set()),
    ],
)
def test_viz_choices(choice, expected):
    assert enabled(compose_config([choice])) == expected


@pytest.mark.parametrize("name, fields", [
    ("random", {"seq_len", "features", "n_samples", "noise"}),
    ("sine", {"seq_len", "features", "n_samples", "noise"}),
    ("adding", {"seq_len", "n_samples", "noise"}),
    ("csv", {"path", "target", "features", "seq_len", "stride", "horizon", "val_fraction"}),
])
def test_data_groups(name, fields):
    cfg = compose_config([f"data={name}"])
    assert cfg.data.name == name
    assert fields <= set(cfg.data.keys())


def test_unknown_key_fails_naming_it():
    with pytest.raises(ConfigCompositionException) as info:
        compose_config(["data.sequence_length=5"])
    assert "sequence_length" in str(info.value) + str(info.value.__cause__)


def test_wrong_type_fails_naming_the_key():
    with pytest.raises(ConfigCompositionException) as info:
        compose_config(["train.epochs=many"])
    assert "train.epochs" in str(info.value.__cause__)


def test_a_bad_choice_fails_naming_the_key_and_the_choices():
    """Choices are Enums in the schema (tests/test_choices.py has every key)."""
    with pytest.raises(ConfigCompositionException) as info:
        compose_config(["viz.image.scale=foo"])
    cause = str(info.value.__cause__)
    assert "viz.image.scale" in cause and "fixed, per_step, minmax" in cause


def test_adding_has_no_features_key():
    with pytest.raises(ConfigCompositionException):
        compose_config(["data=adding", "data.features=3"])


def _run_without_tensorflow(args):
    """Run the CLI entry point in a fresh interpreter and report whether TensorFlow got imported."""
    code = (
        "import sys\n"
        f"sys.argv = ['lstm_experiments', *{list(args)!r}]\n"
        "from lstm_experiments.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('TF_IMPORTED' if 'tensorflow' in sys.modules else 'TF_NOT_IMPORTED')\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [["--help"], ["--cfg", "job"], ["units=abc"], ["viz=nope"],
                                  ["viz.image.scale=foo"]])
def test_cli_answers_without_importing_tensorflow(args):
    result = _run_without_tensorflow(args)
    assert "TF_NOT_IMPORTED" in result.stdout, result.stdout + result.stderr


def test_help_lists_groups_and_the_config_with_overrides():
    result = subprocess.run([sys.executable, "-m", "lstm_experiments", "--help", "units=7", "data=adding"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "viz: activations, all, bias, delta, gates, gradients, histograms, kernel, none, stats" in result.stdout
    assert "model: gru, lstm" in result.stdout and "data: adding, csv, random, sine" in result.stdout
    assert "units: 7" in result.stdout and "name: adding" in result.stdout
