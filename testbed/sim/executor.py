"""The SimPy executor: performs one step by computing its frames and their capture times.

Each step becomes one ``Outcome``: the result the behaviour gets back, how long the step lasts
(one SimPy timeout), the frames it puts on the wire with capture times, and the flows they form.
Nothing is sent anywhere: this is byte synthesis from templates (``testbed.packets``).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

from testbed import packets as P
from testbed.benign.domains import address_of
from testbed.errors import ContainmentError
from testbed.packets import speedups
from testbed.packets.frame_log import FrameLogLike
from testbed.packets.tcp_session import Data
from testbed.sdk.transport import HttpRequest, Transport
from testbed.sim.lan import Node, SimLan
from testbed.steps import (
    DhcpJoin,
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

MDNS_IP = bytes([224, 0, 0, 251])
SSDP_IP = bytes([239, 255, 255, 250])
BROADCAST_IP = bytes([255, 255, 255, 255])
ZERO_IP = bytes(4)
_by_time = itemgetter(0)


@dataclass(slots=True)
class Outcome:
    """What performing a step gave: the behaviour's result, the duration, frames and flows."""

    result: object
    duration_us: int
    frames: list[tuple[int, bytes]] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)


def pause_us(seconds: float) -> int:
    """A pause in whole microseconds, at least one (a step or sleep always lets time pass)."""
    return max(1, round(seconds * 1_000_000))


def rtt_us(rng: random.Random, mean_ms: float, jitter_ms: float, floor_us: int) -> int:
    """A round-trip time in whole microseconds, at least ``floor_us``: a normal draw (``rng.gauss``) of mean
    ``mean_ms`` and deviation ``jitter_ms``. The reference of the compiled ``rtt_us``, which draws the same."""
    return max(floor_us, int(rng.gauss(mean_ms, jitter_ms) * 1000))


def _ip(b: bytes) -> str:
    return ".".join(map(str, b))


def _span(frames: list[tuple[int, bytes]]) -> tuple[int, int]:
    return frames[0][0], frames[-1][0]


