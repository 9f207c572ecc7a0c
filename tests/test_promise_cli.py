"""README promises of the command line, through the real CLI in subprocesses ("When things go wrong").

- Ctrl-C: "stops training at the end of the current batch ... ``metrics.json`` says
  ``"status": "interrupted"`` and the exit status is 130 (SIGINT)"; then ``resume=<run dir>``:
  "the resuming command's own Hydra config goes to ``.hydra_resume/`` so the run's
  ``.hydra/`` stays as it was" (test_faults.py covers SIGTERM, 143, and the resumed steps).
- "Config mistakes are caught before TensorFlow is imported, so they answer at once": for
  a range error (test_config.py checks a type error and an unknown choice).
- The error lines quoted under **Bad input** in README.md are the program's stderr, word
  for word: the test reads them from README.md.
"""

import json
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, run_cli

pytestmark = pytest.mark.slow

# Tiny, but long enough (15 epochs) that a signal after the first checkpoint lands mid-training.
LONG = ["units=4", "data.n_samples=64", "data.seq_len=6", "train.batch_size=8", "train.epochs=15",
        "viz=[gates,stats]"]


def files_of(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A run stopped by SIGINT after its first whole epoch; what it left, as it was then."""
    cwd = tmp_path_factory.mktemp("sigint")
    run_dir = cwd / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_experiments", *LONG, f"hydra.run.dir={run_dir}"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    state = run_dir / "checkpoints" / "state.json"
    deadline = time.monotonic() + 120
    while not state.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "training ended before the signal: " + process.stderr.read()[-2000:]
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, stderr = process.communicate(timeout=120)
    return {
        "cwd": cwd, "run_dir": run_dir, "returncode": process.returncode, "stderr": stderr,
        "metrics": json.loads((run_dir / "metrics.json").read_text()),
        "hydra": files_of(run_dir / ".hydra"),
    }


def test_ctrl_c_exits_130_and_marks_the_run_interrupted(interrupted):
    assert interrupted["returncode"] == 130, interrupted["stderr"][-2000:]
    assert "Traceback" not in interrupted["stderr"]
    metrics = interrupted["metrics"]
    assert metrics["status"] == "interrupted"
    assert metrics["reason"] == "SIGINT"
    assert 1 <= metrics["epochs"] < 15
    # The checkpoint of the last whole epoch is kept, for resume=.
    checkpoint = interrupted["run_dir"] / "checkpoints"
    assert json.loads((checkpoint / "state.json").read_text())["epoch"] == metrics["epochs"]
    assert (checkpoint / "latest.keras").is_file()


def test_resume_writes_its_config_to_hydra_resume_and_leaves_hydra_alone(interrupted):
    run_dir = interrupted["run_dir"]
    assert set(interrupted["hydra"]) == {"config.yaml", "hydra.yaml", "overrides.yaml"}
    resumed = run_cli([f"resume={run_dir}"], cwd=interrupted["cwd"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
    # .hydra/ byte for byte as the original command left it.
    assert files_of(run_dir / ".hydra") == interrupted["hydra"]
    # The resuming command's own config, overrides and Hydra config are beside it.
    resume_dir = run_dir / ".hydra_resume"
    assert set(files_of(resume_dir)) == {"config.yaml", "hydra.yaml", "overrides.yaml"}
    from omegaconf import OmegaConf

    assert list(OmegaConf.load(resume_dir / "overrides.yaml")) == [f"resume={run_dir}"]
    assert OmegaConf.load(resume_dir / "config.yaml").resume == str(run_dir)
    assert OmegaConf.load(run_dir / ".hydra" / "config.yaml").resume is None
    # Nothing else of Hydra's landed in the working directory (no new outputs/ run).
    assert not (interrupted["cwd"] / "outputs").exists()


# --------------------------------------------------------------------------- config errors

NO_TENSORFLOW = (
    "import sys, time\n"
    "sys.argv = ['lstm_experiments', *sys.argv[1:]]\n"
    "from lstm_experiments.cli.app import main\n"
    "try:\n    main()\nexcept SystemExit as stop:\n    code = stop.code\n"
    "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
    "print('LOADED', loaded, 'EXIT', code)\n"
)


@pytest.mark.parametrize("args, line", [
    (["units=0"], "error: units=0 (must be > 0)"),
    (["train.batch_size=0"], None),
    (["train.learning_rate=-0.1"], None),
])
def test_range_errors_answer_without_importing_tensorflow(tmp_path, args, line):
    result = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert "LOADED [] EXIT 1" in result.stdout, result.stdout + result.stderr[-2000:]
    errors = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith(f"error: {args[0]}"), result.stderr
    if line is not None:
        assert errors[0] == line


def test_a_range_error_imports_no_tensorflow_module_and_beats_its_import(tmp_path):
    # python -X importtime lists every module the real command imports, on stderr.
    traced = subprocess.run([sys.executable, "-X", "importtime", "-m", "lstm_experiments", "units=0"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert traced.returncode == 1
    modules = [ln.rsplit("|", 1)[1].strip() for ln in traced.stderr.splitlines() if ln.startswith("import time:")]
    assert "lstm_experiments.cli.app" in modules and "hydra" in modules  # the trace is real
    assert not [m for m in modules if m.split(".")[0] in ("tensorflow", "keras")]

    def seconds(command):
        start = time.perf_counter()
        subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=120)
        return time.perf_counter() - start

    # "At once": faster than importing TensorFlow alone, measured here, on the same loaded machine.
    answer = min(seconds([sys.executable, "-m", "lstm_experiments", "units=0"]) for _ in range(2))
    tensorflow = seconds([sys.executable, "-c", "import tensorflow"])
    assert answer < tensorflow, (answer, tensorflow)


# --------------------------------------------------------------------------- README's quoted errors


def readme_bad_input_examples():
    """[(command after 'python -m lstm_experiments', error line)] from the block under **Bad input**."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("**Bad input**"):]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1).splitlines()
    examples = []
    for i, line in enumerate(block):
        if line.startswith("$ "):
            command = shlex.split(line[2:])
            assert command[:3] == ["python", "-m", "lstm_experiments"], line
            examples.append((command[3:], block[i + 1]))
    return examples


EXAMPLES = readme_bad_input_examples()


def test_the_readme_quotes_error_examples():
    assert len(EXAMPLES) >= 3
    assert all(error.startswith("error: ") for _, error in EXAMPLES)


@pytest.mark.parametrize("args, error", EXAMPLES, ids=[" ".join(a) for a, _ in EXAMPLES])
def test_readme_error_lines_are_the_programs_stderr(tmp_path, args, error):
    # The README's CSV example reads the sample file `python scripts/make_traffic_csv.py` writes.
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_traffic_csv.py")], cwd=tmp_path,
                   check=True, capture_output=True)
    result = run_cli(args, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == error
