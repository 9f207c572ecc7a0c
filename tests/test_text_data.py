"""``data=text``: a local text file's characters, next-character targets, one-line errors, and the run
end to end with the probe kept as characters; ``experiment=char_model`` composes on the interpreter's own
source."""

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from conftest import compose_config, read_tensors, run_cli
from lstm_experiments.board import metadata
from lstm_experiments.data import NEXT_TOKEN, load_dataset
from lstm_experiments.errors import DataError

TEXT = "ab(c)\n" * 6 + "é\"x\"\n"  # 41 characters, one of them not ASCII


def text_cfg(path, **values):
    return OmegaConf.create({"name": "text", "path": str(path), "seq_len": 4, "embedding_dim": 3,
                             "val_fraction": 0.25, **values})


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_vocabulary_windows_and_targets_by_hand(text_file):
    data = load_dataset(text_cfg(text_file), seed=0)
    vocabulary = sorted(set(TEXT))  # by code point: '\n', '"', '(', ')', 'a', 'b', 'c', 'x', 'é'
    assert data.vocabulary == tuple(vocabulary) and data.task == NEXT_TOKEN
    ids = [vocabulary.index(ch) for ch in TEXT]
    # 41 characters, val_fraction 0.25: the first int(41 * 0.75) = 30 train, the last 11 validate.
    train, val = ids[:30], ids[30:]
    # Windows of 4 that do not overlap, each followed by one more character: (30 - 1) // 4 = 7 and (11 - 1) // 4 = 2.
    expected_x = [train[4 * i: 4 * i + 4] for i in range(7)]
    expected_y = [train[4 * i + 1: 4 * i + 5] for i in range(7)]
    assert data.x_train.tolist() == expected_x and data.y_train.tolist() == expected_y
    assert data.x_val.tolist() == [val[0:4], val[4:8]] and data.y_val.tolist() == [val[1:5], val[5:9]]
    assert data.x_train.dtype == np.int32 and data.y_train.dtype == np.int32
    assert data.input_shape == (4,)
    decoded = "".join(data.vocabulary[i] for i in data.x_val.ravel())
    assert decoded == TEXT[30:38]


def test_the_same_file_gives_the_same_ids_and_a_byte_order_mark_is_no_character(tmp_path, text_file):
    marked = tmp_path / "bom.txt"
    marked.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    first, second = load_dataset(text_cfg(text_file), 0), load_dataset(text_cfg(marked), 7)
    assert first.vocabulary == second.vocabulary
    assert np.array_equal(first.x_train, second.x_train) and np.array_equal(first.y_val, second.y_val)


def _error(cfg) -> str:
    with pytest.raises(DataError) as info:
        load_dataset(cfg, seed=0)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_files_are_one_line_naming_data_path(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "nul.bin").write_bytes(b"abc\x00def")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    cases = {
        tmp_path / "missing.txt": "no such file",
        tmp_path: "is a directory",
        tmp_path / "empty.txt": "the file is empty",
        tmp_path / "nul.bin": "a binary file, not text (a NUL byte at offset 3)",
        tmp_path / "latin1.txt": "not UTF-8 text (byte 0xe9 at offset 3)",
    }
    for path, reason in cases.items():
        assert _error(text_cfg(path)).startswith(f"data.path={path}: {reason}"), path


def test_too_short_a_file_and_bad_sizes_name_their_keys(text_file):
    assert "leave no validation window of data.seq_len=20" in _error(text_cfg(text_file, seq_len=20))
    assert _error(text_cfg(text_file, seq_len=0)) == "data.seq_len=0 (must be > 0)"


