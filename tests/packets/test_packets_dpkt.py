"""Cross-checks with an independent parser (dpkt): header fields, checksums, TCP sequence continuity,
and the pcapng blocks themselves."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import dpkt
import pytest

from testbed.packets import PcapngWriter, ip_str, mac_str
from tests.packets.lan import PHONE_IP, TV_IP, TV_MAC, Record

Capture = tuple[Path, list[Record]]


def _read_pcapng(path: Path) -> list[tuple[float, bytes]]:
    with path.open("rb") as f:
        return list(dpkt.pcapng.Reader(f))


def test_dpkt_reads_the_same_frames_and_times(lan_capture: Capture) -> None:
    path, records = lan_capture
    packets = _read_pcapng(path)
    assert [buf for _, buf in packets] == [frame for _, frame, _ in records]
    assert [round(ts * 1e6) for ts, _ in packets] == [ts for ts, _, _ in records]


def test_arp_fields(lan_capture: Capture) -> None:
    _, records = lan_capture
    arps = [dpkt.ethernet.Ethernet(frame) for _, frame, label in records if label.startswith("arp#")]
    request, reply = arps[0], arps[-1]
    assert len(request) == 60  # padded to the Ethernet minimum, as a tap sees it
    assert (request.arp.op, request.arp.sha, request.arp.spa, request.arp.tha) == (1, TV_MAC, TV_IP, bytes(6))
    assert ip_str(request.arp.tpa) == "192.168.1.1"
    assert (reply.arp.op, reply.arp.spa, reply.arp.tha, reply.arp.tpa) == (2, PHONE_IP, TV_MAC, TV_IP)
    assert mac_str(reply.dst) == "3c:22:fb:11:22:33"


def _transport_checksum_ok(ip: dpkt.ip.IP) -> bool:
    segment = bytes(ip)[ip.hl * 4 : ip.len]
    if ip.p == dpkt.ip.IP_PROTO_ICMP:
        return dpkt.in_cksum(segment) == 0
    pseudo = ip.src + ip.dst + struct.pack("!HH", ip.p, len(segment))
    return dpkt.in_cksum(pseudo + segment) == 0


def test_ip_and_transport_checksums_and_lengths(lan_capture: Capture) -> None:
    _, records = lan_capture
    checked = 0
    for _, frame, label in records:
        eth = dpkt.ethernet.Ethernet(frame)
        if not isinstance(eth.data, dpkt.ip.IP):
            continue
        ip = eth.data
        header = frame[14 : 14 + ip.hl * 4]
        assert dpkt.in_cksum(header) == 0, label
        assert ip.len == len(frame) - 14 or len(frame) == 60, label  # short frames carry Ethernet padding
        assert _transport_checksum_ok(ip), label
        if isinstance(ip.data, dpkt.udp.UDP):
            assert ip.data.ulen == ip.len - 20 and ip.data.sum != 0, label
        checked += 1
    assert checked > 50


def _tcp_segments(records: list[Record], kind: str) -> list[tuple[int, dpkt.ip.IP]]:
    return [
        (ts, dpkt.ethernet.Ethernet(frame).data)
        for ts, frame, label in records
        if label.startswith(kind + "#")
    ]


@pytest.mark.parametrize("kind", ["http-session", "tls-session"])
def test_tcp_sequence_numbers_are_continuous(lan_capture: Capture, kind: str) -> None:
    _, records = lan_capture
    segments = _tcp_segments(records, kind)
    times = [ts for ts, _ in segments]
    assert times == sorted(times)
    next_seq: dict[bytes, int] = {}  # by source address: the next sequence number expected
    for _, ip in segments:
        tcp = ip.data
        if tcp.flags & dpkt.tcp.TH_SYN:
            assert ip.src not in next_seq
        else:
            assert tcp.seq == next_seq[ip.src]
            # Nothing is ever acknowledged before it was sent.
            peer = ip.dst
            assert (next_seq[peer] - tcp.ack) % 2**32 < 2**31
        consumed = len(tcp.data) + (1 if tcp.flags & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_FIN) else 0)
        next_seq[ip.src] = (tcp.seq + consumed) % 2**32
    syn = segments[0][1].data
    options = dict(dpkt.tcp.parse_opts(syn.opts))
    assert options[dpkt.tcp.TCP_OPT_MSS] == struct.pack("!H", 1460)
    assert dpkt.tcp.TCP_OPT_SACKOK in options and options[dpkt.tcp.TCP_OPT_WSCALE] == b"\x07"


def test_tls_session_wraps_its_sequence_numbers(lan_capture: Capture) -> None:
    _, records = lan_capture
    client_seqs = [ip.data.seq for _, ip in _tcp_segments(records, "tls-session") if ip.src == TV_IP]
    assert client_seqs[0] > 2**32 - 300 and client_seqs[-1] < 2**16  # wrapped past zero


def _blocks(data: bytes) -> list[tuple[int, bytes]]:
    blocks, offset = [], 0
    while offset < len(data):
        block_type, length = struct.unpack_from("<II", data, offset)
        assert length % 4 == 0 and struct.unpack_from("<I", data, offset + length - 4)[0] == length
        blocks.append((block_type, data[offset + 8 : offset + length - 4]))
        offset += length
    return blocks


def _options(data: bytes) -> list[tuple[int, bytes]]:
    options, offset = [], 0
    while offset < len(data):
        code, length = struct.unpack_from("<HH", data, offset)
        options.append((code, data[offset + 4 : offset + 4 + length]))
        offset += 4 + length + (-length % 4)
        if code == 0:
            break
    return options


def test_pcapng_block_layout() -> None:
    sink = io.BytesIO()
    with PcapngWriter(sink, interfaces=[("lan", 1), ("wan", 1)], application="unit-test") as writer:
        writer.write(0x1_0000_0001, b"\x01" * 61, "benign:arp")
        writer.write(2, b"\x02" * 64, None, interface=1)
        writer.write_many([(3, b"\x03" * 62, "h0001-tv1-c0001-sweep"), (4, b"\x04" * 63, "benign:arp")])
    data = sink.getvalue()
    assert writer.frames_written == 4 and writer.bytes_written == len(data)
    blocks = _blocks(data)
    assert [t for t, _ in blocks] == [0x0A0D0D0A, 1, 1, 6, 6, 6, 6]
    shb = blocks[0][1]
    assert struct.unpack_from("<IHHq", shb) == (0x1A2B3C4D, 1, 0, -1)
    assert (4, b"unit-test") in _options(shb[16:])
    for (_, idb), name in zip(blocks[1:3], (b"lan", b"wan"), strict=True):
        assert struct.unpack_from("<HHI", idb) == (1, 0, 262144)
        assert _options(idb[8:]) == [(2, name), (9, b"\x06"), (0, b"")]
    epbs = [body for _, body in blocks[3:]]
    interface, high, low, caplen, origlen = struct.unpack_from("<IIIII", epbs[0])
    assert (interface, high << 32 | low, caplen, origlen) == (0, 0x1_0000_0001, 61, 61)
    assert epbs[0][20:81] == b"\x01" * 61
    assert _options(epbs[0][20 + 64 :]) == [(1, b"benign:arp"), (0, b"")]
    assert struct.unpack_from("<I", epbs[1])[0] == 1 and len(epbs[1]) == 20 + 64  # no comment: no options
    assert _options(epbs[2][20 + 64 :]) == [(1, b"h0001-tv1-c0001-sweep"), (0, b"")]


def test_blocks_stay_right_when_the_encoder_cache_overflows(monkeypatch: pytest.MonkeyPatch) -> None:
    import testbed.packets.pcapng as pcapng

    monkeypatch.setattr(pcapng, "_BLOCK_CACHE_LIMIT", 3)  # cleared again and again below
    records = [(k, bytes([k]) * (60 + k % 5), f"label-{k % 7}") for k in range(40)]
    sink = io.BytesIO()
    with PcapngWriter(sink) as writer:
        writer.write_many(records)
    epbs = [body for block_type, body in _blocks(sink.getvalue()) if block_type == 6]
    for (ts, frame, label), body in zip(records, epbs, strict=True):
        _, high, low, caplen, origlen = struct.unpack_from("<IIIII", body)
        assert (high << 32 | low, caplen, origlen) == (ts, len(frame), len(frame))
        assert body[20:20 + caplen] == frame
        assert _options(body[20 + caplen + (-caplen % 4):]) == [(1, label.encode()), (0, b"")]


def test_writer_opens_and_closes_a_path(tmp_path: Path) -> None:
    path = tmp_path / "x.pcapng"
    with PcapngWriter(path) as writer:
        writer.write_many((ts, bytes(60), f"label-{ts % 7}") for ts in range(5000))  # more than one batch
    assert writer._file.closed
    assert writer.frames_written == 5000 and path.stat().st_size == writer.bytes_written
    assert len(_read_pcapng(path)) == 5000


def test_writer_rejects_an_unknown_interface() -> None:
    with pytest.raises(ValueError, match="no interface 1"):
        PcapngWriter(io.BytesIO()).write(0, bytes(60), None, interface=1)
