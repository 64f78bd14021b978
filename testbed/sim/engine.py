"""The simulation backend: households in shards, windows merged by capture time, streamed out.

With ``workers=1`` everything runs in this process. With more, each worker process runs a
contiguous range of households and sends its window chunks through a bounded queue: truth rows, and
its frames' times and block offsets only. The parent merges chunk ``k`` of every shard, places the
frames' runs in the capture, and each worker writes its own blocks there. Because shards are
contiguous and every merge is stable on capture time, ties resolve by household index then step
order either way, so the output is the same bytes whatever the number of workers.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import pickle
import queue
from collections import deque
from collections.abc import Callable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

from testbed.errors import RunError
from testbed.gc_threshold import fewer_collections
from testbed.packets.encoded_frames import write_placed
from testbed.packets.frame_log import merge_encoded
from testbed.packets.pcapng import PcapngWriter
from testbed.population.model import Household
from testbed.scenario.model import Scenario
from testbed.sdk import Transport, WsgiTransport
from testbed.sim.household import Chunk, HouseholdSim, take_frames
from testbed.truth import CommunityIds
from testbed.truth.flow_log import take_flow_lines

_start = itemgetter("start")
TARGET_FRAMES_PER_WINDOW = 40_000  # bounds memory: a window holds all households' frames at once
PEAK_FRAMES_PER_HOUSEHOLD_HOUR = 40_000  # an evening of streaming, well above the daily mean


def window_us(scenario: Scenario, households: int) -> int:
    """Window length: short enough that one window of every household fits comfortably in memory.

    Sized for the busiest hour (evening streaming), not the mean, so that the high-water mark of a
    run does not depend on its duration.
    """
    seconds = TARGET_FRAMES_PER_WINDOW / max(1, households) / PEAK_FRAMES_PER_HOUSEHOLD_HOUR * 3600
    return int(max(5.0, min(120.0, seconds)) * 1_000_000)


def _heap_trimmer() -> Callable[[int], object]:
    """``malloc_trim(0)`` where glibc has it, else a no-op.

    Frames above 512 bytes live in malloc'd blocks; freed window after window they fragment glibc's
    heap, and without a trim the RSS creeps up with the simulated duration (measured: 150 MB -> 700 MB
    over a 1000 household-hour run) although no Python object outlives its window.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc.malloc_trim if hasattr(libc, "malloc_trim") else (lambda pad: None)
    except OSError:
        return lambda pad: None


TRIM_EVERY = 32  # windows between two heap trims (a trim costs ~1 ms)


def merge_chunks(parts: list[Chunk]) -> Chunk:
    """One chunk from several, in order: stable sorts keep ties in the order of ``parts``."""
    if len(parts) == 1:
        return parts[0]
    out = Chunk(cycles=sum(p.cycles for p in parts), until_us=parts[0].until_us)
    for part in parts:
        out.parts += part.parts  # merged by capture time when written (``Chunk.merged``)
        out.events += part.events
    if any(p.encoded is not None for p in parts):
        out.encoded = [e for p in parts for e in p.encoded or ()]  # the writer merges them by time
    out.events.sort(key=_start)
    out.flows = merge_encoded([p.flows for p in parts])  # by first time; ties in the order of ``parts``
    return out


class CollectorTransport(WsgiTransport):
    """The in-process WSGI transport into the run's collector, which commits the reports it answered when
    told to (``commit``): the engine does at the end of each window, before writing the window out."""

    def commit(self) -> None:
        """Commit the reports answered since the last call (``collector_mock.commit_deferred``)."""
        from collector_mock import commit_deferred

        commit_deferred(self.app)


def collector_transport(collector_db: Path | None) -> CollectorTransport | None:
    """The in-process WSGI transport into a collector app on ``collector_db``.

    SQLite never waits for the disk (``SYNCHRONOUS=OFF``): the database is in a run directory that is
    renamed into place only once the run is complete, and sealed (checkpointed) then, so a crash loses
    nothing a finished run would keep. Waiting for the WAL's syncs cost about 40 us per upload. The
    reports are committed a window at a time, in one transaction (``DEFER_COMMITS``, see
    ``collector_mock.deferred_commit``), before the window's answers are written to the capture.
    """
    if collector_db is None:
        return None
    from collector_mock import create_app

    return CollectorTransport(
        create_app({"DATABASE": str(collector_db), "SYNCHRONOUS": "OFF", "DEFER_COMMITS": True})
    )


