"""The container backend's pure parts: lab plan, fault specs, apt mirror, labelling, the scanner's refusal."""

from __future__ import annotations

import pytest

from testbed.emu.capture import FlowRecord, FrameKey, Labeller
from testbed.emu.images import apt_mirror
from testbed.emu.plan import INTERNET_SUBNET, WAN_INTERNET_IP, WAN_SUBNET, plan_lab
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


def test_every_device_reaches_the_lab_internet_through_its_gateway_and_nothing_else():
    scenario = small(**{"households.count": 2})
    population = build_population(scenario)
    plan = plan_lab("abcd", scenario, population)
    assert ("wan-internet", "internet", WAN_INTERNET_IP) in {(n.name, n.role, n.ip) for n in plan.services}
    assert plan.local_routes == [("wan-internet", INTERNET_SUBNET)]
    for h in population.households:
        assert (h.router.id, INTERNET_SUBNET, WAN_INTERNET_IP) in plan.routes
        for d in h.devices:
            mine = {(dest, via) for node, dest, via in plan.routes if node == d.id}
            assert mine == {(WAN_SUBNET, h.router.ip), (INTERNET_SUBNET, h.router.ip)}
    for _, dest, _ in plan.routes:  # every route stays inside the lab's documentation ranges and homes
        assert dest in {WAN_SUBNET, INTERNET_SUBNET} | {h.subnet for h in population.households}


def test_the_scanner_app_phone_is_the_one_the_simulation_picks():
    scenario = small(**{"households.count": 4, "benign.scanner_app": 1.0})
    population = build_population(scenario)
    plan = plan_lab("abcd", scenario, population)
    for h in population.households:
        phones = [d.id for d in h.devices if d.kind == "phone"]
        scanners = [n.name for n in plan.households[h.id] if n.scanner]
        assert scanners == phones[:1]
    none = plan_lab("abcd", small(**{"benign.scanner_app": 0.0}), population)
    assert not any(n.scanner for nodes in none.households.values() for n in nodes)


def test_away_windows_become_leave_and_return_faults():
    from testbed.emu.runner import away_faults
    from testbed.population.presence import at_home, presence_changes

    day = 1619136000.0  # 2021-04-23 00:00 UTC
    assert at_home(((7.5, 17.25),), 0.0, day + 7 * 3600) and not at_home(((7.5, 17.25),), 0.0, day + 8 * 3600)
    assert presence_changes(((7.5, 17.25),), 0.0, day, 86400) == [(7.5 * 3600, False), (17.25 * 3600, True)]
    assert presence_changes(((7.5, 17.25),), 0.0, day + 8 * 3600, 3600) == [(0.0, False)]
    assert presence_changes(((7.5, 17.25),), 0.0, day + 6 * 3600, 1800) == []
    assert presence_changes((), 0.0, day, 86400) == []
    scenario = small(**{"households.count": 2, "start": "2021-04-23T08:05:00+08:00", "duration": "50s"})
    population = build_population(scenario)
    faults = away_faults(scenario, population)
    away = {d.id for h in population.households for d in h.devices
            if not at_home(d.away, 8 * 3600, scenario.start_ts)}
    assert away and {(f.action, f.at_s) for f in faults} == {("leave", 0.0)} and {f.node for f in faults} == away
    assert Fault.parse("leave:h0001-d02@5s") == Fault(5.0, "leave", "h0001-d02")


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
