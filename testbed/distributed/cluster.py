"""Where work runs: a Dask cluster (remote scheduler or LocalCluster) or a plain local process pool.

Both are handed back as an *executor* with ``submit(fn, *args) -> future``; Dask's futures and
``concurrent.futures``' share ``result()``, and ``as_completed`` below accepts either, so the sharded
run and the sweep are written once.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from testbed.errors import RunError


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """Where to run: ``scheduler`` (``tcp://host:8786``) or ``local_workers`` (a LocalCluster of N)."""

    scheduler: str | None = None
    local_workers: int | None = None

    def __post_init__(self) -> None:
        if self.scheduler and self.local_workers:
            raise RunError("give either --scheduler or --dask-local, not both")
        if self.local_workers is not None and self.local_workers < 1:
            raise RunError(f"--dask-local must be >= 1, got {self.local_workers}")

    @property
    def uses_dask(self) -> bool:
        """True when a Dask cluster (remote or local) is asked for."""
        return bool(self.scheduler or self.local_workers)


def is_dask(executor: Any) -> bool:
    """True for a ``dask.distributed.Client``."""
    return type(executor).__name__ == "Client" and hasattr(executor, "scheduler_info")


def slots(executor: Any) -> int:
    """How many tasks the executor runs at once (Dask: total worker threads)."""
    if is_dask(executor):
        return max(1, sum(executor.nthreads().values()))
    return max(1, getattr(executor, "_max_workers", 1))


@contextmanager
def open_executor(spec: ClusterSpec, workers: int = 1) -> Iterator[Any]:
    """A Dask ``Client`` for ``spec``, or (no Dask asked for) a spawn-based process pool of ``workers``."""
    if not spec.uses_dask:
        # spawn, as the engine's own workers: no fork of a parent holding SQLite connections or threads.
        with cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context("spawn")) as pool:
            yield pool
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a dependency; this names the fix if it is missing
        raise RunError("Dask is not installed: pip install 'dask[distributed]'") from None
    if spec.scheduler:
        try:
            client = Client(spec.scheduler, timeout="20s")
        except OSError as exc:
            raise RunError(f"cannot reach the Dask scheduler at {spec.scheduler}: {exc}") from None
        with client:
            yield client
        return
    # Loopback only: a LocalCluster is for one machine, and its dashboard must not face the network.
    with LocalCluster(n_workers=spec.local_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        yield client


def as_completed(futures: Iterable[Any], executor: Any) -> Iterator[Any]:
    """Futures in the order they finish, for a Dask client or a ``concurrent.futures`` pool."""
    if is_dask(executor):
        from dask.distributed import as_completed as dask_as_completed

        yield from dask_as_completed(list(futures))
    else:
        yield from cf.as_completed(list(futures))


def submit(executor: Any, fn: Any, *args: Any, key: str | None = None) -> Any:
    """Submit ``fn(*args)``; on Dask as an impure task (never deduplicated), named ``key`` if given."""
    if is_dask(executor):
        return executor.submit(fn, *args, pure=False, key=key) if key else executor.submit(fn, *args, pure=False)
    return executor.submit(fn, *args)


def cancel(futures: Iterable[Any]) -> None:
    """Cancel futures that have not finished (after a failure that ends the job)."""
    for f in futures:
        f.cancel()


def wait_first(futures: Iterable[Any], executor: Any) -> tuple[set[Any], set[Any]]:
    """Block until at least one of ``futures`` is done; returns (done, not done)."""
    if is_dask(executor):
        from dask.distributed import wait

        res = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(res.done), set(res.not_done)
    done, not_done = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
    return set(done), set(not_done)
