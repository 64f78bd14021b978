"""Segment sums (the payload part of each TCP checksum) equal summing the bytes, and the segments of a
bulk send built from them carry valid checksums."""

from __future__ import annotations

import dpkt
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.packets import TcpSession, tls_application_stream
from testbed.packets.checksum import ones_sum, segment_sums, verify


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=40_000), st.sampled_from([1, 2, 3, 536, 1459, 1460]))
def test_each_segment_sum_is_the_segment_value_mod_0xffff(data: bytes, size: int) -> None:
    sums = segment_sums(data, size)
    assert len(sums) == -(-len(data) // size)
    for k, s in enumerate(sums):
        assert s == int.from_bytes(data[k * size:(k + 1) * size]) % 0xFFFF


def test_word_sums_that_overflow_sixteen_bits_many_times() -> None:
    # All-0xFF segments: the largest word sums, where a wrong fold or a narrow accumulator would show.
    data = b"\xff" * (1460 * 8) + b"\xfe\x01" * 730 * 4 + b"\x00\x01\xff"
    assert segment_sums(data, 1460) == [int.from_bytes(data[k:k + 1460]) % 0xFFFF for k in range(0, len(data), 1460)]


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
