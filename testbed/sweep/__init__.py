"""Benchmark sweeps: scenarios x seeds x detectors, each (scenario, seed) one task, CIs across seeds.

Public surface::

    load_sweep(path) -> SweepSpec          the sweep file (see ``testbed.sweep.spec``)
    run_sweep(spec, out, ...) -> SweepOutcome   run what is missing, write results.csv, aggregate.*, plots/
    mean_ci(values) -> Interval            mean and 95% Student-t interval

Errors: ``ScenarioError`` for a bad sweep file or scenario; task failures are collected, not raised.
"""

from testbed.sweep.runner import SweepOutcome, TaskFailure, plan_sweep, run_sweep
from testbed.sweep.spec import SweepSpec, load_sweep
from testbed.sweep.stats import Interval, mean_ci

__all__ = ["Interval", "SweepOutcome", "SweepSpec", "TaskFailure", "load_sweep", "mean_ci", "plan_sweep",
           "run_sweep"]
