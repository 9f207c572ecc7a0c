"""tokens: what keeping the probe as tokens costs in the event file (``GateLogger(vocabulary=...)``).

The char model of ``experiment=char_model`` (the interpreter's _pydecimal.py, the runner's model and
probe) is fitted twice with the same ``GateLogger``, with the text data set's vocabulary and without it
(ids alone), and the two event files are compared: their sizes, and the serialized bytes of the
``lstm_gates/probe`` value (the ids and their metadata), written once, at step 0. The run's GATES data per
logged step is printed beside it, for scale.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from bench.common import compose_config, dir_bytes, import_tensorflow_quietly, print_table

VARIANTS = ("with vocabulary", "ids alone")


def _tag_bytes(event_dir: Path) -> dict[str, int]:
    """Serialized bytes of every tag's values (metadata included) in one run's event files."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    sizes: dict[str, int] = {}
    for path in sorted(Path(event_dir).glob("events.out.tfevents.*")):
        for record in RawEventFileLoader(str(path)).Load():
            for value in Event.FromString(record).summary.value:
                sizes[value.tag] = sizes.get(value.tag, 0) + value.ByteSize()
    return sizes


def _fit(cfg, data, log_dir: Path, vocabulary) -> None:
    import keras

    from lstm_experiments.capture.callback import GateLogger
    from lstm_experiments.model import build_run_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.seed)
    model = build_run_model(cfg, data)
    probe = (data.x_val[: cfg.viz.probe_size], data.y_val[: cfg.viz.probe_size])
    logger = GateLogger(log_dir, visualizers=("gates", "activations"), probe=probe, vocabulary=vocabulary,
                        findings=False)
    with contextlib.redirect_stdout(io.StringIO()):
        model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), epochs=cfg.train.epochs,
                  batch_size=cfg.train.batch_size, verbose=0, callbacks=[logger])


def run(sizes, workdir: Path) -> dict:
    """Event-file bytes of the char model's run with and without the vocabulary."""
    import_tensorflow_quietly()
    from lstm_experiments.board import metadata
    from lstm_experiments.data import load_dataset
    from lstm_experiments.run.resume import register_resolvers

    register_resolvers()
    cfg = compose_config(["experiment=char_model", f"train.epochs={sizes.bytes_epochs}"])
    data = load_dataset(cfg.data, cfg.seed)
    rows = []
    for variant in VARIANTS:
        log_dir = Path(tempfile.mkdtemp(dir=workdir)) / "logs"
        _fit(cfg, data, log_dir, data.vocabulary if variant == VARIANTS[0] else None)
        tags = _tag_bytes(log_dir)
        steps = sizes.bytes_epochs + 1
        rows.append({
            "variant": variant, "logged_steps": steps, "vocabulary": len(data.vocabulary),
            "file_bytes": dir_bytes(log_dir),
            "probe_bytes": tags.get(metadata.probe_tag(), 0),
            "gates_tab_kb_per_step": sum(v for t, v in tags.items() if t.startswith(metadata.PLUGIN_NAME)) / steps
            / 1024,
        })
    with_tokens, ids_alone = rows
    difference = with_tokens["file_bytes"] - ids_alone["file_bytes"]
    print_table(
        "tokens: the probe kept as characters (experiment=char_model)",
        ["variant", "logged_steps", "vocabulary", "file_bytes", "probe_bytes", "gates_tab_kb_per_step"],
        rows,
        [f"the vocabulary's text adds {difference} bytes to the event file, once (the probe is written at step 0)",
         "probe_bytes: the lstm_gates/probe value, int32 ids of 4 sequences x seq_len and its metadata"],
    )
    return {"rows": rows, "vocabulary_bytes": difference}
