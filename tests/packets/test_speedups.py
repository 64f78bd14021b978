"""The compiled hot loops (``testbed/packets/_speedups.c``) write exactly what their pure-Python
references write: pcapng blocks, whole TCP connections (against ``TcpSession``, call by call), UDP and
ICMP frames, frame logs (frames added, spaced or straight from a connection) and their merge, into
memory or a file's staging buffers, and a whole run's capture.

Where the extension was not built (no C compiler) these tests skip, except in CI (``CI=true`` or
``TESTBED_REQUIRE_SPEEDUPS=1``), where a missing extension is a failure: CI must test the fast path.
"""

from __future__ import annotations

import hashlib
import random
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.packets import (
    TcpSession,
    speedups,
    tcp_connection,
    tls,
    tls_application_stream,
    tls_application_stream_parts,
    tls_server_hello,
    tls_session_sends,
)
from testbed.packets.direct_file import ALIGN, DirectFile
from testbed.packets.encoded_frames import EncodedFrames
from testbed.packets.frame_log import PyFrameLog, merge_encoded, take_merged, take_merged_into
from testbed.packets.ip import icmp_echo, udp_frame
from testbed.packets.pcapng import EpbEncoder
from testbed.sim.executor import rtt_us
from tests.helpers import require_speedups


@pytest.fixture(scope="module")
def native() -> ModuleType:
    return require_speedups()


def test_the_extension_is_built_and_complete(native: ModuleType) -> None:
    # The fixture fails in CI when the extension is missing; built, it must offer every loop the code calls.
    for name in ("epb_encode", "tcp_session", "udp_frame", "icmp_echo", "FrameLog", "merge_encoded", "take_merged",
                 "take_merged_into", "community_id", "tls_session_sends", "rtt_us"):
        assert hasattr(native, name), f"testbed.packets._speedups lacks {name}: rebuild it (pip install -e .)"
    for name in ("add", "add_spaced", "add_raw", "add_flow", "take"):
        assert hasattr(native.FrameLog, name), f"FrameLog lacks {name}: rebuild it (pip install -e .)"


# ------------------------------------------------------------------ pcapng blocks

records_strategy = st.lists(
    st.tuples(
        st.integers(0, 2**63 - 1),
        st.binary(min_size=0, max_size=1600),
        st.one_of(st.none(), st.text(max_size=40)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(records_strategy, st.integers(0, 3))
def test_blocks_are_the_pure_python_blocks(native: ModuleType, records: list, interface: int) -> None:
    encoder = EpbEncoder()
    fast = encoder.encode(records, interface)
    slow = encoder.encode_python(records, interface)
    assert fast.blob == slow.blob
    assert list(fast.times) == list(slow.times) == [r[0] for r in records]
    assert list(fast.ends) == list(slow.ends)


@pytest.mark.parametrize(
    ("records", "error", "says"),
    [
        ([(-1, b"x", None)], ValueError, "record 0: a capture time is never negative"),
        ([(0, b"x", None), (1, "text", None)], TypeError, "record 1: the frame must be bytes"),
        ([(0, b"x", b"label")], TypeError, "record 0: the comment must be a str or None"),
        ([(0, b"x")], TypeError, "record 0: expected a (ts_us, frame, comment) tuple"),
        ([(0, b"x", "y" * 65536)], ValueError, "record 0: a comment has at most 65535 bytes"),
        ([(2**64, b"x", None)], OverflowError, "too big|too large|out of range"),
    ],
)
def test_bad_records_are_refused_with_their_index(native: ModuleType, records: list, error: type, says: str) -> None:
    with pytest.raises(error, match=says.replace("(", r"\(").replace(")", r"\)")):
        native.epb_encode(records, 0)


# ------------------------------------------------------------------ bulk TCP sends

T0 = 1_700_000_000_000_000
ENDS = (b"\x02\x00\x00\x00\x00\x07", b"\x0a\x00\x00\x07", 40001, b"\x02\x00\x00\x00\x00\x01", b"\xcb\x00\x71\x05", 443)


def _bulk_sends(data_sizes: list[int], seed: int) -> list[tuple[bool, bytes, int]]:
    # Client and server in turn, each send a millisecond after the previous exchange.
    return [(k % 2 == 0, tls_application_stream(size, seed + k) if size > 5 else bytes(range(size)), 1000)
            for k, size in enumerate(data_sizes)]


def _both_sessions(data_sizes: list[int], mss: int, client_isn: int, server_isn: int, seed: int) -> tuple:
    """The frames of the compiled ``tcp_connection`` and of the ``TcpSession`` calls it stands for."""
    sends = _bulk_sends(data_sizes, seed)
    session = TcpSession(*ENDS, client_isn, server_isn, mss)
    t = session.handshake(T0, 23_000)
    for from_client, data, delay in sends:
        t = (session.client_send if from_client else session.server_send)(data, t + delay, 23_000)
    session.close(t + 500, 23_000)
    compiled, _ = tcp_connection(*ENDS, client_isn, server_isn, T0, 23_000, sends, 500, mss=mss)
    return compiled, session.frames


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.integers(1, 60_000), min_size=1, max_size=4),
    st.sampled_from([536, 1459, 1460]),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 1000),
)
def test_bulk_sends_are_the_pure_python_frames(native: ModuleType, sizes: list[int], mss: int, client_isn: int,
                                               server_isn: int, seed: int) -> None:
    fast, slow = _both_sessions(sizes, mss, client_isn, server_isn, seed)
    assert fast == slow


