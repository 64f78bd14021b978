"""``tvtestbed run`` as a user meets it: summary, refusals, bad input, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.errors import ContainmentError
from testbed.population import build_population
from testbed.sim.executor import SimExecutor
from testbed.sim.lan import SimLan
from testbed.steps import Sweep
from tests.helpers import default_sigint, small

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "testbed.cli"]


def _cli(*args, **kw):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT, timeout=600, **kw)


def test_run_prints_a_summary_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "r"
    proc = _cli("run", "gozen-2021", "--out", str(out), "--households", "2", "--duration", "30m", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["households"] == 2 and summary["frames"] > 0 and summary["sdk_cycles"] >= 2
    assert summary["leaked"]["mac"] > 0 and summary["uploads_delivered"] == summary["uploads"] > 0
    again = _cli("run", "gozen-2021", "--out", str(out), "--households", "2", "--duration", "30m", "--quiet")
    assert again.returncode != 0 and "already exists" in again.stderr and "--force" in again.stderr
    forced = _cli("run", "gozen-2021", "--out", str(out), "--households", "1", "--duration", "20m", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "hostnames that left homes" in forced.stdout
    assert json.loads((out / "manifest.json").read_text())["scenario"]["households"]["count"] == 1


def test_invalid_scenario_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("name: x\nhouseholds:\n  count: 0\n")
    out = tmp_path / "never"
    proc = _cli("run", str(bad), "--out", str(out))
    assert proc.returncode == 2
    assert f"{bad}: households.count: must be >= 1, got 0" in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    proc = _cli("run", "gozen-2021", "--out", str(out), "--duration", "soon")
    assert proc.returncode == 2 and "duration" in proc.stderr and not out.exists()


def test_missing_scenario_file_is_a_clear_error(tmp_path):
    proc = _cli("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "nope.yaml: cannot read" in proc.stderr


@pytest.mark.slow
def test_ctrl_c_leaves_no_run_directory(tmp_path):
    out = tmp_path / "interrupted"
    proc = subprocess.Popen([*CLI, "run", "gozen-2021", "--out", str(out), "--quiet"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".interrupted.partial-*/capture.pcapng")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".interrupted.partial-*")), "the run never started writing"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert list(tmp_path.iterdir()) == []


def test_the_scanner_refuses_targets_outside_its_own_subnet():
    household = build_population(small(**{"households.count": 1})).households[0]
    import random

    lan = SimLan(household, 0.0, 1)
    executor = SimExecutor(lan, random.Random(1), None)
    tv = lan.by_id[household.tvs[0].id]
    with pytest.raises(ContainmentError, match="refusing to sweep 10.99.0.0/24"):
        executor.perform(tv, Sweep("10.99.0.0/24"), 1_619_107_200_000_000)
    with pytest.raises(ContainmentError):
        executor.perform(tv, Sweep("8.8.8.0/24"), 1_619_107_200_000_000)
