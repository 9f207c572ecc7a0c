"""The config's choices are Enums: composing rejects a bad one in one line listing the valid ones,
a good one keeps its spelling through YAML, and code outside OmegaConf gets plain-string-like values."""

import os
import pickle
import subprocess
import sys
from types import SimpleNamespace

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from conftest import compose_config, run_cli
from lstm_experiments.cli.compose_errors import fold_hydra_report
from lstm_experiments.config.checks import check_config
from lstm_experiments.config.choices import (
    BY_KEY, Cell, ChoiceError, Missing, Priority, RecurrentActivation, Reduce, Scale, Worker, parse, valid_values,
)
from lstm_experiments.config.schema import ImageConfig
from lstm_experiments.errors import ConfigValueError

CSV = ["data=csv", "data.path=series.csv", "data.target=y"]
# key, its Enum, what else the key needs to be composable, a value it cannot take.
CHOICES = [
    ("model.cell", Cell, [], "rnn"),
    ("model.recurrent_activation", RecurrentActivation, [], "relu"),
    ("viz.image.scale", Scale, [], "foo"),
    ("viz.image.reduce", Reduce, [], "median"),
    ("viz.worker", Worker, [], "fork"),
    ("viz.worker_priority", Priority, [], "fast"),
    ("data.missing", Missing, CSV, "zero"),
]
EXPECTED_LINES = {
    "model.cell": "error: model.cell=rnn (must be one of lstm, gru)",
    "model.recurrent_activation": "error: model.recurrent_activation=relu (must be one of sigmoid, hard_sigmoid)",
    "viz.image.scale": "error: viz.image.scale=foo (must be one of fixed, per_step, minmax)",
    "viz.image.reduce": "error: viz.image.reduce=median (must be one of maxabs, mean)",
    "viz.worker": "error: viz.worker=fork (must be one of process, thread)",
    "viz.worker_priority": "error: viz.worker_priority=fast (must be one of idle, low, normal)",
    "data.missing": "error: data.missing=zero (must be one of error, drop, ffill, interpolate)",
}


def hydra_report(error: ConfigCompositionException) -> str:
    """What Hydra's CLI prints for a composition error (hydra._internal.utils.run_and_report)."""
    return (f"{error}\n{error.__cause__}\n"
            "\nSet the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.\n")


def folded_compose_error(overrides) -> str:
    with pytest.raises(ConfigCompositionException) as info:
        compose_config(overrides)
    return fold_hydra_report(hydra_report(info.value))


def test_every_choice_key_is_listed_once():
    assert [key for key, *_ in CHOICES] == list(BY_KEY)
    assert [choice for _, choice, *_ in CHOICES] == list(BY_KEY.values())


@pytest.mark.parametrize("choice", list(BY_KEY.values()), ids=lambda c: c.__name__)
def test_members_are_named_as_their_values_and_read_as_plain_strings(choice):
    for member in choice:
        assert member.name == member.value
        assert isinstance(member, str) and member == member.value and hash(member) == hash(member.value)
        assert str(member) == f"{member}" == member.value  # a layer named f"{cell}_1" is lstm_1


@pytest.mark.parametrize("key, choice, extra, bad", CHOICES, ids=[c[0] for c in CHOICES])
def test_a_bad_choice_fails_composition_in_one_line_listing_the_valid_ones(key, choice, extra, bad):
    line = folded_compose_error([*extra, f"{key}={bad}"])
    assert line == EXPECTED_LINES[key]
    assert line == f"error: {key}={bad} (must be one of {valid_values(choice)})"


@pytest.mark.parametrize("value", ["null", "[a,b]", "3", "Fixed"])
def test_other_values_a_choice_cannot_take_read_the_same(value):
    line = folded_compose_error([f"viz.image.scale={value}"])
    assert line == f"error: viz.image.scale={value} (must be one of fixed, per_step, minmax)"


def test_a_bad_choice_in_a_yaml_option_names_the_key(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "rnn.yaml").write_text(
        "defaults:\n  - /schema/model/model@_here_\n  - _self_\n\ncell: rnn\n")
    from hydra import compose, initialize_config_module

    with initialize_config_module(version_base="1.3", config_module="lstm_experiments.conf"):
        with pytest.raises(ConfigCompositionException) as info:
            compose(config_name="config",
                    overrides=["model=rnn", f"hydra.searchpath=[file://{tmp_path}]"])
    assert fold_hydra_report(hydra_report(info.value)) == EXPECTED_LINES["model.cell"]


def test_other_errors_on_a_choice_key_keep_hydras_wording():
    """data.missing is not a key of the sine data: that is not a bad value."""
    line = folded_compose_error(["data.missing=drop"])
    assert "must be one of" not in line and "missing" in line


