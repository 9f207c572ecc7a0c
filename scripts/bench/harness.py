"""The harness: options, sizes, the machine and source recorded, running the sections, the JSON file."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import json
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import bench
from bench.common import REPO, VIZ_VARIANTS

DEFAULT_OUT = Path("outputs/bench.json")
# Section name -> module of this package; each module has run(sizes, workdir) -> dict.
SECTION_MODULES = {
    "overhead": "overhead",
    "drawing": "drawing",
    "anchor": "anchor",
    "bytes": "bytes",
    "startup": "startup",
    "csv": "csv_load",
    "sweeps": "sweeps",
    "report": "report",
    "board": "board",
    "load": "load",
    "anymodel": "any_model",
    "anyprobe": "any_probe",
    "batches": "batches",
    "tokens": "tokens",
    "text": "text_view",
}
SECTIONS = tuple(SECTION_MODULES)
PROFILE_UNITS = 128  # --profile without --units


@dataclass(frozen=True)
class Sizes:
    units: tuple[int, ...]
    epochs: int  # overhead and anchor trainings
    reps: int  # interleaved repetitions per variant
    anchor_units: int
    bytes_units: tuple[int, ...]
    bytes_epochs: int
    bytes_samples: int  # bytes do not depend on the sample count, so train on few
    startup_reps: int
    csv_rows: int
    sweep_epochs: int
    report_runs: int
    report_reps: int
    anchor_reps: int
    drawing_steps: int = 3  # drawing: timed steps per visualizer, after step 0
    report_image_steps: int = 100  # report: steps of the sweep with images (the scalar sweep has 100)
    thread_variant: bool = False  # overhead: also viz=all drawn on a thread (viz.worker=thread)
    extra_variants: tuple[tuple[str, str], ...] = ()  # overhead: (name, overrides) timed with the others
    board_units: int = 128  # board: units of the 3-run sweep shown on the GATES page
    board_pages: int = 3  # board: pages timed, each in a fresh browser context
    load_runs: int = 50  # load: jobs of the sweep served by TensorBoard
    load_long_epochs: int = 1000  # load: epochs of the long run, logged every epoch
    load_requests: int = 200  # load: timed requests per route (activations: half)
    anymodel_sequences: int = 6400  # anymodel: training sequences per epoch (the Keras example has 25,000)
    anymodel_reps: int = 3  # anymodel: interleaved repetitions per variant
    batches_samples: int = 5000  # batches: sine windows (80 % train: 125 batches of 32 per epoch)
    batches_epochs: int = 4  # batches: epochs per training
    batches_reps: int = 5  # batches: interleaved repetitions per variant
    batches_route_steps: int = 5000  # batches: logged steps of the run the GATES routes are timed on
    batches_route_requests: int = 200  # batches: timed requests per route


FULL = Sizes(
    units=(32, 128, 512, 1024), epochs=5, reps=5, anchor_units=128,
    bytes_units=(32, 128, 512, 1024), bytes_epochs=2, bytes_samples=64,
    startup_reps=5, csv_rows=1_000_000, sweep_epochs=3, report_runs=50, report_reps=3, anchor_reps=5,
)
QUICK = Sizes(
    units=(32,), epochs=2, reps=2, anchor_units=32,
    bytes_units=(32, 512), bytes_epochs=1, bytes_samples=32,
    startup_reps=3, csv_rows=50_000, sweep_epochs=1, report_runs=10, report_reps=1, anchor_reps=1,
    drawing_steps=1, report_image_steps=10, board_units=32, board_pages=1,
    load_runs=5, load_long_epochs=50, load_requests=50, anymodel_sequences=64, anymodel_reps=1,
    batches_samples=1000, batches_epochs=2, batches_reps=1, batches_route_steps=500, batches_route_requests=50,
)


def source_state() -> dict:
    """The commit measured and the files changed since (others may be editing the tree)."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return result.stdout.rstrip("\n") if result.returncode == 0 else ""

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "changed": [line[3:] for line in git("status", "--porcelain").splitlines()]}