def test_a_streaming_download_is_the_pure_python_frames(native: ModuleType) -> None:
    # The size of a streaming burst (150 kB, many slow-start rounds), with sequence numbers and IP ids
    # that wrap around during the send.
    fast, slow = _both_sessions([700, 150_017], 1460, 2**32 - 5000, 2**32 - 90_000, 7)
    assert len(fast) > 150 and fast == slow


# ------------------------------------------------------------------ whole TCP connections

CLIENT = (bytes.fromhex("02aabbccddee"), bytes([192, 168, 1, 23]), 50123)
SERVER = (bytes.fromhex("0211223344ff"), bytes([203, 0, 113, 9]), 443)


def _connection(sends: list, mss: int, isns: tuple[int, int], rtt: int, by_server: bool, ttl: int) -> tuple:
    return tcp_connection(*CLIENT, *SERVER, *isns, T0, rtt, sends, 1000, mss=mss,
                          server_ttl=ttl, close_by_server=by_server)


def _both_ways(native: ModuleType, *args) -> tuple[tuple, tuple]:
    fast = _connection(*args)
    try:
        speedups.native = None
        slow = _connection(*args)
    finally:
        speedups.native = native
    return fast, slow


send_strategy = st.tuples(st.booleans(), st.integers(0, 40_000), st.integers(0, 6000)).map(
    lambda s: (s[0], bytes((s[1] * 7 + i * 13) % 251 for i in range(s[1])), s[2]))


@settings(max_examples=120, deadline=None)
@given(
    st.lists(send_strategy, max_size=5),
    st.sampled_from([536, 1459, 1460]),
    st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.integers(0, 300_000),
    st.booleans(),
    st.sampled_from([64, 128, 255]),
)
def test_whole_connections_are_the_pure_python_frames(native: ModuleType, sends: list, mss: int,
                                                      isns: tuple[int, int], rtt: int, by_server: bool,
                                                      ttl: int) -> None:
    fast, slow = _both_ways(native, sends, mss, isns, rtt, by_server, ttl)
    assert fast == slow
    frames, t_done = fast
    assert len(frames) >= 6  # a handshake and a close at least
    assert [t for t, _ in frames] == sorted(t for t, _ in frames)
    assert (frames[0][0], frames[-1][0]) == (T0, t_done)  # from the SYN to the close's last ACK


def test_a_streaming_session_with_wrapping_numbers_is_the_pure_python_frames(native: ModuleType) -> None:
    hello = bytes(range(256)) * 2
    stream = tls_application_stream(150_017, 3)
    sends = [(True, hello, 0), (False, hello[:301], 1500), (True, b"\x14\x03\x03", 0), (False, stream, 5000)]
    fast, slow = _both_ways(native, sends, 1460, (2**32 - 3, 2**32 - 90_000), 31_000, False, 64)
    assert len(fast[0]) > 150 and fast == slow


