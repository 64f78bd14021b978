"""Helpers for the packet tests (imported as ``tests.packets.lan``): running the real tshark, and one
LAN capture holding a frame of every kind the synthesiser builds, each labelled ``<kind>#<n>``: the
kind names the protocol tshark must find in the frame (``expected_protocol``), n its index."""

from __future__ import annotations

import subprocess
from pathlib import Path

from testbed.packets import (
    BROADCAST_IP,
    BROADCAST_MAC,
    MDNS_ADDR,
    SSDP_ADDR,
    ZERO_IP,
    ArpSweeper,
    TcpSession,
    arp_reply,
    arp_request,
    dhcp_message,
    dns_query,
    dns_response,
    http_request,
    http_response,
    icmp_echo,
    ip_bytes,
    mac_bytes,
    mdns_announce,
    mdns_query,
    mdns_reverse_query,
    mdns_reverse_response,
    multicast_mac,
    nbns_nbstat_query,
    nbns_nbstat_response,
    ntp_request,
    ntp_response,
    ssdp_msearch,
    ssdp_notify,
    ssdp_response,
    tls_application_data,
    tls_application_stream,
    tls_change_cipher_spec,
    tls_client_hello,
    tls_server_hello,
    udp_frame,
)
from tests.helpers import require_tshark

TV_MAC, TV_IP = mac_bytes("3c:22:fb:11:22:33"), ip_bytes("192.168.1.23")
ROUTER_MAC, ROUTER_IP = mac_bytes("00:11:22:33:44:55"), ip_bytes("192.168.1.1")
PHONE_MAC, PHONE_IP = mac_bytes("a4:83:e7:01:02:03"), ip_bytes("192.168.1.40")
COLLECTOR_IP = ip_bytes("203.0.113.7")
START_US = 1_619_179_200_000_000
RTT_US = 30_000
POST_BODY = bytes(range(256)) * 20  # ~5 kB: four segments
SNI = "gz-data.com"

Record = tuple[int, bytes, str]


