"""Runs for the detector tests, built once per session. Tests may read truth/ and population.json to
check detectors; the detectors themselves get only ``Capture`` objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testbed.detect import Capture
from testbed.run import run_scenario
from tests.helpers import small


def _run(runs_dir: Path, name: str, scenario: str = "gozen-2021", **overrides) -> Path:
    out = runs_dir / name
    run_scenario(small(scenario, **overrides), out)
    return out


@pytest.fixture(scope="session")
def det_runs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("detect-runs")


@pytest.fixture(scope="session")
def plain_run(det_runs) -> Path:
    """gozen-2021, plain HTTP JSON, 3 homes, 2 h."""
    return _run(det_runs, "plain")


@pytest.fixture(scope="session")
def tls_run(det_runs) -> Path:
    """The same homes, gzip+aes inside TLS."""
    return _run(det_runs, "tls", **{"tvs.sdk": {"transport": "tls", "encoding": "gzip+aes"}})


@pytest.fixture(scope="session")
def hashed_run(det_runs) -> Path:
    """The same homes, sha256-hashed identifiers, base64 of gzip over HTTP, 1.5 h."""
    return _run(det_runs, "hashed", duration="90m", **{"tvs.sdk": {"hash_ids": True, "encoding": "gzip+base64"}})


@pytest.fixture(scope="session")
def benign_run(det_runs) -> Path:
    """The same homes without the SDK (the negative control and training data)."""
    return _run(det_runs, "benign", "benign-only")


@pytest.fixture(scope="session")
def scanner_run(det_runs) -> Path:
    """Benign homes whose phones run a Fing-like scanner app (hard negatives): 2 homes, 04:00-16:00
    local, so that each app's first scan (4-12 h after start, during the day) falls inside the run."""
    return _run(det_runs, "scanner", "benign-only", **{
        "households.count": 2, "duration": "12h", "start": "2021-04-23T04:00:00+08:00",
        "benign.scanner_app": 1.0})


@pytest.fixture(scope="session")
def small_run(det_runs) -> Path:
    """A very small gozen run for the conformance suite (every check runs detect several times)."""
    return _run(det_runs, "small", **{"households.count": 2, "duration": "1h"})


@pytest.fixture(scope="session")
def small_benign_run(det_runs) -> Path:
    return _run(det_runs, "small-benign", "benign-only", **{"households.count": 2, "duration": "1h"})


def capture(run: Path) -> Capture:
    return Capture(run / "capture.pcapng")


def events(run: Path, kind: str | None = None) -> list[dict]:
    """Truth events of a run (tests only)."""
    with open(run / "truth" / "events.jsonl") as f:
        evs = [json.loads(line) for line in f]
    return [e for e in evs if kind is None or e["kind"] == kind]


def tv_ips(run: Path) -> set[str]:
    """The TVs' addresses, from population.json (tests only)."""
    pop = json.loads((run / "population.json").read_text())
    return {tv["device"]["ip"] for h in pop["households"] for tv in h["tvs"]}


def device_ips(run: Path, kind: str) -> set[str]:
    pop = json.loads((run / "population.json").read_text())
    return {d["ip"] for h in pop["households"] for d in h["devices"] if d["kind"] == kind}


def flow_labels(run: Path) -> dict[str, str]:
    """community_id -> label from truth/flows.csv (tests only)."""
    import csv

    with open(run / "truth" / "flows.csv") as f:
        return {r["community_id"]: r["label"] for r in csv.DictReader(f)}