def shard_chunks(scenario: Scenario, households: list[Household], transport: Transport | None,
                 window: int, capture: PcapngWriter | None = None) -> Iterator[Chunk]:
    """Run ``households`` together, yielding one merged chunk per window until the scenario ends.

    With ``capture``, each window's frames are written there before its chunk is yielded, and the
    chunks carry none.
    """
    with fewer_collections():
        yield from _shard_windows(scenario, households, transport, window, capture)


def _shard_windows(scenario: Scenario, households: list[Household], transport: Transport | None,
                   window: int, capture: PcapngWriter | None = None) -> Iterator[Chunk]:
    cids = CommunityIds()
    sims = [HouseholdSim(scenario, h, transport, cids) for h in households]
    commit = transport.commit if isinstance(transport, CollectorTransport) else None
    trim = _heap_trimmer()
    windows = 0
    start = round(scenario.start_ts * 1_000_000)
    end = start + round(scenario.duration * 1_000_000)
    t = start
    while True:
        t = min(t + window, end)
        final = t >= end
        chunk = merge_chunks([s.advance(t, final) for s in sims])
        if commit is not None:  # the window's answers go out (capture, truth) only once their reports are in
            commit()
        chunk.flows = take_flow_lines([s.flow_log for s in sims])
        if capture is not None:
            capture.write_logs([s.log for s in sims], t, final)
        else:
            chunk.parts = [take_frames(sims, t, final)]
        chunk.cycles = sum(s.cycles for s in sims)
        chunk.until_us = t
        yield chunk
        windows += 1
        if windows % TRIM_EVERY == 0:
            trim(0)
        if final:
            return


MAX_AHEAD_WINDOWS = 32  # windows a worker may run ahead of the slowest one (see ``_worker``)
MAX_AHEAD_BYTES = 64 << 20  # and the bound on the encoded frames it holds meanwhile


def _worker(scenario: Scenario, households: list[Household], collector_db: str | None, window: int,
            chunks: mp.Queue, placements: mp.Queue, capture_path: str) -> None:
    try:
        transport = collector_transport(Path(collector_db) if collector_db else None)
        fd = os.open(capture_path, os.O_WRONLY)
        try:
            # Each window's frames are encoded here; the queue carries only their times and offsets. The
            # parent places the merged runs in the capture and says where; this worker writes its own bytes
            # there, so frames are copied once, as in one process, and never pass through a pipe.
            # A window is placed only once every worker has sent it, and households differ in how busy
            # each window is: so a worker keeps simulating, up to a bound, instead of waiting for the
            # slowest one, and writes its blocks as their places arrive (measured at 20 homes: the lock-
            # step version waited 10% of its time).
            waiting: deque[bytes] = deque()  # sent, not yet placed, oldest first
            held = written = 0
            for chunk in shard_chunks(scenario, households, transport, window):
                blob = chunk.take_frames()
                chunks.put(pickle.dumps((written, chunk), protocol=pickle.HIGHEST_PROTOCOL))
                waiting.append(blob)
                held += len(blob)
                while waiting:
                    if len(waiting) > MAX_AHEAD_WINDOWS or held > MAX_AHEAD_BYTES:
                        placement = placements.get()
                    else:
                        try:
                            placement = placements.get_nowait()
                        except queue.Empty:
                            break
                    done = waiting.popleft()
                    write_placed(fd, done, placement)
                    held -= len(done)
                    written += 1
            while waiting:
                write_placed(fd, waiting.popleft(), placements.get())
        finally:
            os.close(fd)
        chunks.put(None)  # only now: the parent's capture is complete once every worker has said so
    except BaseException as exc:  # the parent reports it; a worker must never die silently
        chunks.put(pickle.dumps(RunError(f"worker failed: {type(exc).__name__}: {exc}")))


