"""Live capture on the lab's bridges (host side), and its merge into the labelled ``capture.pcapng``.

tcpdump runs on each household's bridge and on the wan's, from the host, so it sees every frame
(ARP included) and nothing that is not the lab's. The pcap files are merged by capture time; each
frame's label comes from the flows the TV's live executor recorded for each step (a time window plus
addresses and ports), as the simulation labels them; every other frame is ``benign:<kind>``.
"""

from __future__ import annotations

import heapq
import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import dpkt

from testbed.errors import RunError
from testbed.packets import PcapngWriter
from testbed.truth import CommunityIds

LINKTYPE_ETHERNET = 1
REPLY_SLACK_US = 1_500_000  # answers to a step's last request still belong to the step
_IP_PROTOS = {2: "igmp", 17: "udp", 6: "tcp", 1: "icmp"}
_BENIGN_PORTS = {53: "dns", 5353: "mdns", 1900: "ssdp", 137: "nbns", 123: "ntp", 67: "dhcp", 68: "dhcp", 443: "https"}


class BridgeCapture:
    """tcpdump on every bridge of a lab, as a context manager; waits until each one is listening."""

    def __init__(self, bridges: dict[str, str], directory: Path) -> None:
        self.bridges = bridges
        self.directory = directory
        self.procs: dict[str, subprocess.Popen] = {}

    def files(self) -> dict[str, Path]:
        return {key: self.directory / f"{key}.pcap" for key in self.bridges}

    def __enter__(self) -> BridgeCapture:
        try:
            for key, bridge in self.bridges.items():
                proc = subprocess.Popen(
                    ["tcpdump", "-i", bridge, "-w", str(self.directory / f"{key}.pcap"), "-U", "-s", "0",
                     "--immediate-mode", "-n"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                self.procs[key] = proc
                self._wait_listening(key, proc)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self, key: str, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode(errors="replace")  # "listening on br-...": capture has begun
        if "listening on" not in line:
            proc.kill()
            raise RunError(f"tcpdump on {self.bridges[key]} did not start: {line.strip()}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            if proc.stderr:
                proc.stderr.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# --------------------------------------------------------------------------- labelling


@dataclass(frozen=True, slots=True)
class FrameKey:
    """A frame's endpoints as the executor records flows (ports 0 for ARP, ICMP type/code as ports)."""

    proto: str
    src: str
    sport: int
    dst: str
    dport: int


def frame_key(frame: bytes) -> FrameKey | None:
    """The endpoints of an Ethernet frame (None for anything not ARP or IPv4)."""
    try:
        eth = dpkt.ethernet.Ethernet(frame)
    except dpkt.UnpackError:
        return None
    data = eth.data
    if isinstance(data, dpkt.arp.ARP):
        return FrameKey("arp", socket.inet_ntoa(data.spa), 0, socket.inet_ntoa(data.tpa), 0)
    if not isinstance(data, dpkt.ip.IP):
        return None
    src, dst = socket.inet_ntoa(data.src), socket.inet_ntoa(data.dst)
    seg = data.data
    if isinstance(seg, dpkt.tcp.TCP):
        return FrameKey("tcp", src, seg.sport, dst, seg.dport)
    if isinstance(seg, dpkt.udp.UDP):
        return FrameKey("udp", src, seg.sport, dst, seg.dport)
    if isinstance(seg, dpkt.icmp.ICMP):
        return FrameKey("icmp", src, seg.type, dst, seg.code)
    return FrameKey(_IP_PROTOS.get(data.p, str(data.p)), src, 0, dst, 0)


@dataclass(slots=True)
class FlowRecord:
    """A flow the live executor recorded (JSON line of ``<tv>.flows.jsonl``)."""

    proto: str
    src: str
    sport: int
    dst: str
    dport: int
    first_us: int
    last_us: int
    label: str
    event_id: str
    household: str


@dataclass
class Labeller:
    """Assigns each frame the label of the recorded flow it belongs to, else ``benign:<kind>``."""

    flows: list[FlowRecord]
    router_wan: dict[str, str]  # wan address of each household's gateway -> household
    subnets: dict[str, str] = field(default_factory=dict)  # household -> subnet (for ARP sweeps)

    def __post_init__(self) -> None:
        self._by_ip: dict[str, list[FlowRecord]] = {}
        for f in self.flows:
            self._by_ip.setdefault(f.src, []).append(f)
        for rows in self._by_ip.values():
            rows.sort(key=lambda f: f.first_us)

    def label(self, ts_us: int, key: FrameKey | None) -> tuple[str, str]:
        """``(label, event_id)`` of a frame captured at ``ts_us``."""
        if key is None:
            return "benign:other", ""
        for ip in (key.src, key.dst):
            for f in self._by_ip.get(ip, ()):
                if f.first_us - 50_000 <= ts_us <= f.last_us + REPLY_SLACK_US and self._matches(f, key):
                    return f.label, f.event_id
        if key.proto == "udp" and key.dport == 53 and key.src in self.router_wan or (
                key.proto == "udp" and key.sport == 53 and key.dst in self.router_wan):
            # The gateway's forward of a TV's lookup, on the wan side.
            household = self.router_wan.get(key.src) or self.router_wan.get(key.dst)
            for f in self.flows:
                if (f.household == household and f.proto == "udp" and f.dport == 53 and f.event_id
                        and f.first_us - 50_000 <= ts_us <= f.last_us + REPLY_SLACK_US):
                    return f.label, f.event_id
        return f"benign:{_benign_kind(key)}", ""

    @staticmethod
    def _matches(f: FlowRecord, k: FrameKey) -> bool:
        if f.proto != k.proto:
            return False
        if f.proto == "arp":  # a sweep: the scanner's requests and every answer to it
            return f.src in (k.src, k.dst)
        if f.proto == "icmp":
            return {f.src, f.dst} == {k.src, k.dst}
        forward = (f.src, f.sport, f.dst, f.dport) == (k.src, k.sport, k.dst, k.dport)
        backward = (f.src, f.sport, f.dst, f.dport) == (k.dst, k.dport, k.src, k.sport)
        return forward or backward


def _benign_kind(key: FrameKey) -> str:
    if key.proto == "arp":
        return "arp"
    if key.proto == "icmp":
        return "icmp"
    for port in (key.dport, key.sport):
        if port in _BENIGN_PORTS:
            return _BENIGN_PORTS[port]
    return key.proto


def read_flow_records(out_dir: Path, households: dict[str, str]) -> list[FlowRecord]:
    """Every flow the TVs recorded (``households``: TV id -> household id)."""
    records = []
    for path in sorted(out_dir.glob("*.flows.jsonl")):
        tv = path.name.removesuffix(".flows.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                records.append(FlowRecord(r["proto"], r["src"], r["sport"], r["dst"], r["dport"], r["first_us"],
                                          r["last_us"], r["label"], r["event_id"], households.get(tv, "")))
    return records


def _read_pcap(path: Path, interface: int) -> Iterator[tuple[int, int, bytes]]:
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        try:
            reader = dpkt.pcap.Reader(fh)
        except ValueError:
            return
        for ts, frame in reader:
            yield round(ts * 1_000_000), interface, bytes(frame)


@dataclass
class MergeResult:
    """What the merge wrote, and the per-event frame counts and flow rows for truth."""

    frames: int = 0
    bytes: int = 0
    per_event: dict[str, int] = field(default_factory=dict)
    flow_rows: list[tuple] = field(default_factory=list)
    per_label_kind: dict[str, int] = field(default_factory=dict)


def merge_captures(files: dict[str, Path], out: Path, labeller: Labeller) -> MergeResult:
    """Merge the bridges' pcaps by capture time into ``out`` (pcapng, one interface per bridge, labels)."""
    keys = list(files)
    result = MergeResult()
    cids = CommunityIds()
    flows: dict[tuple, list] = {}
    streams = [_read_pcap(files[k], i) for i, k in enumerate(keys)]
    with open(out, "wb") as fh:
        writer = PcapngWriter(fh, [(k, LINKTYPE_ETHERNET) for k in keys])
        batch: list[tuple[int, bytes, str]] = []
        current = 0
        for ts, interface, frame in heapq.merge(*streams, key=lambda r: r[0]):
            key = frame_key(frame)
            label, event_id = labeller.label(ts, key)
            if interface != current and batch:
                writer.write_many(batch, current)
                batch = []
            current = interface
            batch.append((ts, frame, label))
            if event_id:
                result.per_event[event_id] = result.per_event.get(event_id, 0) + 1
            if key is not None:
                a, b = (key.src, key.sport), (key.dst, key.dport)
                fkey = (key.proto, *min(a, b), *max(a, b), label)
                row = flows.get(fkey)
                if row is None:
                    flows[fkey] = [key, ts, ts, label, event_id]
                else:
                    row[2] = ts
        if batch:
            writer.write_many(batch, current)
        result.frames, result.bytes = writer.frames_written, writer.bytes_written
    for key, first, last, label, event_id in sorted(flows.values(), key=lambda r: r[1]):
        cid = cids.of(key.proto, key.src, key.sport, key.dst, key.dport) if key.proto in ("tcp", "udp", "icmp") else ""
        src = f"{key.src}:{key.sport}" if key.proto in ("tcp", "udp") else key.src
        dst = f"{key.dst}:{key.dport}" if key.proto in ("tcp", "udp") else key.dst
        result.flow_rows.append((cid, first, last, src, dst, key.proto, label, event_id))
    return result
