"""Event-file records framed with the C CRC are the records TensorFlow and TensorBoard write and read."""

import os

import pytest
from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow
from tensorboard.summary.writer.record_writer import RecordWriter

from lstm_experiments.tensorboard.records import (
    RecordError,
    RecordFileWriter,
    event_file_name,
    masked_crc32c,
    read_records,
)

PAYLOADS = [b"", b"a", os.urandom(1000), os.urandom(700_000)]


def test_crc_equals_tensorboards_python_crc():
    for data in PAYLOADS[:3] + [PAYLOADS[3][:50_000]]:
        assert masked_crc32c(data) == pywrap_tensorflow.masked_crc32c(data)


def write_ours(path, payloads):
    writer = RecordFileWriter(path)
    for data in payloads:
        writer.write(data)
    writer.close()


def test_file_equals_tensorboards_record_writer_byte_for_byte(tmp_path):
    write_ours(tmp_path / "ours", PAYLOADS[:3])
    with open(tmp_path / "theirs", "wb") as handle:
        theirs = RecordWriter(handle)
        for data in PAYLOADS[:3]:
            theirs.write(data)
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "theirs").read_bytes()


def test_tensorflow_reads_our_records_and_we_read_tensorflows(tmp_path):
    import tensorflow as tf

    write_ours(tmp_path / "ours", PAYLOADS)
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(tmp_path / "ours"))] == PAYLOADS
    with tf.io.TFRecordWriter(str(tmp_path / "tf")) as writer:
        for data in PAYLOADS:
            writer.write(data)
    assert list(read_records(tmp_path / "tf")) == PAYLOADS


def test_tensorboards_python_reader_checks_our_crcs(tmp_path):
    write_ours(tmp_path / "ours", PAYLOADS[:3])
    reader = pywrap_tensorflow.PyRecordReader_New(os.fsencode(tmp_path / "ours"), 0, None, None)
    got = []
    with pytest.raises(errors.OutOfRangeError):
        while True:
            reader.GetNext()
            got.append(reader.record())
    assert got == PAYLOADS[:3]


@pytest.mark.parametrize("cut", [1, 4, 13, 28])  # the second record is 16 + 13 bytes
def test_a_truncated_last_record_ends_the_file_with_an_error(tmp_path, cut):
    write_ours(tmp_path / "f", [b"first", b"second record"])
    content = (tmp_path / "f").read_bytes()
    (tmp_path / "f").write_bytes(content[: len(content) - cut])
    records = read_records(tmp_path / "f")
    assert next(records) == b"first"
    with pytest.raises(RecordError) as err:
        next(records)
    assert err.value.what == "truncated" and err.value.offset == 16 + len(b"first")


def test_a_flipped_byte_is_corrupt(tmp_path):
    write_ours(tmp_path / "f", [b"first", b"second record"])
    content = bytearray((tmp_path / "f").read_bytes())
    content[-6] ^= 0xFF
    (tmp_path / "f").write_bytes(bytes(content))
    with pytest.raises(RecordError, match="corrupt"):
        list(read_records(tmp_path / "f"))


def test_event_file_names_are_tensorboards_and_never_reused(tmp_path):
    first, second = event_file_name(tmp_path), event_file_name(tmp_path)
    assert first != second and first.name.startswith("events.out.tfevents.")
    write_ours(first, [b"x"])
    with pytest.raises(FileExistsError):
        RecordFileWriter(first)