def run_tshark(capture: Path, *args: str) -> str:
    """Run tshark on ``capture`` with checksum validation on, returning stdout."""
    cmd = [
        require_tshark(), "-n", "-r", str(capture),
        "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
        *args,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"tshark failed: {done.stderr}"
    return done.stdout


def tshark_fields(
    capture: Path, fields: list[str], display_filter: str | None = None
) -> list[dict[str, str]]:
    """One dict per frame of the requested fields; repeated occurrences joined with ``|``."""
    args = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for field in fields:
        args += ["-e", field]
    if display_filter:
        args += ["-Y", display_filter]
    rows = run_tshark(capture, *args).splitlines()
    return [dict(zip(fields, row.split("\t"), strict=True)) for row in rows]


# Whole TCP connections hold bare ACKs too: all that every one of their frames must show is TCP.
_SESSION_PROTOCOL = {"http-session": "tcp", "tls-session": "tcp"}


def expected_protocol(label: str) -> str:
    """The protocol tshark must list in ``frame.protocols`` for the frame labelled ``label``."""
    kind = label.split("#", 1)[0]
    return _SESSION_PROTOCOL.get(kind, kind)


def _labelled(frames: list[tuple[int, bytes]], kind: str, counter: list[int], note: str = "") -> list[Record]:
    out = []
    for ts, frame in frames:
        out.append((ts, frame, f"{kind}#{counter[0]}{note}"))
        counter[0] += 1
    return out


def http_session(t_us: int) -> TcpSession:
    """A TV POSTing ~5 kB to the collector over plain HTTP, the response, an orderly close."""
    session = TcpSession(TV_MAC, TV_IP, 41000, ROUTER_MAC, COLLECTOR_IP, 80, 1000, 5_000_000, server_ttl=52)
    t = session.handshake(t_us, RTT_US)
    request = http_request(
        "POST", SNI, "/api/v1/report",
        [("User-Agent", "okhttp/3.12.1"), ("Content-Type", "application/octet-stream")], POST_BODY,
    )  # fmt: skip
    t = session.client_send(request, t, RTT_US)
    t = session.server_send(
        http_response(200, "OK", [("Content-Type", "application/json")], b'{"ok":true}'), t, RTT_US
    )
    session.close(t + 100, RTT_US)
    return session


def tls_session(t_us: int) -> TcpSession:
    """A TLS 1.3 connection to gz-data.com: hellos, CCS, application data both ways, close."""
    # A client ISN close to 2**32 makes the sequence numbers wrap inside the connection.
    session = TcpSession(TV_MAC, TV_IP, 41001, ROUTER_MAC, COLLECTOR_IP, 443, 0xFFFF_FF00, 77, server_ttl=52)
    t = session.handshake(t_us, RTT_US)
    t = session.client_send(tls_client_hello(SNI, bytes(range(32)), bytes(range(32, 64))), t, RTT_US)
    server_flight = (
        tls_server_hello(bytes(range(64, 96)), bytes(range(32, 64)))
        + tls_change_cipher_spec()
        + tls_application_data(2500, seed=1)  # encrypted extensions, certificate, verify, finished
        + tls_application_data(280, seed=2)
    )
    t = session.server_send(server_flight, t, RTT_US)
    t = session.client_send(
        tls_change_cipher_spec() + tls_application_data(53, 3) + tls_application_stream(20_000, 4), t, RTT_US
    )
    t = session.server_send(tls_application_data(100, seed=5), t, RTT_US)
    session.close(t + 100, RTT_US)
    return session


def lan_records() -> list[Record]:
    """One or more frames of every kind, in time order, labelled with the protocol tshark must see."""
    records: list[Record] = []
    counter = [0]
    t = START_US

    def add(kind: str, frame: bytes, note: str = "") -> None:
        nonlocal t
        t += 1000
        records.extend(_labelled([(t, frame)], kind, counter, note))

    sweeper = ArpSweeper(TV_MAC, TV_IP)
    for host in (1, 40, 254):
        add("arp", sweeper.request(bytes((192, 168, 1, host))))
    add("arp", arp_request(TV_MAC, TV_IP, ROUTER_IP))
    add("arp", arp_reply(PHONE_MAC, PHONE_IP, TV_MAC, TV_IP))
    add("icmp", icmp_echo(TV_MAC, PHONE_MAC, TV_IP, PHONE_IP, 0x1234, 1))
    add("icmp", icmp_echo(PHONE_MAC, TV_MAC, PHONE_IP, TV_IP, 0x1234, 1, reply=True, ip_id=0x3A1B))
    add(
        "icmp", icmp_echo(TV_MAC, PHONE_MAC, TV_IP, PHONE_IP, 0x1234, 2, payload=b"odd")
    )  # odd length, padded
    add("dns", udp_frame(TV_MAC, ROUTER_MAC, TV_IP, ROUTER_IP, 40000, 53, dns_query(0xBEEF, SNI)))
    add("dns", udp_frame(ROUTER_MAC, TV_MAC, ROUTER_IP, TV_IP, 53, 40000,
                         dns_response(0xBEEF, SNI, 1, ["203.0.113.7", "203.0.113.8"])))  # fmt: skip
    add("dns", udp_frame(TV_MAC, ROUTER_MAC, TV_IP, ROUTER_IP, 40001, 53, dns_query(0xBEF0, SNI, 28)))
    add("dns", udp_frame(ROUTER_MAC, TV_MAC, ROUTER_IP, TV_IP, 53, 40001, dns_response(0xBEF0, SNI, 28, [])))
    mdns_mac = multicast_mac(MDNS_ADDR)
    mdns = (
        (TV_MAC, TV_IP, mdns_query([("_airplay._tcp.local", 12), ("_googlecast._tcp.local", 12)])),
        (
            PHONE_MAC,
            PHONE_IP,
            mdns_announce("Living-Room-iPhone", PHONE_IP, ["_airplay._tcp.local", "_raop._tcp.local:7001"]),
        ),
        (TV_MAC, TV_IP, mdns_reverse_query(PHONE_IP)),
        (PHONE_MAC, PHONE_IP, mdns_reverse_response("192.168.1.40", "Living-Room-iPhone")),
        (TV_MAC, TV_IP, mdns_query([("Living-Room-iPhone.local", 1)], unicast_response=True)),
    )
    for mac, ip, payload in mdns:
        # One label that is not ASCII: comments must round-trip as UTF-8.
        add(
            "mdns",
            udp_frame(mac, mdns_mac, ip, MDNS_ADDR, 5353, 5353, payload, ttl=255),
            " Wohnzimmer-Fernseher ü",
        )
    add("nbns", udp_frame(TV_MAC, PHONE_MAC, TV_IP, PHONE_IP, 137, 137, nbns_nbstat_query(0x55)))
    add(
        "nbns",
        udp_frame(
            PHONE_MAC,
            TV_MAC,
            PHONE_IP,
            TV_IP,
            137,
            137,
            nbns_nbstat_response(0x55, "DESKTOP-AB12", PHONE_MAC),
        ),
    )
    lease = {"server_ip": "192.168.1.1", "router": "192.168.1.1", "dns": ["192.168.1.1", "203.0.113.53"]}
    dhcp = (
        (TV_MAC, ZERO_IP, 68, 67, dhcp_message("discover", 0xABCDEF01, TV_MAC, hostname="skyworth-tv")),
        (ROUTER_MAC, ROUTER_IP, 67, 68, dhcp_message("offer", 0xABCDEF01, TV_MAC, your_ip="192.168.1.23", **lease)),
        (TV_MAC, ZERO_IP, 68, 67, dhcp_message("request", 0xABCDEF01, TV_MAC, requested_ip="192.168.1.23",
                                               server_ip="192.168.1.1", hostname="skyworth-tv")),
        (ROUTER_MAC, ROUTER_IP, 67, 68, dhcp_message("ack", 0xABCDEF01, TV_MAC, your_ip=TV_IP, **lease)),
    )  # fmt: skip
    for mac, ip, sport, dport, payload in dhcp:
        add("dhcp", udp_frame(mac, BROADCAST_MAC, ip, BROADCAST_IP, sport, dport, payload, df=False))
    ssdp_mac = multicast_mac(SSDP_ADDR)
    location, usn, server = (
        "http://192.168.1.40:49152/desc.xml",
        "uuid:1234::upnp:rootdevice",
        "Linux/4.9 UPnP/1.0 x/1",
    )
    add("ssdp", udp_frame(TV_MAC, ssdp_mac, TV_IP, SSDP_ADDR, 50000, 1900, ssdp_msearch("ssdp:all"), ttl=4))
    add(
        "ssdp",
        udp_frame(
            PHONE_MAC,
            TV_MAC,
            PHONE_IP,
            TV_IP,
            1900,
            50000,
            ssdp_response("upnp:rootdevice", location, usn, server),
        ),
    )
    add(
        "ssdp",
        udp_frame(
            PHONE_MAC,
            ssdp_mac,
            PHONE_IP,
            SSDP_ADDR,
            1900,
            1900,
            ssdp_notify(location, "upnp:rootdevice", usn, server),
            ttl=4,
        ),
    )
    sent = START_US / 1e6 + 0.25
    add("ntp", udp_frame(TV_MAC, ROUTER_MAC, TV_IP, COLLECTOR_IP, 40123, 123, ntp_request(sent)))
    add(
        "ntp",
        udp_frame(
            ROUTER_MAC,
            TV_MAC,
            COLLECTOR_IP,
            TV_IP,
            123,
            40123,
            ntp_response(sent, sent + 0.015, sent + 0.0151),
            ttl=52,
        ),
    )
    records += _labelled(http_session(t + 1000).frames, "http-session", counter)
    records += _labelled(tls_session(records[-1][0] + 1000).frames, "tls-session", counter)
    return records
