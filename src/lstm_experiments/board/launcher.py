"""``lstm-experiments-board LOGDIR [--port P] [extra tensorboard args]``: TensorBoard with the GATES tab, nothing downsampled.

Starts ``tensorboard --logdir LOGDIR --samples_per_plugin lstm_gates=100000,images=1000``
(``metadata.KEEP_EVERY_STEP``: unless told, TensorBoard keeps up to 100 steps
per tag of the GATES data, 10 with ``--load_fast=false``, and 10 images per
tag; ``board/sampling.py``), prints the dashboard's URL and waits until TensorBoard exits or
Ctrl-C. Extra arguments go to TensorBoard as they are; a ``--samples_per_plugin``
among them is merged with the preset (its values win).
"""

import argparse
import signal
import subprocess
import threading
import sys
from pathlib import Path

from lstm_experiments.board import metadata

DEFAULT_PORT = 6006
# plugin -> samples kept per tag: every step of the gates, every image of a long run.
SAMPLES = {metadata.PLUGIN_NAME: metadata.KEEP_EVERY_STEP, "images": 1000}
SAMPLES_OPTION = "--samples_per_plugin"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstm-experiments-board",
        description="Start TensorBoard on LOGDIR with the GATES tab and every logged step kept.",
        epilog="Any other argument goes to tensorboard as it is (tensorboard --helpfull lists them).",
    )
    parser.add_argument("logdir", metavar="LOGDIR", help="a run's directory, outputs/ or a sweep's directory")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port to serve on (default {DEFAULT_PORT})")
    return parser


def _samples(extra: list[str]) -> tuple[str, list[str]]:
    """The --samples_per_plugin value (the preset, updated by any given in ``extra``) and ``extra`` without it."""
    samples = {name: str(count) for name, count in SAMPLES.items()}
    rest = []
    given = iter(extra)
    for arg in given:
        if arg == SAMPLES_OPTION:
            value = next(given, "")
        elif arg.startswith(SAMPLES_OPTION + "="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
            continue
        for item in filter(None, (part.strip() for part in value.split(","))):
            name, _, count = item.partition("=")
            samples[name.strip()] = count.strip()
    return ",".join(f"{name}={count}" for name, count in samples.items()), rest


def tensorboard_command(logdir: str, port: int, extra=()) -> list[str]:
    """The TensorBoard command line the launcher runs."""
    samples, rest = _samples(list(extra))
    return [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
            SAMPLES_OPTION, samples, "--port", str(port), *rest]


def dashboard_url(port: int) -> str:
    return f"http://localhost:{port}/#{metadata.PLUGIN_NAME}"


def main(argv=None) -> int:
    args, extra = _parser().parse_known_args(argv)
    logdir = Path(args.logdir)
    if not logdir.is_dir():
        what = "is not a directory" if logdir.exists() else "does not exist"
        print(f"error: LOGDIR {args.logdir} {what}", file=sys.stderr)
        return 1
    command = tensorboard_command(args.logdir, args.port, extra)
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace")
    # TensorBoard imports TensorFlow, whose start-up lines (cuInit, cudart...) it prints before any
    # log level applies: pass on everything else it says.
    threading.Thread(target=_forward_without_noise, args=(server.stderr,), daemon=True).start()
    # A SIGTERM to the launcher stops TensorBoard too, as Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    print(f"GATES dashboard: {dashboard_url(args.port)} (Ctrl-C stops TensorBoard)", flush=True)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _forward_without_noise(stream) -> None:
    from lstm_experiments.tensorflow_noise import is_noise

    for line in stream:
        if not is_noise(line):
            sys.stderr.write(line)
            sys.stderr.flush()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
