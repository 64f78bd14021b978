"""The live executor: performs one behaviour step with real sockets inside a container.

The counterpart of ``testbed.sim.executor.SimExecutor``: same steps, same results, same flow records,
but the frames are real and a capture on the household's bridge sees them. Timing follows the
simulation's where the wire does not decide it (the scanner waits one second for late answers; a Wi-Fi
scan takes 2.5 s), so that the two backends' cycles line up.
"""

from __future__ import annotations

import ipaddress
import json
import random
import select
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from testbed import packets as P
from testbed.errors import ContainmentError
from testbed.live.netif import dns_answers, interface_mac, interface_network, multicast_socket, nbstat_name
from testbed.steps import (
    DnsLookup,
    DnsLookups,
    Host,
    HttpsSession,
    MdnsAnnounce,
    MdnsQuery,
    NtpSync,
    Probe,
    ProbedHost,
    RouterArp,
    SeenNetwork,
    SsdpNotify,
    SsdpSearch,
    Step,
    Sweep,
    Upload,
    UploadResult,
    WifiScan,
)
from testbed.truth.flow import Flow

if TYPE_CHECKING:  # zeroconf is loaded by the nodes that speak mDNS only
    from testbed.live.mdns import MdnsHost

ETH_P_ARP = 0x0806
LATE_ANSWER_S = 1.0  # as the simulated scanner: wait a second after the last request
WIFI_SCAN_S = 2.5
NTP_TIMEOUT_S = 2.0
T = TypeVar("T")  # the items of a paced step
MDNS_GROUP, SSDP_GROUP = "224.0.0.251", "239.255.255.250"


def _us(t: float) -> int:
    return int(t * 1_000_000)


@dataclass(slots=True)
class LiveOutcome:
    """What performing a step gave: the behaviour's result and the flows it opened (µs times)."""

    result: object
    flows: list[Flow] = field(default_factory=list)


