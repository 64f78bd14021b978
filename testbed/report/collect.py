"""The bench results a report is made of: for each run, its scenario, evasion level and scores."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testbed.errors import RunError
from testbed.score import check_run_dir

# Scenario names are lower case (the schema says so), so ladder-L3-aes is named ladder-l3-aes.
_LEVEL = re.compile(r"^ladder-(l\d+)(?:-|$)", re.IGNORECASE)


def evasion_level(scenario: str) -> str:
    """``ladder-l3-aes`` (or ``ladder-L3-aes``) -> ``L3``; a scenario outside the ladder is its own level."""
    m = _LEVEL.match(scenario)
    return m.group(1).upper() if m else scenario


def level_order(level: str) -> tuple[int, float, str]:
    """Sort key: L0 < L1 < ... < L10, then named levels alphabetically (benign last of all)."""
    m = re.fullmatch(r"L(\d+)", level)
    if m:
        return (0, float(m.group(1)), level)
    return (2 if "benign" in level else 1, 0.0, level)


@dataclass
class RunResults:
    """One run's bench results, keyed by detector spec."""

    path: Path
    scenario: str
    level: str
    label: str
    households: int
    duration_s: float
    benign_only: bool
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_results(run: Path) -> RunResults:
    """Read ``RUN/bench/*/scores.json`` (a RunError if RUN is not a run directory or a file is unreadable)."""
    run = check_run_dir(Path(run))
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    scenario = (manifest.get("scenario") or {}).get("name") or run.name
    detectors: dict[str, dict[str, Any]] = {}
    for path in sorted((run / "bench").glob("*/scores.json")):
        try:
            scores = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RunError(f"{path}: unreadable scores ({exc})") from None
        detectors[str(scores.get("spec") or scores.get("detector") or path.parent.name)] = scores
    with open(run / "truth/events.jsonl", encoding="utf-8") as fh:
        benign = not any(line.strip() for line in fh)
    population = json.loads((run / "population.json").read_text(encoding="utf-8"))
    level = evasion_level(scenario)
    return RunResults(run, scenario, level, level, len(population["households"]),
                      float((manifest.get("scenario") or {}).get("duration") or 0.0), benign, detectors)


def load_all(runs: list[Path]) -> list[RunResults]:
    """Results of every run, ordered by evasion level; labels made unique (``L3 (runs/b)``) when levels repeat."""
    results = sorted((load_results(r) for r in runs), key=lambda r: (level_order(r.level), str(r.path)))
    seen: dict[str, int] = {}
    for r in results:
        seen[r.level] = seen.get(r.level, 0) + 1
    for r in results:
        if seen[r.level] > 1:
            r.label = f"{r.level} ({r.path.name})"
    return results


def all_detectors(results: list[RunResults]) -> list[str]:
    """Every detector spec benched on any run, in first-seen order."""
    specs: list[str] = []
    for r in results:
        specs += [s for s in r.detectors if s not in specs]
    return specs
