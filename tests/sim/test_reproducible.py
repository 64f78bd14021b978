"""Same scenario and seed: byte-identical capture and truth, whatever the number of workers."""

from __future__ import annotations

import json

import pytest

from testbed.run import run_scenario
from testbed.rundir import sha256_file
from tests.helpers import small

DETERMINISTIC = ["capture.pcapng", "truth/events.jsonl", "truth/flows.csv", "population.json"]


def _digests(run):
    return {name: sha256_file(run / name) for name in DETERMINISTIC}


@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_differs_and_workers_do_not_matter(tmp_path, gozen_run):
    scenario = small(duration="2h")
    again = tmp_path / "again"
    run_scenario(scenario, again)
    assert _digests(again) == _digests(gozen_run)
    two = tmp_path / "two-workers"
    run_scenario(scenario, two, workers=2)
    assert _digests(two) == _digests(gozen_run)
    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in gozen_run.iterdir())  # no parts left
    for run in (again, two):  # the capture's digest is taken as it is written: it must be the file's
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["artifacts"]["capture.pcapng"]["sha256"] == sha256_file(run / "capture.pcapng")
    other = tmp_path / "other-seed"
    run_scenario(small(seed=7), other)
    differs = _digests(other)
    assert all(differs[name] != _digests(gozen_run)[name] for name in DETERMINISTIC)
