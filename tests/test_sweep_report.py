"""The sweep report (scripts/compare_gates.py) on a real sweep, checked against the event files.

One tiny 2 x 2 sweep (units x seed) runs through the real CLI, then the report
script runs on it; the tests read the event files again on their own, with
TensorBoard's EventAccumulator, and compare.
"""

import csv
import json
import re
import statistics
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import REPO, decode_image, read_tensors, run_cli
from tests.helpers.synthetic_sweep import SYNTHETIC_STATS, make_synthetic_sweep
from lstm_experiments.gates.layout import GATE_NAMES
from lstm_experiments.tensorboard import tags

pytestmark = pytest.mark.slow

SWEEP = [
    "-m", "units=4,6", "seed=0,1", "viz=[gates,stats]",
    "data.n_samples=48", "data.seq_len=6", "train.epochs=2", "train.batch_size=16",
]
STATS = tags.STATISTICS
GATES = GATE_NAMES["lstm"]
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
    for _, _, body in markdown_tables((report / "summary.md").read_text()):
        assert sorted(row[0] for row in body) == sorted(runs)  # every table: one line per run


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


# --------------------------------------------------------------------------- summary.md and aggregated.md

# A table wider than this does not fit an editor's or a code review's width.
READABLE_COLUMNS = 8
# A cell separator: a pipe that is not escaped.
_PIPE = re.compile(r"(?<!\\)\|")


def markdown_tables(text):
    """[(heading, header cells, body rows of cells)] of every table, under its nearest ``##`` heading;
    every row as wide as its header."""
    tables, heading, lines = [], None, text.splitlines() + [""]
    i = 0
    while i < len(lines):
        if lines[i].startswith("## "):
            heading = lines[i][3:].strip()
        if lines[i].startswith("|"):
            block = []
            while lines[i].startswith("|"):
                block.append([cell.strip() for cell in _PIPE.split(lines[i].strip())[1:-1]])
                i += 1
            header, rule, *body = block
            assert all(set(cell) == {"-"} for cell in rule) and len(rule) == len(header), (heading, rule)
            assert all(len(row) == len(header) for row in body), heading
            tables.append((heading, header, body))
        i += 1
    return tables


def shown(csv_value):
    """A summary.csv cell as the Markdown shows it: floats to 4 significant digits."""
    if re.fullmatch(r"-?\d+", csv_value):
        return csv_value
    try:
        return f"{float(csv_value):.4g}"
    except ValueError:
        return csv_value.replace("|", "\\|")


def column_of(heading, header):
    """The CSV column a Markdown column shows: a statistic's table names the tag with <gate>."""
    if heading.startswith("`stats/"):
        return heading.strip("`").replace("<gate>", header)
    return header


def check_summary_markdown(report_dir):
    """Every table at most READABLE_COLUMNS wide, and every summary.csv cell in one of them."""
    md = (report_dir / "summary.md").read_text()
    rows = {r["run"]: r for r in read_csv(report_dir / "summary.csv")}
    shared = re.search(r"Overrides shared by every run: `([^`]*)`", md)
    shared = set(shared.group(1).split(" ")) if shared else set()
    found = {}
    tables = markdown_tables(md)
    for heading, header, body in tables:
        assert len(header) <= READABLE_COLUMNS, (heading, header)
        assert header[:2] == ["run", "overrides"], heading
        for run, overrides, *cells in body:
            assert set(overrides.split()) | shared == set(rows[run]["overrides"].split()), run
            for name, cell in zip(header[2:], cells):
                column = column_of(heading, name)
                assert (run, column) not in found, (run, column)  # each value once
                found[run, column] = cell
    expected = {(run, c): shown(v) for run, row in rows.items() for c, v in row.items()
                if c not in ("run", "overrides")}
    assert found == expected
    return tables


def check_aggregated_markdown(report_dir):
    """Every table at most READABLE_COLUMNS wide; every group's mean ± std of aggregated.csv in one."""
    md = (report_dir / "aggregated.md").read_text()
    rows = {r["group"]: r for r in read_csv(report_dir / "aggregated.csv")}
    found = {}
    for heading, header, body in markdown_tables(md):
        assert len(header) <= READABLE_COLUMNS, (heading, header)
        assert header[0] == "group", heading
        for group, *cells in body:
            for name, cell in zip(header[1:], cells):
                found[group, column_of(heading, name)] = cell
    expected = {}
    for group, row in rows.items():
        for column in ("n_seeds", "seeds", "n_failed", "runs"):
            expected[group, column] = row[column]
        for column in (c[:-len("_mean")] for c in row if c.endswith("_mean")):
            std = row[f"{column}_std"]
            expected[group, column] = shown(row[f"{column}_mean"]) + (
                "" if std == "nan" else f" ± {float(std):.3g}")
    assert found == expected