class SimExecutor:
    """Performs steps for the actors of one household's LAN."""

    def __init__(self, lan: SimLan, rng: random.Random, transport: Transport | None,
                 names: dict[str, str] | None = None, end_us: float = float("inf"),
                 log: FrameLogLike | None = None) -> None:
        self.lan = lan
        # Where streaming sessions and sweep requests put their frames straight away, labelled as
        # ``perform`` is told: most of a run's frames, and a Python object each cost more than making
        # them. Without a log they go into ``Outcome.frames`` like every other step's. (Either way the
        # frames a step made are those it returned plus those the log gained.)
        self.log = log
        self._label: str | None = None
        # The run's end (capture time): a step that spans minutes (a round, a stretch) stops there, as
        # its parts would have been steps begun after the end.
        self.end_us = end_us
        self.rng = rng
        self.transport = transport
        self.names = dict(names or {})  # DNS names with fixed addresses (the collector's domain)
        self.router = lan.router
        self._packed: dict[str, tuple[str, bytes]] = {}
        self._dns_messages: dict[str, tuple[bytes, bytes]] = {}
        # Chosen once: a run draws ~450,000 round-trip times (the compiled one draws what ``rtt_us`` does).
        native = speedups.native
        self._rtt_us: Callable[[random.Random, float, float, int], int] = native.rtt_us if native else rtt_us
        self._handlers: dict[type[Step], Callable[[Node, Step, int], Outcome]] = {
            Sweep: self._sweep,
            Probe: self._probe,
            WifiScan: self._wifi_scan,
            Upload: self._upload,
            DhcpJoin: self._dhcp,
            DnsLookup: self._dns_lookup,
            DnsLookups: self._dns_lookups,
            NtpSync: self._ntp,
            MdnsAnnounce: self._mdns_announce,
            MdnsQuery: self._mdns_query,
            SsdpNotify: self._ssdp_notify,
            SsdpSearch: self._ssdp_search,
            RouterArp: self._router_arp,
            HttpsSession: self._https,
        }

    # ------------------------------------------------------------------ dispatch

    def perform(self, actor: Node, step: Step, t_us: int, label: str | None = None) -> Outcome:
        """Perform ``step`` for ``actor`` starting at capture time ``t_us`` (epoch microseconds).

        ``label`` labels the frames a step puts straight into the executor's log.
        """
        kind = type(step)
        if kind not in _PRESENCE_PER_ITEM and not actor.present(t_us / 1e6):
            return Outcome(_ABSENT_RESULTS.get(kind), 0)
        self._label = label
        return self._handlers[kind](actor, step, t_us)

    def resolve(self, name: str) -> str:
        """The simulated address of ``name``."""
        return self.names.get(name) or address_of(name)

    def _server(self, name: str) -> tuple[str, bytes]:
        """``name``'s address as text and packed, cached: the same few servers are used all day."""
        hit = self._packed.get(name)
        if hit is None:
            text = self.resolve(name)
            hit = self._packed[name] = (text, ipaddress.ip_address(text).packed)
        return hit

    # ------------------------------------------------------------------ timing helpers

    def _lan_rtt_us(self, node: Node) -> int:
        d = node.device
        return self._rtt_us(self.rng, d.rtt_ms, d.rtt_jitter_ms, 150)

    def _wan_rtt_us(self, base_ms: float = 35.0) -> int:
        return self._rtt_us(self.rng, base_ms, base_ms * 0.15, 2000)

    # ------------------------------------------------------------------ SDK steps

    def _sweep(self, actor: Node, step: Sweep, t: int) -> Outcome:
        if step.subnet != self.lan.household.subnet and ipaddress.ip_network(step.subnet, strict=False) != self.lan.network:
            # The scanner only ever targets its own interface's subnet: containment is a feature.
            raise ContainmentError(
                f"{actor.device.id}: refusing to sweep {step.subnet}: outside its own subnet {self.lan.network}"
            )
        requests = actor.cache.get("sweep")
        if requests is None:
            # Who-has frames depend only on the sender and target: build them once per actor.
            sweeper = P.ArpSweeper(actor.mac, actor.ip)
            requests = actor.cache["sweep"] = [
                sweeper.request(self.lan.host_ip(i)) for i in range(1, 255) if i != actor.host_index
            ]
        gap = max(1, int(step.gap_ms * 1000))
        if self.log is not None:  # the who-has frames go straight in, evenly spaced; the replies follow them
            self.log.add_spaced(t, gap, requests, self._label)
            frames: list[tuple[int, bytes]] = []
        else:
            frames = [(t + k * gap, frame) for k, frame in enumerate(requests)]
        ti = t + len(requests) * gap
        replies: list[tuple[int, bytes]] = []
        hosts: list[Host] = []
        own = actor.host_index
        for index, node in sorted(self.lan.by_index.items()):
            if node is actor:
                continue
            asked = t + (index - 1 - (index > own)) * gap  # when this host's who-has went out
            if node.present(asked / 1e6):
                reply = node.cache.get(("arp-reply", own))
                if reply is None:
                    reply = node.cache[("arp-reply", own)] = P.arp_reply(node.mac, node.ip, actor.mac, actor.ip)
                replies.append((asked + self._lan_rtt_us(node) // 2 + 40, reply))
                hosts.append(Host(node.device.ip, node.device.mac))
        frames += replies
        frames.sort(key=_by_time)
        duration = ti - t + 1_000_000  # the scanner waits a second for late answers
        last = max(ti - gap, frames[-1][0] if frames else ti - gap)  # the last who-has, or a later reply
        flow = Flow("arp", _ip(actor.ip), 0, step.subnet, 0, t, last)
        return Outcome(hosts, duration, frames, [flow])

    def _probe(self, actor: Node, step: Probe, t: int) -> Outcome:
        frames: list[tuple[int, bytes]] = []
        flows: list[Flow] = []
        results: list[ProbedHost] = []
        actor_ip = _ip(actor.ip)
        mdns_mac = P.multicast_mac(MDNS_IP)
        ti = t
        mdns_first = mdns_last = None
        ident = actor.cache.setdefault("icmp_id", (actor.host_index * 2654435761) & 0xFFFF)
        for host in step.targets:
            node = self.lan.by_ip.get(host.ip)
            if node is None or node is actor:
                results.append(ProbedHost(host.ip, host.mac, None, None))
                continue
            present = node.present(ti / 1e6)
            rtt_ms: float | None = None
            name: str | None = None
            if step.icmp:
                actor.icmp_seq = (actor.icmp_seq + 1) & 0xFFFF
                seq = actor.icmp_seq
                frames.append((ti, P.icmp_echo(actor.mac, node.mac, actor.ip, node.ip, ident, seq,
                                               ip_id=actor.next_ip_id())))
                last = ti
                if present:
                    rtt = self._lan_rtt_us(node)
                    rtt_ms = rtt / 1000.0
                    last = ti + rtt
                    frames.append((last, P.icmp_echo(node.mac, actor.mac, node.ip, actor.ip, ident, seq,
                                                     reply=True, ip_id=node.next_ip_id())))
                flows.append(Flow("icmp", actor_ip, 8, host.ip, 0, ti, last))
            if step.mdns:
                tq = ti + 1000
                # Multicast DNS frames carry no id or counter: the same bytes every cycle, built once.
                query = actor.cache.get(("mdns-reverse-query", host.ip))
                if query is None:
                    query = actor.cache[("mdns-reverse-query", host.ip)] = P.udp_frame(
                        actor.mac, mdns_mac, actor.ip, MDNS_IP, 5353, 5353, P.mdns_reverse_query(host.ip), ttl=255)
                frames.append((tq, query))
                mdns_first = tq if mdns_first is None else mdns_first
                mdns_last = tq
                if present and node.answers_mdns:
                    tr = tq + self._lan_rtt_us(node)
                    answer = node.cache.get("mdns-reverse-answer")
                    if answer is None:
                        answer = node.cache["mdns-reverse-answer"] = P.udp_frame(
                            node.mac, mdns_mac, node.ip, MDNS_IP, 5353, 5353,
                            P.mdns_reverse_response(host.ip, node.device.hostname), ttl=255)
                    frames.append((tr, answer))
                    flows.append(Flow("udp", host.ip, 5353, "224.0.0.251", 5353, tr, tr))
                    name = node.device.hostname
            if step.nbns:
                tq = ti + 2000
                txid = self.rng.getrandbits(16)
                frames.append((tq, P.udp_frame(actor.mac, node.mac, actor.ip, node.ip, 137, 137,
                                               P.nbns_nbstat_query(txid), ip_id=actor.next_ip_id())))
                last = tq
                if present and node.device.netbios:
                    last = tq + self._lan_rtt_us(node)
                    nb_name = node.device.hostname.upper()[:15]
                    frames.append((last, P.udp_frame(node.mac, actor.mac, node.ip, actor.ip, 137, 137,
                                                     P.nbns_nbstat_response(txid, nb_name, node.mac),
                                                     ip_id=node.next_ip_id())))
                    name = name or nb_name
                flows.append(Flow("udp", actor_ip, 137, host.ip, 137, tq, last))
            results.append(ProbedHost(host.ip, host.mac, rtt_ms, name))
            ti += 25_000
        if mdns_first is not None:
            flows.append(Flow("udp", actor_ip, 5353, "224.0.0.251", 5353, mdns_first, mdns_last))
        frames.sort(key=_by_time)
        return Outcome(results, ti - t + 1_000_000, frames, flows)

    def _wifi_scan(self, actor: Node, step: WifiScan, t: int) -> Outcome:
        seen = []
        for net in self.lan.household.wifi:
            # Weak networks come and go between scans; strong ones are always there.
            if net.rssi > -85 or self.rng.random() < 0.5:
                rssi = max(-95, min(-30, net.rssi + self.rng.randint(-3, 3)))
                seen.append(SeenNetwork(net.ssid, net.bssid, net.channel, rssi))
        return Outcome(seen, 2_500_000)

    def _upload(self, actor: Node, step: Upload, t: int) -> Outcome:
        frames: list[tuple[int, bytes]] = []
        flows: list[Flow] = []
        ti = t
        server_ip, server_b = self._server(step.domain)
        if step.resolve:
            ti = self._dns_exchange(actor, step.domain, ti, frames, flows)
        request = HttpRequest("POST", step.domain, step.path, step.headers, step.body, capture_time=ti / 1e6)
        response = self.transport.send(request) if self.transport else None
        http_req = P.http_request("POST", step.domain, step.path, list(step.headers), step.body)
        sport = actor.ephemeral_port()
        rtt = self._wan_rtt_us()
        isn = self.rng.getrandbits(32)
        if response is None or response.status == 0:
            # No answer: the SYN is retransmitted (after 1 s, then 2 s more) and the attempt fails.
            for delay in (0, 1_000_000, 3_000_000):
                frames.append((ti + delay, P.tcp_frame(actor.mac, self.router.mac, actor.ip, server_b, sport, step.port,
                                                       isn, 0, P.SYN, ip_id=actor.next_ip_id(),
                                                       options=P.tcp_syn_options())))
            end = ti + 6_000_000
            flows.append(Flow("tcp", _ip(actor.ip), sport, server_ip, step.port, ti, ti + 3_000_000))
            return Outcome(UploadResult(0, server_ip, len(http_req), 0, "connection timed out"), end - t, frames, flows)
        server_isn = self.rng.getrandbits(32)
        http_resp = P.http_response(
            response.status, response.reason or "OK",
            [("Content-Type", "application/json"), ("Server", "nginx")], response.body,
        )
        if step.transport == "tls":
            # TLS 1.3 records add a content-type byte and a 16-byte tag to what they carry.
            sends = self._tls_sends(step.domain, len(http_req) + 17, len(http_resp) + 17, 2000)
        else:
            sends = [(True, http_req, 0), (False, http_resp, 2000)]
        connection, ti = P.tcp_connection(actor.mac, actor.ip, sport, self.router.mac, server_b, step.port, isn,
                                          server_isn, ti, rtt, sends, 500)
        frames += connection
        flows.append(Flow("tcp", _ip(actor.ip), sport, server_ip, step.port, connection[0][0], connection[-1][0]))
        frames.sort(key=_by_time)
        result = UploadResult(response.status, server_ip, len(http_req), len(http_resp))
        return Outcome(result, ti - t, frames, flows)

    def _tls_sends(self, sni: str, up_bytes: int, down_bytes: int, response_delay_us: int) -> list[tuple[bool, Data, int]]:
        """A TLS 1.3 session as ``tcp_connection`` sends (``tls_session_sends``), the random draws in order:
        the hellos' randoms and session ids, the certificate flight's size, then the records' seeds."""
        rng = self.rng
        randbytes, getrandbits = rng.randbytes, rng.getrandbits
        return P.tls_session_sends(
            sni, randbytes(32), randbytes(32), randbytes(32), randbytes(32), rng.randint(2400, 3600),
            (getrandbits(16), getrandbits(16), getrandbits(16), getrandbits(16)), up_bytes, down_bytes,
            response_delay_us=response_delay_us,
        )

    def _dns_exchange(self, actor: Node, name: str, ti: int, frames: list, flows: list) -> int:
        router = self.router
        rng = self.rng
        # A stub resolver sends each query from a random port (RFC 5452), as the container backend's
        # sockets do; the IP ids of these unfragmentable datagrams carry no order either (RFC 6864).
        sport = rng.randrange(49152, 65536)
        txid = rng.getrandbits(16).to_bytes(2, "big")
        messages = self._dns_messages.get(name)
        if messages is None:
            # Only the transaction id changes between two lookups of a name: build the messages once.
            messages = self._dns_messages[name] = (P.dns_query(0, name)[2:],
                                                   P.dns_response(0, name, 1, [self.resolve(name)])[2:])
        frames.append((ti, P.udp_frame(actor.mac, router.mac, actor.ip, router.ip, sport, 53,
                                       txid + messages[0], ip_id=rng.getrandbits(16))))
        tr = ti + self._wan_rtt_us(20.0)
        frames.append((tr, P.udp_frame(router.mac, actor.mac, router.ip, actor.ip, 53, sport,
                                       txid + messages[1], ip_id=rng.getrandbits(16))))
        flows.append(Flow("udp", actor.device.ip, sport, router.device.ip, 53, ti, tr))
        return tr + 300

    # ------------------------------------------------------------------ benign steps

    def _dns_lookup(self, actor: Node, step: DnsLookup, t: int) -> Outcome:
        frames: list[tuple[int, bytes]] = []
        flows: list[Flow] = []
        end = self._dns_exchange(actor, step.name, t, frames, flows)
        return Outcome(self.resolve(step.name), end - t, frames, flows)

    def _dns_lookups(self, actor: Node, step: DnsLookups, t: int) -> Outcome:
        frames: list[tuple[int, bytes]] = []
        flows: list[Flow] = []
        ti = t
        for k, name in enumerate(step.names):
            if k:
                ti += pause_us(step.gaps[k - 1])
            if ti >= self.end_us:
                break
            if actor.present(ti / 1e6):  # away, a lookup does not happen but the pause after it still passes
                ti = self._dns_exchange(actor, name, ti, frames, flows)
        return Outcome(None, ti - t, frames, flows)

    def _dhcp(self, actor: Node, step: DhcpJoin, t: int) -> Outcome:
        r = self.router
        xid = self.rng.getrandbits(32)
        bmac = P.BROADCAST_MAC
        d = actor.device
        opts = {"router": _ip(r.ip), "dns": _ip(r.ip), "server_ip": _ip(r.ip)}
        discover = P.dhcp_message("discover", xid, actor.mac, hostname=d.hostname)
        offer = P.dhcp_message("offer", xid, actor.mac, your_ip=d.ip, **opts)
        request = P.dhcp_message("request", xid, actor.mac, requested_ip=d.ip, server_ip=_ip(r.ip), hostname=d.hostname)
        ack = P.dhcp_message("ack", xid, actor.mac, your_ip=d.ip, **opts)
        t1, t2 = t + 2000 + self.rng.randint(0, 3000), t + 12000 + self.rng.randint(0, 5000)
        t3 = t2 + 1500
        frames = [
            (t, P.udp_frame(actor.mac, bmac, ZERO_IP, BROADCAST_IP, 68, 67, discover)),
            (t1, P.udp_frame(r.mac, bmac, r.ip, BROADCAST_IP, 67, 68, offer, ip_id=r.next_ip_id())),
            (t2, P.udp_frame(actor.mac, bmac, ZERO_IP, BROADCAST_IP, 68, 67, request)),
            (t3, P.udp_frame(r.mac, bmac, r.ip, BROADCAST_IP, 67, 68, ack, ip_id=r.next_ip_id())),
        ]
        flows = [Flow("udp", "0.0.0.0", 68, "255.255.255.255", 67, t, t2),
                 Flow("udp", _ip(r.ip), 67, "255.255.255.255", 68, t1, t3)]
        return Outcome(d.ip, t3 - t + 1000, frames, flows)

    def _ntp(self, actor: Node, step: NtpSync, t: int) -> Outcome:
        server, sip = self._server(step.server)
        sport = actor.ephemeral_port()
        rtt = self._wan_rtt_us(30.0)
        ts = t / 1e6
        frames = [
            (t, P.udp_frame(actor.mac, self.router.mac, actor.ip, sip, sport, 123, P.ntp_request(ts),
                            ip_id=actor.next_ip_id())),
            (t + rtt, P.udp_frame(self.router.mac, actor.mac, sip, actor.ip, 123, sport,
                                  P.ntp_response(ts, ts + rtt / 2e6, ts + rtt / 2e6 + 0.00002), ttl=52)),
        ]
        return Outcome(None, rtt + 1000, frames, [Flow("udp", _ip(actor.ip), sport, server, 123, t, t + rtt)])

    def _announce_frame(self, node: Node, services: tuple[str, ...]) -> bytes:
        frame = node.cache.get(("mdns-announce", services))
        if frame is None:  # the same bytes every time (no id or counter): built once per node and services
            d = node.device
            frame = node.cache[("mdns-announce", services)] = P.udp_frame(
                node.mac, P.multicast_mac(MDNS_IP), node.ip, MDNS_IP, 5353, 5353,
                P.mdns_announce(d.hostname, d.ip, list(services)), ttl=255)
        return frame

    def _mdns_announce(self, actor: Node, step: MdnsAnnounce, t: int) -> Outcome:
        # RFC 6762 8.3: announce twice, one second apart.
        frame = self._announce_frame(actor, step.services)
        frames = [(t, frame), (t + 1_000_000, frame)]
        return Outcome(None, 1_000_001, frames,
                       [Flow("udp", actor.device.ip, 5353, "224.0.0.251", 5353, t, t + 1_000_000)])

    def _mdns_query(self, actor: Node, step: MdnsQuery, t: int) -> Outcome:
        query = actor.cache.get(("mdns-query", step.service))
        if query is None:  # no id or counter either: the same bytes for each query of one service
            query = actor.cache[("mdns-query", step.service)] = P.udp_frame(
                actor.mac, P.multicast_mac(MDNS_IP), actor.ip, MDNS_IP, 5353, 5353,
                P.mdns_query([(step.service, 12)]), ttl=255)
        frames = [(t, query)]
        flows = [Flow("udp", actor.device.ip, 5353, "224.0.0.251", 5353, t, t)]
        ts = t / 1e6
        for node in self.lan.by_index.values():
            if node is not actor and step.service in node.device.services and node.present(ts):
                tr = t + self.rng.randint(20_000, 120_000)  # RFC 6762: answers are delayed 20-120 ms
                frames.append((tr, self._announce_frame(node, (step.service,))))
                flows.append(Flow("udp", node.device.ip, 5353, "224.0.0.251", 5353, tr, tr))
        frames.sort(key=_by_time)
        return Outcome(None, 200_000, frames, flows)

    def _location(self, node: Node) -> str:
        return f"http://{node.device.ip}:{49152 + node.host_index}/description.xml"

    def _usn(self, node: Node) -> str:
        return f"uuid:{node.device.mac.replace(':', '')}-5ca1-ab1e-0000-{node.host_index:012d}"

    def _server_header(self, node: Node) -> str:
        return f"Linux/4.9 UPnP/1.0 {node.device.vendor}/{node.device.model}"

    def _ssdp_notify(self, actor: Node, step: SsdpNotify, t: int) -> Outcome:
        mcast = P.multicast_mac(SSDP_IP)
        frames = []
        for i, nt in enumerate(("upnp:rootdevice", step.device_type)):
            payload = actor.cache.get(("ssdp-notify", nt))
            if payload is None:  # a node's announcement of one type never changes (its IP id does)
                payload = actor.cache[("ssdp-notify", nt)] = P.ssdp_notify(
                    self._location(actor), nt, f"{self._usn(actor)}::{nt}", self._server_header(actor))
            frames.append((t + i * 100_000, P.udp_frame(actor.mac, mcast, actor.ip, SSDP_IP, 1900, 1900, payload,
                                                        ttl=4, ip_id=actor.next_ip_id())))
        flow = Flow("udp", actor.device.ip, 1900, "239.255.255.250", 1900, t, frames[-1][0])
        return Outcome(None, 200_001, frames, [flow])

    def _ssdp_search(self, actor: Node, step: SsdpSearch, t: int) -> Outcome:
        sport = actor.ephemeral_port()
        target = step.search_target
        search = _MSEARCH.get(target)
        if search is None:
            search = _MSEARCH[target] = P.ssdp_msearch(target)
        frames = [(t, P.udp_frame(actor.mac, P.multicast_mac(SSDP_IP), actor.ip, SSDP_IP, sport, 1900,
                                  search, ttl=4, ip_id=actor.next_ip_id()))]
        flows = [Flow("udp", actor.device.ip, sport, "239.255.255.250", 1900, t, t)]
        ts = t / 1e6
        for node in self.lan.by_index.values():
            st = node.device.ssdp_type
            if node is actor or not st or not node.present(ts):
                continue
            if step.search_target not in ("ssdp:all", st) and not ("dial" in step.search_target and "dial" in st):
                continue
            tr = t + self.rng.randint(5_000, 2_000_000)  # answers spread over MX (2 s)
            payload = node.cache.get(("ssdp-response", target))
            if payload is None:  # a node's answer to one search target never changes
                payload = node.cache[("ssdp-response", target)] = P.ssdp_response(
                    target, self._location(node), self._usn(node), self._server_header(node))
            frames.append((tr, P.udp_frame(node.mac, actor.mac, node.ip, actor.ip, 1900, sport, payload,
                                           ip_id=node.next_ip_id())))
            flows.append(Flow("udp", node.device.ip, 1900, actor.device.ip, sport, tr, tr))
        frames.sort(key=_by_time)
        return Outcome(None, 2_100_000, frames, flows)

    def _router_arp(self, actor: Node, step: RouterArp, t: int) -> Outcome:
        frames: list[tuple[int, bytes]] = []
        flows: list[Flow] = []
        ti = t
        for k, host in enumerate(step.targets):
            if k:
                ti += 1_000_000 + pause_us(step.gaps[k - 1])  # the second it waited, then the pause
            if ti >= self.end_us:
                break
            node = self.lan.by_ip.get(host.ip)
            # Who-has and is-at frames depend only on the two hosts: built once, as for a sweep.
            request = actor.cache.get(("arp-request", host.ip))
            if request is None:
                target = node.ip if node is not None else ipaddress.ip_address(host.ip).packed
                request = actor.cache[("arp-request", host.ip)] = P.arp_request(actor.mac, actor.ip, target)
            frames.append((ti, request))
            last = ti
            if node is not None and node.present(ti / 1e6):
                last = ti + self._lan_rtt_us(node) // 2 + 40  # well inside the second the router waits
                reply = node.cache.get(("arp-reply", actor.host_index))
                if reply is None:
                    reply = node.cache[("arp-reply", actor.host_index)] = P.arp_reply(node.mac, node.ip, actor.mac,
                                                                                      actor.ip)
                frames.append((last, reply))
            flows.append(Flow("arp", actor.device.ip, 0, host.ip, 0, ti, last))
        return Outcome(None, ti + 1_000_000 - t, frames, flows)

    def _https(self, actor: Node, step: HttpsSession, t: int) -> Outcome:
        server_ip, server_b = self._server(step.domain)
        sport = actor.ephemeral_port()
        rtt = self._wan_rtt_us(25.0)
        rng = self.rng
        client_isn, server_isn = rng.getrandbits(32), rng.getrandbits(32)
        sends = self._tls_sends(step.domain, step.up_bytes, step.down_bytes, 5000)
        frames, ti = P.tcp_connection(actor.mac, actor.ip, sport, self.router.mac, server_b, step.port, client_isn,
                                      server_isn, t, rtt, sends, 1000, log=self.log, label=self._label)
        flow = Flow("tcp", actor.device.ip, sport, server_ip, step.port, t, ti)  # from the SYN to the last ACK
        return Outcome(None, ti - t, frames, [flow])


# M-SEARCH payloads by search target: they name no sender, so every node sends the same bytes.
_MSEARCH: dict[str, bytes] = {}

# Steps that check the actor's presence at each of their items' own times (they span minutes).
_PRESENCE_PER_ITEM: frozenset[type[Step]] = frozenset({DnsLookups})

# What a step returns when its actor is away from home (nothing happens on the wire).
_ABSENT_RESULTS: dict[type[Step], object] = {
    Sweep: [],
    Probe: [],
    WifiScan: [],
    Upload: UploadResult(0, None, 0, 0, "not at home"),
}
