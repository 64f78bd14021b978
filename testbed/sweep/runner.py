"""Running a sweep: plan the tasks, run what is missing on a pool or a Dask cluster, write the tables.

The parent only plans, submits and collects; every task writes its own files atomically (see
``testbed.sweep.tasks``). A failed task is reported with its scenario, seed and error while the
others go on; the tables are written from whatever finished, and a rerun submits only what is missing.
Training runs (one per seed) are submitted first; a seed's tasks are submitted when its training run
is done, so the rest of the sweep overlaps with the training of other seeds.

Sweep directory::

    sweep.yaml            the sweep as run
    runs/NAME-sSEED-HASH/ one run directory per (scenario, seed) (and train-... per seed), with bench/
    tasks/KEY.json        each finished task's result rows (their presence is what "done" means)
    results.csv           one row per (scenario, seed, detector), a column per metric
    aggregate.csv/.md     mean and 95% CI across seeds; plots/ the headline metrics with error bars
    failures.json         the tasks that failed in the last invocation (absent when none did)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from testbed.distributed.atomic import write_text_atomic
from testbed.distributed.cluster import ClusterSpec, open_executor, submit, wait_first
from testbed.errors import ScenarioError
from testbed.scenario import load_scenario
from testbed.sweep.plots import write_plots
from testbed.sweep.spec import SweepSpec, resolve_entries
from testbed.sweep.tables import aggregate, write_aggregate, write_results
from testbed.sweep.tasks import DEFAULT_SCORER, Scorer, SweepTask, load_result, run_task, scenario_hash

#: (what happened: "done", "reused", "failed", "submitted"; the task; a message) for progress displays.
SweepEvent = Callable[[str, SweepTask, str], None]


@dataclass
class TaskFailure:
    """A task that did not finish, and why."""

    key: str
    scenario: str
    seed: int
    error: str


@dataclass
class SweepOutcome:
    """What a sweep invocation did."""

    out: Path
    tasks: int
    ran: int = 0
    reused: int = 0
    failures: list[TaskFailure] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SweepPlan:
    """The sweep's tasks: training runs by seed, and the (scenario, seed) tasks in table order."""

    train: dict[int, SweepTask]
    tasks: list[SweepTask]

    def all(self) -> list[SweepTask]:
        """Every task, training runs first."""
        return [*self.train.values(), *self.tasks]


def plan_sweep(spec: SweepSpec, out: Path, scorer: str | Scorer = DEFAULT_SCORER, base: Path | None = None) -> SweepPlan:
    """Resolve every scenario with its overrides and each seed (validation errors come out here)."""
    seeds = spec.seed_list()

    def task(path: Path, seed: int, detectors: tuple[str, ...], prefix: str = "",
             train: SweepTask | None = None) -> SweepTask:
        sc = load_scenario(path, {**spec.overrides, "seed": seed})
        key = f"{prefix}{sc.name}-s{seed}"
        return SweepTask(key, sc.name, seed, sc, str(out / "runs" / f"{key}-{scenario_hash(sc)[:10]}"),
                         str(out / "tasks" / f"{key}.json"), detectors, train.run_dir if train else None, scorer)

    train = {}
    if spec.train:
        train_path = resolve_entries([spec.train], base, spec.name)[0]
        train = {s: task(train_path, s, (), "train-") for s in seeds}
    tasks = [task(p, s, tuple(spec.detectors), train=train.get(s)) for p in spec.scenario_paths(base) for s in seeds]
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"sweep {spec.name}: two scenario files have the same scenario name")
    return SweepPlan(train, tasks)


def _clean_partials(runs: Path) -> None:
    """Remove half-written run directories left by tasks killed in an earlier invocation."""
    if runs.is_dir():
        for p in runs.glob(".*.partial-*"):
            shutil.rmtree(p, ignore_errors=True)