def test_config_keys_and_checks():
    from lstm_experiments.config.checks import check_config
    from lstm_experiments.config.input_shape import apply_input_shape
    from lstm_experiments.errors import ConfigValueError

    cfg = compose_config(["data=text", "data.path=x.txt"])
    assert (cfg.data.name, cfg.data.seq_len, cfg.data.embedding_dim, cfg.data.val_fraction) == ("text", 64, 16, 0.1)
    with pytest.raises(ConfigValueError, match=r"^data.embedding_dim=0 \(must be > 0\)$"):
        check_config(compose_config(["data=text", "data.path=x.txt", "data.embedding_dim=0"]))
    with pytest.raises(ConfigValueError, match=r"^data.path is required"):
        check_config(compose_config(["data=text"]))
    with pytest.raises(ConfigValueError, match=r"^input_shape=\[10,1\] \(data=text .* set data.seq_len=10"):
        apply_input_shape(compose_config(["data=text", "data.path=x.txt", "input_shape=[10,1]"]))


def test_char_model_reads_the_interpreters_own_source():
    import sysconfig

    from lstm_experiments.run.resume import register_resolvers

    register_resolvers()
    cfg = compose_config(["experiment=char_model"])
    path = Path(cfg.data.path)
    assert path == Path(sysconfig.get_path("stdlib")) / "_pydecimal.py" and path.is_file()
    assert (cfg.data.name, cfg.units, cfg.viz.activations) == ("text", 128, True)
    data = load_dataset(cfg.data, cfg.seed)
    assert len(data.vocabulary) > 60 and len(data.x_train) > 3000  # a few hundred thousand characters


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """``data=text`` through the runner on a tiny file: (run dir, metrics, data set, tensors read back)."""
    from conftest import train_tiny

    root = tmp_path_factory.mktemp("text_run")
    path = root / "source.py"
    path.write_text("def f(x):\n    return {'a': [x, (x + 1)]}\n" * 24)
    run_dir, metrics = train_tiny(root / "run", ["data=text", f"data.path={path}", "data.seq_len=16",
                                                 "data.embedding_dim=4", "units=4", "train.epochs=1",
                                                 "viz=[gates,activations]"], tiny=False)
    data = load_dataset(text_cfg(path, seq_len=16, val_fraction=0.1), seed=0)
    return run_dir, metrics, data, read_tensors(run_dir / "tensorboard")


def test_a_text_run_learns_with_accuracy_and_logs_the_probe_as_characters(text_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, metrics, data, tensors = text_run
    assert metrics["status"] == "completed" and {"accuracy", "val_accuracy", "val_loss"} <= set(metrics)
    ((step, ids),) = tensors[metadata.probe_tag()]
    assert step == 0 and ids.dtype == np.int32
    assert np.array_equal(ids, data.x_val[: metadata.PROBE_SEQUENCES])
    accumulator = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"tensors": 0})
    accumulator.Reload()
    content = metadata.parse_content(accumulator.SummaryMetadata(metadata.probe_tag()).plugin_data.content)
    assert content.encoding == metadata.PROBE_IDS and content.holds_ids
    assert content.tokens == list(data.vocabulary)
    text = (run_dir.parent / "source.py").read_text()
    start = int(len(text) * 0.9)  # the validation part begins there
    assert "".join(content.tokens[i] for i in ids.ravel()) == text[start: start + ids.size]
    # The first layer read the Embedding's vectors at every logged step.
    assert [s for s, _ in tensors[metadata.input_tag("lstm")]] == [0, 1]
    assert tensors[metadata.input_tag("lstm")][0][1].shape == (metadata.PROBE_SEQUENCES, 16, 4)


def test_a_text_run_records_its_file_and_model(text_run):
    import keras

    run_dir, _, data, _ = text_run
    recorded = json.loads((run_dir / "data.json").read_text())
    assert recorded["path"].endswith("source.py") and recorded["bytes"] > 0
    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    assert model.get_layer("embedding").input_dim == len(data.vocabulary)
    assert model.output_shape == (None, 16, len(data.vocabulary))


@pytest.mark.slow
@pytest.mark.parametrize("name, content, reason", [
    ("missing.txt", None, "no such file"),
    ("empty.txt", b"", "the file is empty"),
    ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file, not text (a NUL byte at offset 8)"),
])
def test_the_command_line_says_what_is_wrong_with_the_file_in_one_line(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run_cli(["data=text", f"data.path={path}", f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and lines == [f"error: data.path={path}: {reason}"], result.stderr[-2000:]
    assert not (tmp_path / "run").exists()
