"""One household shard as a task: simulate a contiguous range of homes into part files.

This is the function a Dask worker (or a pool process) runs. It writes, under the run's parts
directory (a shared path on a multi-machine cluster):

- ``shard-NNNN.chunks``: the shard's window chunks (``chunk_parts``), frames included unless the
  capture is split;
- ``shard-NNNN.collector.sqlite``: the uploads this shard's collector app stored (``collector_parts``);
- with a split capture, ``capture/part-NNNN.pcapng`` in the run directory itself.

Every file is written under a temporary name and renamed when the shard is complete, so a worker
killed mid-shard leaves nothing the parent could mistake for a result, and Dask's rerun of the task
simply writes them again.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector_mock import close_connections
from testbed.distributed.atomic import atomic_target
from testbed.distributed.capture_parts import part_name
from testbed.distributed.chunk_parts import ChunkWriter
from testbed.packets import PcapngWriter
from testbed.population.model import Household
from testbed.rundir import seal_sqlite, sha256_file
from testbed.scenario.model import Scenario
from testbed.sim.engine import collector_transport, shard_chunks

CAPTURE_INTERFACES = [("lan", 1)]  # as testbed.run writes capture.pcapng: parts must share its header


@dataclass(frozen=True, slots=True)
class ShardTask:
    """What one shard needs: small enough to ship to a worker with every attempt."""

    index: int
    scenario: Scenario
    households: list[Household]
    window_us: int
    parts_dir: str
    capture_dir: str | None = None  # set for a split capture


@dataclass(slots=True)
class ShardResult:
    """What a finished shard wrote, and how long it took on its worker."""

    index: int
    chunk_part: str
    collector_part: str
    chunks: int = 0
    frames: int = 0
    capture_part: dict[str, Any] | None = None  # its entry in capture/index.json
    seconds: float = 0.0  # the task's own run time, to tell the scheduler's overhead apart
    extra: dict[str, Any] = field(default_factory=dict)


def chunk_part_path(parts_dir: Path, index: int) -> Path:
    """Where shard ``index`` writes its chunks."""
    return parts_dir / f"shard-{index:04d}.chunks"


def run_shard(task: ShardTask) -> ShardResult:
    """Simulate ``task.households`` and write the shard's parts; returns where they are."""
    started = time.perf_counter()
    parts = Path(task.parts_dir)
    chunk_path = chunk_part_path(parts, task.index)
    db_path = parts / f"shard-{task.index:04d}.collector.sqlite"
    result = ShardResult(task.index, str(chunk_path), str(db_path))
    capture_path = Path(task.capture_dir) / part_name(task.index) if task.capture_dir else None
    first_ts = last_ts = None
    with atomic_target(db_path) as tmp_db, atomic_target(chunk_path) as tmp_chunks, ExitStack() as stack:
        transport = collector_transport(tmp_db)
        assert transport is not None
        stack.callback(close_connections, transport.app)
        chunks = ChunkWriter(stack.enter_context(open(tmp_chunks, "wb")))
        pcap = None
        if capture_path is not None:
            pcap = stack.enter_context(PcapngWriter(str(stack.enter_context(atomic_target(capture_path))),
                                                    CAPTURE_INTERFACES))
        for chunk in shard_chunks(task.scenario, task.households, transport, task.window_us):
            result.frames += chunk.frame_count
            if pcap is not None:
                frames = chunk.merged()
                if len(frames):
                    first_ts = frames.times[0] if first_ts is None else first_ts
                    last_ts = frames.times[-1]
                pcap.write_blocks(frames)
                chunk.parts = []  # the frames are in the capture part; the parent merges truth only
                chunks.write(chunk)
            else:
                chunks.write(chunk, chunk.take_frames())  # blocks apart: the parent copies, not unpickles
        result.chunks = chunks.chunks
        stack.close()  # files and connections closed (capture part renamed) before the database is folded
        seal_sqlite(tmp_db)
    if capture_path is not None:
        result.capture_part = {
            "file": capture_path.name,
            "households": [h.id for h in task.households],
            "frames": result.frames,
            "first_ts": None if first_ts is None else first_ts / 1e6,
            "last_ts": None if last_ts is None else last_ts / 1e6,
            "bytes": capture_path.stat().st_size,
            "sha256": sha256_file(capture_path),
        }
    result.seconds = time.perf_counter() - started
    return result

