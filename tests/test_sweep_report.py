"""The sweep report (scripts/compare_gates.py) on a real sweep, checked against the event files.

One tiny 2 x 2 sweep (units x seed) runs through the real CLI, then the report
script runs on it; the tests read the event files again on their own, with
TensorBoard's EventAccumulator, and compare.
"""

import csv
import json
import statistics
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import REPO, decode_image, read_tensors, run_cli

pytestmark = pytest.mark.slow

SWEEP = [
    "-m", "units=4,6", "seed=0,1", "viz=[gates,stats]",
    "data.n_samples=48", "data.seq_len=6", "train.epochs=2", "train.batch_size=16",
]
STATS = ("mean", "std", "frobenius_norm", "max_abs", "change", "spectral_norm")
GATES = ("input", "forget", "cell", "output")
STRIP_TAG = "gates/lstm/recurrent_kernel/forget"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """(sweep dir, report dir, {run name: run dir}) after the sweep and the report ran."""
    cwd = tmp_path_factory.mktemp("sweep")
    result = run_cli(SWEEP, cwd=cwd)
    assert result.returncode == 0, result.stderr[-4000:]
    (sweep_dir,) = [p for p in (cwd / "multirun").glob("*/*") if p.is_dir()]
    report = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "compare_gates.py"), str(sweep_dir)],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    # Job directories by what they hold, not by their names.
    run_dirs = [p.parent.parent for p in sweep_dir.glob("**/.hydra/overrides.yaml")]
    assert len(run_dirs) == 4
    return sweep_dir, sweep_dir / "report", {d.relative_to(sweep_dir).as_posix(): d for d in run_dirs}


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def final_event_values(run_dir):
    """{tag: value at the last step} of every stats/ tag, read independently of the report."""
    out = {}
    for tag, events in read_tensors(run_dir / "tensorboard").items():
        if tag.startswith("stats/"):
            step, value = max(events, key=lambda e: e[0])
            out[tag] = float(value)
    return out


def overrides_of(run_dir):
    return yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())


def test_summary_has_one_row_per_run(sweep):
    sweep_dir, report, runs = sweep
    rows = read_csv(report / "summary.csv")
    assert sorted(r["run"] for r in rows) == sorted(runs)
    for row in rows:
        assert row["status"] == "completed"
        assert row["overrides"].split(" ") == overrides_of(runs[row["run"]])
    md = (report / "summary.md").read_text()
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(runs)  # header and one line per run


def test_summary_values_are_the_event_files_and_metrics_json(sweep):
    _, report, runs = sweep
    rows = read_csv(report / "summary.csv")
    stat_columns = [c for c in rows[0] if c.startswith("stats/")]
    # 3 matrices x 4 gates x 5 statistics, plus the recurrent kernel's spectral norms.
    assert len(stat_columns) == 3 * 4 * 5 + 4
    assert {f"stats/lstm/recurrent_kernel/{g}/{s}" for g in GATES for s in STATS} <= set(stat_columns)
    for row in rows:
        run_dir = runs[row["run"]]
        finals = final_event_values(run_dir)
        assert set(finals) == set(stat_columns)
        for tag, value in finals.items():
            assert float(row[tag]) == value, (row["run"], tag)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        for name in ("loss", "val_loss"):
            assert float(row[name]) == metrics[name]
        assert int(row["epochs"]) == metrics["epochs"] == 2
        assert int(row["final_step"]) == 2


