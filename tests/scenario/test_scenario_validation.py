"""Scenario files: the shipped ones validate; bad ones fail naming file, field and what was expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.scenario import load_scenario, parse_duration, shipped_scenarios, validate_data

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_scenarios_validate():
    names = {p.stem for p in shipped_scenarios()}
    assert {"gozen-2021", "benign-only", "consent-mix"} <= names
    for path in shipped_scenarios():
        sc = load_scenario(path)
        assert sc.name == path.stem


def test_flagship_matches_the_incident():
    sc = load_scenario("gozen-2021")
    assert sc.households.count == 25 and sc.duration == 24 * 3600
    assert sc.tvs.vendor == "Skyworth" and sc.tvs.sdk.profile == "gozen"
    assert sc.tvs.sdk.consent == "not_asked" and sc.tvs.sdk.interval == 600
    assert sc.tvs.sdk.collector.domain == "gz-data.com"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "x", "households": {"count": 0}}, "x.yaml: households.count: "),
        ({"name": "x", "households": {"count": 0}}, "got 0"),
        ({"name": "x", "duration": "forever"}, "x.yaml: duration: "),
        ({"name": "x", "tvs": {"sdk": {"encoding": "rot13"}}}, "tvs.sdk.encoding: encoding layers must be among"),
        ({"name": "x", "tvs": {"sdk": {"consent": "maybe"}}}, "tvs.sdk.consent: consent must be one of"),
        ({"name": "x", "tvs": {"sdk": {"collector": {"ip": "8.8.8.8"}}}}, "tvs.sdk.collector.ip: must be in TEST-NET-3"),
        ({"name": "x", "households": {"devices": {"toaster": [0, 1]}}}, "unknown device kind 'toaster'"),
        ({"name": "x", "colour": "red"}, "colour: unknown field"),
        ({"name": "x", "tvs": {"sdk": {"interval": "60s", "jitter": "90s"}}}, "jitter (90s) must be smaller"),
        ({"households": {"count": 1}}, "name: field required"),
    ],
)
def test_invalid_data_names_file_and_field(data, expected):
    with pytest.raises(ScenarioError) as info:
        validate_data(data, "scenarios/x.yaml")
    assert expected.lower() in str(info.value).lower()


def test_overrides_use_dotted_paths():
    sc = validate_data({"name": "x"}, overrides={"households.count": 3, "duration": "2h", "seed": 7})
    assert (sc.households.count, sc.duration, sc.seed) == (3, 7200, 7)


@pytest.mark.parametrize(("text", "seconds"), [("600s", 600), ("10m", 600), ("24h", 86400), ("1.5d", 129600), (90, 90)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_yaml_syntax_error_names_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nhouseholds: [\n")
    with pytest.raises(ScenarioError, match=r"broken.yaml: line \d+"):
        load_scenario(bad)


def test_validate_command_exit_code(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("name: x\nhouseholds:\n  count: 0\n")
    cmd = [sys.executable, "-m", "testbed.cli", "scenarios", "validate", str(bad)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "households.count" in proc.stderr and "got 0" in proc.stderr
    ok = subprocess.run([sys.executable, "-m", "testbed.cli", "scenarios", "validate", "scenarios/gozen-2021.yaml"],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
