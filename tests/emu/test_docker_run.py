"""A two-home scenario in containers, end to end: artifacts, collector, containment, and the divergence report."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
from pathlib import Path

import dpkt
import pytest

from testbed.packets import mac_str
from testbed.rundir import read_events
from testbed.sim.lan import _mdns_speaker
from tests.helpers import require_tshark
from tests.sim.test_run_outputs import _collector_items, _truth_items

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _population(run: Path) -> dict:
    return json.loads((run / "population.json").read_text())


def test_run_directory_has_every_artifact(docker_run):
    for name in ("manifest.json", "scenario.yaml", "population.json", "capture.pcapng", "truth/events.jsonl",
                 "truth/flows.csv", "collector.sqlite"):
        assert (docker_run / name).is_file(), name
    manifest = json.loads((docker_run / "manifest.json").read_text())
    assert manifest["backend"] == "docker" and "capture.pcapng" in manifest["artifacts"]


def test_tshark_reads_the_capture_and_its_labels(docker_run):
    tshark = require_tshark()
    proc = subprocess.run([tshark, "-r", str(docker_run / "capture.pcapng"), "-T", "fields", "-e", "frame.comment"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    labels = [line for line in proc.stdout.splitlines() if line]
    events = read_events(docker_run / "truth/events.jsonl")
    ids = {e["id"] for e in events}
    counts = {k: sum(1 for e in events if e["kind"] == k) for k in ("sweep", "probe", "wifi_scan", "upload")}
    assert len(set(counts.values())) == 1 and counts["sweep"] >= 2  # whole cycles of both TVs
    assert {lbl for lbl in labels if not lbl.startswith("benign:")} <= ids
    assert any(lbl.endswith("-sweep") for lbl in labels) and any(lbl.endswith("-upload") for lbl in labels)
    assert any(lbl.startswith("benign:") for lbl in labels)
    assert all(e["frames"] > 0 for e in events if e["kind"] != "wifi_scan")


def test_collector_holds_exactly_what_truth_says_was_sent(docker_run):
    events = read_events(docker_run / "truth/events.jsonl")
    sent = _truth_items(events)
    assert sent and _collector_items(docker_run / "collector.sqlite") == sent


def test_every_device_identity_appears_in_the_upload(docker_run):
    from testbed.population.presence import at_home
    from testbed.scenario import load_scenario

    scenario = load_scenario(docker_run / "scenario.yaml")
    offset = scenario.start.utcoffset().total_seconds()
    events = read_events(docker_run / "truth/events.jsonl")
    away = 0
    for home in _population(docker_run)["households"]:
        uploaded = [i for e in events if e["kind"] == "upload" and e["household"] == home["id"] for i in e["items"]]
        macs = {i["value"] for i in uploaded if i["field"] == "mac"}
        names = {i["value"] for i in uploaded if i["field"] == "hostname"}
        tv_ids = {tv["id"] for tv in home["tvs"]}
        for d in (home["router"], *home["devices"]):
            if d["id"] in tv_ids:
                continue  # the TV does not scan itself
            if not at_home(d["away"], offset, scenario.start_ts):
                away += 1  # its link is down for the run: no sweep finds it
                assert d["mac"] not in macs, d["id"]
                continue
            assert d["mac"] in macs, d["id"]
            from testbed.population.io import _device

            device = _device(d)
            if _mdns_speaker(device):
                assert d["hostname"] in names, d["id"]
            elif device.netbios:
                assert d["hostname"].upper()[:15] in names, d["id"]
    assert away, "the morning scenario has devices away at work"


def _testbed_networks(run: Path) -> list:
    # The wan (TEST-NET-3), the lab's internet (TEST-NET-2, answered by its own node) and the homes.
    nets = [ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("198.51.100.0/24")]
    nets += [ipaddress.ip_network(h["subnet"]) for h in _population(run)["households"]]
    return nets


def _lab_addresses(run: Path) -> tuple[list, set]:
    """The subnets of the homes, the wan addresses of the lab's own nodes, and every population MAC."""
    from testbed.emu.plan import WAN_DNS_IP, WAN_INTERNET_IP, WAN_ROUTER_BASE

    homes = _population(run)["households"]
    nets = [ipaddress.ip_network(h["subnet"]) for h in homes]
    wan = {"203.0.113.7", WAN_DNS_IP, WAN_INTERNET_IP} | {f"203.0.113.{WAN_ROUTER_BASE + i}" for i in range(len(homes))}
    nets += [ipaddress.ip_network(f"{a}/32") for a in wan]
    macs = {d["mac"] for h in homes for d in (h["router"], *h["devices"])}
    return nets, macs


