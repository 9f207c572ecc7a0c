"""Random command lines through the real config path: a valid config or one line, never a traceback.

Hypothesis draws override lists (keys of the real config tree and misspelt
ones, values of every type, group choices real and not) and each goes the way
``python -m lstm_experiments`` takes it, in-process for speed: Hydra's compose
(an error there must be one that Hydra prints as text, which
``cli.compose_errors.fold_hydra_report`` folds into one ``error:`` line), then
``run.train``'s own steps up to training (the resume directory, ``check_config``,
every value resolved), where only a ``UserError`` (one line) may stop it. A
config that gets through must then also get through what a run does before
``fit`` (the data, the seed, the model and its optimizer). A sample goes through
the real command line, as a subprocess, to check that the in-process path
answers as it does.

Crashes found here whose fix belongs in ``config/`` or ``cli/`` are pinned in
``KNOWN_CRASHES`` (each names where the fix goes): expected failures that fail
the test once they are fixed, so that they are taken out. The random lists
keep clear of them (``known_crash``), so that the property keeps finding new
ones. The in-process property stops short of TensorFlow (the data only); a
slow one also seeds Keras and builds and compiles the model.
"""

import atexit
import math
import re
import shutil
import string
import tempfile
import traceback
from pathlib import Path

import pytest
from hydra.errors import CompactHydraException
from hypothesis import HealthCheck, example, given, settings, strategies as st
from omegaconf import OmegaConf

from conftest import TINY, compose_config, run_cli
from lstm_experiments.cli.compose_errors import fold_hydra_report
from lstm_experiments.cli.help import config_groups
from lstm_experiments.config import checks
from lstm_experiments.config.choices import BY_KEY
from lstm_experiments.errors import UserError

# ----------------------------------------------------------------------------- the config tree

# Every group and option of the packaged conf/ (cluster, experiment and hparams_search too), and lists for viz.
GROUPS = {group: [*options, *(["[gates,stats]", "[kernel,bias]"] if group == "viz" else [])]
          for group, options in config_groups().items()}
NOT_GROUP_OPTIONS = ["nope", "Sine", "csv.yaml", "[gates,nope]", "[]", "[sine,adding]", "''", "null", "1"]


def config_defaults() -> dict:
    """{leaf key: its default} over every data option (csv's mandatory ones read '???')."""
    defaults = {}
    for data in GROUPS["data"]:
        cfg = OmegaConf.to_container(compose_config([f"data={data}"]), resolve=False, enum_to_str=True)
        defaults.update(_leaf_keys(cfg))
    return defaults


def _leaf_keys(node, prefix=""):
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _leaf_keys(value, dotted + ".")
        else:
            yield dotted, value


DEFAULTS = config_defaults()
KEYS = sorted(DEFAULTS)


def misspelt(key: str) -> list[str]:
    head, _, last = key.rpartition(".")
    prefix = f"{head}." if head else ""
    return [prefix + last[:-1], prefix + last + "s", prefix + last.upper(), key.replace("_", "-"),
            key.replace(".", "_", 1), f"{prefix}{last[1:]}{last[0]}", f"nope.{key}"]


MISSPELT = sorted({wrong for key in KEYS for wrong in misspelt(key)} - set(KEYS))

# A CSV of each kind for data.path: a good one, a directory, a missing file, a name too long, a NUL.
CSV_DIR = Path(tempfile.mkdtemp(prefix="override_fuzz_"))
atexit.register(shutil.rmtree, CSV_DIR, True)
(CSV_DIR / "good.csv").write_text("t,bytes,packets\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(40)))
(CSV_DIR / "words.csv").write_text("t,bytes\n1,a\n2,b\n")
CSV_PATHS = [str(CSV_DIR / "good.csv"), str(CSV_DIR / "words.csv"), str(CSV_DIR), str(CSV_DIR / "missing.csv"),
             str(CSV_DIR / ("x" * 300 + ".csv")), str(CSV_DIR / "good.csv" / "under_a_file.csv"), "", "\x00"]

# ----------------------------------------------------------------------------- values

SIMPLE_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "_-./", min_size=1, max_size=12)
ANY_TEXT = st.text(max_size=12)  # unicode, control characters, quotes, '=', '$', braces...


