"""Unit checks of the builders: checksum arithmetic, addresses, declarations, and each payload's
fields as an independent parser (dpkt) reads them."""

from __future__ import annotations

import hashlib
import random
import struct

import dpkt
import pytest

from testbed.packets import (
    ACK,
    BROADCAST_MAC,
    PSH,
    ArpSweeper,
    Header,
    arp_request,
    dhcp_message,
    dns_query,
    dns_response,
    http_request,
    http_response,
    icmp_echo,
    internet_checksum,
    ip_bytes,
    ip_str,
    mac_bytes,
    mac_str,
    mdns_announce,
    multicast_mac,
    ntp_request,
    ntp_response,
    ones_sum,
    reverse_name,
    ssdp_msearch,
    ssdp_notify,
    tcp_frame,
    tcp_syn_options,
    tls_application_data,
    tls_application_stream,
    tls_change_cipher_spec,
    tls_client_hello,
    tls_server_hello,
    udp_frame,
)
from testbed.packets.checksum import verify
from testbed.packets.ntp import NTP_EPOCH_OFFSET, ntp_timestamp

MAC_A, MAC_B = mac_bytes("3c:22:fb:11:22:33"), mac_bytes("00:11:22:33:44:55")
IP_A, IP_B = ip_bytes("192.168.1.23"), ip_bytes("203.0.113.7")