def test_host_uplink_sees_no_testbed_frame(docker_run):
    # The host's own traffic may use TEST-NET-3 addresses too (this one's infrastructure does): what must
    # never appear is a lab node's address or MAC.
    nets, macs = _lab_addresses(docker_run)
    uplink = docker_run.parent / "uplink.pcap"
    frames = 0
    with open(uplink, "rb") as fh:
        for _, frame in dpkt.pcap.Reader(fh):
            frames += 1
            eth = dpkt.ethernet.Ethernet(frame)
            for mac in (eth.src, eth.dst):
                assert mac_str(mac) not in macs, f"testbed MAC {mac_str(mac)} on the host's uplink"
            ip = eth.data
            if isinstance(ip, dpkt.arp.ARP):
                addrs = (ip.spa, ip.tpa)
            elif isinstance(ip, dpkt.ip.IP):
                addrs = (ip.src, ip.dst)
            else:
                continue
            for a in addrs:
                addr = ipaddress.ip_address(socket.inet_ntoa(a))
                assert not any(addr in n for n in nets), f"testbed address {addr} on the host's uplink"


def test_no_container_has_a_way_out(docker_run):
    from testbed.emu.docker_client import docker_client
    from testbed.emu.hostnet import routes_of
    from testbed.emu.labels import RUN_LABEL

    run_id = (docker_run.parent / "run_id").read_text()
    containers = docker_client().containers.list(filters={"label": f"{RUN_LABEL}={run_id}"})
    assert len(containers) > 20
    nets = _testbed_networks(docker_run)
    # The host has no route into the lab either: its bridges carry no address.
    host_routes = subprocess.run(["ip", "route", "show"], capture_output=True, text=True).stdout
    for line in host_routes.splitlines():
        dest = line.split()[0]
        if dest != "default":
            assert not any(ipaddress.ip_network(dest).overlaps(n) for n in nets), line
    for c in containers:
        host = c.attrs["HostConfig"]
        assert not host.get("Privileged") and host.get("NetworkMode") != "host", c.name
        for name in c.attrs["NetworkSettings"]["Networks"]:
            assert docker_client().networks.get(name).attrs["Internal"] is True, (c.name, name)
        routes = routes_of(c.attrs["State"]["Pid"])
        assert "default" not in routes, (c.name, routes)
        for line in routes.splitlines():
            dest = line.split()[0]
            assert any(ipaddress.ip_network(dest).subnet_of(n) for n in nets), (c.name, line)


def test_lab_status_lists_the_kept_lab(docker_run):
    from typer.testing import CliRunner

    from testbed.cli import app

    run_id = (docker_run.parent / "run_id").read_text()
    result = CliRunner().invoke(app, ["lab", "status"])
    assert result.exit_code == 0 and run_id in result.output and "h0000-tv1" in result.output


def test_compare_with_the_simulation(docker_run, tmp_path):
    from typer.testing import CliRunner

    from testbed.cli import app
    from testbed.emu.compare import compare_runs
    from testbed.run import run_scenario
    from testbed.scenario import load_scenario

    sim = tmp_path / "sim"
    run_scenario(load_scenario(docker_run / "scenario.yaml"), sim)
    report = compare_runs(sim, docker_run)
    assert report.same_events, report.differences
    assert report.same_items, report.differences
    assert not report.differences
    assert any(d.startswith("timings") for d in report.expected)
    # Background traffic on real sockets: NTP and HTTPS to the lab's internet, the router's ARP refreshes,
    # zeroconf's mDNS, DNS through the gateway, SSDP.
    docker_frames = {proto: right for proto, _, right in report.sections["frames per protocol"]}
    for proto in ("ntp", "https", "arp", "mdns", "dns", "ssdp"):
        assert docker_frames.get(proto, 0) > 0, (proto, docker_frames)
    result = CliRunner().invoke(app, ["compare", str(sim), str(docker_run)])
    assert result.exit_code == 0, result.output
    assert "events per kind" in result.output and "Same events per kind and same leaked items" in result.output
    assert "ntp" in result.output and "https" in result.output