def quoted(text: str) -> str:
    quote = "'" if "'" not in text else '"'
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def render(value) -> str:
    """A Python value as Hydra's override grammar writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return value if re.fullmatch(r"[A-Za-z_][\w./-]*", value) else quoted(value)
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{render(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


INTS = st.one_of(st.integers(-3, 70), st.integers(-2**70, 2**70),
                 st.sampled_from([0, 1, -1, 2, 2**31, 2**32, 2**63]))
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-0.5, 1.5),
                   st.sampled_from([0.0, -0.0, 0.5, 1.0, 1e-30, 1e308]))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, SIMPLE_TEXT, ANY_TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), inner, max_size=3)),
    max_leaves=5,
)
# Override text that is not a rendered value: interpolations, stray quotes and brackets, '='.
RAW_VALUES = st.one_of(
    st.sampled_from(["${units}", "${foo}", "${oc.env:HOME}", "${oc.env:NO_SUCH_VAR_123}", "${now:%Y}",
                     "'unclosed", '"x', "[1,", "{a:", "a=b", "==", "'a=b'", "x y", "\\", "${", "}",
                     "[1,2]]", "1e", "0x10", "1_000", "+1", "--1", "nan", "NaN", "-inf", "~", ""]),
    st.text(max_size=10),
)


def typed_values(key: str):
    """Values of the key's own type (in and out of its range) most of the time, anything else sometimes."""
    default = DEFAULTS.get(key)
    if key in BY_KEY:
        own = st.sampled_from([*(m.value for m in BY_KEY[key]), "nope", "Fixed", ""])
    elif key == "data.path":
        own = st.sampled_from(CSV_PATHS)
    elif key in ("data.target", "data.features"):
        columns = st.sampled_from(["bytes", "packets", "t", "nope", ""])
        own = columns if key == "data.target" else st.one_of(st.none(), st.lists(columns, max_size=3))
    elif isinstance(default, bool):
        own = st.booleans()
    elif isinstance(default, int) or key in ("threads", "data.features"):
        own = INTS
    elif isinstance(default, float):
        own = FLOATS
    else:
        own = st.one_of(st.none(), SIMPLE_TEXT, ANY_TEXT)
    return st.one_of(own.map(render), own.map(render), own.map(render), VALUES.map(render), RAW_VALUES)


@st.composite
def overrides(draw):
    """One override: a key of the tree or a misspelt one, maybe + / ++ / ~, and any value."""
    kind = draw(st.sampled_from(["key"] * 6 + ["misspelt", "group", "group", "group_wrong"]))
    if kind in ("group", "group_wrong"):
        group = draw(st.sampled_from(sorted(GROUPS)))
        options = GROUPS[group] if kind == "group" else NOT_GROUP_OPTIONS
        return f"{group}={draw(st.sampled_from(options))}"
    key = draw(st.sampled_from(KEYS if kind == "key" else MISSPELT))
    prefix = draw(st.sampled_from(["", "", "", "", "", "", "+", "++", "~"]))
    if prefix == "~":
        return "~" + key + draw(st.sampled_from(["", "=" + draw(typed_values(key))]))
    return f"{prefix}{key}={draw(typed_values(key))}"


@st.composite
def override_lists(draw):
    """Often a data option first (so that its own keys apply), csv with a path and a target; then 0-4 more."""
    args = []
    if draw(st.booleans()):
        data = draw(st.sampled_from(GROUPS["data"]))
        args.append(f"data={data}")
        if data == "csv" and draw(st.integers(0, 4)):
            args += [f"data.path={render(draw(st.sampled_from(CSV_PATHS)))}",
                     f"data.target={draw(st.sampled_from(['bytes', 'packets', 'nope']))}"]
    args += draw(st.lists(overrides(), min_size=0 if args else 1, max_size=4))
    return args


OVERRIDE_LISTS = override_lists()

# ----------------------------------------------------------------------------- the CLI's path, in-process


def hydra_report(error: BaseException) -> str:
    """What Hydra's ``run_and_report`` prints for a compact error (its message, and its OmegaConf cause)."""
    from omegaconf.errors import OmegaConfBaseException

    text = str(error)
    if isinstance(error.__cause__, OmegaConfBaseException):
        text += "\n" + str(error.__cause__)
    return text


class Crash(AssertionError):
    """An override list that gets a traceback, or an error that is not one line."""