@settings(max_examples=60, deadline=None)
@given(st.lists(send_strategy, max_size=4), st.sampled_from([536, 1460]),
       st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)), st.integers(0, 100_000), st.booleans(),
       st.one_of(st.none(), st.sampled_from(["", "benign:streaming", "é"])))
def test_a_connection_put_straight_into_a_log_is_what_adding_its_frames_gives(
        native: ModuleType, sends: list, mss: int, isns: tuple[int, int], rtt: int, by_server: bool,
        label: str | None) -> None:
    args = (*CLIENT, *SERVER, *isns, T0, rtt, sends, 1000)
    frames, t_done = tcp_connection(*args, mss=mss, close_by_server=by_server)
    direct, python, added = native.FrameLog(), PyFrameLog(), PyFrameLog()
    for log in (direct, python, added):
        log.add([(1, b"an earlier step")], "x")  # what a log already holds stays first
    got = tcp_connection(*args, mss=mss, close_by_server=by_server, log=direct, label=label)
    want = tcp_connection(*args, mss=mss, close_by_server=by_server, log=python, label=label)
    added.add(frames, label)
    assert got == want == ([], t_done)
    assert len(direct) == len(python) == len(added) == len(frames) + 1
    assert direct.take(0, True) == python.take(0, True) == added.take(0, True)


def _in_pieces(data: bytes, cuts: list[int], as_tuple: bool) -> list | tuple:
    """``data`` cut at ``cuts`` (empty pieces included), alternately as bytes and memoryviews."""
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    pieces = [data[a:b] if k % 2 else memoryview(data)[a:b] for k, (a, b) in enumerate(pairwise(bounds))]
    return tuple(pieces) if as_tuple else pieces


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(send_strategy, st.lists(st.integers(0, 50_000), max_size=6), st.booleans()), max_size=4),
       st.sampled_from([536, 1459, 1460]), st.booleans())
def test_a_send_given_in_pieces_is_the_send_of_their_concatenation(native: ModuleType, cut_sends: list, mss: int,
                                                                  into_log: bool) -> None:
    joined = [send for send, _, _ in cut_sends]
    pieces = [(c, _in_pieces(data, cuts, as_tuple), d) for (c, data, d), cuts, as_tuple in cut_sends]
    args = (*CLIENT, *SERVER, 7, 2**32 - 9, T0, 20_000)
    want = tcp_connection(*args, joined, 1000, mss=mss)
    for extension in (native, None):  # the compiled path copies the pieces; the pure one joins them
        speedups.native = extension
        try:
            if into_log:
                log, reference = native.FrameLog(), native.FrameLog()
                reference.add(want[0], "x")
                assert tcp_connection(*args, pieces, 1000, mss=mss, log=log, label="x") == ([], want[1])
                assert log.take(0, True) == reference.take(0, True)
            else:
                assert tcp_connection(*args, pieces, 1000, mss=mss) == want
        finally:
            speedups.native = native


