"""The container backend's pure parts: lab plan, fault specs, apt mirror, labelling, the scanner's refusal."""

from __future__ import annotations

import pytest

from testbed.emu.capture import FlowRecord, FrameKey, Labeller
from testbed.emu.images import apt_mirror
from testbed.emu.plan import WAN_SUBNET, plan_lab
from testbed.emu.runner import Fault, compress
from testbed.errors import ContainmentError, RunError
from testbed.population import build_population
from tests.helpers import small


def test_plan_has_a_wan_and_one_internal_network_per_home():
    scenario = small(**{"households.count": 3})
    population = build_population(scenario)
    plan = plan_lab("abcd", scenario, population)
    assert [n.key for n in plan.networks] == ["wan", "h0000", "h0001", "h0002"]
    for h in population.households:
        nodes = plan.households[h.id]
        assert nodes[0].role == "router" and nodes[0].mac == h.router.mac and nodes[-1].role == "tv"
        assert {(n.hostname, n.mac, n.ip) for n in nodes[1:]} == {(d.hostname, d.mac, d.ip) for d in h.devices}
        gateway = next(n.gateway for n in plan.networks if n.key == h.id)
        assert gateway not in {d.ip for d in h.devices} | {h.router.ip}
    assert ("h0000-tv1", WAN_SUBNET, population.households[0].router.ip) in plan.routes


def test_fault_specs():
    assert Fault.parse("kill:h0000-d01@40s") == Fault(40.0, "kill", "h0000-d01")
    assert Fault.parse("start:wan-collector@2m").at_s == 120.0
    with pytest.raises(RunError):
        Fault.parse("explode:h0000-d01@1s")
    with pytest.raises(RunError):
        Fault.parse("kill-h0000")


def test_interval_compression_scales_jitter_and_first_delay():
    scenario, scale = compress(small(), 60.0)
    assert scale == 10.0
    sdk = scenario.tvs.sdk
    assert (sdk.interval, sdk.jitter, sdk.first_delay) == (60.0, 3.0, 12.0)


def test_apt_mirror_is_read_from_the_host_configuration(tmp_path):
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n")
    assert apt_mirror(tmp_path, tmp_path / "none") == "http://mirror.example/debian"
    with pytest.raises(RunError):
        apt_mirror(tmp_path / "missing", tmp_path / "none")


def test_labeller_matches_frames_to_recorded_flows():
    flows = [FlowRecord("arp", "192.168.1.5", 0, "192.168.1.0/24", 0, 1_000_000, 2_000_000, "tv-c0001-sweep",
                        "tv-c0001-sweep", "h0000"),
             FlowRecord("tcp", "192.168.1.5", 50000, "203.0.113.7", 80, 5_000_000, 5_100_000, "tv-c0001-upload",
                        "tv-c0001-upload", "h0000")]
    lab = Labeller(flows, {"203.0.113.100": "h0000"})
    assert lab.label(1_500_000, FrameKey("arp", "192.168.1.9", 0, "192.168.1.5", 0))[0] == "tv-c0001-sweep"
    assert lab.label(5_050_000, FrameKey("tcp", "203.0.113.7", 80, "192.168.1.5", 50000))[0] == "tv-c0001-upload"
    assert lab.label(9_000_000, FrameKey("arp", "192.168.1.9", 0, "192.168.1.5", 0))[0] == "benign:arp"
    assert lab.label(5_050_000, FrameKey("udp", "192.168.1.9", 5353, "224.0.0.251", 5353))[0] == "benign:mdns"


def test_scanner_refuses_targets_outside_its_own_subnet():
    import random

    from testbed.live.executor import LiveExecutor

    executor = LiveExecutor("lo", "127.0.0.1", random.Random(1))  # loopback: 127.0.0.0/8
    assert str(executor.check_target("127.0.0.0/8")) == "127.0.0.0/8"
    for target in ("192.168.1.0/24", "8.8.8.0/24", "127.0.0.0/24", "not-a-subnet"):
        with pytest.raises(ContainmentError, match="refusing to scan"):
            executor.check_target(target)
