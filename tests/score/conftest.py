"""A fake detector registry for bench tests: the CLI is tested without depending on real detectors."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from testbed.commands import bench


class FakeCapture:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)


class TruthEcho:
    """Alerts on the first sweep and upload of each TV (read from truth: fine for a fake), plus one FP."""

    learns = False

    def __init__(self, kinds: str = "sweep+upload") -> None:
        self.kinds = kinds.split("+")

    def detect(self, capture: FakeCapture) -> list[dict]:
        run = capture.path.parent
        pop = json.loads((run / "population.json").read_text())
        macs = {tv["id"]: tv["device"]["mac"] for h in pop["households"] for tv in h["tvs"]}
        events = [json.loads(line) for line in (run / "truth/events.jsonl").read_text().splitlines() if line]
        alerts = [{"ts": e["start"] + 0.1, "detector": "echo", "category": "exfil", "src_ip": None,
                   "src_mac": macs[e["tv"]], "dst": {}, "proto": "tcp", "fields": ["mac"],
                   "message": "<script>alert('x')</script> | pipe"}
                  for e in events if e["kind"] in self.kinds and e["cycle"] == 1]
        start = min((e["start"] for e in events), default=1.6e9)
        alerts.append({"ts": start + 3000.0, "detector": "echo", "category": "scan", "src_ip": "10.9.9.9",
                       "src_mac": "02:00:00:00:00:99", "dst": {}, "proto": "arp", "message": "fp"})
        return alerts

    def score_flows(self, capture: FakeCapture) -> list[tuple[str, float, float]]:
        import csv

        with open(capture.path.parent / "truth/flows.csv", newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["community_id"]]
        # A decent but imperfect scorer: SDK flows high, except every third one.
        return [(r["community_id"], float(r["first_ts"]), (1.0 if r["event_id"] and i % 3 else 0.0) + 0.001 * (i % 7))
                for i, r in enumerate(rows)]


class Learner(TruthEcho):
    learns = True

    def fit(self, capture: FakeCapture) -> Learner:
        self.trained_on_ = capture.path
        return self


def _make(spec: str):
    name, *params = spec.split(",")
    kwargs = dict(p.split("=", 1) for p in params)
    if name == "echo":
        return TruthEcho(**kwargs)
    if name == "learner":
        return Learner(**kwargs)
    raise KeyError(f"unknown detector {name!r}")


@pytest.fixture
def fake_detectors(monkeypatch):
    """Stand a fake registry in for testbed.detect inside the bench command."""
    api = types.SimpleNamespace(make_detector=_make, Capture=FakeCapture)
    monkeypatch.setattr(bench, "_detect_api", lambda: api)
    return api