def test_pieces_that_end_next_to_a_segment_boundary_are_sent_whole(native: ModuleType) -> None:
    # Random cuts seldom land a byte or two from where a segment ends: cut there on purpose.
    mss, data = 536, bytes((i * 31 + 7) % 256 for i in range(20_000))
    cuts = [k * mss + d for k in range(1, len(data) // mss + 1) for d in (-2, -1, 1, 2)]
    for pieces in (_in_pieces(data, cuts, as_tuple=False), [data[i:i + 1] for i in range(3000)]):
        whole = b"".join(pieces)
        want = tcp_connection(*CLIENT, *SERVER, 1, 2, T0, 100, [(False, whole, 0)], 1000, mss=mss)
        assert tcp_connection(*CLIENT, *SERVER, 1, 2, T0, 100, [(False, pieces, 0)], 1000, mss=mss) == want


def test_a_tls_stream_in_parts_is_the_stream(native: ModuleType) -> None:
    for length, seed in ((1, 0), (16_401, 3), (16_402, 3), (150_017, 9)):
        parts = tls_application_stream_parts(length, seed)
        assert b"".join(parts) == tls_application_stream(length, seed)
        frames, _ = tcp_connection(*CLIENT, *SERVER, 1, 2, T0, 100, [(False, parts, 0)], 1000)
        assert frames == tcp_connection(*CLIENT, *SERVER, 1, 2, T0, 100,
                                        [(False, tls_application_stream(length, seed), 0)], 1000)[0]


def test_a_refused_send_leaves_the_log_as_it_was(native: ModuleType) -> None:
    def log_with_one_step():
        log = native.FrameLog()
        log.add([(5, b"an earlier step")], "x")
        return log

    log = log_with_one_step()
    good = (True, tls_application_stream_parts(30_000, 1), 0)  # before the bad one: no frame of it is kept
    for bad, error in (((False, [b"ok", 3], 0), r"send 1: the data must be bytes-like or a list of bytes-like "
                        r"pieces, not int"),
                       ((False, "text", 0), r"send 1: the data must be bytes-like .* not str"),
                       ((False, b"x", -5), r"send 1: the RTT and the delays are never negative"),
                       ((False, b"x"), r"send 1: expected \(from_client, data, delay_us\)")):
        with pytest.raises((TypeError, ValueError), match=error):
            tcp_connection(*CLIENT, *SERVER, 1, 2, T0, 100, [good, bad], 1000, log=log, label="y")
        assert len(log) == 1
    assert log.take(0, True) == log_with_one_step().take(0, True)


def test_bad_connections_are_refused(native: ModuleType) -> None:
    with pytest.raises(ValueError, match="a MAC has 6 bytes"):
        tcp_connection(b"\x02", *CLIENT[1:], *SERVER, 1, 2, 0, 100, [], 1000)
    with pytest.raises(TypeError, match=r"send 1: expected \(from_client, data, delay_us\)"):
        tcp_connection(*CLIENT, *SERVER, 1, 2, 0, 100, [(True, b"x", 0), (True, b"x")], 1000)
    with pytest.raises(ValueError, match="the MSS must be positive"):
        tcp_connection(*CLIENT, *SERVER, 1, 2, 0, 100, [], 1000, mss=0)
    with pytest.raises(ValueError, match="MSS of 65496 does not fit"):
        tcp_connection(*CLIENT, *SERVER, 1, 2, 0, 100, [], 1000, mss=65496)
    for extension in (native, None):  # both paths refuse it
        speedups.native = extension
        try:
            with pytest.raises(ValueError, match="the RTT and the delays are never negative"):
                tcp_connection(*CLIENT, *SERVER, 1, 2, 0, 100, [(True, b"x", -1)], 1000)
        finally:
            speedups.native = native
    with pytest.raises(ValueError, match="the RTT and the delays are never negative"):
        native.tcp_session((*CLIENT, 1, 64), (*SERVER, 2, 64), (1460, 64240, 502, 65160, 509, 7), (50, 12, 10),
                           b"", 0, -1, [], 1000, False)
    with pytest.raises(ValueError, match="out of range"):
        tcp_connection(*CLIENT, *SERVER, 1, 2, 0, 100, [], 1000, server_ttl=256)
    with pytest.raises(TypeError, match="the log must be a FrameLog, not PyFrameLog"):
        native.tcp_session((*CLIENT, 1, 64), (*SERVER, 2, 64), (1460, 64240, 502, 65160, 509, 7), (50, 12, 10),
                           b"", 0, 100, [], 1000, False, PyFrameLog(), "x")
    with pytest.raises(TypeError, match="the label must be a str or None, not int"):
        tcp_connection(*CLIENT, *SERVER, 1, 2, 0, 100, [], 1000, log=native.FrameLog(), label=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at most 40"):
        native.tcp_session((*CLIENT, 1, 64), (*SERVER, 2, 64), (1460, 64240, 502, 65160, 509, 7), (50, 12, 10),
                           bytes(44), 0, 100, [], 1000, False)


# ------------------------------------------------------------------ UDP datagrams

@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=6, max_size=6), st.binary(min_size=6, max_size=6), st.binary(min_size=4, max_size=4),
       st.binary(min_size=4, max_size=4), st.integers(0, 65535), st.integers(0, 65535), st.binary(max_size=1600),
       st.integers(0, 255), st.integers(0, 65535), st.booleans())
def test_udp_frames_are_the_pure_python_frames(native: ModuleType, src_mac: bytes, dst_mac: bytes, src_ip: bytes,
                                               dst_ip: bytes, sport: int, dport: int, payload: bytes, ttl: int,
                                               ip_id: int, df: bool) -> None:
    fast = udp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload, ttl, ip_id, df=df)
    try:
        speedups.native = None
        slow = udp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload, ttl, ip_id, df=df)
    finally:
        speedups.native = native
    assert fast == slow


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=6, max_size=6), st.binary(min_size=4, max_size=4), st.integers(0, 65535),
       st.integers(0, 65535), st.binary(max_size=1600), st.booleans(), st.integers(0, 255), st.integers(0, 65535),
       st.sampled_from([None, True, False]))