@pytest.mark.parametrize("key, choice, extra, _bad", CHOICES, ids=[c[0] for c in CHOICES])
def test_every_value_composes_and_keeps_its_spelling_through_yaml(key, choice, extra, _bad):
    for member in choice:
        cfg = compose_config([*extra, f"{key}={member.value}"])
        value = OmegaConf.select(cfg, key)
        assert value is member and value == member.value
        text = OmegaConf.to_yaml(cfg)
        leaf = key.rsplit(".", 1)[1]
        assert f"{leaf}: {member.value}\n" in text
        loaded = OmegaConf.create(text)  # what resume= reads from .hydra/config.yaml
        assert OmegaConf.select(loaded, key) == member.value
        assert type(OmegaConf.select(loaded, key)) is str
        check_config(loaded)
        # and the saved spelling composes again
        assert OmegaConf.select(compose_config([*extra, f"{key}={OmegaConf.select(loaded, key)}"]), key) is member


def test_the_defaults_compare_with_their_strings():
    cfg = compose_config()
    assert cfg.model.cell == "lstm" and cfg.viz.image.scale == "fixed" and cfg.viz.image.reduce == "maxabs"
    assert cfg.viz.worker == "process" and cfg.viz.worker_priority == "idle"
    assert compose_config(CSV).data.missing == "error"


@pytest.mark.parametrize("key, choice, extra, bad", CHOICES, ids=[c[0] for c in CHOICES])
def test_a_resumed_config_with_a_bad_choice_is_refused_before_training(key, choice, extra, bad):
    """resume= loads the saved YAML without the schema: check_config parses the choices with their Enums."""
    loaded = OmegaConf.create(OmegaConf.to_yaml(compose_config(extra)))
    OmegaConf.update(loaded, key, bad)
    with pytest.raises(ConfigValueError) as info:
        check_config(loaded)
    assert f"error: {info.value}" == EXPECTED_LINES[key]


