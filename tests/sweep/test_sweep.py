"""Sweeps end to end on a real Dask LocalCluster: 2 scenarios x 3 seeds x 2 detectors, a worker killed
mid-sweep, a failing task reported while the rest go on, and reruns that reuse what finished."""

from __future__ import annotations

import csv
import os
import signal
import threading
import time

import pytest
from dask.distributed import Client, LocalCluster

from testbed.sweep import SweepSpec, mean_ci, run_sweep

SCORER = "tests.sweep.fake_scorer:score"
TINY = {"households.count": 2, "duration": "30m"}


def _spec(**kw) -> SweepSpec:
    base = {"name": "tiny", "scenarios": ["gozen-2021", "consent-mix"], "seeds": [1, 2, 3],
            "overrides": TINY, "detectors": ["fake-a,sleep=0.4", "fake-b"], "train": "benign-only"}
    base.update(kw)
    return SweepSpec.model_validate(base)


def _kill_a_busy_worker(cluster, client, done: threading.Event, killed: list) -> None:
    """Wait until a worker is running a task, then SIGKILL its process (its nanny starts a new one)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not done.is_set():
        busy = [addr for addr, keys in client.processing().items() if keys]
        for nanny in cluster.workers.values():
            if nanny.worker_address in busy and nanny.process is not None:
                os.kill(nanny.process.process.pid, signal.SIGKILL)
                killed.append(nanny.worker_address)
                return
        time.sleep(0.05)


@pytest.mark.slow
def test_sweep_on_dask_survives_a_killed_worker_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        done, killed = threading.Event(), []
        killer = threading.Thread(target=_kill_a_busy_worker, args=(cluster, client, done, killed))
        killer.start()
        try:
            outcome = run_sweep(_spec(), out, executor=client, scorer=SCORER)
        finally:
            done.set()
            killer.join()
        assert killed, "no worker was killed: the test proved nothing"
        assert outcome.failures == [] and outcome.tasks == 3 + 6 and outcome.ran == 9

        again = run_sweep(_spec(), out, executor=client, scorer=SCORER)
        assert again.ran == 0 and again.reused == 9

    with open(out / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 3 * 2
    assert {(r["scenario"], r["seed"], r["detector"]) for r in rows} == {
        (s, str(seed), d) for s in ("gozen-2021", "consent-mix") for seed in (1, 2, 3)
        for d in ("fake-a,sleep=0.4", "fake-b")}
    assert all(r["trained"] == "1" for r in rows)  # each task saw its seed's training run
    with open(out / "aggregate.csv") as fh:
        agg = {(r["scenario"], r["detector"], r["metric"]): r for r in csv.DictReader(fh)}
    for (scenario, detector, metric), r in agg.items():
        values = [float(x[metric]) for x in rows if x["scenario"] == scenario and x["detector"] == detector]
        ci = mean_ci(values)
        assert int(r["n"]) == 3 and float(r["mean"]) == pytest.approx(ci.mean, rel=1e-5)
        if ci.half_width > 0:
            assert float(r["ci95_half_width"]) == pytest.approx(ci.half_width, rel=1e-5)
    assert ("consent-mix", "fake-b", "recall.overall") in agg
    md = (out / "aggregate.md").read_text()
    assert "±" in md and "| gozen-2021 | `fake-b` | 3 |" in md
    assert (out / "plots" / "recall_overall.png").stat().st_size > 1000
    assert len(list((out / "runs").iterdir())) == 9


@pytest.mark.slow
def test_a_failing_task_is_reported_and_a_rerun_does_only_what_is_missing(tmp_path):
    out = tmp_path / "sweep"
    broken = tmp_path / "broken"
    broken.touch()
    spec = _spec(detectors=[f"fake-a,fail=consent-mix,while={broken}"], seeds=[1, 2], train=None)
    events = []
    outcome = run_sweep(spec, out, workers=2, scorer=SCORER, on_event=lambda k, t, m: events.append((k, t.key, m)))
    assert {(f.scenario, f.seed) for f in outcome.failures} == {("consent-mix", 1), ("consent-mix", 2)}
    assert "cannot score" in outcome.failures[0].error
    assert outcome.ran == 2 and (out / "failures.json").is_file()
    assert sum(1 for k, *_ in events if k == "failed") == 2
    with open(out / "results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 2  # the tables hold what finished
    runs_before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert len(runs_before) == 4  # the failed tasks' runs were made before their bench failed

    broken.unlink()  # the fix
    again = run_sweep(spec, out, workers=2, scorer=SCORER)
    assert again.reused == 2 and again.ran == 2 and again.failures == []
    assert not (out / "failures.json").exists()
    # Only the missing benches ran: every run directory is the one made the first time.
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == runs_before
    with open(out / "results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 4
