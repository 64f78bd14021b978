"""The real tshark dissects every synthesised frame cleanly: right protocol, no malformed frame, no
expert error, good checksums, labels intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.packets import ip_str
from tests.packets.lan import (
    COLLECTOR_IP,
    POST_BODY,
    SNI,
    Record,
    expected_protocol,
    run_tshark,
    tshark_fields,
)

SEVERITY_ERROR = "8388608"  # PI_ERROR (0x00800000) as -T fields prints it
CHECKSUM_GOOD = "1"
CHECKSUM_FIELDS = ["ip.checksum.status", "udp.checksum.status", "tcp.checksum.status", "icmp.checksum.status"]
FIELDS = [
    "frame.number",
    "frame.comment",
    "frame.protocols",
    "_ws.expert.severity",
    "_ws.malformed",
    *CHECKSUM_FIELDS,
]

Capture = tuple[Path, list[Record]]


@pytest.fixture(scope="module")
def dissected(lan_capture: Capture) -> list[dict[str, str]]:
    return tshark_fields(lan_capture[0], FIELDS)


def test_every_frame_is_read_back_in_order_with_its_label(
    lan_capture: Capture, dissected: list[dict[str, str]]
) -> None:
    _, records = lan_capture
    assert [row["frame.comment"] for row in dissected] == [label for _, _, label in records]


def test_each_frame_carries_its_expected_protocol(dissected: list[dict[str, str]]) -> None:
    wrong = [
        (row["frame.comment"], row["frame.protocols"])
        for row in dissected
        if expected_protocol(row["frame.comment"]) not in row["frame.protocols"].split(":")
    ]
    assert not wrong


def test_no_frame_is_malformed_or_has_an_expert_error(dissected: list[dict[str, str]]) -> None:
    assert not [row["frame.comment"] for row in dissected if row["_ws.malformed"]]
    assert not [
        row["frame.comment"] for row in dissected if SEVERITY_ERROR in row["_ws.expert.severity"].split("|")
    ]


def test_expert_summary_lists_no_errors(lan_capture: Capture) -> None:
    summary = run_tshark(lan_capture[0], "-z", "expert,error", "-q")
    assert "Errors (" not in summary, summary


def test_every_checksum_validates(dissected: list[dict[str, str]]) -> None:
    bad = [
        (row["frame.comment"], field, row[field])
        for row in dissected
        for field in CHECKSUM_FIELDS
        if row[field] and set(row[field].split("|")) != {CHECKSUM_GOOD}
    ]
    assert not bad
    ip_frames = [row for row in dissected if ":ip:" in row["frame.protocols"]]
    assert ip_frames and all(row["ip.checksum.status"] == CHECKSUM_GOOD for row in ip_frames)
    assert all(
        row["udp.checksum.status"] == CHECKSUM_GOOD for row in dissected if ":udp:" in row["frame.protocols"]
    )
    assert all(
        row["tcp.checksum.status"] == CHECKSUM_GOOD for row in dissected if ":tcp" in row["frame.protocols"]
    )


def _rows(capture: Capture, display_filter: str, fields: list[str]) -> list[dict[str, str]]:
    return tshark_fields(capture[0], fields, display_filter)


def test_arp_fields(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture,
        "arp",
        ["arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "eth.dst"],
    )
    assert [r["arp.opcode"] for r in rows] == ["1", "1", "1", "1", "2"]
    assert rows[0] == {
        "arp.opcode": "1",
        "arp.src.hw_mac": "3c:22:fb:11:22:33",
        "arp.src.proto_ipv4": "192.168.1.23",
        "arp.dst.proto_ipv4": "192.168.1.1",
        "eth.dst": "ff:ff:ff:ff:ff:ff",
    }
    assert rows[4]["eth.dst"] == "3c:22:fb:11:22:33" and rows[4]["arp.src.proto_ipv4"] == "192.168.1.40"


def test_icmp_echo_pairs_up(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture, "icmp", ["frame.number", "icmp.type", "icmp.seq", "icmp.resp_to", "ip.flags.df"]
    )
    assert [(r["icmp.type"], r["icmp.seq"]) for r in rows] == [("8", "1"), ("0", "1"), ("8", "2")]
    assert rows[1]["icmp.resp_to"] == rows[0]["frame.number"]  # tshark matched the reply to the request
    assert [r["ip.flags.df"] for r in rows] == ["1", "0", "1"]


def test_dns_fields(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture,
        "dns && !mdns",
        ["dns.id", "dns.qry.name", "dns.qry.type", "dns.a", "dns.count.answers", "dns.flags.rcode"],
    )
    assert [r["dns.qry.name"] for r in rows] == [SNI] * 4
    assert rows[1]["dns.a"] == f"{ip_str(COLLECTOR_IP)}|203.0.113.8"
    assert (rows[3]["dns.qry.type"], rows[3]["dns.count.answers"], rows[3]["dns.flags.rcode"]) == (
        "28",
        "0",
        "0",
    )


def test_mdns_fields(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture,
        "mdns",
        [
            "dns.ptr.domain_name",
            "dns.srv.port",
            "dns.a",
            "dns.resp.cache_flush",
            "dns.qry.qu",
            "dns.qry.name",
        ],
    )
    query, announce, reverse_query, reverse_response, qu_query = rows
    assert query["dns.qry.name"] == "_airplay._tcp.local|_googlecast._tcp.local"
    assert "Living Room iPhone._airplay._tcp.local" in announce["dns.ptr.domain_name"].split("|")
    assert announce["dns.srv.port"] == "7000|7001" and announce["dns.a"] == "192.168.1.40"
    assert reverse_query["dns.qry.name"] == "40.1.168.192.in-addr.arpa"
    assert reverse_response["dns.ptr.domain_name"] == "Living-Room-iPhone.local"
    assert reverse_response["dns.resp.cache_flush"] == "1"
    assert qu_query["dns.qry.qu"] == "1"


def test_nbns_node_status(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture,
        "nbns",
        ["nbns.flags.response", "nbns.netbios_name", "nbns.unit_id", "nbns.number_of_names"],
    )
    assert rows[0]["nbns.flags.response"] == "0"
    assert rows[1]["nbns.netbios_name"] == "DESKTOP-AB12|DESKTOP-AB12|WORKGROUP|WORKGROUP"
    assert rows[1]["nbns.unit_id"] == "a4:83:e7:01:02:03" and rows[1]["nbns.number_of_names"] == "4"


def test_dhcp_fields(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture, "dhcp",
        ["dhcp.option.dhcp", "dhcp.hw.mac_addr", "dhcp.ip.your", "dhcp.option.hostname", "dhcp.option.requested_ip_address",
         "dhcp.option.dhcp_server_id", "dhcp.option.router", "dhcp.option.domain_name_server", "dhcp.option.ip_address_lease_time"],
    )  # fmt: skip
    assert [r["dhcp.option.dhcp"] for r in rows] == ["1", "2", "3", "5"]
    # The client's MAC is in chaddr, and again in the client identifier (61) of its own messages.
    assert {mac for r in rows for mac in r["dhcp.hw.mac_addr"].split("|")} == {"3c:22:fb:11:22:33"}
    discover, offer, request, ack = rows
    assert discover["dhcp.option.hostname"] == "skyworth-tv" and discover["dhcp.ip.your"] == "0.0.0.0"
    assert request["dhcp.option.requested_ip_address"] == "192.168.1.23"
    assert request["dhcp.option.dhcp_server_id"] == "192.168.1.1"
    for reply in (offer, ack):
        assert reply["dhcp.ip.your"] == "192.168.1.23" and reply["dhcp.option.router"] == "192.168.1.1"
        assert reply["dhcp.option.domain_name_server"] == "192.168.1.1|203.0.113.53"
        assert reply["dhcp.option.ip_address_lease_time"] == "86400"


def test_ssdp_and_ntp(lan_capture: Capture) -> None:
    ssdp = _rows(lan_capture, "ssdp", ["http.request.method", "http.response.code"])
    assert [(r["http.request.method"], r["http.response.code"]) for r in ssdp] == [
        ("M-SEARCH", ""),
        ("", "200"),
        ("NOTIFY", ""),
    ]
    ntp = _rows(lan_capture, "ntp", ["ntp.flags.mode", "ntp.stratum", "ntp.xmt", "ntp.org"])
    assert [r["ntp.flags.mode"] for r in ntp] == ["3", "4"]
    assert ntp[1]["ntp.org"] == ntp[0]["ntp.xmt"] == "Apr 23, 2021 12:00:00.250000000 UTC"


def test_http_post_and_response(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture,
        "http",
        ["http.request.method", "http.host", "http.content_length", "http.response.code", "tcp.stream"],
    )
    assert [(r["http.request.method"], r["http.response.code"]) for r in rows] == [("POST", ""), ("", "200")]
    assert rows[0]["http.host"] == SNI and rows[0]["http.content_length"] == str(len(POST_BODY))


def test_tls_handshake(lan_capture: Capture) -> None:
    rows = _rows(
        lan_capture, "tls",
        ["tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.extensions.supported_version",
         "tls.handshake.extensions_alpn_str", "tls.record.content_type", "tls.record.opaque_type"],
    )  # fmt: skip
    client_hello = next(r for r in rows if r["tls.handshake.type"] == "1")
    assert client_hello["tls.handshake.extensions_server_name"] == SNI
    assert client_hello["tls.handshake.extensions.supported_version"] == "0x0304|0x0303"
    assert client_hello["tls.handshake.extensions_alpn_str"] == "http/1.1"
    server_hello = next(r for r in rows if r["tls.handshake.type"] == "2")
    assert server_hello["tls.handshake.extensions.supported_version"] == "0x0304"
    # Records after the ServerHello are TLS 1.3 ciphertext: tshark calls their type "opaque".
    content_types = {t for r in rows for t in r["tls.record.content_type"].split("|") if t}
    opaque_types = {t for r in rows for t in r["tls.record.opaque_type"].split("|") if t}
    assert (content_types, opaque_types) == ({"20", "22"}, {"23"})