def machine_info() -> dict:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("tensorflow", "keras", "tensorboard", "hydra-core", "numpy", "pandas"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "loadavg_at_start": os.getloadavg(),
        "source": source_state(),
    }


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=bench.__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repetitions (smoke run)")
    parser.add_argument("--units", help="comma-separated units for overhead and bytes, e.g. 32,128")
    parser.add_argument("--reps", type=int, help="repetitions per variant (overhead, anchor, anymodel, batches)")
    parser.add_argument("--epochs", type=int, help="epochs per training (overhead, anchor)")
    parser.add_argument("--thread-variant", action="store_true",
                        help="overhead: also time viz=all drawn on a thread of the training process (viz.worker=thread)")
    parser.add_argument("--variant", action="append", metavar="NAME=OVERRIDES",
                        help="overhead: another variant, e.g. 'no-gradients=viz=all viz.gradients=false' "
                             "(target: as for all)")
    parser.add_argument("--anymodel-sequences", type=int, metavar="N",
                        help=f"anymodel: training sequences per epoch (default {FULL.anymodel_sequences}, "
                             f"--quick {QUICK.anymodel_sequences}; the Keras example has 25,000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    parser.add_argument(
        "--profile", choices=tuple(VIZ_VARIANTS),
        help=f"instead of the sections: cProfile one logged step (at the first --units, default {PROFILE_UNITS})",
    )
    # Internal: one measurement in a fresh process (csv_load.worker, report.worker), JSON on stdout.
    parser.add_argument("--csv-worker", choices=("project", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--csv-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report-worker", help=argparse.SUPPRESS)  # a reader of bench.report.READERS
    parser.add_argument("--report-sweep", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--report-jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {','.join(SECTIONS)}")
    return args


def sizes_for(args: argparse.Namespace) -> Sizes:
    sizes = asdict(QUICK if args.quick else FULL)
    if args.units:
        units = tuple(int(u) for u in args.units.split(","))
        sizes.update(units=units, bytes_units=units)
    if args.reps:
        sizes.update(reps=args.reps, anchor_reps=args.reps, anymodel_reps=args.reps, batches_reps=args.reps)
    if args.epochs:
        sizes.update(epochs=args.epochs)
    if args.anymodel_sequences:
        sizes.update(anymodel_sequences=args.anymodel_sequences)
    if args.thread_variant:
        sizes.update(thread_variant=True)
    if args.variant:
        sizes.update(extra_variants=tuple(tuple(v.split("=", 1)) for v in args.variant))
    return Sizes(**sizes)


def section(name: str):
    return importlib.import_module(f"bench.{SECTION_MODULES[name]}")


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.csv_worker:
        print(json.dumps(section("csv").worker(args.csv_worker, args.csv_file, args.trace)))
        return
    if args.report_worker:
        print(json.dumps(section("report").worker(args.report_worker, args.report_sweep, args.report_jobs)))
        return
    if args.profile:
        from bench.profiling import profile_logged_step

        units = int(args.units.split(",")[0]) if args.units else PROFILE_UNITS
        with tempfile.TemporaryDirectory(prefix="bench_profile_") as workdir:
            profile_logged_step(units, args.profile, Path(workdir))
        return
    sizes = sizes_for(args)
    machine = machine_info()
    print(
        f"machine: {machine['cpu_count']} CPUs ({machine['cpus_usable']} usable), {machine['cpu_model']}, "
        f"{machine['memory_gib']} GiB; python {machine['python']}; tensorflow {machine['versions']['tensorflow']}, "
        f"keras {machine['versions']['keras']}; load average {', '.join(f'{x:.2f}' for x in machine['loadavg_at_start'])}"
    )
    source = machine["source"]
    print(f"source: {source['commit']}" + (f" + changes to {', '.join(source['changed'])}" if source["changed"] else ""))
    print(f"sizes: {'quick' if args.quick else 'full'} {asdict(sizes)}")
    report = {"machine": machine, "quick": args.quick, "sizes": asdict(sizes), "sections": {}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.sections:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"bench_{name}_") as workdir:
            result = section(name).run(sizes, Path(workdir))
        result["section_s"] = time.perf_counter() - start
        result["loadavg_after"] = os.getloadavg()
        report["sections"][name] = result
        print(f"({name}: {result['section_s']:.0f} s)")
        args.out.write_text(json.dumps(report, indent=2, default=str))  # after each section, so partial runs keep
    print(f"\nwrote {args.out}")

