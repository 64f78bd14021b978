"""A run whose household shards execute as tasks (Dask or a process pool) and meet again on disk.

Why part files rather than futures carrying chunks: a SimPy shard cannot be paused and resumed in
another task, so a shard is one long task; if it returned its chunks, its whole output would sit in
worker memory and then in the scheduler's. Written to a part file one window at a time, a shard holds
one window; the parent then reads window ``k`` of every part and merges it with the engine's own
``merge_chunks``, the very merge the process-pool path uses, so the output is the same bytes as
``--workers 1``. A killed worker costs one shard, which Dask reruns; parts are renamed into place only
when complete, so a rerun never meets half a part.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

from testbed.distributed.capture_parts import write_index
from testbed.distributed.chunk_parts import read_chunks
from testbed.distributed.cluster import as_completed, cancel, slots, submit
from testbed.distributed.collector_parts import merge_collector_parts
from testbed.distributed.shard import ShardResult, ShardTask, run_shard
from testbed.errors import RunError
from testbed.population.model import Household
from testbed.scenario.model import Scenario
from testbed.sim.engine import merge_chunks, split, window_us
from testbed.sim.household import Chunk

ShardDone = Callable[[ShardResult, int], None]  # (result, shards in all), e.g. for a progress bar


def run_shards(scenario: Scenario, households: list[Household], executor: Any, parts_dir: Path,
               capture_dir: Path | None = None, shards: int | None = None,
               on_done: ShardDone | None = None) -> list[ShardResult]:
    """Run every shard as a task; returns their results in shard (household) order."""
    window = window_us(scenario, len(households))
    groups = split(households, shards or slots(executor))
    parts_dir.mkdir(parents=True, exist_ok=True)
    if capture_dir is not None:
        capture_dir.mkdir(parents=True, exist_ok=True)
    tasks = [ShardTask(i, scenario, g, window, str(parts_dir), str(capture_dir) if capture_dir else None)
             for i, g in enumerate(groups)]
    futures = [submit(executor, run_shard, t) for t in tasks]
    results: list[ShardResult | None] = [None] * len(tasks)
    try:
        for fut in as_completed(futures, executor):
            try:
                res = fut.result()
            except Exception as exc:
                i = futures.index(fut)
                homes = tasks[i].households
                raise RunError(f"shard {i} (households {homes[0].id}..{homes[-1].id}) failed: "
                               f"{type(exc).__name__}: {exc}") from exc
            results[res.index] = res
            if on_done:
                on_done(res, len(tasks))
    except BaseException:
        cancel(futures)
        raise
    return [r for r in results if r is not None]


def simulate_sharded(scenario: Scenario, households: list[Household], collector_db: Path | None,
                     executor: Any, parts_dir: Path, capture_dir: Path | None = None,
                     shards: int | None = None, on_done: ShardDone | None = None) -> Iterator[Chunk]:
    """Yield the run's chunks in capture order, from shards run on ``executor``.

    Afterwards (when the iterator is exhausted) the shards' collector parts are merged into
    ``collector_db``, a split capture gets its ``index.json``, and ``parts_dir`` is removed.
    With ``capture_dir`` (a split capture) the chunks carry no frames: those are in the parts.
    """
    results = run_shards(scenario, households, executor, parts_dir, capture_dir, shards, on_done)
    with ExitStack() as stack:
        readers = [stack.enter_context(closing(read_chunks(Path(r.chunk_part)))) for r in results]
        for parts in zip(*readers, strict=True):
            merged = merge_chunks(list(parts))
            merged.cycles = sum(p.cycles for p in parts)
            yield merged
    if collector_db is not None:
        merge_collector_parts(collector_db, [Path(r.collector_part) for r in results])
    if capture_dir is not None:
        write_index(capture_dir, [r.capture_part for r in results if r.capture_part is not None])
    shutil.rmtree(parts_dir, ignore_errors=True)