def _reference_checksum(data: bytes) -> int:
    """RFC 1071 the slow, obvious way."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _samples() -> list[bytes]:
    """Seeded random byte strings of every small length and some large ones, plus the edge cases."""
    rng = random.Random(1071)
    lengths = [*range(1, 80), *(rng.randrange(80, 3000) for _ in range(200))]
    edges = [b"\x00", b"\xff", b"\xff\xff", b"\xff" * 1501, b"\x00" * 64 + b"\x01", b"\x80\x00" * 99]
    return [rng.randbytes(n) for n in lengths] + edges


def test_checksum_matches_rfc1071() -> None:
    for data in _samples():
        ours, reference = internet_checksum(data), _reference_checksum(data)
        # 0x0000 and 0xFFFF are the two ones'-complement zeros; we never produce 0 (UDP's "no checksum").
        assert ours == reference or {ours, reference} == {0x0000, 0xFFFF}, data
        assert ours != 0


def test_checksum_is_linear_over_even_splits() -> None:
    for data in _samples():
        for cut in (0, 2, len(data) // 4 * 2, len(data) - len(data) % 2):  # even offsets only
            assert (ones_sum(data[:cut]) + ones_sum(data[cut:])) % 0xFFFF == ones_sum(data)


def test_a_filled_in_checksum_verifies() -> None:
    for data in _samples():
        if not any(data):
            continue
        data += b"\x00" * (len(data) % 2)
        assert verify(data + struct.pack("!H", internet_checksum(data)))


def test_address_helpers() -> None:
    assert mac_str(mac_bytes("3C-22-FB-11-22-33")) == "3c:22:fb:11:22:33"
    assert ip_str(ip_bytes("192.168.1.5")) == "192.168.1.5"
    assert multicast_mac(ip_bytes("224.0.0.251")) == mac_bytes("01:00:5e:00:00:fb")
    assert multicast_mac(ip_bytes("239.255.255.250")) == mac_bytes("01:00:5e:7f:ff:fa")
    assert BROADCAST_MAC == b"\xff" * 6
    with pytest.raises(ValueError):
        mac_bytes("3c:22:fb:11:22")
    with pytest.raises(ValueError):
        multicast_mac(ip_bytes("192.168.1.5"))
    with pytest.raises(ValueError):
        ip_bytes("192.168.1.300")


def test_header_declaration() -> None:
    demo = Header("demo", (("kind", "B", 7), ("length", "H", 0), ("addr", "4s", bytes(4))))
    assert demo.size == 7 and demo.template == b"\x07\x00\x00\x00\x00\x00\x00"
    assert demo.offsets == {"kind": 0, "length": 1, "addr": 3}
    assert demo.unpack(demo.pack(length=513)) == {"kind": 7, "length": 513, "addr": bytes(4)}
    both = demo + Header("tail", (("x", "B", 1),))
    assert both.names[-1] == "tail.x" and both.offsets["tail.x"] == 7
    with pytest.raises(TypeError):
        demo.pack(nope=1)


def test_arp_sweeper_matches_arp_request() -> None:
    sweeper = ArpSweeper(MAC_A, IP_A)
    for host in (1, 128, 254):
        target = bytes((192, 168, 1, host))
        assert sweeper.request(target) == arp_request(MAC_A, IP_A, target)


def test_udp_frame_fields() -> None:
    eth = dpkt.ethernet.Ethernet(
        udp_frame(MAC_A, MAC_B, IP_A, IP_B, 40000, 53, b"x" * 101, ttl=17, ip_id=0xABCD)
    )
    ip = eth.data
    assert (eth.src, eth.dst, ip.ttl, ip.id, ip.df, ip.p) == (MAC_A, MAC_B, 17, 0xABCD, 1, 17)
    assert (ip.data.sport, ip.data.dport, ip.data.data) == (40000, 53, b"x" * 101)


def test_tcp_frame_fields_and_option_padding() -> None:
    frame = tcp_frame(
        MAC_A,
        MAC_B,
        IP_A,
        IP_B,
        41000,
        443,
        2**32 - 1,
        12345,
        PSH | ACK,
        b"hello",
        501,
        options=b"\x01\x01\x01",
    )
    tcp = dpkt.ethernet.Ethernet(frame).data.data
    assert (tcp.seq, tcp.ack, tcp.flags, tcp.win, tcp.off, tcp.data) == (
        2**32 - 1,
        12345,
        PSH | ACK,
        501,
        6,
        b"hello",
    )
    assert tcp.opts == b"\x01\x01\x01\x00"
    options = dict(dpkt.tcp.parse_opts(tcp_syn_options(1400, 8, True, (111, 0))))
    assert options[dpkt.tcp.TCP_OPT_MSS] == struct.pack("!H", 1400)
    assert options[dpkt.tcp.TCP_OPT_TIMESTAMP] == struct.pack("!II", 111, 0)
    assert options[dpkt.tcp.TCP_OPT_WSCALE] == b"\x08"
    assert len(tcp_syn_options()) % 4 == 0 and len(tcp_syn_options(timestamps=(1, 0))) == 20


def test_icmp_echo_fields() -> None:
    ip = dpkt.ethernet.Ethernet(icmp_echo(MAC_A, MAC_B, IP_A, IP_B, 7, 9)).data
    assert (ip.data.type, ip.data.data.id, ip.data.data.seq, len(ip.data.data.data)) == (8, 7, 9, 56)


def test_dns_messages() -> None:
    query = dpkt.dns.DNS(dns_query(0x1234, "gz-data.com."))
    assert (query.id, query.qd[0].name, query.qd[0].type, query.rd) == (0x1234, "gz-data.com", 1, 1)
    answer = dpkt.dns.DNS(dns_response(0x1234, "gz-data.com", 1, ["203.0.113.7"], ttl=60))
    assert (answer.qr, answer.rcode, answer.an[0].ttl, answer.an[0].rdata) == (1, 0, 60, IP_B)
    ptr = dpkt.dns.DNS(dns_response(1, reverse_name("192.168.1.5"), 12, ["tv.lan"]))
    assert (ptr.qd[0].name, ptr.an[0].ptrname) == ("5.1.168.192.in-addr.arpa", "tv.lan")
    assert dpkt.dns.DNS(dns_response(1, "nope.lan", 1, [], rcode=3)).rcode == 3
    with pytest.raises(ValueError):
        dns_query(1, "a" * 64 + ".com")
    with pytest.raises(ValueError):
        dns_response(1, "x.com", 16, ["text"])


def test_mdns_announce_records() -> None:
    message = dpkt.dns.DNS(mdns_announce("Skyworth-TV", "192.168.1.23", ["_googlecast._tcp"], ttl=120))
    assert (message.id, message.qr, message.aa, len(message.qd)) == (0, 1, 1, 0)
    by_type = {rr.type: rr for rr in message.an}
    assert by_type[dpkt.dns.DNS_A].name == "Skyworth-TV.local" and by_type[dpkt.dns.DNS_A].rdata == IP_A
    assert by_type[dpkt.dns.DNS_SRV].port == 8009 and by_type[dpkt.dns.DNS_SRV].srvname == "Skyworth-TV.local"
    assert by_type[dpkt.dns.DNS_SRV].name == "Skyworth TV._googlecast._tcp.local"
    assert by_type[dpkt.dns.DNS_A].cls & 0x8000  # cache-flush on the unique record


def test_dhcp_messages() -> None:
    offer = dpkt.dhcp.DHCP(
        dhcp_message("offer", 0x11223344, MAC_A, your_ip="192.168.1.23", server_ip="192.168.1.1",
                     router="192.168.1.1", dns="192.168.1.1", lease=3600)
    )  # fmt: skip
    options = dict(offer.opts)
    assert (offer.op, offer.xid, offer.chaddr, ip_str(struct.pack("!I", offer.yiaddr))) == (
        2,
        0x11223344,
        MAC_A,
        "192.168.1.23",
    )
    assert options[dpkt.dhcp.DHCP_OPT_MSGTYPE] == b"\x02"
    assert options[dpkt.dhcp.DHCP_OPT_LEASE_SEC] == struct.pack("!I", 3600)
    assert options[dpkt.dhcp.DHCP_OPT_NETMASK] == ip_bytes("255.255.255.0")
    discover = dhcp_message("discover", 1, MAC_A, hostname="skyworth-tv")
    assert len(discover) == 300
    assert dict(dpkt.dhcp.DHCP(discover).opts)[dpkt.dhcp.DHCP_OPT_HOSTNAME] == b"skyworth-tv"
    with pytest.raises(ValueError):
        dhcp_message("bogus", 1, MAC_A)


def test_ntp_times() -> None:
    assert ntp_timestamp(0.5) == NTP_EPOCH_OFFSET << 32 | 1 << 31
    request = dpkt.ntp.NTP(ntp_request(1_619_179_200.25))
    assert (request.v, request.mode) == (4, 3)
    response = dpkt.ntp.NTP(ntp_response(1.0, 2.0, 3.0, stratum=3))
    assert (response.mode, response.stratum) == (4, 3)
    assert int.from_bytes(response.originate_time) == (NTP_EPOCH_OFFSET + 1) << 32
    assert ntp_timestamp(-0.25) == (NTP_EPOCH_OFFSET - 1) << 32 | 3 << 30


def test_ssdp_and_http_text() -> None:
    assert ssdp_msearch("ssdp:all", mx=3).startswith(b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n")
    assert ssdp_notify("http://x/", "upnp:rootdevice", "uuid:1", "s").endswith(b"\r\n\r\n")
    request = dpkt.http.Request(
        http_request("POST", "gz-data.com", "/r", [("Content-Type", "application/json")], b"{}")
    )
    assert (request.method, request.headers["host"], request.headers["content-length"], request.body) == (
        "POST",
        "gz-data.com",
        "2",
        b"{}",
    )
    get = http_request("GET", "h", "/", [("Host", "other")])
    assert b"Content-Length" not in get and get.count(b"Host:") == 1
    response = dpkt.http.Response(http_response(200, "OK", [], b"hi"))
    assert (response.status, response.body) == ("200", b"hi")


def test_tls_records() -> None:
    hello = tls_client_hello("gz-data.com", bytes(32), bytes(32))
    record = dpkt.ssl.TLSRecord(hello)
    assert (record.type, record.version, record.length) == (22, 0x0301, len(hello) - 5)
    handshake = dpkt.ssl.TLSHandshake(record.data)
    assert handshake.type == 1 and b"gz-data.com" in hello
    assert dpkt.ssl.TLSRecord(tls_server_hello(bytes(32), b"")).data[0] == 2
    assert tls_change_cipher_spec() == b"\x14\x03\x03\x00\x01\x01"
    data = tls_application_data(1000, seed=3)
    assert data[:5] == b"\x17\x03\x03\x03\xe8" and len(data) == 1005
    assert tls_application_data(1000, seed=3) == data != tls_application_data(1000, seed=4)
    with pytest.raises(ValueError):
        tls_application_data(2**14 + 257)
    stream = tls_application_stream(40_000, seed=9)
    assert stream == b"".join(tls_application_data(n, 9 + k) for k, n in enumerate((16401, 16401, 40_000 - 2 * 16401)))
    bodies = []
    while stream:
        record = dpkt.ssl.TLSRecord(stream)
        bodies.append(len(record.data))
        stream = stream[5 + record.length :]
    assert bodies == [16401, 16401, 40_000 - 2 * 16401]
    with pytest.raises(ValueError):
        tls_client_hello("x", bytes(31), b"")


@pytest.mark.parametrize("session_id_length", [0, 1, 32])
def test_client_hellos_carry_their_own_random_session_id_and_key_share(session_id_length) -> None:
    rng = random.Random(session_id_length)
    for sni in ("gz-data.com", "x", "cdn.example-streaming.net"):
        random32, session_id = rng.randbytes(32), rng.randbytes(session_id_length)
        hello = dpkt.ssl.TLSHandshake(dpkt.ssl.TLSRecord(tls_client_hello(sni, random32, session_id)).data).data
        assert isinstance(hello, dpkt.ssl.TLSClientHello)
        assert (hello.random, hello.session_id) == (random32, session_id)
        extensions = dict(hello.extensions)
        assert extensions[0x0000][5:].decode() == sni  # list length, type, name length, then the name
        group, length = struct.unpack("!HH", extensions[0x0033][2:6])
        assert (group, length) == (0x001D, 32)
        assert extensions[0x0033][6:] == hashlib.sha256(b"client" + random32).digest()
    # The same name again, another random: nothing of the previous hello is left in it.
    assert tls_client_hello("x", bytes(32), b"") != tls_client_hello("x", b"\x01" * 32, b"")


@pytest.mark.parametrize("session_id_length", [0, 1, 32])
def test_server_hellos_carry_their_own_random_session_id_and_key_share(session_id_length) -> None:
    rng = random.Random(100 + session_id_length)
    for _ in range(3):
        random32, session_id = rng.randbytes(32), rng.randbytes(session_id_length)
        raw = tls_server_hello(random32, session_id)
        record = dpkt.ssl.TLSRecord(raw)
        assert (record.type, record.version, record.length) == (22, 0x0303, len(raw) - 5)
        hello = dpkt.ssl.TLSHandshake(record.data).data
        assert isinstance(hello, dpkt.ssl.TLSServerHello)
        assert (hello.random, hello.session_id, hello.ciphersuite.code) == (random32, session_id, 0x1301)
        extensions = dict(hello.extensions)
        assert extensions[0x002B] == b"\x03\x04"  # supported_versions: TLS 1.3
        assert extensions[0x0033] == b"\x00\x1d\x00\x20" + hashlib.sha256(b"server" + random32).digest()