def run_sweep(spec: SweepSpec, out: str | Path, *, executor: Any = None, cluster: ClusterSpec | None = None,
              workers: int | None = None, scorer: str | Scorer = DEFAULT_SCORER,
              on_event: SweepEvent | None = None, base: Path | None = None) -> SweepOutcome:
    """Run the sweep into ``out`` (resuming what an earlier invocation finished); returns the outcome.

    ``executor``: an open Dask client or pool to use; otherwise one is opened from ``cluster``
    (default: a process pool of ``workers``, the number of CPUs if not given).
    """
    out = Path(out)
    plan = plan_sweep(spec, out, scorer, base)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "sweep.yaml", yaml.safe_dump(spec.model_dump(mode="json", by_alias=True), sort_keys=False))
    _clean_partials(out / "runs")
    outcome = SweepOutcome(out, len(plan.all()))
    todo = []
    for t in plan.all():
        if load_result(t) is not None:
            outcome.reused += 1
            if on_event:
                on_event("reused", t, "")
        else:
            todo.append(t)
    if todo:
        if executor is not None:
            _execute(todo, plan, executor, outcome, on_event)
        else:
            with open_executor(cluster or ClusterSpec(), workers or os.cpu_count() or 1) as ex:
                _execute(todo, plan, ex, outcome, on_event)
    _write_tables(spec, plan, outcome)
    return outcome


def _execute(todo: list[SweepTask], plan: SweepPlan, executor: Any, outcome: SweepOutcome,
             on_event: SweepEvent | None) -> None:
    """Submit what can run now; as each task ends, record it and submit what it unblocks."""
    todo_keys = {t.key for t in todo}
    # A task waits for its seed's training run only if that run is still to be made.
    blocked = [t for t in todo if t.train_dir and t.seed in plan.train and plan.train[t.seed].key in todo_keys]
    running: dict[Any, SweepTask] = {}

    def start(t: SweepTask) -> None:
        running[submit(executor, run_task, t)] = t
        if on_event:
            on_event("submitted", t, "")

    for t in todo:
        if t not in blocked:
            start(t)
    while running:
        done, _ = wait_first(running, executor)
        for fut in done:
            t = running.pop(fut)
            try:
                fut.result()
            except Exception as exc:  # the task's own error, or the cluster's (KilledWorker...)
                _fail(outcome, t, f"{type(exc).__name__}: {exc}", on_event)
                if t.key.startswith("train-"):
                    for dep in [d for d in blocked if d.seed == t.seed]:
                        blocked.remove(dep)
                        _fail(outcome, dep, f"its training run {t.key} failed", on_event)
                continue
            outcome.ran += 1
            if on_event:
                on_event("done", t, "")
            if t.key.startswith("train-"):
                for dep in [d for d in blocked if d.seed == t.seed]:
                    blocked.remove(dep)
                    start(dep)


def _fail(outcome: SweepOutcome, t: SweepTask, error: str, on_event: SweepEvent | None) -> None:
    outcome.failures.append(TaskFailure(t.key, t.scenario_name, t.seed, error))
    if on_event:
        on_event("failed", t, error)


def _write_tables(spec: SweepSpec, plan: SweepPlan, outcome: SweepOutcome) -> None:
    rows = []
    for t in plan.tasks:
        result = load_result(t)
        if result is not None:
            rows += result["rows"]
    outcome.rows = rows
    out = outcome.out
    failures = out / "failures.json"
    if outcome.failures:
        write_text_atomic(failures, json.dumps([f.__dict__ for f in outcome.failures], indent=1) + "\n")
    else:
        failures.unlink(missing_ok=True)
    metrics = write_results(out / "results.csv", rows)
    agg = aggregate(rows, metrics)
    write_aggregate(out / "aggregate.csv", out / "aggregate.md", agg, metrics, spec.name)
    (out / "plots").mkdir(exist_ok=True)
    write_plots(out / "plots", agg, metrics)
