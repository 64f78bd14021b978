"""Frames encoded as pcapng blocks in worker processes, and their merge into one capture.

Why: with several workers the parent must put every frame of every shard into one file, in capture
order, while the workers keep both cores busy. So workers encode their frames as Enhanced Packet
Blocks themselves, and the parent only decides the order and moves bytes. Frames come in runs (a
sweep, a TCP session, one household's burst: about 30 frames on average in the ``gozen-2021``
scenario), so the merge works run by run: the part with the earliest next frame gives all its frames
up to the next frame of any other part, found by bisection. With a process pool the parent only
``place``s the runs and each worker writes its own blocks into the capture (``write_placed``); blocks in
a shard's part file (Dask) are copied into the capture by the kernel (``os.copy_file_range``).
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush
from typing import BinaryIO

Run = tuple[int, int, int]  # (part index, first frame, frame after the last)


@dataclass(slots=True)
class EncodedFrames:
    """One part's frames as Enhanced Packet Blocks, in capture order.

    ``times[i]`` is frame ``i``'s capture time and ``ends[i]`` the offset just past its block. The blocks
    are ``blob`` where they were encoded, and the bytes of the file ``path`` from ``offset`` on once they
    are in a shard's part file. ``times`` and ``ends`` alone are what the parent needs to place them.
    """

    times: array = field(default_factory=lambda: array("q"))
    ends: array = field(default_factory=lambda: array("Q"))
    blob: bytes = b""
    path: str | None = None
    offset: int = 0

    @classmethod
    def from_raw(cls, raw: tuple[bytes, bytes, bytes]) -> EncodedFrames:
        """From ``(times, ends, blob)`` as the compiled loops return them (native int64s and uint64s)."""
        times, ends = array("q"), array("Q")
        times.frombytes(raw[0])
        ends.frombytes(raw[1])
        return cls(times, ends, raw[2])

    def __len__(self) -> int:
        return len(self.times)

    def span(self, first: int, stop: int) -> tuple[int, int]:
        """Byte range ``(start, length)`` of frames ``first`` to ``stop - 1``, relative to the blocks."""
        start = self.ends[first - 1] if first else 0
        return start, self.ends[stop - 1] - start


def merge_runs(parts: list[EncodedFrames]) -> list[Run]:
    """The runs that put ``parts`` in capture order; equal times keep the order of ``parts``."""
    heap = [(p.times[0], k, 0) for k, p in enumerate(parts) if len(p)]
    heapify(heap)
    runs: list[Run] = []
    while heap:
        _, k, i = heappop(heap)
        times = parts[k].times
        if heap:
            t_next, k_next, _ = heap[0]
            # On a tie the lower part index goes first, as in a stable sort of the concatenation.
            j = (bisect_right if k < k_next else bisect_left)(times, t_next, i)
        else:
            j = len(times)
        runs.append((k, i, j))
        if j < len(times):
            heappush(heap, (times[j], k, j))
    return runs


def place(parts: list[EncodedFrames], offset: int) -> tuple[list[list[tuple[int, int, int]]], int]:
    """Where ``parts``, merged by capture time, go in a file whose next free byte is ``offset``.

    Returns, per part, its runs as ``(start in the part's blocks, length, offset in the file)``, and the
    file's new end. The parts' owners then write their own bytes there (``write_placed``).
    """
    placements: list[list[tuple[int, int, int]]] = [[] for _ in parts]
    for k, i, j in merge_runs(parts):
        start, length = parts[k].span(i, j)
        placements[k].append((start, length, offset))
        offset += length
    return placements, offset


def write_placed(fd: int, blob: bytes, placement: list[tuple[int, int, int]]) -> None:
    """Write the runs of ``blob`` where ``place`` put them, in the file open on ``fd``."""
    view = memoryview(blob)
    for start, length, offset in placement:
        while length:
            done = os.pwrite(fd, view[start:start + length], offset)
            start, length, offset = start + done, length - done, offset + done


def _copy(src: int, dst: int, offset: int, length: int) -> None:
    """Copy ``length`` bytes at ``offset`` of ``src`` to the end of ``dst``, inside the kernel if it can."""
    while length:
        try:
            done = os.copy_file_range(src, dst, length, offset)
        except (AttributeError, OSError):  # not Linux, or not across these file systems: read and write
            done = os.write(dst, os.pread(src, min(length, 1 << 20), offset))
        if done == 0:
            raise OSError(f"unexpected end of an encoded frames part at byte {offset}")
        offset += done
        length -= done


def write_merged(parts: list[EncodedFrames], out: BinaryIO) -> int:
    """Append ``parts`` (in their part files), merged by capture time, to the real file ``out``.

    ``out`` must be flushed by the caller: the bytes go straight to its descriptor. Returns their count.
    """
    fds: dict[int, int] = {}
    written = 0
    try:
        for k, i, j in merge_runs(parts):
            part = parts[k]
            if part.path is None:
                raise ValueError("write_merged copies from part files; these blocks have no file")
            if k not in fds:
                fds[k] = os.open(part.path, os.O_RDONLY)
            start, length = part.span(i, j)
            _copy(fds[k], out.fileno(), part.offset + start, length)
            written += length
        if fds:
            out.seek(0, os.SEEK_END)  # the buffered writer learns where the copies left the file
    finally:
        for fd in fds.values():
            os.close(fd)
    return written