def test_sdk_in_a_container_refuses_a_foreign_subnet(docker_run):
    from testbed.emu.docker_client import docker_client
    from testbed.emu.labels import NODE_LABEL, RUN_LABEL

    run_id = (docker_run.parent / "run_id").read_text()
    tv = docker_client().containers.list(filters={"label": [f"{RUN_LABEL}={run_id}", f"{NODE_LABEL}=h0000-tv1"]})[0]
    script = ("import random\nfrom testbed.live.executor import LiveExecutor\nfrom testbed.steps import Sweep\n"
              "from testbed.errors import ContainmentError\n"
              "ex = LiveExecutor('eth0', '0.0.0.0', random.Random(0))\n"
              "try:\n    ex.perform(Sweep('10.20.30.0/24'))\nexcept ContainmentError as e:\n    print('refused:', e)\n")
    code, output = tv.exec_run(["python", "-c", script])
    assert code == 0 and b"refused: refusing to scan 10.20.30.0/24: outside this node's own subnet" in output


def _household_tv(run_id: str, tv: str):
    from testbed.emu.docker_client import docker_client
    from testbed.emu.labels import NODE_LABEL, RUN_LABEL

    return docker_client().containers.list(filters={"label": [f"{RUN_LABEL}={run_id}", f"{NODE_LABEL}={tv}"]})[0]


# Run inside the TV's container: mDNS questions as the SDK asks them (from port 5353, to the group), and
# every record of every answer, as zeroconf's own parser reads them.
_ASK = """
import json, select, socket, sys, time
from zeroconf import DNSIncoming
from testbed import packets as P
from testbed.live.netif import multicast_socket
own, questions = sys.argv[1], json.loads(sys.argv[2])
s = multicast_socket("224.0.0.251", 5353, own)
for name, qtype in questions:
    s.sendto(P.mdns_query([(name, qtype)]), ("224.0.0.251", 5353))
records, end = [], time.time() + 3
while (left := end - time.time()) > 0 and select.select([s], [], [], left)[0]:
    data, addr = s.recvfrom(9000)
    msg = DNSIncoming(data)
    if msg.valid and msg.is_response():
        for r in msg.answers():
            value = (socket.inet_ntoa(r.address) if r.type == 1 else getattr(r, "alias", None)
                     or getattr(r, "server", None))
            records.append([addr[0], r.type, r.name, value])
print(json.dumps(records))
"""


def test_devices_answer_mdns_by_zeroconf_with_their_population_hostnames(docker_run):
    from testbed.packets import reverse_name
    from testbed.population.io import _device

    run_id = (docker_run.parent / "run_id").read_text()
    home = _population(docker_run)["households"][0]
    tv = home["tvs"][0]["id"]
    tv_ip = next(d["ip"] for d in home["devices"] if d["id"] == tv)
    speakers = [d for d in home["devices"] if d["id"] != tv and _mdns_speaker(_device(d))]
    assert speakers, "the first home has a device that answers mDNS"
    questions = []
    for d in speakers:
        questions += [(f"{d['hostname']}.local", 1), (reverse_name(d["ip"]), 12)]
        questions += [(service, 12) for service in d["services"]]
    code, output = _household_tv(run_id, tv).exec_run(["python", "-c", _ASK, tv_ip, json.dumps(questions)])
    assert code == 0, output
    records = {tuple(r) for r in json.loads(output.decode().strip().splitlines()[-1])}
    for d in speakers:
        host = f"{d['hostname']}.local."
        assert (d["ip"], 1, host, d["ip"]) in records, (d["id"], records)  # hostname.local -> its address
        assert (d["ip"], 12, reverse_name(d["ip"]) + ".", host) in records, d["id"]  # its address -> hostname
        # python-zeroconf, not a hand-made answer: it adds an NSEC record saying the host has no AAAA.
        assert any(src == d["ip"] and rtype == 47 and name == host for src, rtype, name, _ in records), d["id"]
        for service in d["services"]:
            instance = f"{d['hostname'].replace('-', ' ')}.{service}."
            assert (d["ip"], 12, service + ".", instance) in records, (d["id"], service)
