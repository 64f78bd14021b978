"""A household's frames not yet handed over, kept as pcapng blocks, and the merge of households' blocks.

Why: a window holds thousands of frames per household. Kept as ``(time, frame, label)`` tuples until the
window closed, they were sorted, merged across homes, encoded and freed again long after they were made,
about a quarter of a run (measured: a run whose steps kept no frames took 27-28 s instead of 38 s). The
compiled ``FrameLog`` (``_speedups.c``) encodes each step's frames as blocks at once, so no Python object
per frame outlives its step; ``take_merged`` hands a window's blocks of every household over in capture
order, and ``merge_encoded`` merges blocks already taken. ``PyFrameLog`` and the Python branches of both
are their pure-Python twins (used where the extension was not built): the same bytes.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from operator import itemgetter
from typing import Protocol

from . import speedups
from .encoded_frames import EncodedFrames, merge_runs
from .pcapng import EpbEncoder

_by_time = itemgetter(0)


class FrameLogLike(Protocol):
    """What ``HouseholdSim`` needs of a frame log (the compiled one or ``PyFrameLog``)."""

    def add(self, frames: list[tuple[int, bytes]], label: str | None) -> None: ...
    def add_spaced(self, t0_us: int, gap_us: int, frames: list[bytes], label: str | None) -> None: ...
    def take(self, until_us: int, final: bool) -> tuple[bytes, bytes, bytes]: ...
    def __len__(self) -> int: ...


class PyFrameLog:
    """The pure-Python frame log: the same blocks as the compiled ``FrameLog``."""

    def __init__(self) -> None:
        self._pending: list[tuple[int, bytes, str | None]] = []
        self._encoder = EpbEncoder()

    def add(self, frames: list[tuple[int, bytes]], label: str | None) -> None:
        """A step's ``(ts_us, frame)`` pairs, to be labelled ``label``."""
        self._pending.extend([(ts, frame, label) for ts, frame in frames])

    def add_spaced(self, t0_us: int, gap_us: int, frames: list[bytes], label: str | None) -> None:
        """``frames`` captured at ``t0_us``, ``t0_us + gap_us``..., added as ``add`` adds pairs."""
        if t0_us < 0 or gap_us < 0:
            raise ValueError(f"add_spaced: times are never negative, got t0 {t0_us} and gap {gap_us}")
        self.add([(t0_us + k * gap_us, frame) for k, frame in enumerate(frames)], label)

    def take(self, until_us: int, final: bool) -> tuple[bytes, bytes, bytes]:
        """The frames before ``until_us`` (all if ``final``) as ``(times, ends, blob)``, in capture order."""
        ready, self._pending = split_ready(self._pending, until_us, final)
        frames = self._encoder.encode_python(ready)
        return frames.times.tobytes(), frames.ends.tobytes(), frames.blob

    def __len__(self) -> int:
        return len(self._pending)


def split_ready(pending: list[tuple], until_us: int, final: bool) -> tuple[list[tuple], list[tuple]]:
    """``pending`` items (time first) sorted by time, stably (items of one time keep the order they were
    added in), and cut into those before ``until_us`` (all if ``final``) and the rest."""
    pending.sort(key=_by_time)
    if final:
        return pending, []
    cut = bisect_left(pending, until_us, key=_by_time)
    return pending[:cut], pending[cut:]


def new_frame_log() -> FrameLogLike:
    """The compiled frame log where the extension was built, else ``PyFrameLog``."""
    native = speedups.native
    return native.FrameLog() if native is not None else PyFrameLog()


def take_merged(logs: list[FrameLogLike], until_us: int, final: bool) -> EncodedFrames:
    """What ``take`` gives of each log, merged by capture time (ties in the order of ``logs``).

    The compiled logs are merged straight from their buffers into the output: one copy of each block,
    where taking each log's frames out and then merging them made two.
    """
    native = speedups.native
    if native is not None and all(type(log) is native.FrameLog for log in logs):
        return EncodedFrames.from_raw(native.take_merged(logs, until_us, final))
    return merge_encoded([EncodedFrames.from_raw(log.take(until_us, final)) for log in logs])


class Staging(Protocol):
    """Where ``take_merged_into`` puts blocks: a ``DirectFile``'s staging buffers (or its ``write``)."""

    def staging(self) -> memoryview: ...
    def staged(self, n: int) -> None: ...
    def write(self, data: bytes) -> int: ...


def take_merged_into(logs: list[FrameLogLike], until_us: int, final: bool, sink: Staging) -> tuple[int, int]:
    """What ``take_merged`` gives, put straight into ``sink``'s buffers; returns (frames, bytes).

    The compiled logs' blocks are copied once, from their buffers into the sink's: a window's blocks are
    not gathered in memory first (measured at 1000 household-hours: that copy took 3% of a run).
    """
    native = speedups.native
    if native is not None and all(type(log) is native.FrameLog for log in logs):
        return native.take_merged_into(logs, until_us, final, sink)
    frames = take_merged(logs, until_us, final)
    sink.write(frames.blob)
    return len(frames), len(frames.blob)


def merge_encoded(parts: list[EncodedFrames]) -> EncodedFrames:
    """``parts`` (blocks in memory, each in capture order) merged by capture time; ties in part order."""
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return parts[0] if parts else EncodedFrames()
    native = speedups.native
    if native is not None:
        return EncodedFrames.from_raw(native.merge_encoded([(p.times, p.ends, p.blob) for p in parts]))
    times, ends, pieces, offset = array("q"), array("Q"), [], 0
    for k, i, j in merge_runs(parts):
        part = parts[k]
        start, length = part.span(i, j)
        pieces.append(memoryview(part.blob)[start:start + length])
        times.extend(part.times[i:j])
        ends.extend(end - start + offset for end in part.ends[i:j])
        offset += length
    return EncodedFrames(times, ends, b"".join(pieces))
