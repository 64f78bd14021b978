"""The divergence report: two run directories of the same scenario and seed, side by side.

Made for a simulated run and a container run: events per kind and leaked items per field should be
identical (the same SDK code saw the same population); frames per protocol, upload sizes and timings
differ for reasons the report names (real kernels answer ARP and ICMP, real stacks add their own frames,
real time is not simulated time).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dpkt

from testbed import rundir
from testbed.emu.capture import _benign_kind, frame_key

# Values that depend on the wire, not on what the SDK collected: compared by subject only.
MEASURED_FIELDS = {"rtt"}


@dataclass
class RunFacts:
    """What the report compares, read from one run directory."""

    path: Path
    backend: str
    events: Counter = field(default_factory=Counter)
    items: dict[str, set] = field(default_factory=dict)  # field -> {(subject, value)} of delivered uploads
    frames: Counter = field(default_factory=Counter)
    upload_sizes: list[int] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)  # kind -> median seconds
    first_upload_s: float | None = None  # after the run's first event


def read_facts(path: str | Path) -> RunFacts:
    """Read events, leaked items, frames per protocol and upload sizes of a run directory."""
    path = Path(path)
    manifest = json.loads((path / rundir.MANIFEST).read_text(encoding="utf-8"))
    facts = RunFacts(path, manifest.get("backend", "?"))
    events = rundir.read_events(path / rundir.EVENTS)
    spans: dict[str, list[float]] = {}
    for e in events:
        facts.events[e["kind"]] += 1
        spans.setdefault(e["kind"], []).append(e["end"] - e["start"])
        if e["kind"] == "upload" and e.get("delivered"):
            facts.upload_sizes.append(e.get("request_bytes", 0))
            for item in e["items"]:
                value = None if item["field"] in MEASURED_FIELDS else json.dumps(item["value"])
                facts.items.setdefault(item["field"], set()).add((item["subject"], value))
    facts.durations = {k: statistics.median(v) for k, v in spans.items()}
    uploads = [e["start"] for e in events if e["kind"] == "upload"]
    if events and uploads:
        facts.first_upload_s = min(uploads) - min(e["start"] for e in events)
    with open(path / rundir.CAPTURE, "rb") as fh:
        for _, frame in dpkt.pcapng.Reader(fh):
            key = frame_key(bytes(frame))
            facts.frames[_benign_kind(key) if key else "other"] += 1
    return facts


@dataclass
class Divergence:
    """The report: rows per section and the differences, named."""

    left: RunFacts
    right: RunFacts
    sections: dict[str, list[tuple[str, Any, Any]]] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # differences that are not divergences (timing, wire)

    @property
    def same_events(self) -> bool:
        return self.left.events == self.right.events

    @property
    def same_items(self) -> bool:
        return self.left.items == self.right.items

    def to_dict(self) -> dict[str, Any]:
        return {"left": str(self.left.path), "right": str(self.right.path), "same_events": self.same_events,
                "same_items": self.same_items,
                "sections": {k: [list(r) for r in v] for k, v in self.sections.items()},
                "differences": self.differences, "expected": self.expected}


def compare_runs(left: str | Path, right: str | Path) -> Divergence:
    """Compare two run directories (typically ``--backend sim`` and ``--backend docker``)."""
    a, b = read_facts(left), read_facts(right)
    report = Divergence(a, b)
    kinds = sorted(set(a.events) | set(b.events))
    report.sections["events per kind"] = [(k, a.events[k], b.events[k]) for k in kinds]
    for k in kinds:
        if a.events[k] != b.events[k]:
            report.differences.append(f"events of kind {k}: {a.events[k]} vs {b.events[k]}")
    fields = sorted(set(a.items) | set(b.items))
    report.sections["items leaked per field (distinct subject/value)"] = [
        (f, len(a.items.get(f, ())), len(b.items.get(f, ()))) for f in fields]
    for f in fields:
        only_a = a.items.get(f, set()) - b.items.get(f, set())
        only_b = b.items.get(f, set()) - a.items.get(f, set())
        if only_a or only_b:
            sample = ", ".join(f"{s}={v}" for s, v in sorted(only_a | only_b, key=str)[:4])
            report.differences.append(f"leaked {f}: {len(only_a)} only in {a.backend}, {len(only_b)} only in "
                                      f"{b.backend} ({sample})")
    protos = sorted(set(a.frames) | set(b.frames))
    report.sections["frames per protocol"] = [(p, a.frames[p], b.frames[p]) for p in protos]
    for p in protos:
        if a.frames[p] != b.frames[p]:
            report.expected.append(f"frames of {p}: {a.frames[p]} vs {b.frames[p]}")
    report.sections["upload sizes (request bytes)"] = [
        ("uploads delivered", len(a.upload_sizes), len(b.upload_sizes)),
        ("total", sum(a.upload_sizes), sum(b.upload_sizes)),
        ("median", _median(a.upload_sizes), _median(b.upload_sizes)),
    ]
    if sorted(a.upload_sizes) != sorted(b.upload_sizes):
        # Measured latencies are in the body, with their own number of digits.
        report.expected.append(f"upload sizes: {sorted(a.upload_sizes)} vs {sorted(b.upload_sizes)}")
    report.sections["timings (median seconds per event kind)"] = [
        (k, round(a.durations.get(k, 0.0), 3), round(b.durations.get(k, 0.0), 3)) for k in kinds]
    report.sections["timings (median seconds per event kind)"].append(
        ("first upload after first event", _round(a.first_upload_s), _round(b.first_upload_s)))
    report.expected.append("timings: simulated durations vs wall-clock durations")
    return report


def _median(values: list[int]) -> float:
    return statistics.median(values) if values else 0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
