"""What scoring needs from a run directory: events, TV addresses, homes, duration, flow labels."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.errors import RunError
from testbed.score.flows import flow_labels, flow_metrics
from testbed.score.matching import DEFAULT_DELTA, TvAddress, tv_addresses
from testbed.score.metrics import score_events

REQUIRED = ("manifest.json", "population.json", "truth/events.jsonl", "truth/flows.csv")


@dataclass
class RunTruth:
    """The ground truth of one run, as scoring reads it."""

    path: Path
    scenario: str
    events: list[dict[str, Any]]
    tvs: dict[str, TvAddress]
    households: int
    duration_s: float
    payload_start: dict[str, float]

    @property
    def benign_only(self) -> bool:
        """No SDK event at all: every alert is a false positive (the negative control)."""
        return not self.events


def check_run_dir(path: Path) -> Path:
    """``path`` if it is a finished run directory; a RunError naming what is missing otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: not a run directory (no such directory)")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise RunError(f"{path}: not a run directory (missing {', '.join(missing)})")
    return path


def payload_starts(flows_csv: Path, events: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Upload event id -> first frame of its TCP connection to the collector (from flows.csv)."""
    targets = {ev["id"]: f"{ev['dst']['ip']}:{ev['dst']['port']}" for ev in events
               if ev["kind"] == "upload" and ev.get("dst") and ev["dst"].get("ip")}
    out: dict[str, float] = {}
    with open(flows_csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            eid = row["event_id"]
            if eid in targets and row["proto"] == "tcp" and row["dst"] == targets[eid]:
                ts = float(row["first_ts"])
                out[eid] = min(ts, out.get(eid, ts))
    return out


def load_run_truth(run_dir: Path) -> RunTruth:
    """Read a run directory's truth (never its capture)."""
    run_dir = check_run_dir(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    population = json.loads((run_dir / "population.json").read_text(encoding="utf-8"))
    with open(run_dir / "truth/events.jsonl", encoding="utf-8") as fh:
        events = [json.loads(line) for line in fh if line.strip()]
    scenario = manifest.get("scenario") or {}
    return RunTruth(
        path=run_dir,
        scenario=str(scenario.get("name", run_dir.name)),
        events=events,
        tvs=tv_addresses(population),
        households=len(population["households"]),
        duration_s=float(scenario.get("duration") or manifest.get("duration") or 0.0),
        payload_start=payload_starts(run_dir / "truth/flows.csv", events),
    )


def score_run(run_dir: Path, alerts: Iterable[Any], detector_name: str,
              flow_scores: Iterable[Sequence[Any]] | None = None, *, delta: float = DEFAULT_DELTA,
              truth: RunTruth | None = None) -> dict[str, Any]:
    """The scores.json content for one detector's alerts on one run (``truth`` may be passed to reuse it)."""
    truth = truth or load_run_truth(Path(run_dir))
    result: dict[str, Any] = {
        "detector": detector_name,
        "run": str(truth.path),
        "scenario": truth.scenario,
        "benign_only": truth.benign_only,
        **score_events(truth.events, alerts, truth.tvs, truth.households, truth.duration_s,
                       delta=delta, payload_start=truth.payload_start),
        "flows": None,
    }
    if flow_scores is not None:
        result["flows"] = flow_metrics(flow_scores, flow_labels(truth.path / "truth/flows.csv"))
    return result
