"""Resuming through the real CLI: a complete run stays as it is, a damaged checkpoint is one line,
a sweep run again on its own directory skips, resumes and reruns its jobs, and changed data is refused."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from conftest import TINY, read_tensors, run_cli
from test_faults import assert_one_line_error

pytestmark = pytest.mark.slow


def snapshot(run_dir):
    """Every file of the run under ``run_dir`` with its bytes and modification time; not the log
    (each command appends what it did) nor .hydra_resume/ (each command's own config)."""
    return {str(p.relative_to(run_dir)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(run_dir.rglob("*"))
            if p.is_file() and p.name != "lstm_experiments.log" and ".hydra_resume" not in p.parts}


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("complete")
    run_dir = cwd / "run"
    result = run_cli([*TINY, "viz=[gates,stats]", f"hydra.run.dir={run_dir}"], cwd=cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    return cwd, run_dir


def test_resume_of_a_complete_run_changes_nothing(complete_run):
    cwd, run_dir = complete_run
    before = snapshot(run_dir)
    result = run_cli([f"resume={run_dir}"], cwd=cwd, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "already complete (2 epochs); nothing changed" in result.stderr + result.stdout
    assert snapshot(run_dir) == before  # no second event file, the recorded loss as it was
    assert len(list((run_dir / "tensorboard").iterdir())) == 1


def test_resume_with_more_epochs_trains_on_and_says_so(tmp_path):
    run_dir = tmp_path / "run"
    assert run_cli([*TINY, "viz=[gates,stats]", f"hydra.run.dir={run_dir}"], cwd=tmp_path).returncode == 0
    result = run_cli([f"resume={run_dir}", "train.epochs=4", "units=9"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stderr + result.stdout
    assert "completed 2 epochs; training on to 4 as asked (train.epochs=4)" in output
    assert "units=9 is ignored" in output
    assert "Skipping variable loading" not in output and "Traceback" not in output
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs"] == 4 and metrics["resumed_from_epoch"] == 2
    steps = [s for s, _ in read_tensors(run_dir / "tensorboard")["gates/lstm/kernel/forget"]]
    assert steps == [0, 1, 2, 3, 4]
    # The run keeps the config it started with; this command's is saved aside.
    assert "epochs: 2" in (run_dir / ".hydra" / "config.yaml").read_text()
    assert "train.epochs=4" in (run_dir / ".hydra_resume" / "overrides.yaml").read_text()


DAMAGE = {
    "checkpoints/latest.keras": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "checkpoints/initial.weights.h5": lambda p: p.write_bytes(b"\x89HDF\r\n" + b"\0" * 100),
    "checkpoints/state.json": lambda p: p.write_text('{"epoch": '),
}


@pytest.mark.parametrize("name", DAMAGE)
def test_a_damaged_checkpoint_is_one_line_naming_the_file(complete_run, tmp_path, name):
    import shutil

    _, complete = complete_run
    run_dir = tmp_path / "run"
    shutil.copytree(complete, run_dir)
    (run_dir / "metrics.json").write_text('{"status": "interrupted", "reason": "SIGTERM", "epochs": 2}')
    DAMAGE[name](run_dir / name)
    line = assert_one_line_error(run_cli([f"resume={run_dir}", "train.epochs=3"], cwd=tmp_path, timeout=120),
                                 str(run_dir / name), "damaged")
    assert "resume:" in line


def test_a_run_made_with_the_old_checkpoint_folder_resumes(complete_run, tmp_path):
    """Runs kept their checkpoint in checkpoint/ before TensorBoard's warnings about that name had it
    renamed to checkpoints/: resume= reads the old name, and the run goes on in its own folder."""
    import shutil

    _, complete = complete_run
    run_dir = tmp_path / "run"
    shutil.copytree(complete, run_dir)
    (run_dir / "checkpoints").rename(run_dir / "checkpoint")
    (run_dir / "metrics.json").write_text('{"status": "interrupted", "reason": "SIGTERM", "epochs": 2}')
    result = run_cli([f"resume={run_dir}", "train.epochs=3"], cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert (metrics["status"], metrics["epochs"], metrics["resumed_from_epoch"]) == ("completed", 3, 2)
    assert json.loads((run_dir / "checkpoint" / "state.json").read_text())["epoch"] == 3
    assert not (run_dir / "checkpoints").exists()


def test_resume_of_a_directory_without_a_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("units: 4\n")
    assert_one_line_error(run_cli([f"resume={run_dir}"], cwd=tmp_path, timeout=60),
                          f"resume={run_dir}", "no checkpoint")


SERIES = "t,bytes,packets\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(40))
CSV_RUN = ["data=csv", "data.target=bytes", "data.seq_len=4", "units=4", "train.batch_size=8",
           "viz=[gates]"]


def wait_for(path, process, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"


def test_a_sweep_run_again_skips_resumes_and_reruns(tmp_path):
    """Job 0 fails (its CSV is missing), job 1 is stopped mid-training, job 2 never starts;
    then the CSV appears and ``-m resume=<sweep dir>`` alone (the sweep's own overrides) finishes it."""
    sweep = tmp_path / "sweep"
    for name in ("b.csv", "c.csv"):
        (tmp_path / name).write_text(SERIES)
    paths = ",".join(str(tmp_path / n) for n in ("a.csv", "b.csv", "c.csv"))
    command = [sys.executable, "-m", "lstm_experiments", "-m", *CSV_RUN, "train.epochs=30",
               f"data.path={paths}", f"hydra.sweep.dir={sweep}"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def job_dirs():
        if not sweep.is_dir():
            return {}
        return {n: p for p in sweep.iterdir() for n in ("a.csv", "b.csv", "c.csv") if n in p.name}

    deadline = time.monotonic() + 120
    while "b.csv" not in job_dirs() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    wait_for(job_dirs()["b.csv"] / "checkpoints" / "state.json", process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    jobs = job_dirs()
    assert json.loads((jobs["a.csv"] / "metrics.json").read_text())["status"] == "failed"
    assert json.loads((jobs["b.csv"] / "metrics.json").read_text())["status"] == "interrupted"
    assert "c.csv" not in jobs
    first_failure = (jobs["a.csv"] / "metrics.json").read_text()

    (tmp_path / "a.csv").write_text(SERIES)
    result = run_cli(["-m", f"resume={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = job_dirs()
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    this_sweep = {job["job"]: (job["this_sweep"], job["status"]) for job in summary["jobs"]}
    assert this_sweep == {jobs["a.csv"].name: ("rerun", "completed"),
                          jobs["b.csv"].name: ("resumed", "completed"),
                          jobs["c.csv"].name: ("ran", "completed")}
    assert "3 jobs, all completed; this command ran 1, resumed 1, reran 1" in result.stderr + result.stdout
    # The failed attempt is kept, aside; the resumed job's steps run on, none twice.
    assert (jobs["a.csv"] / "failed_attempts" / "1" / "metrics.json").read_text() == first_failure
    steps = [s for s, _ in read_tensors(jobs["b.csv"] / "tensorboard")["gates/lstm/kernel/forget"]]
    assert steps == list(range(31)) and max(Counter(steps).values()) == 1

    # Run once more: everything is complete now, so nothing changes.
    before = {name: snapshot(job) for name, job in jobs.items()}
    again = run_cli(["-m", f"resume={sweep}"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "3 jobs, all completed; this command skipped 3 (already complete)" in again.stderr + again.stdout
    for name, job in jobs.items():
        assert snapshot(job) == before[name]


def test_a_csv_that_changes_during_a_sweep_or_under_a_run_is_refused(tmp_path):
    series = tmp_path / "series.csv"
    series.write_text(SERIES)
    sweep = tmp_path / "sweep"
    first = run_cli(["-m", *CSV_RUN, "train.epochs=1", f"data.path={series}", "seed=0",
                     f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    series.write_text(SERIES.replace("\n5,5,2\n", "\n5,6,2\n"))
    # The same sweep with one more job: the new job reads other contents than job seed=0 did.
    more = run_cli(["-m", *CSV_RUN, "train.epochs=1", f"data.path={series}", "seed=0,1",
                    f"resume={sweep}"], cwd=tmp_path)
    assert more.returncode == 1
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    reasons = {job["job"]: job.get("reason", "") for job in summary["jobs"]}
    (changed,) = [r for job, r in reasons.items() if "seed=1" in job]
    assert f"data.path={series} changed during the sweep" in changed and "sha256" in changed
    assert "Traceback" not in more.stderr
    # Resuming a single run on the changed file: one line, and the run is untouched.
    (job,) = [p for p in sweep.iterdir() if "seed=0" in p.name]
    before = snapshot(job)
    assert_one_line_error(run_cli([f"resume='{job}'", "train.epochs=2"], cwd=tmp_path, timeout=120),
                          f"data.path={series} changed since", "resuming needs the same file")
    assert snapshot(job) == before
