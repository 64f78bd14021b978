"""Running the cyclic garbage collector rarely during the hot loops of a run or a detector pass.

Both loops allocate millions of short-lived objects (a simulated frame with its time and label; a
decoded ``Frame``), and at CPython's default threshold (a young collection per 700 allocations) the
collector ran every few hundred frames, each time scanning what the loop still held: 7.7% of a
simulation's time at 10 homes x 24 h (882 young, 80 middle and 7 full collections, 0.88 s of 11.4 s).
These objects form no reference cycles and die by reference count; the few cycles the loops make
(SimPy events, generators) are still collected, later.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_GC_THRESHOLD = 100_000  # container allocations between two young-generation collections

# The threshold is the process's, but blocks may overlap out of order: two shard tasks in the threads
# of one Dask worker, or a simulation generator closed after a later one. The first block in saves the
# process's setting and the last one out restores it.
_lock = threading.Lock()
_open = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections(threshold: int = YOUNG_GC_THRESHOLD) -> Iterator[None]:
    """Raise the young generation's threshold to at least ``threshold`` inside the block; the
    process's own setting is back once the last such block has ended."""
    global _open, _saved
    with _lock:
        if _open == 0:
            _saved = gc.get_threshold()
        _open += 1
        gc.set_threshold(max(threshold, gc.get_threshold()[0]), *_saved[1:])
    try:
        yield
    finally:
        with _lock:
            _open -= 1
            if _open == 0:
                gc.set_threshold(*_saved)