def _receive(q: mp.Queue, proc: mp.Process) -> bytes | None:
    """The worker's next message; a worker that died without a word is an error, never a hang."""
    while True:
        try:
            return q.get(timeout=1.0)
        except queue.Empty:
            if not proc.is_alive():
                try:
                    return q.get(timeout=1.0)  # it may have said its last word just before exiting
                except queue.Empty:
                    raise RunError(f"a simulation worker exited (code {proc.exitcode}) before finishing") from None


def split(households: list[Household], workers: int) -> list[list[Household]]:
    """Contiguous, balanced ranges of households (contiguity keeps the merge order exact)."""
    n = max(1, min(workers, len(households)))
    size, extra = divmod(len(households), n)
    parts, i = [], 0
    for k in range(n):
        j = i + size + (1 if k < extra else 0)
        parts.append(households[i:j])
        i = j
    return parts


def simulate(scenario: Scenario, households: list[Household], collector_db: Path | None,
             workers: int = 1, transport: Transport | None = None, *, executor: Any = None,
             parts_dir: Path | None = None, capture_dir: Path | None = None,
             capture: PcapngWriter | None = None) -> Iterator[Chunk]:
    """Yield the run's chunks in capture order (``chunk.until_us`` tells how far the run got).

    In one process the SDK uploads through ``transport`` (default: a collector app on
    ``collector_db``), and the frames go straight into ``capture`` when given. Worker processes each
    open their own collector app on the same database, and write their frames straight into the file
    of ``capture`` (a writer on a real file), where the writer reserves room for them. Either way the
    chunks then carry no frames.
    With ``executor`` (a Dask client or a process pool, see ``testbed.distributed``) the shards run
    as tasks writing part files under ``parts_dir`` (a split capture's parts into ``capture_dir``).
    """
    if executor is not None:
        from testbed.distributed.sharded_run import simulate_sharded  # Dask is only imported when asked for

        if parts_dir is None:
            raise RunError("a sharded run needs a directory for its parts")
        yield from simulate_sharded(scenario, households, collector_db, executor, parts_dir, capture_dir)
        return
    window = window_us(scenario, len(households))
    shards = split(households, workers)
    if len(shards) == 1:
        transport = transport or collector_transport(collector_db)
        yield from shard_chunks(scenario, households, transport, window, capture)
        return
    if capture is None:
        raise RunError("a run with several workers needs the capture's writer")
    writer = capture
    writer.flush()  # the header first: the workers write after it
    ctx = mp.get_context("spawn")
    queues = [ctx.Queue(maxsize=MAX_AHEAD_WINDOWS + 2) for _ in shards]
    placements = [ctx.Queue() for _ in shards]
    procs = [ctx.Process(target=_worker, args=(scenario, part, str(collector_db) if collector_db else None,
                                               window, q, pq, writer.path), daemon=True)
             for part, q, pq in zip(shards, queues, placements, strict=True)]
    for p in procs:
        p.start()
    ends: list[int] = []  # the capture's end after each window placed so far
    written = [0] * len(procs)  # windows each worker has written into the capture
    try:
        while True:
            parts = []
            for k, (q, proc) in enumerate(zip(queues, procs, strict=True)):
                item = _receive(q, proc)
                if item is None:
                    # Every shard has the same windows, so all end together; the capture is whole only
                    # once each worker has written its last blocks and said so.
                    disagree = RunError("simulation workers disagree on the number of windows")
                    if k:
                        raise disagree
                    for q2, proc2 in zip(queues[1:], procs[1:], strict=True):
                        if (last := _receive(q2, proc2)) is not None:  # an error in its last writes, or more
                            obj = pickle.loads(last)
                            raise obj if isinstance(obj, RunError) else disagree
                    return
                obj = pickle.loads(item)
                if isinstance(obj, RunError):
                    raise obj
                written[k], chunk = obj
                parts.append(chunk)
            if min(written):
                # Hash what every worker has written while they run, rather than reading the whole
                # capture back at the end.
                writer.hash_through(ends[min(written) - 1])
            merged = merge_chunks(parts)
            merged.cycles = sum(p.cycles for p in parts)
            for pq, placement in zip(placements, writer.reserve(merged.encoded or []), strict=True):
                pq.put(placement)
            ends.append(writer.bytes_written)
            merged.encoded = None  # the workers write these frames; the writer has counted them
            yield merged
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
