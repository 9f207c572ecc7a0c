"""The series the GATES routes read, kept between requests while TensorBoard shows them unchanged.

A data provider cannot read one step of a series, only all of it (or the latest
datum): the series read for a step other than the last are kept, up to
``SERIES_CACHE_BYTES`` of tensors, so that the page's requests for the other
steps do not each read the whole series again.
"""

import threading
from collections import OrderedDict

import numpy as np

# For 1,000 logged steps at 128 units a series is 131 MB and 0.6 s per read (docs/performance.md).
SERIES_CACHE_BYTES = 512 * 2**20


class SeriesCache:
    """Every kept datum of the most recently used (run, tag) series, while the series is unchanged.

    A series is identified by its key and its version (its max step and max wall time, from the
    listing every request makes anyway): a run still training gets a new version at each step.
    Least recently used series go first once the tensors pass ``max_bytes``; concurrent requests
    for one series wait for one read.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries = OrderedDict()  # key -> (version, data, bytes)
        self._loading = {}  # key -> the lock held while that series is read
        self._bytes = 0

    def _hit(self, key, version):
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def peek(self, key, version):
        """The cached data of ``key`` at ``version``, or None (nothing is read)."""
        with self._lock:
            return self._hit(key, version)

    def get(self, key, version, read):
        """The cached data of ``key`` at ``version``, else ``read()``'s, kept for the next request."""
        with self._lock:
            data = self._hit(key, version)
            if data is not None:
                return data
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                data = self._hit(key, version)
                if data is not None:
                    return data
            data = read()
            size = sum(np.asarray(datum.numpy).nbytes for datum in data)
            with self._lock:
                old = self._entries.pop(key, None)
                if old is not None:
                    self._bytes -= old[2]
                if size <= self.max_bytes:
                    self._entries[key] = (version, data, size)
                    self._bytes += size
                    while self._bytes > self.max_bytes:
                        _, (_, _, dropped) = self._entries.popitem(last=False)
                        self._bytes -= dropped
                self._loading.pop(key, None)
            return data