class LiveExecutor:
    """Performs steps for one node: ``iface`` is its LAN interface, ``router_ip`` its gateway and resolver."""

    def __init__(self, iface: str, router_ip: str, rng: random.Random, wifi_file: Path | None = None,
                 http_timeout: float = 8.0, mdns: MdnsHost | None = None, time_scale: float = 1.0) -> None:
        self.iface = iface
        self.own = interface_network(iface)
        self.ip = str(self.own.ip)
        self.mac = interface_mac(iface)
        self.router_ip = router_ip
        self.rng = rng
        self.wifi_file = wifi_file
        self.http_timeout = http_timeout
        self.mdns = mdns
        self.time_scale = time_scale  # how much faster than the scenario's clock the run goes (pauses in a step)
        self._transport = None  # made on the first upload: only TVs upload
        self._addresses: dict[str, str] = {}  # what the last lookups answered, as a stub resolver caches
        self.icmp_id = (int(self.own.ip) * 2654435761) & 0xFFFF
        self.icmp_seq = 0
        self._handlers: dict[type[Step], Callable[[Step], LiveOutcome]] = {
            Sweep: self._sweep, Probe: self._probe, WifiScan: self._wifi_scan, Upload: self._upload,
            DnsLookup: self._dns_lookup, DnsLookups: self._dns_lookups, NtpSync: self._ntp,
            HttpsSession: self._https, RouterArp: self._router_arp,
            SsdpNotify: self._ssdp_notify, SsdpSearch: self._ssdp_search,
        }
        if mdns is not None:
            self._handlers.update({MdnsAnnounce: self._mdns_announce, MdnsQuery: self._mdns_query})

    def supports(self, step: Step) -> bool:
        """Whether this executor can perform ``step`` for real (DHCP cannot be: Docker fixes every address)."""
        return type(step) in self._handlers

    def perform(self, step: Step) -> LiveOutcome:
        """Perform ``step`` now; returns when the step is over."""
        return self._handlers[type(step)](step)

    # ------------------------------------------------------------------ SDK steps

    def check_target(self, subnet: str) -> ipaddress.IPv4Network:
        """``subnet`` if it is this node's own interface subnet; ContainmentError otherwise."""
        try:
            net = ipaddress.ip_network(subnet, strict=False)
        except ValueError as exc:
            raise ContainmentError(f"refusing to scan {subnet!r}: not a subnet ({exc})") from None
        if net != self.own.network:
            raise ContainmentError(
                f"refusing to scan {subnet}: outside this node's own subnet {self.own.network} ({self.iface})")
        return net

    def _sweep(self, step: Sweep) -> LiveOutcome:
        net = self.check_target(step.subnet)
        gap = step.gap_ms / 1000.0
        s = self._arp_socket()
        found: dict[str, str] = {}
        start = time.time()
        try:
            own = self.own.ip.packed
            for host in net.hosts():
                if host == self.own.ip:
                    continue
                s.send(P.arp_request(self.mac, own, host.packed))
                self._drain_arp(s, found, time.time() + gap)
            self._drain_arp(s, found, time.time() + LATE_ANSWER_S)
        finally:
            s.close()
        end = time.time()
        # In subnet order, as the simulated sweep reports them.
        hosts = [Host(ip, found[ip]) for ip in sorted(found, key=lambda a: int(ipaddress.ip_address(a)))]
        return LiveOutcome(hosts, [Flow("arp", self.ip, 0, step.subnet, 0, _us(start), _us(end))])

    def _arp_socket(self) -> socket.socket:
        # A raw ARP socket on the LAN interface: the one thing CAP_NET_RAW is granted for.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        s.bind((self.iface, ETH_P_ARP))
        s.setblocking(False)
        return s

    def _drain_arp(self, s: socket.socket, found: dict[str, str], until: float) -> None:
        own = self.own.ip.packed
        while True:
            left = until - time.time()
            if left <= 0:
                return
            if not select.select([s], [], [], left)[0]:
                return
            frame = s.recv(2048)
            # Ethernet (14) + ARP: opcode at 20, sender MAC 22, sender IP 28, target IP 38.
            if len(frame) >= 42 and frame[20:22] == b"\x00\x02" and frame[38:42] == own:
                found[socket.inet_ntoa(frame[28:32])] = P.mac_str(frame[22:28])

    def _probe(self, step: Probe) -> LiveOutcome:
        icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        mdns = multicast_socket(MDNS_GROUP, 5353, self.ip) if step.mdns else None
        nbns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if step.nbns else None
        if nbns is not None:
            nbns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            nbns.bind((self.ip, 137))
        socks = [s for s in (icmp, mdns, nbns) if s is not None]
        sent: dict[int, tuple[str, float]] = {}  # icmp seq -> (ip, time)
        txids: dict[int, str] = {}
        rtts: dict[str, float] = {}
        mdns_names: dict[str, str] = {}
        nb_names: dict[str, str] = {}
        flows: list[Flow] = []
        mdns_first = mdns_last = None
        targets = [h for h in step.targets if h.ip != self.ip]

        def drain(until: float) -> None:
            while (left := until - time.time()) > 0:
                ready = select.select(socks, [], [], left)[0]
                if not ready:
                    return
                now = time.time()
                for s in ready:
                    data, addr = s.recvfrom(4096)
                    if s is icmp:
                        self._icmp_reply(data, sent, rtts, now)
                    elif s is mdns:
                        self._mdns_reply(data, addr, mdns_names, flows, now)
                    elif s is nbns:
                        answer = nbstat_name(data)
                        if answer and answer[0] in txids:
                            nb_names[txids[answer[0]]] = answer[1]

        try:
            for host in targets:
                t0 = time.time()
                if step.icmp:
                    self.icmp_seq = (self.icmp_seq + 1) & 0xFFFF
                    sent[self.icmp_seq] = (host.ip, time.time())
                    icmp.sendto(_echo_request(self.icmp_id, self.icmp_seq), (host.ip, 0))
                    flows.append(Flow("icmp", self.ip, 8, host.ip, 0, _us(t0), _us(t0)))
                if mdns is not None:
                    tq = time.time()
                    mdns.sendto(P.mdns_reverse_query(host.ip), (MDNS_GROUP, 5353))
                    mdns_first = mdns_first or _us(tq)
                    mdns_last = _us(tq)
                if nbns is not None:
                    txid = self.rng.getrandbits(16)
                    txids[txid] = host.ip
                    tq = time.time()
                    nbns.sendto(P.nbns_nbstat_query(txid), (host.ip, 137))
                    flows.append(Flow("udp", self.ip, 137, host.ip, 137, _us(tq), _us(tq)))
                drain(t0 + 0.025)  # the simulated probe paces hosts 25 ms apart
            drain(time.time() + LATE_ANSWER_S)
        finally:
            for s in socks:
                s.close()
        if mdns_first is not None:
            flows.append(Flow("udp", self.ip, 5353, MDNS_GROUP, 5353, mdns_first, mdns_last))
        results = []
        for host in step.targets:
            rtt = rtts.get(host.ip)
            name = mdns_names.get(host.ip) or nb_names.get(host.ip)
            results.append(ProbedHost(host.ip, host.mac, round(rtt, 3) if rtt is not None else None, name))
        return LiveOutcome(results, flows)

    def _icmp_reply(self, data: bytes, sent: dict, rtts: dict, now: float) -> None:
        ihl = (data[0] & 0x0F) * 4
        icmp = data[ihl:]
        if len(icmp) >= 8 and icmp[0] == 0 and int.from_bytes(icmp[4:6], "big") == self.icmp_id:
            seq = int.from_bytes(icmp[6:8], "big")
            if seq in sent:
                ip, t = sent[seq]
                rtts.setdefault(ip, (now - t) * 1000.0)

    def _mdns_reply(self, data: bytes, addr: tuple, names: dict, flows: list, now: float) -> None:
        try:
            _, answers = dns_answers(data)
        except Exception:  # noqa: BLE001 - anything on a multicast group may arrive; ignore what is not DNS
            return
        for rtype, name, value in answers:
            if rtype == 12 and name.endswith(".in-addr.arpa"):
                ip = ".".join(reversed(name[: -len(".in-addr.arpa")].split(".")))
                names[ip] = value.removesuffix(".local")
                flows.append(Flow("udp", addr[0], 5353, MDNS_GROUP, 5353, _us(now), _us(now)))

    def _wifi_scan(self, step: WifiScan) -> LiveOutcome:
        # No radio in a container: the household's neighbour networks come from a read-only file, and the
        # scan takes as long as the simulated one.
        time.sleep(WIFI_SCAN_S)
        nets = json.loads(self.wifi_file.read_text(encoding="utf-8")) if self.wifi_file else []
        seen = []
        for n in nets:
            # As the simulation: weak networks come and go between scans, strong ones are always there.
            if n["rssi"] > -85 or self.rng.random() < 0.5:
                rssi = max(-95, min(-30, n["rssi"] + self.rng.randint(-3, 3)))
                seen.append(SeenNetwork(n["ssid"], n["bssid"], n["channel"], rssi))
        return LiveOutcome(seen)

    def _upload(self, step: Upload) -> LiveOutcome:
        flows: list[Flow] = []
        server_ip = self._resolve(step.domain, flows) if step.resolve else None
        http_req = P.http_request("POST", step.domain, step.path, list(step.headers), step.body)
        if server_ip is None:
            return LiveOutcome(UploadResult(0, None, len(http_req), 0, "name not resolved"), flows)
        from testbed.sdk.transport import HttpRequest, HttpTransport

        if self._transport is None:
            self._transport = HttpTransport(timeout=self.http_timeout, tls=step.transport == "tls")
        t0 = time.time()
        request = HttpRequest("POST", step.domain, step.path, step.headers, step.body)
        response = self._transport.send(request, (server_ip, step.port))
        flows.append(Flow("tcp", self.ip, self._transport.last_local_port, server_ip, step.port, _us(t0),
                          _us(time.time())))
        if response.status == 0:
            return LiveOutcome(UploadResult(0, server_ip, len(http_req), 0, response.reason), flows)
        http_resp = P.http_response(response.status, response.reason or "OK",
                                    [("Content-Type", "application/json"), ("Server", "nginx")], response.body)
        return LiveOutcome(UploadResult(response.status, server_ip, len(http_req), len(http_resp)), flows)

    def _resolve(self, name: str, flows: list[Flow], timeout: float = 2.0) -> str | None:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((self.ip, 0))
            txid = self.rng.getrandbits(16)
            t0 = time.time()
            s.sendto(P.dns_query(txid, name), (self.router_ip, 53))
            flows.append(Flow("udp", self.ip, s.getsockname()[1], self.router_ip, 53, _us(t0), _us(t0)))
            deadline = t0 + timeout
            while (left := deadline - time.time()) > 0:
                if not select.select([s], [], [], left)[0]:
                    break
                rid, answers = dns_answers(s.recv(4096))
                if rid == txid:
                    flows[-1].last_us = _us(time.time())
                    return next((v for t, _, v in answers if t == 1), None)
            return None
        finally:
            s.close()

    # ------------------------------------------------------------------ benign steps

    def _dns_lookup(self, step: DnsLookup) -> LiveOutcome:
        flows: list[Flow] = []
        address = self._resolve(step.name, flows)
        if address is not None:
            self._addresses[step.name] = address
        return LiveOutcome(address, flows)

    def _paced(self, items: Sequence[T], gaps: tuple[float, ...]) -> Iterator[T]:
        """A paced step's ``items`` one by one, each after its pause, compressed as the behaviours' sleeps are."""
        for k, item in enumerate(items):
            if k:
                time.sleep(gaps[k - 1] / self.time_scale)
            yield item

    def _dns_lookups(self, step: DnsLookups) -> LiveOutcome:
        flows: list[Flow] = []
        for name in self._paced(step.names, step.gaps):
            try:
                address = self._resolve(name, flows)
            except OSError:  # the link is down (its owner took the device out): the next lookup may work
                continue
            if address is not None:
                self._addresses[name] = address
        return LiveOutcome(None, flows)

    def _address(self, name: str, flows: list[Flow]) -> str | None:
        # Behaviours look a name up just before they use it; ask again only if that answer is missing.
        return self._addresses.get(name) or self._resolve(name, flows)

    def _ntp(self, step: NtpSync) -> LiveOutcome:
        flows: list[Flow] = []
        server = self._address(step.server, flows)
        if server is None:
            return LiveOutcome(None, flows)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((self.ip, 0))
            t0 = time.time()
            s.sendto(P.ntp_request(t0), (server, 123))
            flows.append(Flow("udp", self.ip, s.getsockname()[1], server, 123, _us(t0), _us(t0)))
            if select.select([s], [], [], NTP_TIMEOUT_S)[0]:
                s.recv(512)
                flows[-1].last_us = _us(time.time())
        finally:
            s.close()
        return LiveOutcome(None, flows)

    def _https(self, step: HttpsSession) -> LiveOutcome:
        from testbed.sdk.transport import HttpRequest, HttpTransport

        flows: list[Flow] = []
        server = self._address(step.domain, flows)
        if server is None:
            return LiveOutcome(None, flows)
        # The lab's internet server sends back as many bytes as the path asks; the client's body stands for
        # what the session uploads. TLS with the step's domain as SNI, as the simulated session shows it.
        request = HttpRequest("POST", step.domain, f"/s?bytes={step.down_bytes}",
                              (("Content-Type", "application/octet-stream"),), bytes(step.up_bytes))
        transport = HttpTransport(timeout=self.http_timeout, tls=True)
        t0 = time.time()
        transport.send(request, (server, step.port))
        flows.append(Flow("tcp", self.ip, transport.last_local_port, server, step.port, _us(t0), _us(time.time())))
        return LiveOutcome(None, flows)

    def _router_arp(self, step: RouterArp) -> LiveOutcome:
        targets = [ipaddress.ip_address(host.ip) for host in step.targets]
        for target in targets:  # all checked before anything is sent
            if target not in self.own.network:
                raise ContainmentError(f"refusing to ARP for {target}: outside this node's own subnet {self.own.network}")
        flows: list[Flow] = []
        s = self._arp_socket()
        try:
            for target in self._paced(targets, step.gaps):
                start = time.time()
                s.send(P.arp_request(self.mac, self.own.ip.packed, target.packed))
                self._drain_arp(s, {}, start + LATE_ANSWER_S)  # the simulated refresh waits a second too
                flows.append(Flow("arp", self.ip, 0, str(target), 0, _us(start), _us(time.time())))
        finally:
            s.close()
        return LiveOutcome(None, flows)

    def _send_multicast(self, group: str, port: int, payload: bytes) -> LiveOutcome:
        s = multicast_socket(group, port, self.ip)
        try:
            t = time.time()
            s.sendto(payload, (group, port))
        finally:
            s.close()
        return LiveOutcome(None, [Flow("udp", self.ip, port, group, port, _us(t), _us(t))])

    def _mdns_announce(self, step: MdnsAnnounce) -> LiveOutcome:
        assert self.mdns is not None
        t = time.time()
        self.mdns.announce(step.services)
        return LiveOutcome(None, [Flow("udp", self.ip, 5353, MDNS_GROUP, 5353, _us(t), _us(time.time()))])

    def _mdns_query(self, step: MdnsQuery) -> LiveOutcome:
        assert self.mdns is not None
        t = time.time()
        self.mdns.query(step.service)
        return LiveOutcome(None, [Flow("udp", self.ip, 5353, MDNS_GROUP, 5353, _us(t), _us(t))])

    def _ssdp_notify(self, step: SsdpNotify) -> LiveOutcome:
        payload = P.ssdp_notify(f"http://{self.ip}:49152/description.xml", step.device_type,
                                f"uuid:{self.mac.hex()}::{step.device_type}", "Linux/5.4 UPnP/1.0")
        return self._send_multicast(SSDP_GROUP, 1900, payload)

    def _ssdp_search(self, step: SsdpSearch) -> LiveOutcome:
        return self._send_multicast(SSDP_GROUP, 1900, P.ssdp_msearch(step.search_target))


def _echo_request(ident: int, seq: int) -> bytes:
    payload = b"smarttv-testbed-probe".ljust(32, b"\0")
    head = bytes((8, 0, 0, 0)) + ident.to_bytes(2, "big") + seq.to_bytes(2, "big")
    csum = P.internet_checksum(head + payload)
    return head[:2] + csum.to_bytes(2, "big") + head[4:] + payload