def _tb(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


def _missing_keys(cfg) -> set:
    """OmegaConf's missing keys; none when a value does not resolve (``${foo}``): check_config names that key."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.missing_keys(cfg)
    except OmegaConfBaseException:
        return set()


def through_the_config_path(args, tmp_path, skip_known=False) -> tuple[str, object]:
    """("compose", error line) | ("value", UserError) | ("valid", cfg), as the command line would end.

    ``skip_known``: ("known", cfg) for a config with a mandatory value left out (``KNOWN_CRASHES``).
    """
    from lstm_experiments.config.checks import check_config
    from lstm_experiments.run.resume import resumable_state, resumed_config, run_directory

    try:
        cfg = compose_config(args)
    except CompactHydraException as error:
        line = fold_hydra_report(hydra_report(error))
        if "\n" in line or not line.startswith("error: ") or "Traceback" in line:
            raise Crash(f"{args}: compose error folds into {line!r}") from error
        return "compose", line
    except Exception as error:  # Hydra prints these with a traceback, which the CLI folds to its last line
        line = fold_hydra_report("".join(traceback.format_exception(error)))
        if "\n" in line or not line.startswith("error: ") or "File \"" in line:
            raise Crash(f"{args}: compose raised {type(error).__name__}, folded into {line!r}:\n{_tb(error)}") \
                from error
        return "compose", line
    if skip_known and _missing_keys(cfg):
        return "known", cfg
    try:
        run_dir = run_directory(cfg, tmp_path / "run")
        if cfg.get("resume") is not None:
            resumable_state(run_dir)
            cfg = resumed_config(run_dir)
        check_config(cfg)
        OmegaConf.to_container(cfg, resolve=True)  # the run reads every value
    except UserError as error:
        if "\n" in str(error):
            raise Crash(f"{args}: a UserError of several lines: {error!s}") from error
        return "value", error
    except Exception as error:
        raise Crash(f"{args}: {type(error).__name__} after composing:\n{_tb(error)}") from error
    return "valid", cfg


# What a run does before fit, on a config small enough to do it here.
SMALL = 200_000


def before_fit(cfg, with_model: bool) -> None:
    """Load the data and, ``with_model``, seed Keras, build and compile the model (TensorFlow):
    a UserError may stop it, nothing else."""
    data = cfg.data
    # A key given as null (+data.features=null on a data set without it) counts as its default here.
    if data.name != "csv" and (data.get("n_samples") or 0) * (data.get("seq_len") or 0) * (data.get("features") or 2) > SMALL:
        return  # too large to draw here
    if (data.get("seq_len") or 0) > 10_000 or cfg.units * (cfg.model.layers + 1) > 2_000 or cfg.model.layers > 8:
        return
    from lstm_experiments.data import load_dataset

    dataset = load_dataset(data, cfg.seed)
    if not with_model:
        return
    import keras

    from lstm_experiments.model import build_run_model

    keras.utils.set_random_seed(cfg.seed)
    build_run_model(cfg, dataset)  # as the run builds and compiles it (a text data set's Embedding too)


def outcome(args, tmp_path, skip_known=False, with_model=True):
    kind, found = through_the_config_path(args, tmp_path, skip_known)
    if kind == "valid":
        try:
            before_fit(found, with_model)
        except UserError as error:
            return "value", error
        except Exception as error:
            raise Crash(f"{args}: composes and passes check_config, then {type(error).__name__}:\n"
                        f"{_tb(error)}") from error
    return kind, found


# ----------------------------------------------------------------------------- known crashes (not ours to fix)

KNOWN_CRASHES = {
    # None left: each case this file found is fixed and pinned in FIXED_CRASHES.
}
# Found by this file, fixed where named; each stays a case the config path must answer in one line.
FIXED_CRASHES = {
    "seed=-1": (["seed=-1"], "config/checks.py: seed must be 0 <= seed < 2**32"),
    "seed=2**32": (["seed=4294967296"], "config/checks.py: seed must be 0 <= seed < 2**32"),
    "optimizer": (["train.optimizer=nope"], "model.py: train.optimizer must name a Keras optimizer"),
    "~units": (["~units"], "config/checks.py: units is required"),
    "${foo}": (["units=${foo}"], "config/checks.py: an unresolvable interpolation in one line"),
    "data=csv": (["data=csv"], "config/checks.py: a ??? key (data.path) is named"),
    "data=[]": (["data=[]"], "config/checks.py: data=[] leaves data missing"),
    "model=1": (["model=1"], "cli/compose_errors.py: the last line of a traceback in Hydra's report"),
    "train=null": (["train=null"], "cli/compose_errors.py: the last line of a traceback in Hydra's report"),
    "++data.horizon=[]": (["++data.horizon=[]"], "config/checks.py: a checked key that is not a number"),
    "csv data.features": (["data=csv", f"data.path={CSV_DIR / 'good.csv'}", "data.target=bytes",
                           "data.features=[packets]"], "config/checks.py: data.features > 0 only for a number"),
}
CHECKED_KEYS = {key for key, *_ in checks._RULES}

REAL_KEYS = set(KEYS) | set(GROUPS)


def _parsed_value(arg):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_override(arg).value()
    except Exception:
        return ""


def known_crash(args) -> bool:
    """Whether ``args`` holds a case of ``KNOWN_CRASHES`` (the property leaves those to them): none now."""
    return False


@pytest.mark.slow  # TensorFlow: the model is built
@pytest.mark.parametrize("name", list(FIXED_CRASHES))
def test_crashes_found_here_are_one_line_now(name, tmp_path):
    args, fix = FIXED_CRASHES[name]
    kind, found = outcome(args, tmp_path)  # a Crash here is the bug back
    assert kind in ("compose", "value", "valid"), (args, fix, kind)  # valid: a CSV's feature list
    if kind != "valid":
        line = found if kind == "compose" else f"error: {found}"
        assert "\n" not in line and "Traceback" not in line, line


# ----------------------------------------------------------------------------- the property

# Derandomized by the suite's hypothesis profile (tests/conftest.py); HYPOTHESIS_PROFILE=explore looks further.
FUZZ = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                        HealthCheck.filter_too_much])


@FUZZ
@given(args=OVERRIDE_LISTS)
@example(args=["data.n_samples=2", "data.val_fraction=0.9"])  # once a fit that never ended an epoch
@example(args=["data=csv", "data.path='\x00'", "data.target=x"])
@example(args=["data=csv", f"data.path={CSV_DIR / ('x' * 300)}", "data.target=x"])
@example(args=["data.name=''"])
@example(args=["viz=[gates,nope]", "units=-1"])
@example(args=["units='4'", "units=5"])
@example(args=["data.val_fraction=nan", "+foo=1"])
@example(args=["model.dropout=${oc.env:HOME}"])  # an interpolation that resolves to the wrong type
@example(args=["data.n_samples=${foo}"])  # an interpolation to no key
def test_random_overrides_give_a_config_or_one_line(args, tmp_path):
    """Up to the data (no TensorFlow); the model's part is the slow test below."""
    if known_crash(args):
        return
    kind, _ = outcome(args, tmp_path, skip_known=True, with_model=False)
    assert kind in ("compose", "value", "valid", "known")


@pytest.mark.slow
@settings(FUZZ, max_examples=20)
@given(args=OVERRIDE_LISTS)
@example(args=["data=text", f"data.path={CSV_DIR / 'good.csv'}", "data.seq_len=8"])  # text: an Embedding in front
@example(args=["experiment=char_model", "data.seq_len=0"])
def test_random_valid_configs_build_their_model(args, tmp_path):
    """The seed, the model and its optimizer too, for another sample."""
    if known_crash(args):
        return
    kind, _ = outcome(args, tmp_path, skip_known=True, with_model=True)
    assert kind in ("compose", "value", "valid", "known")


# ----------------------------------------------------------------------------- the real command line


def cli_answer(result):
    """("ok", stdout) or ("error", the one error line); a traceback or several lines fail."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    if result.returncode == 0:
        return "ok", result.stdout
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    return "error", lines[0]


CLI_SAMPLE = settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                              HealthCheck.too_slow])


@pytest.mark.slow
@CLI_SAMPLE
@given(args=OVERRIDE_LISTS.filter(lambda a: not known_crash(a) and not any("\x00" in arg for arg in a)))
def test_the_command_line_answers_as_the_config_path_does(args, tmp_path):
    """``--cfg job``: Hydra composes and prints, or one line; the same split as in-process.

    (A NUL cannot be passed on a command line.)
    """
    kind, _ = through_the_config_path(args, tmp_path, skip_known=True)
    answer, text = cli_answer(run_cli([*args, f"hydra.run.dir={tmp_path}/run", "--cfg", "job"],
                                      cwd=tmp_path, timeout=60))
    assert (answer == "error") == (kind == "compose"), (args, kind, text)


# Odd values the in-process path finds valid: the edges of their ranges, at once.
ODD_BUT_VALID = ["data=random", "data.features=1", "data.noise=0", "data.val_fraction=0.9", "model=gru",
                 "model.bidirectional=true", "model.layers=2", "train.optimizer=sgd", "train.batch_size=1000",
                 "viz=all", "viz.image.target_side_px=1", "viz.image.min_side_px=1", "viz.image.max_side_px=1",
                 "viz.log_every=1000", "viz.probe_size=100000", "seed=4294967295", "threads=1"]


@pytest.mark.slow
@pytest.mark.parametrize("args", [ODD_BUT_VALID], ids=["edges"])
def test_valid_odd_configs_run_through_the_command_line(args, tmp_path):
    """Odd but valid values (per the in-process path) train for an epoch through the real CLI."""
    tiny = [*TINY, "train.epochs=1"]
    assert through_the_config_path([*tiny, *args], tmp_path)[0] == "valid"
    result = run_cli([*tiny, *args, f"hydra.run.dir={tmp_path}/run"], cwd=tmp_path, timeout=120)
    assert cli_answer(result)[0] == "ok"
    assert '"status": "completed"' in (tmp_path / "run" / "metrics.json").read_text()
