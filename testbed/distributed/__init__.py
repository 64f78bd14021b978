"""Scaling out: household shards on a Dask cluster (or a local process pool), merged into one run.

Public surface::

    ClusterSpec(scheduler=, local_workers=)   where shards run: a Dask scheduler address, a LocalCluster
                                              of N processes on 127.0.0.1, or (neither) a process pool
    open_executor(spec, workers)              context manager: a Dask ``Client`` or a process pool
    simulate_sharded(...)                     the run's chunks in capture order, from shard part files
    reassemble_capture(capture_dir, out)      one capture.pcapng from a split capture (``--split-capture``)

Errors are ``testbed.errors.RunError``.
"""

from testbed.distributed.capture_parts import read_index, reassemble_capture
from testbed.distributed.cluster import ClusterSpec, open_executor
from testbed.distributed.sharded_run import simulate_sharded

__all__ = ["ClusterSpec", "open_executor", "read_index", "reassemble_capture", "simulate_sharded"]
