"""anymodel: what ``GateLogger`` costs in a user's own ``model.fit`` on a model that is not the runner's
plain stack, shaped like the Keras example "Bidirectional LSTM on IMDB" (keras-io,
examples/nlp/bidirectional_lstm_imdb.py): int token ids of length 200 from a vocabulary of 20,000,
``Embedding(20000, 128)``, two ``Bidirectional(LSTM(64))`` (the first with ``return_sequences``),
``Dense(1, sigmoid)``, adam and binary cross-entropy, batch 32, 2 epochs, validation data each epoch.

Variants, each a fresh model with the same seed on the same data, repetitions interleaved with the
variant order rotated each repetition, in this one process (TensorFlow imported once):

none               ``fit`` with no callback
defaults           ``GateLogger(log_dir)`` (the default visualizers)
all                ``GateLogger(log_dir, visualizers="all", probe=(x_val[:16], y_val[:16]))``
keras_tensorboard  ``keras.callbacks.TensorBoard(log_dir, histogram_freq=1, write_images=True)``

The time is ``model.fit``'s wall clock, its ``on_train_end`` included (where ``GateLogger`` waits for
its drawing process to write every step and exit); building and compiling the model and making the
callback are not timed. The ratio is a variant's median fit time over the median of ``none`` in the
same invocation; every repetition's time is in the JSON. Targets: defaults <= 1.05, all <= 1.15 (not
judged in a smoke run). An untimed one-epoch fit of ``all`` and of ``keras_tensorboard`` on a few
sequences comes first, so that no variant pays the first use of a code path. ``--quick``: 64
sequences, 1 repetition.

No data is downloaded: token ids are drawn with numpy, uniform in [1, 20000), with a tenth of each
sequence's tokens from a "positive" [1, 500) or "negative" [500, 1000) range, and the label is
whether the positive tokens outnumber the negative ones (so the model has something to learn).
Every sequence is 200 tokens long, as ``pad_sequences(maxlen=200)`` makes the example's; the
example's ``Embedding`` does not mask, so its padding costs what tokens cost.

The example trains on 25,000 reviews and validates on 25,000. Here the training count is an option
(``--anymodel-sequences``; default 6,400, 200 batches, so the section takes 12 to 15 minutes on 2
cores) and validation is a quarter of it. The logging cost per epoch is fixed (it does not grow with
the sequences), so these shorter epochs show it larger than the example's would: the ratios are
conservative.
"""

from __future__ import annotations

import contextlib
import gc
import io
import time
from pathlib import Path

import numpy as np

from bench.common import dir_bytes, import_tensorflow_quietly, logger_class, median, print_table, process_cpu_s

# The Keras example's sizes.
MAX_FEATURES = 20_000
MAXLEN = 200
EMBEDDING_DIM = 128
UNITS = 64
BATCH_SIZE = 32
EPOCHS = 2
EXAMPLE_SEQUENCES = 25_000  # the example's training (and validation) reviews
SEED = 0
PROBE = 16  # the probe batch of the `all` variant: x_val[:16], y_val[:16]
VAL_FRACTION = 4  # validation sequences: the training count // 4 (at least PROBE)
SENTIMENT_SHARE = 0.1  # the share of each sequence's tokens drawn from its class' range
SENTIMENT_RANGE = 500  # positive tokens in [1, 500), negative in [500, 1000)
# Below this many training sequences (a smoke run) the ratios are printed but not held to the targets.
JUDGE_MIN_SEQUENCES = 1_000

VARIANTS = ("none", "defaults", "all", "keras_tensorboard")
TARGETS = {"defaults": 1.05, "all": 1.15}


