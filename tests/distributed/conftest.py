"""A real Dask LocalCluster (scheduler and two nanny-managed worker processes on loopback)."""

from __future__ import annotations

import pytest
from dask.distributed import LocalCluster


@pytest.fixture(scope="module")
def dask_cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster
