"""TFRecord framing for event files, with a C CRC-32C.

An event file is a sequence of records: ``uint64 length``, ``uint32 masked
crc32c(length)``, the bytes, ``uint32 masked crc32c(bytes)``, little-endian.
TensorBoard's TensorFlow-free writer and reader compute the CRC in a Python
loop over every byte, holding the GIL against the training loop the whole
time; ``google-crc32c`` does the same sum in C (hardware CRC32 where the CPU
has it), over a thousand times faster (figures: docs/performance.md, "A C CRC").
The bytes on disk are the same, so TensorBoard and TensorFlow read these files
as their own.
"""

import os
import socket
import struct
import threading
import time
from pathlib import Path

import google_crc32c

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<Q")
_CRC = struct.Struct("<I")


class RecordError(ValueError):
    """A record that is cut short (``truncated``) or fails its checksum (``corrupt``)."""

    def __init__(self, path, what: str, offset: int):
        super().__init__(f"{path}: {what} record at byte {offset}")
        self.what = what
        self.offset = offset


def masked_crc32c(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    header = _HEADER.pack(len(data))
    return b"".join((header, _CRC.pack(masked_crc32c(header)), data, _CRC.pack(masked_crc32c(data))))


def read_records(path):
    """Yield each record's bytes; raise ``RecordError`` at a truncated or corrupt one."""
    with open(path, "rb", buffering=1 << 20) as handle:
        offset = 0
        while True:
            head = handle.read(12)
            if not head:
                return
            if len(head) < 12:
                raise RecordError(path, "truncated", offset)
            header = head[:8]
            if _CRC.unpack_from(head, 8)[0] != masked_crc32c(header):
                raise RecordError(path, "corrupt", offset)
            (length,) = _HEADER.unpack(header)
            data = handle.read(length)
            tail = handle.read(4)
            if len(data) < length or len(tail) < 4:
                raise RecordError(path, "truncated", offset)
            if _CRC.unpack(tail)[0] != masked_crc32c(data):
                raise RecordError(path, "corrupt", offset)
            yield data
            offset += 16 + length


_file_counter = iter(range(1, 1 << 62))
_counter_lock = threading.Lock()


def event_file_name(logdir: Path) -> Path:
    """TensorBoard's naming, ``events.out.tfevents.<time>.<host>.<pid>.<n>``, so ``--logdir`` finds it."""
    with _counter_lock:
        number = next(_file_counter)
    return Path(logdir) / f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{number}"


class RecordFileWriter:
    """Appends framed records to one new file; safe to call from several threads.

    Each record goes to the OS in whole (the file is unbuffered: one ``write`` per
    record, flushed as it is written), so a record never waits in a buffer. If a
    write fails (a full disk, a file-size limit: ``OSError``; or an interrupt), the
    file is cut back to its last whole record before the error is raised, so what
    was written before stays readable to the end; the writer then refuses further
    records (a later one would follow a gap).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = open(self.path, "xb", buffering=0)
        self._lock = threading.Lock()
        self._whole_bytes = 0  # the file's length up to the end of its last whole record
        self._failed: BaseException | None = None

    def write(self, data: bytes) -> None:
        record = frame(data)
        with self._lock:
            if self._failed is not None:
                raise OSError(f"{self.path}: no record written after an earlier write failed "
                              f"({self._failed})")
            try:
                _write_all(self._file, record)
            except BaseException as error:
                self._failed = error
                self._cut_back()
                raise
            self._whole_bytes += len(record)

    def _cut_back(self) -> None:
        """Drop a partly written record (best effort: a file that cannot be truncated keeps it)."""
        try:
            os.ftruncate(self._file.fileno(), self._whole_bytes)
            self._file.seek(self._whole_bytes)
        except (OSError, ValueError):
            pass

    def flush(self) -> None:
        """Nothing waits in a buffer: every record reached the OS when ``write`` returned."""

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _write_all(file, data: bytes) -> None:
    """``data`` to an unbuffered file, however many ``write`` calls it takes (a write may be partial)."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if written is None:  # non-blocking and not ready: never for a regular file
            continue
        view = view[written:]


# An Event's first fields as TensorBoard's writers and this one serialise them: wall_time
# (field 1, fixed64: tag 0x09 and 8 bytes), then step (field 2, varint: tag 0x10).
_WALL_TIME_TAG, _STEP_TAG, _STEP_OFFSET = 0x09, 0x10, 10


def _event_step(data: bytes) -> int:
    if len(data) > _STEP_OFFSET and data[0] == _WALL_TIME_TAG and data[_STEP_OFFSET - 1] >> 3 > 2:
        return 0  # a later field follows wall_time: step 0, which proto3 leaves out
    if len(data) > _STEP_OFFSET and data[0] == _WALL_TIME_TAG and data[_STEP_OFFSET - 1] == _STEP_TAG:
        step, shift = 0, 0
        for byte in data[_STEP_OFFSET:_STEP_OFFSET + 10]:
            step |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return step
    from tensorboard.compat.proto import event_pb2  # another writer's field order

    return int(event_pb2.Event.FromString(data).step)


def largest_step(logdir) -> int | None:
    """The largest step in ``logdir``'s event files, read up to each file's last whole record;
    None when there are none. Reads each record's step alone, not its summaries."""
    largest = None
    for path in sorted(Path(logdir).glob("events.out.tfevents.*")):
        try:
            for data in read_records(path):
                step = _event_step(data)
                largest = step if largest is None else max(largest, step)
        except (RecordError, OSError):  # a file cut short by a killed run: its whole records count
            continue
    return largest