def test_markdown_tables_are_readable_and_hold_every_csv_value(sweep):
    """summary.csv has 75 columns here; summary.md splits them into narrow tables, losing none."""
    _, report, runs = sweep
    assert len(read_csv(report / "summary.csv")[0]) > 70
    tables = check_summary_markdown(report)
    assert [h for h, _, _ in tables][:2] == ["Runs", "Metrics"]
    # A table per matrix and statistic, a gate per column.
    stat_tables = [(h, header) for h, header, _ in tables if h.startswith("`stats/")]
    assert len(stat_tables) == 3 * 5 + 1
    assert ("`stats/lstm/recurrent_kernel/<gate>/change`", ["run", "overrides", *GATES]) in stat_tables
    check_aggregated_markdown(report)


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
    assert "±" in md
    for _, _, body in markdown_tables(md):
        assert sorted(row[0] for row in body) == ["units=4", "units=6"]


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
# The report folder's record of the files its report wrote.
MANIFEST = ".report-files.json"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 2 x 2 synthetic sweep (units x seed) with gate images at steps 0 .. 3."""
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
    written = sorted(p.name for p in by_module.iterdir() if p.name != MANIFEST)
    assert written == sorted(p.name for p in by_script.iterdir() if p.name != MANIFEST)
    assert written == sorted(
        ["summary.csv", "summary.md", "aggregated.csv", "aggregated.md",
         "strip_lstm_recurrent_kernel_forget.png", "index.html"]
        + [f"stats_lstm_recurrent_kernel_{s}.png" for s in SYNTHETIC_STATS]
    )
    assert json.loads((by_module / MANIFEST).read_text()) == {"files": written}
    for name in ("summary.csv", "aggregated.csv"):
        assert (by_module / name).read_bytes() == (by_script / name).read_bytes()
    # The listing after the timed first line, with the output directory itself left out.
    assert module.stdout.splitlines()[1:] == [
        line.replace(str(by_script), str(by_module)) for line in script.stdout.splitlines()[1:]]
    assert f"wrote {len(written)} files to {by_module}:" in module.stdout


# --------------------------------------------------------------------------- one report per folder


def report_into(sweep_dir, out, *args):
    """Run the report's main into ``out``; its stdout."""
    import contextlib
    import io

    from lstm_experiments.report import main

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main([str(sweep_dir), "--out", str(out), "--reader", "python", "--jobs", "1", *args]) == 0
    return stdout.getvalue()


def index_figures(out):
    return re.findall(r'\sdata-file="([^"]+)"', (out / "index.html").read_text())


def test_a_second_report_replaces_the_first_and_keeps_the_users_files(synthetic, tmp_path):
    """--gate input --steps 0,1, then --gate forget: the input strip goes, the folder and its page hold
    the second report only; a user's files stay, even one named like a strip."""
    out = tmp_path / "report"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "strip_mine.png").write_bytes(b"mine")
    report_into(synthetic, out, "--gate", "input", "--steps", "0,1")
    assert (out / "strip_lstm_recurrent_kernel_input.png").is_file()
    second = report_into(synthetic, out, "--gate", "forget")
    listed = [line.strip() for line in second.splitlines() if line.startswith("  ")]
    assert sorted(p.name for p in out.iterdir()) == sorted([*listed, MANIFEST, "notes.txt", "strip_mine.png"])
    assert "strip_lstm_recurrent_kernel_input.png" not in listed
    assert "strip_lstm_recurrent_kernel_forget.png" in listed
    assert ("removed what the previous report there wrote and this one did not: "
            "strip_lstm_recurrent_kernel_input.png") in second.splitlines()
    assert [n for n in index_figures(out) if n.startswith("strip_")] == ["strip_lstm_recurrent_kernel_forget.png"]
    assert "recurrent_kernel/input" not in (out / "index.html").read_text().split("<h2 id=\"strips\">")[1]
    assert (out / "notes.txt").read_text() == "mine" and (out / "strip_mine.png").read_bytes() == b"mine"
    assert json.loads((out / MANIFEST).read_text()) == {"files": sorted(listed)}


def test_a_report_folder_from_before_the_manifest_is_replaced_by_its_index(synthetic, tmp_path):
    """No manifest: the figures the old index.html shows are the old report's, nothing else."""
    out = tmp_path / "report"
    report_into(synthetic, out, "--gate", "input,cell")
    (out / MANIFEST).unlink()
    (out / "strip_lstm_recurrent_kernel_output.png").write_bytes(b"mine")  # not on the old page
    report_into(synthetic, out, "--gate", "forget")
    strips = sorted(p.name for p in out.glob("strip_*.png"))
    assert strips == ["strip_lstm_recurrent_kernel_forget.png", "strip_lstm_recurrent_kernel_output.png"]


def test_a_report_that_fails_half_way_is_cleaned_up_by_the_next(synthetic, tmp_path, monkeypatch):
    """The manifest of a failed report lists the previous files and every file it set out to write."""
    from lstm_experiments.report import build

    out = tmp_path / "report"
    report_into(synthetic, out, "--gate", "input")

    def broken(path, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(build, "write_index", broken)
        with pytest.raises(OSError, match="disk full"):
            report_into(synthetic, out, "--gate", "forget")
    recorded = set(json.loads((out / MANIFEST).read_text())["files"])
    assert {"strip_lstm_recurrent_kernel_input.png", "strip_lstm_recurrent_kernel_forget.png",
            "index.html"} <= recorded
    report_into(synthetic, out, "--gate", "cell")
    assert sorted(p.name for p in out.glob("strip_*.png")) == ["strip_lstm_recurrent_kernel_cell.png"]


def test_a_manifest_never_reaches_outside_its_folder(tmp_path):
    """Names with a path in them, folders and links are never removed, whatever the manifest says."""
    from lstm_experiments.report.folder import ReportFolder

    out = tmp_path / "report"
    (out / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("x")
    (out / "sub" / "inner.txt").write_text("x")
    (out / "link.png").symlink_to(tmp_path / "outside.txt")
    (out / "old.png").write_text("x")
    (out / MANIFEST).write_text(json.dumps(
        {"files": ["../outside.txt", "sub/inner.txt", "sub", "link.png", "old.png", "..", ""]}))
    with ReportFolder(out) as folder:
        folder.wrote(folder.path("index.html")).write_text("page")
    assert folder.removed == ["old.png"]
    assert (tmp_path / "outside.txt").is_file() and (out / "sub" / "inner.txt").is_file()
    assert (out / "link.png").is_symlink()
    assert json.loads((out / MANIFEST).read_text()) == {"files": ["index.html"]}
