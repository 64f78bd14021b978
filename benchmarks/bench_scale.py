"""Scaling out: households/s at 1 and 2 workers on the process pool and on a Dask LocalCluster, the
parallel efficiency (speed-up / workers), and Dask's own overhead per shard task against the pool's.

    .venv/bin/python -m benchmarks.bench_scale                       # 200 household-days (the target)
    .venv/bin/python -m benchmarks.bench_scale --households 8 --duration 1d   # a quick run

Runs are end to end (``run_scenario``: simulate, merge, write the run directory). The process pool
writes one ``capture.pcapng``; the Dask runs write a split capture (``--split-capture``), as a cluster
run of this size would: a 200 household-day capture is about 23 GB, and an unsplit Dask run holds its
shard parts and the merged capture on disk at once. Each run directory is deleted once timed. The
LocalCluster is started once, outside the timings, as a user's long-lived cluster would be.

The overhead is measured on the shard tasks themselves (``run_shards``), on a tenth of the households
by default (shorter tasks make the overhead a larger share, so the figure errs high): wall time from
submission to the last result, less the tasks' own run time as measured inside them. Other processes
on the machine share its cores: every number is measured here, in this run, and printed with the
load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from testbed.distributed import ClusterSpec, open_executor
from testbed.distributed.sharded_run import run_shards
from testbed.population import build_population
from testbed.run import run_scenario
from testbed.scenario import load_scenario


def _days(duration: str) -> float:
    unit = {"d": 86400, "h": 3600, "m": 60}[duration[-1]]
    return float(duration[:-1]) * unit / 86400


def _timed_run(scenario: Any, out: Path, **kw: Any) -> float:
    t0 = time.perf_counter()
    run_scenario(scenario, out, force=True, **kw)
    seconds = time.perf_counter() - t0
    shutil.rmtree(out)  # the next run needs the disk space
    return seconds


def _task_overhead(scenario: Any, executor: Any, parts: Path, shards: int) -> dict[str, float]:
    """Wall time of the shard phase vs the tasks' own time (balanced shards, one per worker)."""
    households = list(build_population(scenario).households)
    t0 = time.perf_counter()
    results = run_shards(scenario, households, executor, parts, shards=shards)
    wall = time.perf_counter() - t0
    own = max(r.seconds for r in results)
    shutil.rmtree(parts)
    return {"wall_s": wall, "task_s": own, "overhead_s": wall - own, "overhead_pct": 100 * (wall - own) / own}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure and print the numbers (also returned, for ``benchmarks/run.py``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--households", type=int, default=100)
    ap.add_argument("--duration", default="2d")
    ap.add_argument("--overhead-households", type=int, default=None,
                    help="households for the task-overhead runs (default: a tenth, at least 2)")
    args = ap.parse_args(argv)
    sc = load_scenario("gozen-2021", {"households.count": args.households, "duration": args.duration})
    small = args.overhead_households or max(2, args.households // 10)
    sc_small = load_scenario("gozen-2021", {"households.count": small, "duration": args.duration})
    hd = args.households * _days(args.duration)
    out: dict[str, Any] = {"households": args.households, "duration": args.duration, "household_days": hd,
                           "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        speed: dict[str, float] = {}
        for n in (1, 2):
            speed[f"pool-{n}"] = args.households / _timed_run(sc, root / f"pool{n}", workers=n)
        for n in (1, 2):
            with open_executor(ClusterSpec(local_workers=n)) as client:
                spec = ClusterSpec(scheduler=client.scheduler.address)
                speed[f"dask-{n}"] = args.households / _timed_run(sc, root / f"dask{n}", cluster=spec,
                                                                 split_capture=True)
                out[f"dask-{n}-tasks"] = _task_overhead(sc_small, client, root / f"parts-dask{n}", n)
        for n in (1, 2):
            with open_executor(ClusterSpec(), workers=n) as pool:
                out[f"pool-{n}-tasks"] = _task_overhead(sc_small, pool, root / f"parts-pool{n}", n)
    out["households_per_s"] = speed
    out["efficiency_2"] = {k: speed[f"{k}-2"] / speed[f"{k}-1"] / 2 for k in ("pool", "dask")}
    # Against one plain process too: a slow one-worker Dask run would flatter Dask's own ratio.
    out["efficiency_2"]["dask vs one process"] = speed["dask-2"] / speed["pool-1"] / 2
    out["load_after"] = os.getloadavg()[0]
    print(f"scale: {args.households} homes x {args.duration} = {hd:g} household-days on {out['cpus']} CPUs "
          f"(load {out['load_before']:.1f} -> {out['load_after']:.1f})")
    for k, v in speed.items():
        print(f"  {k:7s} {v:8.3f} households/s")
    for k, v in out["efficiency_2"].items():
        print(f"  efficiency at 2 workers, {k}: {v:.2f}")
    print(f"  shard task overhead, on {small} homes x {args.duration}:")
    for k in ("pool-1", "pool-2", "dask-1", "dask-2"):
        t = out[f"{k}-tasks"]
        print(f"  {k} shard tasks: wall {t['wall_s']:.2f}s, task {t['task_s']:.2f}s, "
              f"overhead {t['overhead_s']:.3f}s ({t['overhead_pct']:.1f}%)")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