def test_icmp_echoes_are_the_pure_python_frames(native: ModuleType, mac: bytes, ip: bytes, ident: int, seq: int,
                                                payload: bytes, reply: bool, ttl: int, ip_id: int,
                                                df: bool | None) -> None:
    args = (mac, mac[::-1], ip, ip[::-1], ident, seq, payload, reply, ttl, ip_id)
    fast = icmp_echo(*args, df=df)
    try:
        speedups.native = None
        slow = icmp_echo(*args, df=df)
    finally:
        speedups.native = native
    assert fast == slow


def test_bad_udp_frames_are_refused(native: ModuleType) -> None:
    good = (bytes(6), bytes(6), bytes(4), bytes(4), 1, 2, b"x", 64, 0, True)
    for index, bad, says in [(0, bytes(5), "the source MAC has 5 bytes, not 6"),
                             (3, bytes(16), "the destination address has 16 bytes, not 4"),
                             (4, 65536, "the source port must be in 0..65535"),
                             (7, 256, "the TTL must be in 0..255"),
                             (8, -1, "the IP id must be in 0..65535"),
                             (6, bytes(65508), "a payload of 65508 bytes does not fit")]:
        args = list(good)
        args[index] = bad
        with pytest.raises(ValueError, match=says):
            native.udp_frame(*args)
    with pytest.raises(TypeError, match="takes 10 arguments"):
        native.udp_frame(*good[:9])
    echo = (bytes(6), bytes(6), bytes(4), bytes(4), 1, 2, b"x", False, 64, 0, True)
    for index, bad, says in [(1, b"", "icmp_echo: the destination MAC has 0 bytes, not 6"),
                             (5, 1 << 16, "icmp_echo: the sequence number must be in 0..65535")]:
        args = list(echo)
        args[index] = bad
        with pytest.raises(ValueError, match=says):
            native.icmp_echo(*args)


# ------------------------------------------------------------------ frame logs and their merge

times_strategy = st.integers(1_700_000_000_000_000, 1_700_000_000_000_040)  # few values: many ties
step_strategy = st.lists(st.tuples(times_strategy, st.binary(min_size=1, max_size=90)), max_size=6)
label_strategy = st.one_of(st.none(), st.sampled_from(["", "benign:dns", "h0001-tv1-c0002-sweep"]))


spaced_strategy = st.tuples(times_strategy, st.integers(0, 7), st.lists(st.binary(min_size=1, max_size=90), max_size=6))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.just("add"), step_strategy, label_strategy),
                          st.tuples(st.just("spaced"), spaced_strategy, label_strategy),
                          st.tuples(st.just("take"), times_strategy, st.booleans())), max_size=12))
def test_a_frame_log_hands_over_what_the_pure_python_one_does(native: ModuleType, ops: list) -> None:
    fast, slow = native.FrameLog(), PyFrameLog()
    for op, a, b in ops:
        if op == "add":
            fast.add(a, b)
            slow.add(a, b)
        elif op == "spaced":
            fast.add_spaced(*a, b)
            slow.add_spaced(*a, b)
        else:
            assert fast.take(a, b) == slow.take(a, b)
        assert len(fast) == len(slow)
    assert fast.take(0, True) == slow.take(0, True)
    assert len(fast) == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(step_strategy, label_strategy), max_size=4), max_size=5),
       times_strategy, st.booleans())
