"""run/resume.py without training: what a directory holds, what runs next there, and the record of it,
on run directories made by hand (empty stand-ins for the model files). The same decisions through the
real CLI, with real runs, are tests/test_resume.py's."""

import json

import pytest
from omegaconf import OmegaConf

from conftest import TINY
from lstm_experiments.errors import UserError
from lstm_experiments.run.resume import (
    NEW_RUN, Action, RunState, checkpoint_dir, expand_sweep_resume, plan_run, read_state, this_sweep,
)
from lstm_experiments.run.train import compose_config


def make_run(run_dir, *, status=None, epochs=2, checkpoint="checkpoints", saved_epoch=None, model=False):
    """A run directory: its .hydra/config.yaml, and what the arguments say it got to."""
    (run_dir / ".hydra").mkdir(parents=True)
    OmegaConf.save(compose_config(TINY), run_dir / ".hydra" / "config.yaml")
    if checkpoint is not None:
        (run_dir / checkpoint).mkdir()
        (run_dir / checkpoint / "initial.weights.h5").write_bytes(b"")
        if saved_epoch is not None:
            (run_dir / checkpoint / "latest.keras").write_bytes(b"")
            (run_dir / checkpoint / "state.json").write_text(json.dumps({"epoch": saved_epoch}))
    if status is not None:
        (run_dir / "metrics.json").write_text(json.dumps({"status": status, "epochs": epochs, "reason": "why"}))
    if model:
        (run_dir / "model.keras").write_bytes(b"")
    return run_dir


def resuming(run_dir, *overrides):
    return compose_config([*TINY, f"resume={run_dir}", *overrides])


def test_a_new_run_runs():
    plan = plan_run(compose_config(TINY), "somewhere")
    assert (plan.session, str(plan.run_dir), plan.said) == (NEW_RUN, "somewhere", None)


def test_a_completed_run_is_left_as_it_is_unless_asked_for_more_epochs(tmp_path):
    run_dir = make_run(tmp_path / "run", status="completed", saved_epoch=2, model=True)
    skip = plan_run(resuming(run_dir), None)
    assert skip.session.action is Action.skip and skip.cfg is None and skip.metrics["status"] == "completed"
    assert "already complete (2 epochs); nothing changed" in skip.said
    more = plan_run(resuming(run_dir), None, epochs=4)
    assert more.session.action is Action.resume and more.session.start_epoch == 2
    assert more.cfg.train.epochs == 4 and more.cfg.resume is None
    assert more.session.record() == {"resumed_from_epoch": 2}
    assert "training on to 4 as asked (train.epochs=4)" in more.said


def test_an_older_runs_checkpoint_folder_still_resumes(tmp_path):
    run_dir = make_run(tmp_path / "run", status="interrupted", checkpoint="checkpoint", saved_epoch=1)
    assert checkpoint_dir(run_dir) == run_dir / "checkpoint"
    assert read_state(run_dir) is RunState.interrupted
    plan = plan_run(resuming(run_dir), None)
    assert plan.session.action is Action.resume and plan.session.start_epoch == 1
    # A new run, or one whose folder was renamed, uses checkpoints/.
    assert checkpoint_dir(tmp_path / "new") == tmp_path / "new" / "checkpoints"
    (run_dir / "checkpoint").rename(run_dir / "checkpoints")
    assert checkpoint_dir(run_dir) == run_dir / "checkpoints" and read_state(run_dir) is RunState.interrupted


def test_a_failed_job_in_a_sweep_run_again_is_rerun_its_files_moved_aside(tmp_path):
    run_dir = make_run(tmp_path / "job", status="failed", saved_epoch=1)
    plan = plan_run(compose_config([*TINY, f"resume={tmp_path}"]), run_dir, in_place=True)
    assert plan.session.action is Action.rerun and plan.cfg.resume is None
    assert plan.session.record() == {"previous_attempt": "failed_attempts/1"}
    assert sorted(p.name for p in run_dir.iterdir()) == [".hydra", "failed_attempts"]
    assert json.loads((run_dir / "failed_attempts" / "1" / "metrics.json").read_text())["reason"] == "why"
    assert "failed before (why); running it again" in plan.said


def test_resume_names_what_is_missing_in_one_line(tmp_path):
    with pytest.raises(UserError, match="no such run directory"):
        plan_run(resuming(tmp_path / "nope"), None)
    with pytest.raises(UserError, match="no checkpoint there yet"):
        plan_run(resuming(make_run(tmp_path / "empty", checkpoint=None)), None)
    damaged = make_run(tmp_path / "damaged", status="interrupted", saved_epoch=1)
    (damaged / "checkpoints" / "state.json").write_text('{"epoch": ')
    with pytest.raises(UserError, match=r"resume: .*state.json is damaged"):
        plan_run(resuming(damaged), None)


@pytest.mark.parametrize("metrics, written_at, word", [
    ({"status": "completed"}, 1.0, "skipped"),
    ({"status": "failed"}, 1.0, "not run"),
    ({"status": "completed", "previous_attempt": "failed_attempts/1"}, 3.0, "rerun"),
    ({"status": "completed", "resumed_from_epoch": 2}, 3.0, "resumed"),
    ({"status": "completed"}, 3.0, "ran"),
])
def test_the_sweep_summary_reads_the_sessions_record(metrics, written_at, word):
    assert this_sweep(metrics, written_at, started_at=2.0) == word


def test_a_sweep_run_again_alone_takes_its_saved_overrides(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "multirun.yaml").write_text(yaml_dump({"hydra": {"overrides": {
        "task": ["units=4,5", "resume=old"], "hydra": ["hydra.launcher.n_jobs=2", "hydra.verbose=true"]}}}))
    argv = ["-m", f"resume={sweep}"]
    assert expand_sweep_resume(argv) == [*argv, "units=4,5", "hydra.launcher.n_jobs=2"]
    assert expand_sweep_resume([*argv, "units=6"]) == [*argv, "units=6"]  # overrides of its own: as given
    with pytest.raises(UserError, match="no multirun.yaml there"):
        expand_sweep_resume(["-m", f"resume={tmp_path}"])


def yaml_dump(data):
    import yaml

    return yaml.safe_dump(data)
