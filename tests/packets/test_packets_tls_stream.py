"""A TLS stream's own slice sums equal summing the bytes, and TCP segments built from them are valid."""

from __future__ import annotations

import dpkt
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.packets import TcpSession, tls_application_stream
from testbed.packets.checksum import ones_sum, verify


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 70_000), st.integers(0, 2**16 - 1), st.data())
def test_sum_of_any_slice_is_its_ones_complement_sum(length: int, seed: int, data: st.DataObject) -> None:
    stream = tls_application_stream(length, seed)
    start = data.draw(st.integers(0, len(stream)))
    stop = data.draw(st.integers(start, len(stream)))
    assert stream.sum_of(start, stop) == int.from_bytes(stream[start:stop]) % 0xFFFF
    # Tiny segments only on short streams: every drawn case is checked, and in reasonable time.
    size = data.draw(st.sampled_from([1, 2, 536, 1459, 1460] if len(stream) < 5000 else [536, 1459, 1460]))
    sums = stream.segment_sums(size)
    assert len(sums) == -(-len(stream) // size)
    for k, s in enumerate(sums):
        assert s == int.from_bytes(stream[k * size:(k + 1) * size]) % 0xFFFF


def test_segments_of_a_stream_carry_valid_checksums() -> None:
    session = TcpSession(bytes(6), b"\x0a\x00\x00\x02", 40000, b"\x02" * 6, b"\xcb\x00\x71\x05", 443, 7, 9)
    t = session.handshake(0, 20_000)
    session.server_send(tls_application_stream(50_001, 4242), t, 20_000)  # odd: the last segment is odd
    segments = 0
    for _, frame in session.frames:
        ip = dpkt.ethernet.Ethernet(frame).data
        pseudo = ip.src + ip.dst + bytes([0, 6]) + len(ip.data).to_bytes(2, "big")
        assert verify(pseudo + bytes(ip.data)), "bad TCP checksum"
        assert ones_sum(bytes(ip)[:20]) == 0, "bad IP checksum"
        segments += bool(ip.data.data)
    assert segments == 35  # 50,001 bytes of bodies plus 4 record headers, in 1460-byte segments