def test_values_handed_outside_omegaconf_are_strings_that_pickle_without_hydra():
    """The runner's image dict for the drawing process and the flattened HParams."""
    from lstm_experiments.tensorboard.hparams import flatten_config

    cfg = compose_config(["viz.image.scale=per_step", "viz.image.reduce=mean", "model=gru", *CSV])
    image = OmegaConf.to_container(cfg.viz.image, resolve=True)
    flat = flatten_config(cfg)
    for value in (image["scale"], image["reduce"], flat["viz.image.scale"], flat["model.cell"],
                  flat["data.missing"], flat["viz.worker_priority"]):
        assert isinstance(value, str) and str(value) == f"{value}" == getattr(value, "value", value)
    assert image["scale"] == "per_step" and flat["model.cell"] == "gru"
    assert OmegaConf.to_container(cfg.viz.image, resolve=True, enum_to_str=True)["scale"] == "per_step"
    blob = pickle.dumps((image, flat))
    code = (
        "import pickle, sys\n"
        "image, flat = pickle.loads(sys.stdin.buffer.read())\n"
        "assert image['scale'] == 'per_step' and flat['model.cell'] == 'gru', (image, flat)\n"
        "heavy = [m for m in ('hydra', 'omegaconf', 'tensorflow') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input=blob, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "HEAVY []"


def test_the_choice_modules_import_neither_hydra_nor_omegaconf():
    code = (
        "import sys\n"
        "import lstm_experiments.config.choices, lstm_experiments.capture.drawing_process\n"
        "import lstm_experiments.viz.painter, lstm_experiments.viz.colour\n"
        "print([m for m in ('hydra', 'omegaconf', 'tensorflow') if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_tensorboard_hparams_record_holds_the_plain_value():
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.plugins.hparams import summary_v2 as hparams_summary

    summary = hparams_summary.hparams_pb({"viz.image.scale": Scale.per_step}, trial_id="t")
    data = plugin_data_pb2.HParamsPluginData.FromString(summary.value[0].metadata.plugin_data.content)
    assert data.session_start_info.hparams["viz.image.scale"].string_value == "per_step"


# ------------------------------------------------------------------ callers in Python, without a config


def test_parse_takes_a_member_or_its_spelling_and_names_the_key():
    assert parse(Scale, "minmax", "viz.image.scale") is Scale.minmax
    assert parse(Scale, Scale.minmax, "viz.image.scale") is Scale.minmax
    with pytest.raises(ChoiceError) as info:
        parse(Scale, "log", "viz.image.scale")
    assert str(info.value) == "viz.image.scale=log (must be one of fixed, per_step, minmax)"
    assert isinstance(info.value, ValueError)
    with pytest.raises(ChoiceError):
        parse(Scale, Reduce.mean, "viz.image.scale")  # another choice's member
    with pytest.raises(ChoiceError):
        parse(Scale, ["fixed"], "viz.image.scale")  # unhashable


@pytest.mark.parametrize("key, bad", [("scale", "log"), ("reduce", "median")])
def test_the_image_options_refuse_a_bad_choice_once(key, bad):
    from lstm_experiments.config.image_options import image_options

    image = {**OmegaConf.to_container(OmegaConf.structured(ImageConfig), enum_to_str=True), key: bad}
    with pytest.raises(ValueError) as info:
        image_options(image)
    assert str(info.value) == f"viz.image.{key}={bad} (must be one of {valid_values(BY_KEY[f'viz.image.{key}'])})"


@pytest.mark.parametrize("scale", list(Scale))
def test_the_image_options_take_plain_strings_and_members_alike(scale):
    import numpy as np

    from lstm_experiments.config.image_options import image_options
    from lstm_experiments.viz.painter import Painter

    values = np.array([[1.0, -2.0]])
    plain = Painter(image_options({**OmegaConf.to_container(OmegaConf.structured(ImageConfig), enum_to_str=True),
                                   "scale": scale.value}))
    member = Painter(image_options({**OmegaConf.to_container(OmegaConf.structured(ImageConfig)), "scale": scale}))
    assert plain.options == member.options and plain.options.scale is scale
    assert plain.scale("l", "k", values) == member.scale("l", "k", values)
    assert (plain.scale("l", "k", values) is None) == (scale is Scale.minmax)


def test_the_drawing_process_refuses_a_bad_priority_before_it_starts_a_child():
    from lstm_experiments.capture.drawing_process import DrawingProcess

    with pytest.raises(ValueError) as info:
        DrawingProcess(priority="fast")
    assert str(info.value) == "viz.worker_priority=fast (must be one of idle, low, normal)"


def test_the_csv_loader_refuses_a_bad_missing_policy(tmp_path):
    from lstm_experiments.data.csv_series import load_csv_series
    from lstm_experiments.errors import DataError

    path = tmp_path / "s.csv"
    path.write_text("t,y\n" + "".join(f"{i},{i % 5}\n" for i in range(30)))
    cfg = OmegaConf.create(dict(path=str(path), target="y", features=None, seq_len=3, stride=1, horizon=1,
                                val_fraction=0.2, missing="zero"))  # untyped: the schema would refuse it
    with pytest.raises(DataError) as info:
        load_csv_series(cfg)
    assert str(info.value) == "data.missing=zero (must be one of error, drop, ffill, interpolate)"
    for how in ("drop", Missing.ffill):
        cfg.missing = how
        assert len(load_csv_series(cfg).x_train) > 0


def test_the_model_builder_refuses_a_bad_cell_and_names_layers_plainly():
    from lstm_experiments.model import build_model

    cfg = SimpleNamespace(cell="rnn", layers=2, bidirectional=False, use_bias=True, reset_after=True)
    with pytest.raises(ValueError, match=r"^model.cell=rnn \(must be one of lstm, gru\)$"):
        build_model(cfg, 2, (3, 1), "regression")
    cfg.cell = Cell.gru
    model = build_model(cfg, 2, (3, 1), "regression")
    names = [layer.name for layer in model.layers]
    assert names[1:3] == ["gru", "gru_1"] and all(type(n) is str for n in names)
    assert model.name == "gru_model"


# ------------------------------------------------------------------ the real command line


def test_cfg_job_prints_choices_by_their_spelling(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lstm_experiments", "--cfg", "job", "viz.image.reduce=mean"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "    scale: fixed\n" in result.stdout and "    reduce: mean\n" in result.stdout
    assert "  cell: lstm\n" in result.stdout and "  worker_priority: idle\n" in result.stdout
    assert "Scale" not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("key, choice, extra, bad", CHOICES, ids=[c[0] for c in CHOICES])
def test_the_cli_prints_one_line_and_exits_1_before_tensorflow(tmp_path, key, choice, extra, bad):
    code = (
        "import sys\n"
        f"sys.argv = ['lstm_experiments', *{[*extra, f'{key}={bad}']!r}]\n"
        "from lstm_experiments.cli.app import main\n"
        "try:\n    main()\n"
        "finally:\n"
        "    print('TF_IMPORTED' if 'tensorflow' in sys.modules else 'TF_NOT_IMPORTED')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [EXPECTED_LINES[key]], result.stderr
    assert "TF_NOT_IMPORTED" in result.stdout
    assert not (tmp_path / "outputs").exists()  # refused while composing: no run directory


@pytest.mark.slow
def test_the_real_cli_refuses_a_bad_scale(tmp_path):
    result = run_cli(["viz.image.scale=foo"], cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [EXPECTED_LINES["viz.image.scale"]]
    assert "Traceback" not in result.stdout + result.stderr
