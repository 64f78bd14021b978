"""Capture ingestion: frames match dpkt's reading, labels never leak, truth/ is refused."""

from __future__ import annotations

from collections import Counter

import dpkt
import pytest

from testbed.detect import Capture, CaptureError, Detector, run_detectors
from testbed.detect.frame import Frame

from .conftest import capture


def test_frames_match_dpkt(plain_run):
    cap = capture(plain_run)
    ours = list(cap.raw_frames())
    with open(plain_run / "capture.pcapng", "rb") as f:
        theirs = [(ts, bytes(buf)) for ts, buf in dpkt.pcapng.Reader(f)]
    assert len(ours) == len(theirs) > 1000
    assert all(abs(a[0] - b[0]) < 1e-6 and a[1] == b[1] for a, b in zip(ours, theirs, strict=True))


def test_frame_fields_agree_with_dpkt(plain_run):
    checked = Counter()
    for ts, raw in list(capture(plain_run).raw_frames())[:5000]:
        f, eth = Frame(ts, raw), dpkt.ethernet.Ethernet(raw)
        assert f.src_mac == eth.src.hex(":") and f.ethertype == eth.type
        if isinstance(eth.data, dpkt.arp.ARP):
            assert (f.arp_op, f.arp_spa, f.arp_tpa) == (eth.data.op, ".".join(map(str, eth.data.spa)),
                                                       ".".join(map(str, eth.data.tpa)))
            checked["arp"] += 1
        elif isinstance(eth.data, dpkt.ip.IP):
            ip = eth.data
            assert (f.ip_src, f.ip_proto) == (".".join(map(str, ip.src)), ip.p)
            if isinstance(ip.data, dpkt.udp.UDP | dpkt.tcp.TCP):
                assert (f.sport, f.dport, f.payload) == (ip.data.sport, ip.data.dport, bytes(ip.data.data))
                checked[f.proto] += 1
    assert checked["arp"] and checked["udp"]


def test_application_fields(plain_run):
    names = Counter()
    for f in capture(plain_run).frames():
        names.update(n for n in (f.dns_qname, f.http_host) if n)
    assert names["gz-data.com"] >= 2  # the SDK resolves the collector and names it in Host


def test_label_free_pcap_has_no_comments(plain_run, tmp_path):
    cap = capture(plain_run)
    original = (plain_run / "capture.pcapng").read_bytes()
    assert b"benign:" in original  # the labels are in the pcapng...
    out = cap.label_free_pcap(tmp_path / "c.pcap")
    data = out.read_bytes()
    assert b"benign:" not in data and b"-sweep" not in data  # ...and not in the copy
    with open(out, "rb") as f:
        frames = [(ts, bytes(b)) for ts, b in dpkt.pcap.Reader(f)]
    assert [b for _, b in frames] == [b for _, b in cap.raw_frames()]
    assert list(Capture(out).raw_frames())[0][1] == frames[0][1]  # a pcap is a capture too


def test_truth_and_directories_refused(plain_run):
    with pytest.raises(CaptureError, match="truth"):
        Capture(plain_run / "truth" / "events.jsonl")
    with pytest.raises(CaptureError, match="not a capture file"):
        Capture(plain_run)
    with pytest.raises(CaptureError, match="neither pcapng nor pcap"):
        list(Capture(plain_run / "population.json").raw_frames())


class _Counter(Detector):
    name = "frame-counter"

    def watch(self):
        n = 0
        while (yield) is not None:
            n += 1
        return [self._alert(ts=0.0, src_ip="0.0.0.0", src_mac=None, dst={}, proto="eth", message=str(n))]


def test_one_pass_feeds_every_detector(plain_run, monkeypatch):
    cap = capture(plain_run)
    passes = []
    real = Capture.frames
    monkeypatch.setattr(Capture, "frames", lambda self: passes.append(1) or real(self))
    a, b = run_detectors(cap, [_Counter(), _Counter()])
    assert len(passes) == 1
    assert a[0].message == b[0].message == str(sum(1 for _ in cap.raw_frames()))


class _ArpCounter(_Counter):
    name = "arp-counter"
    frame_kinds = frozenset(("arp",))


def test_runner_sends_only_the_declared_kinds(plain_run):
    cap = capture(plain_run)
    everything, arp_only = run_detectors(cap, [_Counter(), _ArpCounter()])
    n_arp = sum(1 for f in cap.frames() if f.ethertype == 0x0806)
    assert 0 < n_arp < int(everything[0].message)
    assert arp_only[0].message == str(n_arp)


def _pcapng(tsresol: int | None, stamp: int) -> bytes:
    """A one-frame pcapng: section header, an Ethernet interface (``if_tsresol`` if given), one EPB."""
    import struct

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    opts = b"" if tsresol is None else struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    frame = bytes(range(60))
    return (block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
            + block(1, struct.pack("<HHI", 1, 0, 262144) + opts)
            + block(6, struct.pack("<IIIII", 0, stamp >> 32, stamp & 0xFFFFFFFF, 60, 60) + frame))


@pytest.mark.parametrize("tsresol, stamp, scale", [
    (None, 1_619_179_200_120_331, 1e-6),  # microseconds (the default)
    (9, 1_619_179_200_120_331_777, 1e-9),  # nanoseconds: beyond 2**53, so the int-to-float rounding shows
    (0x80 | 20, 1_619_179_200 << 20, 2.0 ** -20),  # a power of two
])
def test_timestamps_at_any_resolution(tmp_path, tsresol, stamp, scale):
    path = tmp_path / "one.pcapng"
    path.write_bytes(_pcapng(tsresol, stamp))
    [(ts, raw)] = list(Capture(path).raw_frames())
    assert ts == float(stamp) * scale and raw == bytes(range(60))


def test_truncated_and_odd_frames_decode_without_error(plain_run):
    for ts, raw in list(capture(plain_run).raw_frames())[:300]:
        full = Frame(ts, raw)
        for k in range(len(raw)):
            f = Frame(ts, raw[:k])
            assert f.ethertype in (0, full.ethertype)
        again = Frame(ts, raw)  # the second decoding of a frame (from the caches) is the same
        assert all(getattr(again, s) == getattr(full, s) for s in Frame.__slots__ if s != "_dns")


def test_dns_names_do_not_depend_on_the_message_id():
    from testbed.detect.frame import _first_qname

    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07gz-data\x03com\x00\x00\x01\x00\x01"
    assert _first_qname(query) == "gz-data.com"
    assert _first_qname(b"\xab\xcd" + query[2:]) == "gz-data.com"  # from the cache
    assert _first_qname(query[:4] + b"\x00\x00" + query[6:]) is None  # no question


def test_a_truncated_packet_block_is_an_error(tmp_path):
    import struct

    path = tmp_path / "cut.pcapng"
    path.write_bytes(_pcapng(None, 1) + struct.pack("<III", 6, 20, 0) + bytes(4) + struct.pack("<I", 20))
    with pytest.raises(CaptureError, match="truncated"):
        list(Capture(path).raw_frames())