def test_logs_taken_together_give_what_each_take_merged_gives(native: ModuleType, homes: list, until: int,
                                                               final: bool) -> None:
    fast = [native.FrameLog() for _ in homes]
    slow = [PyFrameLog() for _ in homes]
    for steps, f, s in zip(homes, fast, slow, strict=True):
        for frames, label in steps:
            f.add(frames, label)
            s.add(frames, label)
    got = take_merged(fast, until, final)
    want = take_merged(slow, until, final)  # pure-Python logs: each taken, then merge_encoded
    assert (got.blob, list(got.times), list(got.ends)) == (want.blob, list(want.times), list(want.ends))
    # What was not taken stays in each log, as it does in the pure-Python ones.
    assert [len(f) for f in fast] == [len(s) for s in slow]
    assert [f.take(0, True) for f in fast] == [s.take(0, True) for s in slow]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.tuples(st.lists(st.tuples(times_strategy, st.binary(min_size=1, max_size=3000)),
                                            max_size=6), label_strategy), max_size=4), max_size=5),
       times_strategy, st.booleans(), st.integers(0, 3))
def test_logs_taken_into_a_direct_file_write_what_take_merged_gives(tmp_path_factory, native: ModuleType,
                                                                     homes: list, until: int, final: bool,
                                                                     windows: int) -> None:
    """Blocks straddle the file's small staging buffers; the bytes, counts and sha256 are those of
    ``take_merged``, window after window, for compiled and pure-Python logs alike."""
    directory = tmp_path_factory.mktemp("into")
    results = []
    for kind in (native.FrameLog, PyFrameLog, native.FrameLog):
        logs = [kind() for _ in homes]
        for steps, log in zip(homes, logs, strict=True):
            for frames, label in steps:
                log.add(frames, label)
        path = directory / f"{kind.__name__}-{len(results)}.bin"
        if len(results) < 2:
            with DirectFile(path, buffer_size=ALIGN, hash=True) as f:
                counts = [take_merged_into(logs, until + w, final and w == windows, f) for w in range(windows + 1)]
                digest = f.sha256()
        else:  # the reference: each window taken, then written
            with DirectFile(path, buffer_size=ALIGN, hash=True) as f:
                counts = []
                for w in range(windows + 1):
                    taken = take_merged(logs, until + w, final and w == windows)
                    f.write(taken.blob)
                    counts.append((len(taken), len(taken.blob)))
                digest = f.sha256()
        results.append((path.read_bytes(), counts, digest, [len(log) for log in logs]))
    assert results[0] == results[1] == results[2]


def test_a_sink_that_misbehaves_is_reported_and_the_logs_keep_their_frames(native: ModuleType) -> None:
    class NoRoom:
        def staging(self) -> memoryview:
            return memoryview(bytearray(0))

        def staged(self, n: int) -> None:
            raise AssertionError("nothing was put")

    class Failing:
        def staging(self) -> memoryview:
            return memoryview(bytearray(64))

        def staged(self, n: int) -> None:
            raise OSError("disk full")

    log = native.FrameLog()
    log.add([(5, bytes(200))], "x")
    with pytest.raises(ValueError, match="gave no room"):
        native.take_merged_into([log], 10, False, NoRoom())
    with pytest.raises(OSError, match="disk full"):
        native.take_merged_into([log], 10, False, Failing())
    with pytest.raises(TypeError, match="log 0: expected a FrameLog"):
        native.take_merged_into([PyFrameLog()], 10, False, Failing())
    assert len(log) == 1  # nothing was taken


def test_evenly_spaced_frames_are_the_pairs_they_stand_for_and_bad_ones_are_refused(native: ModuleType) -> None:
    for kind in (native.FrameLog, PyFrameLog):
        spaced, paired = kind(), kind()
        spaced.add_spaced(100, 7, [b"a", b"bb", b"ccc"], "sweep")
        paired.add([(100, b"a"), (107, b"bb"), (114, b"ccc")], "sweep")
        assert spaced.take(0, True) == paired.take(0, True)
        with pytest.raises(ValueError, match="times are never negative"):
            kind().add_spaced(5, -1, [b"x"], None)
    log = native.FrameLog()  # the compiled log checks frames as it adds them (the Python one when taking)
    log.add([(1, b"kept")], None)
    with pytest.raises(TypeError, match="frame 1: the frame must be bytes, not str"):
        log.add_spaced(5, 1, [b"x", "y"], None)
    with pytest.raises(TypeError, match="must be a str or None, not int"):
        log.add_spaced(5, 1, [b"x"], 3)  # type: ignore[arg-type]
    assert len(log) == 1  # all or nothing: the refused frames left no trace


