"""One sweep task: make sure a (scenario, seed) run exists, bench it, and keep its result rows.

A task runs on a worker (a pool process or a Dask worker) and touches only its own paths:
its run directory (written atomically by ``run_scenario``) and its result file (``tasks/KEY.json``,
written atomically last), so a task killed anywhere is simply done again, and a finished one is
never redone: an existing run whose manifest hash matches is reused, and a result file means done.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.distributed.atomic import write_text_atomic
from testbed.errors import RunError
from testbed.rundir.manifest import versions
from testbed.scenario.model import Scenario

#: (run directory, detector specs, training run or None) -> scores dict per spec (``run_bench``'s shape).
Scorer = Callable[[Path, list[str], Path | None], dict[str, dict[str, Any]]]
DEFAULT_SCORER = "testbed.commands.bench:run_bench"


def manifest_hash(scenario: dict[str, Any], seed: int, version: str) -> str:
    """What makes two runs the same: the resolved scenario, the seed and the testbed's version."""
    blob = json.dumps({"scenario": scenario, "seed": seed, "version": version}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def scenario_hash(scenario: Scenario) -> str:
    """The manifest hash a run of ``scenario`` will have."""
    return manifest_hash(scenario.model_dump(mode="json"), scenario.seed, versions()["smarttv-testbed"])


def run_hash(run: Path) -> str | None:
    """The manifest hash of an existing run directory (None if it has no readable manifest)."""
    try:
        m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        return manifest_hash(m["scenario"], m["seed"], m["versions"]["smarttv-testbed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_scorer(scorer: str | Scorer) -> Scorer:
    """A scorer from ``module:function`` (imported lazily, on the worker) or the callable itself."""
    if callable(scorer):
        return scorer
    module, _, name = scorer.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise RunError(f"scorer {scorer!r} is not available: {exc}") from None


def flatten_metrics(scores: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every finite number in a scores dict, under dotted keys (``recall.overall``); lists are skipped."""
    out: dict[str, float] = {}
    for key, value in scores.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_metrics(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


@dataclass(frozen=True, slots=True)
class SweepTask:
    """One (scenario, seed) of a sweep, or a training run (no detectors)."""

    key: str  # unique in the sweep; names the result file
    scenario_name: str
    seed: int
    scenario: Scenario
    run_dir: str
    result_file: str
    detectors: tuple[str, ...] = ()
    train_dir: str | None = None
    scorer: str | Scorer = DEFAULT_SCORER


def ensure_run(scenario: Scenario, run: Path) -> bool:
    """Make ``run`` unless a run with the same manifest hash is there; True if it was reused."""
    if run.is_dir() and run_hash(run) == scenario_hash(scenario):
        return True
    from testbed.run import run_scenario

    run_scenario(scenario, run, force=True)
    return False


def run_task(task: SweepTask) -> dict[str, Any]:
    """Run (or reuse) the task's run, bench it, write and return its result."""
    run = Path(task.run_dir)
    reused = ensure_run(task.scenario, run)
    rows = []
    if task.detectors:
        scores = resolve_scorer(task.scorer)(run, list(task.detectors), Path(task.train_dir) if task.train_dir else None)
        for spec in task.detectors:
            if spec not in scores:
                raise RunError(f"the scorer returned no scores for {spec!r}")
            rows.append({"scenario": task.scenario_name, "seed": task.seed, "detector": spec,
                         "run": run.name, **flatten_metrics(scores[spec])})
    result = {"key": task.key, "scenario": task.scenario_name, "seed": task.seed, "run": run.name,
              "run_hash": scenario_hash(task.scenario), "detectors": list(task.detectors),
              "reused_run": reused, "rows": rows}
    write_text_atomic(Path(task.result_file), json.dumps(result, indent=1) + "\n")
    return result


def load_result(task: SweepTask) -> dict[str, Any] | None:
    """The task's result if it finished before with the same run and detectors (else None: redo)."""
    try:
        result = json.loads(Path(task.result_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if result.get("run_hash") != scenario_hash(task.scenario) or result.get("detectors") != list(task.detectors):
        return None
    if not Path(task.run_dir).is_dir():
        return None
    return result
