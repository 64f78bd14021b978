"""Sharded runs on Dask: the same bytes as one process, a split capture that reassembles exactly,
and a collector database that does not depend on the number of shards."""

from __future__ import annotations

import json
import sqlite3

import pytest

from testbed.distributed import ClusterSpec, read_index, reassemble_capture
from testbed.run import run_scenario
from testbed.rundir import sha256_file
from tests.helpers import small

DETERMINISTIC = ["capture.pcapng", "truth/events.jsonl", "truth/flows.csv", "population.json"]
TRUTH = DETERMINISTIC[1:]


def _rows(db, table, order):
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def dask_run(dask_cluster, tmp_path_factory):
    """gozen-2021, 3 homes, 2 hours, shards on the cluster through its scheduler address (--scheduler)."""
    out = tmp_path_factory.mktemp("dask") / "run"
    run_scenario(small(), out, cluster=ClusterSpec(scheduler=dask_cluster.scheduler_address))
    return out


@pytest.mark.slow
def test_sharded_run_is_byte_identical_to_one_process(dask_run, gozen_run):
    for name in DETERMINISTIC:
        assert sha256_file(dask_run / name) == sha256_file(gozen_run / name), name
    manifest = json.loads((dask_run / "manifest.json").read_text())
    assert not any(k.startswith(".parts") for k in manifest["artifacts"])  # the parts are gone
    assert not list(dask_run.parent.glob(".*partial*"))


@pytest.mark.slow
def test_split_capture_reassembles_to_the_same_bytes(tmp_path, gozen_run, dask_run):
    # No Dask here: --split-capture with --workers 3 runs the same shard tasks on a process pool.
    out = tmp_path / "split"
    summary = run_scenario(small(), out, workers=3, split_capture=True)
    assert not (out / "capture.pcapng").exists()
    index = read_index(out / "capture")
    assert [p["file"] for p in index["parts"]] == ["part-0000.pcapng", "part-0001.pcapng", "part-0002.pcapng"]
    manifest = json.loads((out / "manifest.json").read_text())
    for part in index["parts"]:
        assert manifest["artifacts"][f"capture/{part['file']}"]["sha256"] == part["sha256"]
    assert index["frames"] == summary.frames == manifest["counts"]["frames"]
    merged = tmp_path / "merged.pcapng"
    assert reassemble_capture(out / "capture", merged) == summary.frames
    assert sha256_file(merged) == sha256_file(gozen_run / "capture.pcapng")
    for name in TRUTH:
        assert sha256_file(out / name) == sha256_file(gozen_run / name), name
    # The collector database: the same rows whatever the number of shards (3 here, 2 on Dask) ...
    for table, order in (("reports", "id"), ("devices", "home, mac"), ("networks", "home, bssid")):
        assert _rows(out / "collector.sqlite", table, order) == _rows(dask_run / "collector.sqlite", table, order)
    # ... and the same reports as one process stored, whose ids follow another (window) order.
    single = sorted(r[1:] for r in _rows(gozen_run / "collector.sqlite", "reports", "id"))
    assert sorted(r[1:] for r in _rows(out / "collector.sqlite", "reports", "id")) == single
    assert _rows(out / "collector.sqlite", "devices", "home, mac") == _rows(gozen_run / "collector.sqlite", "devices", "home, mac")