def test_aggregated_means_over_seeds(sweep):
    _, report, runs = sweep
    rows = {r["run"]: r for r in read_csv(report / "summary.csv")}
    groups = read_csv(report / "aggregated.csv")
    assert len(groups) == 2
    assert sorted(g["group"] for g in groups) == ["units=4", "units=6"]
    for group in groups:
        assert int(group["n_seeds"]) == 2 and int(group["n_failed"]) == 0
        assert group["seeds"] == "0 1"
        members = [name for name in runs if f"{group['group']}" in overrides_of(runs[name])]
        assert sorted(members) == sorted(group["runs"].split(" "))
        for column in ("val_loss", "loss", "stats/lstm/recurrent_kernel/forget/spectral_norm",
                       "stats/lstm/kernel/cell/mean"):
            values = [float(rows[name][column]) for name in members]
            assert float(group[f"{column}_mean"]) == pytest.approx(np.mean(values), rel=1e-12)
            assert float(group[f"{column}_std"]) == pytest.approx(statistics.stdev(values), rel=1e-9)
    md = (report / "aggregated.md").read_text()
    assert md.count("| units=") == 2 and "±" in md


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    from PIL import Image

    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        return image.size, np.asarray(image.convert("RGB"))


def test_figures_are_valid_pngs(sweep):
    _, report, _ = sweep
    for stat in STATS:
        (width, height), pixels = _png_size(report / f"stats_lstm_recurrent_kernel_{stat}.png")
        assert 800 <= width <= 3000 and 250 <= height <= 1200, (stat, width, height)
        # Drawn lines and shaded bands, not a blank canvas.
        packed = pixels.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
        assert len(np.unique(packed)) > 50
    assert not list(report.glob("stats_lstm_kernel_*.png"))  # only the chosen matrix


def _intervals(indices):
    """Runs of consecutive indices as (first, last) pairs."""
    if len(indices) == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) > 1)
    starts = np.r_[indices[0], indices[breaks + 1]]
    ends = np.r_[indices[breaks], indices[-1]]
    return list(zip(starts.tolist(), ends.tolist()))


def test_strip_tiles_are_the_logged_images(sweep):
    """Runs in columns (in the summary's order), steps 0 and last in rows, pixels unchanged."""
    _, report, runs = sweep
    order = [r["run"] for r in read_csv(report / "summary.csv")]
    (width, height), pixels = _png_size(report / "strip_lstm_recurrent_kernel_forget.png")
    # Every gate pixel has R or B at 255 (blue-white-red); the background and the labels never do.
    tile_mask = (pixels[..., 0] == 255) | (pixels[..., 2] == 255)
    columns = _intervals(np.flatnonzero(tile_mask.any(axis=0)))
    assert len(columns) == len(runs)
    tiles = 0
    for (left, right), name in zip(columns, order):
        events = dict(read_tensors(runs[name] / "tensorboard")[STRIP_TAG])
        rows = _intervals(np.flatnonzero(tile_mask[:, left:right + 1].any(axis=1)))
        assert len(rows) == 2, name
        for (top, bottom), step in zip(rows, (0, max(events))):
            expected = decode_image(events[step])
            assert (bottom - top + 1, right - left + 1) == expected.shape[:2]
            np.testing.assert_array_equal(pixels[top:bottom + 1, left:right + 1], expected)
            tiles += 1
        # A label (dark text) above each column.
        header = pixels[: rows[0][0], left:right + 1]
        assert (header.max(axis=-1) < 100).any(), name
    assert tiles == 2 * len(runs)
    assert width >= columns[-1][1] and height > 2 * 252


def test_python_reader_matches_event_file_loader_without_tensorflow(sweep):
    """Both readers give the same scalars and images; the python one never imports TensorFlow."""
    from lstm_experiments.report import read_sweep

    sweep_dir, report, _ = sweep
    code = (
        "import sys, pickle\n"
        "from lstm_experiments.report import read_sweep\n"
        f"runs, reader = read_sweep(sys.argv[1], ({STRIP_TAG!r},), reader=sys.argv[2], jobs=1)\n"
        "assert reader == sys.argv[2]\n"
        "runs = {r.name: ({t: (s.tolist(), v.tolist()) for t, (s, v) in r.scalars.items()},"
        " r.images, r.status) for r in runs}\n"
        "sys.stdout.buffer.write(pickle.dumps(('tensorflow' in sys.modules, runs)))\n"
    )
    import pickle

    done = subprocess.run([sys.executable, "-c", code, str(sweep_dir), "python"],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    imported_tensorflow, python_runs = pickle.loads(done.stdout)
    assert not imported_tensorflow
    # EventFileLoader in this process (TensorFlow is imported here anyway).
    runs, reader = read_sweep(sweep_dir, (STRIP_TAG,), reader="tensorflow", exclude=(report,))
    assert reader == "tensorflow"
    loader_runs = {r.name: ({t: (s.tolist(), v.tolist()) for t, (s, v) in r.scalars.items()},
                            r.images, r.status) for r in runs}
    assert python_runs == loader_runs
    assert len(python_runs) == 4
    for scalars, images, status in python_runs.values():
        assert status == "completed" and set(images) == {STRIP_TAG} and len(images[STRIP_TAG]) == 3


def test_auto_reader_is_python_unless_tensorflow_is_imported(monkeypatch):
    """Whatever the sweep's size: TensorFlow's import costs more than its reader saves
    (docs/performance.md, "EventAccumulator for the scalar tables?")."""
    from lstm_experiments.report.runs import choose_reader

    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    assert choose_reader("auto") == "python"
    monkeypatch.setitem(sys.modules, "tensorflow", np)  # any module: "already imported"
    assert choose_reader("auto") == "tensorflow"
    assert choose_reader("python") == "python" and choose_reader("tensorflow") == "tensorflow"
    with pytest.raises(ValueError, match="not one of"):
        choose_reader("event-accumulator")


def test_failed_and_broken_jobs_are_reported_not_fatal(tmp_path):
    """A job marked failed, one without metrics.json, one with a broken one, a truncated event file."""
    from lstm_experiments.report import build_report
    from tests.helpers.synthetic_sweep import make_synthetic_sweep

    sweep_dir = make_synthetic_sweep(tmp_path / "sweep", n_runs=6, n_steps=3, failed=(1,),
                                     no_metrics=(4,))
    (sweep_dir / "5" / "metrics.json").write_text("{broken")
    (event,) = (sweep_dir / "3" / "tensorboard").glob("events.out.tfevents.*")
    event.write_bytes(event.read_bytes()[:-10])
    report = build_report(sweep_dir, reader="python", jobs=1)
    rows = {r["run"]: r for r in read_csv(report.out_dir / "summary.csv")}
    assert [rows[str(i)]["status"] for i in range(6)] == [
        "completed", "failed", "completed", "completed", "failed", "failed"]
    assert "no metrics.json" in rows["4"]["note"] and "unreadable metrics.json" in rows["5"]["note"]
    assert "truncated" in rows["3"]["note"]
    groups = {g["group"]: g for g in read_csv(report.out_dir / "aggregated.csv")}
    assert [groups[f"units={u}"]["n_seeds"] for u in (4, 6, 8)] == ["1", "2", "0"]
    assert [groups[f"units={u}"]["n_failed"] for u in (4, 6, 8)] == ["1", "0", "2"]
    assert float(groups["units=4"]["val_loss_mean"]) == float(rows["0"]["val_loss"])
    assert (report.out_dir / "stats_lstm_recurrent_kernel_change.png").is_file()
    assert any("forget images" in w for w in report.warnings)  # no viz=gates images here


# --------------------------------------------------------------------------- options and entry points

SYNTHETIC_STEPS = 4
INPUT_TAG = "gates/lstm/recurrent_kernel/input"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 2 x 2 synthetic sweep (units x seed) with gate images at steps 0 .. 3."""
    from tests.helpers.synthetic_sweep import make_synthetic_sweep

    return make_synthetic_sweep(tmp_path_factory.mktemp("synthetic") / "sweep", n_runs=4,
                                n_steps=SYNTHETIC_STEPS, images=True)


def run_report_module(*args):
    return subprocess.run([sys.executable, "-m", "lstm_experiments.report", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_gate_and_steps_choose_the_strip(synthetic, tmp_path, capsys):
    """``--gate input --steps 0,last``: one strip, of the input gate, rows at steps 0 and 3 only."""
    from lstm_experiments.report import main

    out = tmp_path / "report"
    assert main([str(synthetic), "--out", str(out), "--gate", "input", "--steps", "0,last",
                 "--reader", "python", "--jobs", "1"]) == 0
    assert [p.name for p in out.glob("strip_*.png")] == ["strip_lstm_recurrent_kernel_input.png"]
    listed = [line.strip() for line in capsys.readouterr().out.splitlines() if "strip_" in line]
    assert listed == ["strip_lstm_recurrent_kernel_input.png"]

    order = [r["run"] for r in read_csv(out / "summary.csv")]
    _, pixels = _png_size(out / "strip_lstm_recurrent_kernel_input.png")
    tile_mask = (pixels[..., 0] == 255) | (pixels[..., 2] == 255)
    columns = _intervals(np.flatnonzero(tile_mask.any(axis=0)))
    assert len(columns) == len(order) == 4
    for (left, right), name in zip(columns, order):
        logged = dict(read_tensors(synthetic / name / "tensorboard")[INPUT_TAG])
        assert sorted(logged) == list(range(SYNTHETIC_STEPS))
        rows = _intervals(np.flatnonzero(tile_mask[:, left:right + 1].any(axis=1)))
        shown = [pixels[top:bottom + 1, left:right + 1] for top, bottom in rows]
        expected = [decode_image(logged[step]) for step in (0, SYNTHETIC_STEPS - 1)]
        assert len(shown) == len(expected), name
        for tile, image in zip(shown, expected):
            np.testing.assert_array_equal(tile, image)
        # The steps left out are not drawn: their images differ from those shown.
        for step in range(1, SYNTHETIC_STEPS - 1):
            assert not any(np.array_equal(decode_image(logged[step]), tile) for tile in shown)


@pytest.mark.parametrize("args, option, value", [
    (["--gate", "forgett"], "--gate", "forgett"),
    (["--gate", "input,Forget"], "--gate", "Forget"),
    (["--gate", "all,input"], "--gate", "all,input"),
    (["--steps", "0,x"], "--steps", "x"),
    (["--steps=-1,last"], "--steps", "-1"),
])
def test_bad_gate_or_steps_is_a_one_line_error(synthetic, tmp_path, args, option, value):
    """Argparse's usage and one error line naming the option and the value; nothing written."""
    out = tmp_path / "report"
    done = run_report_module(synthetic, "--out", out, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"lstm-experiments-report: error: {option}: ") and repr(value) in errors[0]
    assert not out.exists()


def test_python_m_report_writes_what_the_script_writes(synthetic, tmp_path):
    """``python -m lstm_experiments.report SWEEP`` is scripts/compare_gates.py: same files, same tables."""
    by_module, by_script = tmp_path / "module", tmp_path / "script"
    module = run_report_module(synthetic, "--out", by_module)
    script = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "compare_gates.py"), str(synthetic), "--out", str(by_script)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert module.returncode == 0, module.stdout + module.stderr
    assert script.returncode == 0, script.stdout + script.stderr
    written = sorted(p.name for p in by_module.iterdir())
    assert written == sorted(p.name for p in by_script.iterdir())
    assert written == sorted(
        ["summary.csv", "summary.md", "aggregated.csv", "aggregated.md",
         "strip_lstm_recurrent_kernel_forget.png", "index.html"]
        + [f"stats_lstm_recurrent_kernel_{s}.png" for s in STATS[:5]]
    )
    for name in ("summary.csv", "aggregated.csv"):
        assert (by_module / name).read_bytes() == (by_script / name).read_bytes()
    # The listing after the timed first line, with the output directory itself left out.
    assert module.stdout.splitlines()[1:] == [
        line.replace(str(by_script), str(by_module)) for line in script.stdout.splitlines()[1:]]
    assert f"wrote {len(written)} files to {by_module}:" in module.stdout