def make_data(n_train: int, n_val: int, seed: int = SEED):
    """IMDB-shaped data: ``(x_train, y_train), (x_val, y_val)``, int32 token ids and float32 labels."""
    rng = np.random.default_rng(seed)
    n = n_train + n_val
    x = rng.integers(1, MAX_FEATURES, size=(n, MAXLEN), dtype=np.int32)
    positive = rng.random(n) < 0.5
    marked = rng.random((n, MAXLEN)) < SENTIMENT_SHARE
    words = rng.integers(1, SENTIMENT_RANGE, size=(n, MAXLEN), dtype=np.int32)
    words += np.where(positive, 0, SENTIMENT_RANGE).astype(np.int32)[:, None]
    x = np.where(marked, words, x)
    n_positive = (x < SENTIMENT_RANGE).sum(axis=1)
    n_negative = ((x >= SENTIMENT_RANGE) & (x < 2 * SENTIMENT_RANGE)).sum(axis=1)
    y = (n_positive > n_negative).astype(np.float32)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def build_model():
    """The example's model, fresh, with the same seed every time; compiled as the example compiles it."""
    import keras
    from keras import layers

    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(MAX_FEATURES, EMBEDDING_DIM)(inputs)
    x = layers.Bidirectional(layers.LSTM(UNITS, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(UNITS))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def make_callback(variant: str, log_dir: Path, probe):
    """The variant's callback (None for ``none``), made before the clock starts."""
    import keras

    if variant == "none":
        return None
    if variant == "defaults":
        return logger_class()(str(log_dir))
    if variant == "all":
        return logger_class()(str(log_dir), visualizers="all", probe=probe)
    if variant == "keras_tensorboard":
        return keras.callbacks.TensorBoard(str(log_dir), histogram_freq=1, write_images=True)
    raise ValueError(f"unknown variant {variant!r}")


def time_hooks(callback, hooks: tuple[str, ...] = ("on_train_begin", "on_train_end")) -> dict[str, float]:
    """Seconds spent in each of ``callback``'s ``hooks``, filled in as ``fit`` calls them (this instance only)."""
    spent = dict.fromkeys(hooks, 0.0)

    def timed(name, method):
        def hook(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return hook

    if callback is not None:
        for name in hooks:
            setattr(callback, name, timed(name, getattr(callback, name)))
    return spent


def timed_fit(variant: str, data, log_dir: Path, epochs: int = EPOCHS) -> dict:
    """One fresh model fitted with the variant's callback; only ``model.fit`` is timed."""
    (x_train, y_train), (x_val, y_val) = data
    model = build_model()
    callback = make_callback(variant, log_dir, (x_val[:PROBE], y_val[:PROBE]))
    hooks = time_hooks(callback)
    gc.collect()
    cpu_before = process_cpu_s()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=epochs, validation_data=(x_val, y_val),
                  callbacks=[callback] if callback is not None else [], verbose=0)
    fit_s = time.perf_counter() - start
    own, children = (after - before for after, before in zip(process_cpu_s(), cpu_before))
    if callback is None:
        steps = 0
    elif hasattr(callback, "logged_steps"):
        steps = len(callback.logged_steps)
    else:
        steps = epochs  # Keras' TensorBoard logs weights at epochs 0..n-1
    return {"fit_s": fit_s, "begin_s": hooks["on_train_begin"], "end_s": hooks["on_train_end"],
            "cpu_s": own, "child_cpu_s": children, "logged_steps": steps,
            "event_bytes": dir_bytes(log_dir) if log_dir.exists() else 0}


def eager_probe_pass(model, x, y) -> None:
    """What 0.1.0 ran on the training thread per logged step: an eager forward pass with every
    recurrent layer's ``call`` wrapped to copy its input, then an eager ``GradientTape`` pass."""
    import tensorflow as tf

    from lstm_experiments.capture.layers import find_recurrent_layers
    from lstm_experiments.capture.snapshot import cell_variables

    found = find_recurrent_layers(model).layers
    seen = {}
    for f in found:
        original = f.layer.call

        def recording(*args, _name=f.name, _original=original, **kwargs):
            seen[_name] = np.array(args[0])
            return _original(*args, **kwargs)

        f.layer.call = recording
    try:
        model(x, training=False)
    finally:
        for f in found:
            del f.layer.call
    variables = [v for f in found for v in cell_variables(f.cell).values()]
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
    [np.array(g) for g in tape.gradient(loss, variables)]


# The probe's pass per logged step, as GateLogger sets it up: (with_gradients, with_head) of ModelCapture.
# with_head: findings on, so the pass also takes the loss gradient at each recurrent layer's output.
PROBE_CAPTURES = {
    "all": (True, True),  # visualizers="all", findings on (the default with a probe)
    "all_findings_off": (True, False),  # visualizers="all", findings=False
    "findings": (False, True),  # the default visualizers and a probe: the findings' pass
    "forward_only": (False, False),  # what the pass ran for the findings before it took the loss gradient
}


def probe_step_times(data, reps: int) -> dict:
    """Seconds on the training thread for the probe of one logged step: the compiled pass of each of
    ``PROBE_CAPTURES`` (the first call traces it) against the eager passes of 0.1.0, interleaved."""
    from lstm_experiments.capture.model_capture import ModelCapture

    _, (x_val, y_val) = data
    x, y = x_val[:PROBE], y_val[:PROBE]
    model = build_model()
    captures = {name: ModelCapture(model, x, y, with_gradients=grads, with_head=head)
                for name, (grads, head) in PROBE_CAPTURES.items()}
    first = {}
    for name, capture in captures.items():
        start = time.perf_counter()
        capture.snapshot(0)
        first[name] = time.perf_counter() - start
    eager_probe_pass(model, x, y)  # warm, untimed
    times: dict[str, list[float]] = {name: [] for name in [*captures, "eager"]}
    for rep in range(reps):
        names = list(times)
        for name in names[rep % len(names):] + names[:rep % len(names)]:  # rotated, interleaved
            start = time.perf_counter()
            if name == "eager":
                eager_probe_pass(model, x, y)
            else:
                captures[name].snapshot(1)
            times[name].append(time.perf_counter() - start)
    out = {f"first_{name}_s": value for name, value in first.items()}
    out.update({f"{name}_s": median(values) for name, values in times.items()})
    out.update({f"{name}_s_all": values for name, values in times.items()})
    # The names the tables of earlier releases used.
    out.update(first_compiled_s=first["all"], compiled_s=out["all_s"])
    return out


def print_probe_table(probe: dict) -> None:
    columns = [f"{name}_s" for name in [*PROBE_CAPTURES, "eager"]]
    print_table(
        f"anymodel: the probe ({PROBE} sequences) per logged step, on the training thread",
        ["first_all_s", *columns], [probe],
        ["all: ModelCapture.snapshot as GateLogger(visualizers='all') with findings on: weights copied, the "
         "traced tf.function run once (every recurrent layer's input, mask, initial state, the weight "
         "gradients and the loss gradient at each layer's output); first_all_s: its first call, which traces it",
         "all_findings_off: the same without the output gradients; findings: the default visualizers with a "
         "probe (the pass and the output gradients, no weight gradients); forward_only: the pass alone",
         "eager: 0.1.0's eager forward pass recording each layer's input, then an eager GradientTape pass; "
         "medians of interleaved calls, the order rotated each repetition"],
    )


def run_probe(sizes, workdir: Path) -> dict:
    """anyprobe: the probe's per-step cost alone (the anymodel section's second table), in a minute."""
    import_tensorflow_quietly()
    data = make_data(2 * BATCH_SIZE, max(PROBE, 2 * BATCH_SIZE))
    probe = probe_step_times(data, reps=max(5, sizes.anymodel_reps + 4))
    print_probe_table(probe)
    return {"probe_step": probe, "probe": PROBE, "model": {"maxlen": MAXLEN, "units": UNITS}}


def run(sizes, workdir: Path) -> dict:
    """GateLogger's cost in a user's fit of the IMDB-shaped model: none/defaults/all/keras_tensorboard."""
    import_tensorflow_quietly()
    n_train = sizes.anymodel_sequences
    n_val = max(PROBE, n_train // VAL_FRACTION)
    data = make_data(n_train, n_val)
    # Warm-up, untimed: every code path once (the summary ops, the drawing process' start) on a few sequences.
    warm_data = make_data(2 * BATCH_SIZE, PROBE, SEED + 1)
    for variant in ("all", "keras_tensorboard"):
        timed_fit(variant, warm_data, workdir / f"warmup_{variant}", epochs=1)
    samples: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    orders = []
    for rep in range(sizes.anymodel_reps):
        order = VARIANTS[rep % len(VARIANTS):] + VARIANTS[:rep % len(VARIANTS)]
        orders.append(list(order))
        for variant in order:
            samples[variant].append(timed_fit(variant, data, workdir / f"rep{rep}_{variant}"))
    none = samples["none"]
    base = median(r["fit_s"] for r in none)
    judged = n_train >= JUDGE_MIN_SEQUENCES
    rows = []
    for variant, runs in samples.items():
        fit_s = median(r["fit_s"] for r in runs)
        ratio = fit_s / base
        target = TARGETS.get(variant)
        rows.append({
            "variant": variant, "fit_s": fit_s, "fit_s_all": [round(r["fit_s"], 4) for r in runs],
            "ratio": ratio,
            "paired_ratio": median(r["fit_s"] / n["fit_s"] for r, n in zip(runs, none)),
            "min_ratio": min(r["fit_s"] for r in runs) / min(r["fit_s"] for r in none),
            "begin_s": median(r["begin_s"] for r in runs), "end_s": median(r["end_s"] for r in runs),
            "cpu_s": median(r["cpu_s"] for r in runs), "child_cpu_s": median(r["child_cpu_s"] for r in runs),
            "logged_steps": runs[0]["logged_steps"],
            "event_kb": median(r["event_bytes"] for r in runs) / 1024,
            "target": target, "met": None if target is None or not judged else ratio <= target,
        })
    print_table(
        f"anymodel: the IMDB-shaped model (Embedding {MAX_FEATURES}x{EMBEDDING_DIM}, 2 x Bidirectional "
        f"LSTM({UNITS}), maxlen {MAXLEN}) in a user's model.fit, {n_train} sequences "
        f"(+ {n_val} validation), batch {BATCH_SIZE}, epochs={EPOCHS}, median of {sizes.anymodel_reps}",
        ["variant", "fit_s", "ratio", "paired_ratio", "min_ratio", "begin_s", "end_s", "cpu_s", "child_cpu_s",
         "logged_steps", "event_kb", "target", "met"],
        rows,
        [
            "fit_s = wall clock of model.fit, on_train_end included (GateLogger waits there for its drawing "
            "process); building, compiling and the callback's construction are not timed; every repetition's "
            "fit_s is in the JSON (fit_s_all)",
            "ratio = median fit_s / median fit_s(none), the one held to the target; paired_ratio: median over "
            "reps of fit_s/fit_s(none); min_ratio: min/min",
            f"{n_train} training sequences per epoch against the example's {EXAMPLE_SEQUENCES:,} (validation "
            f"{n_val} against {EXAMPLE_SEQUENCES:,}): the logging cost per epoch is fixed, so a shorter epoch "
            "shows it larger; the ratios are conservative",
            "begin_s, end_s: in the callback's on_train_begin (GateLogger starts its drawing process) and "
            "on_train_end (GateLogger logs the last step and waits for the drawing process), inside fit_s",
            "cpu_s: CPU seconds of this process during fit; child_cpu_s: of its drawing process",
            *([] if judged else [f"met: not judged under {JUDGE_MIN_SEQUENCES:,} sequences per epoch (a smoke "
                                 "run: the fixed per-epoch cost dominates such short epochs)"]),
        ],
    )
    probe = probe_step_times(data, reps=max(3, sizes.anymodel_reps + 2))
    print_probe_table(probe)
    return {
        "model": {"max_features": MAX_FEATURES, "maxlen": MAXLEN, "embedding_dim": EMBEDDING_DIM, "units": UNITS,
                  "batch_size": BATCH_SIZE},
        "sequences": n_train, "val_sequences": n_val, "epochs": EPOCHS, "reps": sizes.anymodel_reps,
        "orders": orders, "judged": judged, "rows": rows, "probe_step": probe,
    }
