"""Faults in a container run: a device killed, the collector stopped and started again."""

from __future__ import annotations

import pytest

from testbed.rundir import read_events
from tests.emu.conftest import lan_scenario

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_killed_device_and_stopped_collector(node_image, tmp_path):
    from testbed.emu import Fault, run_docker
    from testbed.emu.docker_client import docker_client

    scenario = lan_scenario(**{"households.count": 1, "duration": "100s"})
    # Timeline (SDK cycle 30 s, first cycle at ~7 s): cycle 2 starts at ~43 s, after the kill and the stop;
    # its upload fails, backs off 24-36 s, and is retried after the collector is back.
    victim = "h0000-d01"
    faults = (Fault(20, "kill", victim), Fault(20, "stop", "wan-collector"), Fault(62, "start", "wan-collector"))
    out = tmp_path / "run"
    run_docker(scenario, out, interval=30.0, faults=faults)
    client = docker_client()
    events = read_events(out / "truth/events.jsonl")
    sweeps = [e for e in events if e["kind"] == "sweep"]
    assert len(sweeps) >= 2
    subjects = [{i["subject"] for i in s["items"]} for s in sweeps]
    assert victim in subjects[0] and all(victim not in s for s in subjects[1:])
    uploads = [e for e in events if e["kind"] == "upload"]
    assert uploads[0]["delivered"]
    failed = [u for u in uploads if not u["delivered"]]
    assert failed and failed[0]["status"] == 0
    retried = [u for u in uploads if u["cycle"] == failed[0]["cycle"] and u["attempt"] > 1 and u["delivered"]]
    assert retried, [(u["id"], u["status"]) for u in uploads]
    assert retried[0]["start"] - failed[0]["end"] >= 20  # a back-off, not an immediate retry
    assert retried[0]["id"].endswith("-upload-r1")
    # The run cleaned up after itself.
    from tests.emu.conftest import summary_run_id

    selector = {"label": f"smarttv-testbed.run={summary_run_id(out)}"}
    assert not client.containers.list(all=True, filters=selector)
    assert not client.networks.list(filters=selector)