def test_taking_together_refuses_what_is_not_a_compiled_log(native: ModuleType) -> None:
    log = native.FrameLog()
    log.add([(5, b"frame")], "x")
    with pytest.raises(TypeError, match="log 1: expected a FrameLog"):
        native.take_merged([log, PyFrameLog()], 10, False)
    assert len(log) == 1  # nothing was taken
    # The Python entry point takes a mix the slow way instead.
    mixed = take_merged([log, PyFrameLog()], 10, False)
    assert list(mixed.times) == [5] and len(log) == 0


def _parts(steps: list[list[tuple[int, bytes]]]) -> list[EncodedFrames]:
    parts = []
    for k, frames in enumerate(steps):
        log = PyFrameLog()
        log.add(frames, f"home-{k}")
        parts.append(EncodedFrames.from_raw(log.take(0, True)))
    return parts


@settings(max_examples=200, deadline=None)
@given(st.lists(step_strategy, max_size=6))
def test_merged_parts_are_what_the_pure_python_merge_gives(native: ModuleType, steps: list) -> None:
    parts = _parts(steps)
    fast = merge_encoded(parts)
    try:
        speedups.native = None
        slow = merge_encoded(parts)
    finally:
        speedups.native = native
    assert (fast.blob, list(fast.times), list(fast.ends)) == (slow.blob, list(slow.times), list(slow.ends))
    # A stable sort of every frame by time, ties in part order, is what the merge must equal.
    every = sorted(((t, k) for k, frames in enumerate(steps) for t, _ in sorted(frames, key=lambda f: f[0])),
                   key=lambda x: x[0])
    assert list(fast.times) == [t for t, _ in every]


def test_bad_frames_and_parts_are_refused(native: ModuleType) -> None:
    log = native.FrameLog()
    with pytest.raises(TypeError, match="frame 1: expected a"):
        log.add([(1, b"a"), (2, b"b", "c")], "")
    with pytest.raises(TypeError, match="frame 1: the frame must be bytes"):
        log.add([(1, b"a"), (2, "b")], None)
    with pytest.raises(ValueError, match="frame 0: a capture time is never negative"):
        log.add([(-1, b"a")], None)
    assert len(log) == 0  # all or nothing: no frame of a refused step was kept
    with pytest.raises(ValueError, match="part 1: times, ends and blob do not agree"):
        native.merge_encoded([(bytes(8), bytes(8), b""), (bytes(8), (5).to_bytes(8, "little"), b"1234")])
    with pytest.raises(TypeError, match="part 0: expected a"):
        native.merge_encoded([(b"", b"")])


# ------------------------------------------------------------------ round-trip times


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**64), st.lists(st.tuples(st.floats(0, 500), st.floats(0, 100), st.sampled_from([0, 150, 2000]),
                                                 st.sampled_from(["rtt", "gauss", "random"])), max_size=40))
def test_round_trip_times_are_the_reference_draws(native: ModuleType, seed: int, calls: list) -> None:
    # The same stream through both: each draw, and the gauss cache between them (other uses interleaved).
    fast, slow = random.Random(seed), random.Random(seed)
    for mean, jitter, floor, kind in calls:
        if kind == "rtt":
            got, want = native.rtt_us(fast, mean, jitter, floor), rtt_us(slow, mean, jitter, floor)
            assert type(got) is int and got == want and got >= floor
        elif kind == "gauss":
            assert fast.gauss(mean, jitter) == slow.gauss(mean, jitter)
        else:
            assert fast.random() == slow.random()
    assert fast.getstate() == slow.getstate()


def test_bad_round_trip_times_are_refused_as_the_reference_refuses_them(native: ModuleType) -> None:
    for args, error in (((1e308, 1e308, 0), OverflowError), (("1", 0.5, 150), TypeError),
                        ((1.0, 0.5, "150"), TypeError)):
        for draw in (native.rtt_us, rtt_us):
            with pytest.raises(error):
                draw(random.Random(1), *args)
    # A floor compares as max() compares it, whatever its type.
    assert native.rtt_us(random.Random(1), 0.01, 0.0, 150.5) == rtt_us(random.Random(1), 0.01, 0.0, 150.5) == 150.5
    with pytest.raises(AttributeError):
        native.rtt_us(object(), 1.0, 0.5, 150)  # not a random.Random


