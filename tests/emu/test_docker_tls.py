"""The SDK uploading over TLS in containers: a real handshake naming the collector, stored like HTTP."""

from __future__ import annotations

import subprocess

import pytest

from testbed.rundir import read_events
from tests.emu.conftest import lan_scenario
from tests.helpers import require_tshark
from tests.sim.test_run_outputs import _collector_items, _truth_items

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_tls_uploads_show_the_sni_and_reach_the_collector(node_image, tmp_path):
    from testbed.emu import run_docker

    out = tmp_path / "tls"
    scenario = lan_scenario(**{"households.count": 1, "tvs.sdk": {"transport": "tls", "encoding": "gzip+aes"}})
    run_docker(scenario, out, interval=30.0)
    events = read_events(out / "truth/events.jsonl")
    uploads = [e for e in events if e["kind"] == "upload"]
    assert uploads and all(e["delivered"] and e["transport"] == "tls" for e in uploads)
    assert all(e["dst"]["port"] == 443 for e in uploads)
    assert _collector_items(out / "collector.sqlite") == _truth_items(events)
    proc = subprocess.run([require_tshark(), "-r", str(out / "capture.pcapng"), "-Y",
                           "tls.handshake.type == 1 && ip.dst == 203.0.113.7", "-T", "fields",
                           "-e", "tls.handshake.extensions_server_name", "-e", "frame.comment"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    hellos = [line.split("\t") for line in proc.stdout.splitlines() if line]
    assert hellos and all(sni == "gz-data.com" for sni, _ in hellos)
    assert any(label.endswith("-upload") for _, label in hellos)  # the household side is labelled as the event
