"""A stand-in scorer for sweep tests: deterministic metrics from the run, no detectors needed.

Spec strings: ``NAME[,sleep=S][,fail=SCENARIO,while=FILE]``. ``sleep`` keeps a task busy (so a worker
can be killed mid-task); ``fail`` raises on runs of that scenario while ``FILE`` exists (a failing task
that a rerun, after the "fix", completes).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def score(run: Path, specs: list[str], train: Path | None) -> dict[str, dict[str, Any]]:
    """Scores per spec, derived from the run's truth so that they vary with the seed."""
    manifest = json.loads((run / "manifest.json").read_text())
    events = manifest["counts"]["events"]
    frames = manifest["counts"]["frames"]
    out = {}
    for spec in specs:
        name, *params = spec.split(",")
        opts = dict(p.split("=", 1) for p in params)
        if opts.get("fail") == manifest["scenario"]["name"] and Path(opts["while"]).exists():
            raise RuntimeError(f"{name} cannot score {run.name}")
        time.sleep(float(opts.get("sleep", 0)))
        bias = 0.1 if name.endswith("b") else 0.0
        out[spec] = {
            "recall": {"overall": (events % 7) / 10 + bias, "by_kind": {"sweep": {"recall": 0.5, "events": events}}},
            "precision": ((frames % 11) / 20) + bias,
            "f1": None,  # a metric the scorer could not compute: skipped
            "trained": 1.0 if train is not None and (train / "manifest.json").is_file() else 0.0,
            "spec": spec,
        }
    return out