# ------------------------------------------------------------------ TLS sessions


def _joined(sends: list) -> list:
    return [(c, b"".join(d) if isinstance(d, list) else d, delay) for c, d, delay in sends]


def _session_sends_both_ways(native: ModuleType, *args, **kwargs) -> tuple[list, list]:
    fast = tls_session_sends(*args, **kwargs)
    try:
        speedups.native = None
        slow = tls_session_sends(*args, **kwargs)
    finally:
        speedups.native = native
    return fast, slow


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["gz-data.com", "a.b", "telemetry.skyworth-tv.example", "x" * 200]),
    st.binary(min_size=32, max_size=32), st.binary(max_size=32), st.binary(min_size=32, max_size=32),
    st.binary(max_size=32), st.integers(1, 16_640),
    st.tuples(*[st.integers(0, 2**31 - 1)] * 4),
    st.integers(1, 200_000), st.integers(1, 200_000), st.integers(0, 10_000), st.integers(0, 10_000),
)
def test_tls_sessions_are_the_reference_sends(native: ModuleType, sni: str, client_random: bytes, session: bytes,
                                              server_random: bytes, server_session: bytes, certificate: int,
                                              seeds: tuple, up: int, down: int, server_delay: int,
                                              response_delay: int) -> None:
    fast, slow = _session_sends_both_ways(
        native, sni, client_random, session, server_random, server_session, certificate, seeds, up, down,
        server_delay_us=server_delay, response_delay_us=response_delay)
    assert _joined(fast) == _joined(slow)
    assert [type(d) for _, d, _ in fast[3:]] == [list, list]  # the streams stay in pieces
    # The key shares are sha256 of a label and the random (the compiled path has its own SHA-256).
    assert hashlib.sha256(b"client" + client_random).digest() in fast[0][1]
    assert fast[1][1].startswith(tls_server_hello(server_random, server_session))


def test_bad_tls_sessions_are_refused_both_ways(native: ModuleType) -> None:
    good = ["gz-data.com", bytes(32), b"", bytes(32), b"", 3000, (1, 2, 3, 4), 500, 9000]
    for index, bad, says in ((1, bytes(31), "32 bytes"), (4, bytes(33), "at most 32"),
                             (5, 0, "1..16640"), (5, 16_641, "1..16640"), (6, (1, 2, 3, 2**31), "seeds"),
                             (6, (1, 2, 3), "seeds"), (7, 0, "at least one"), (8, -5, "at least one")):
        args = list(good)
        args[index] = bad
        for extension in (native, None):
            speedups.native = extension
            try:
                with pytest.raises(ValueError, match=says):
                    tls_session_sends(*args)
            finally:
                speedups.native = native
    with pytest.raises(ValueError, match="never negative"):
        tls_session_sends(*good, response_delay_us=-1)
    # The compiled call checks its seeds itself too: above 2**31 its 64-bit product would wrap.
    hello, share_at = tls._client_hello_template("a.b", 0)
    server, server_share_at = tls._server_hello_template(0)
    with pytest.raises(ValueError, match=r"a seed must be in 0\.\.2147483647"):
        native.tls_session_sends(hello, share_at, server, server_share_at, memoryview(tls.BLOCK), bytes(32), b"",
                                 bytes(32), b"", 3000, 1, 2, 500, 2**31, 9000, 4, 1500, 0)


# ------------------------------------------------------------------ a whole run


def test_a_run_writes_the_same_capture_either_way(native: ModuleType, tmp_path: Path) -> None:
    from testbed.run import run_scenario
    from testbed.scenario import load_scenario

    scenario = load_scenario("gozen-2021", {"households.count": 2, "duration": "3h"})
    run_scenario(scenario, tmp_path / "fast", workers=1)
    try:
        speedups.native = None
        run_scenario(scenario, tmp_path / "slow", workers=1)
    finally:
        speedups.native = native

    def digest(run: str) -> str:
        return hashlib.sha256((tmp_path / run / "capture.pcapng").read_bytes()).hexdigest()

    assert digest("fast") == digest("slow")
