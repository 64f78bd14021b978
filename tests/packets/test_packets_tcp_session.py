"""TcpSession: long transfers through slow start, short and long RTTs, close and reset, all of
which tshark's TCP analysis must find unremarkable."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from testbed.packets import ACK, FIN, RST, SYN, PcapngWriter, TcpSession
from tests.packets.lan import COLLECTOR_IP, ROUTER_MAC, TV_IP, TV_MAC, run_tshark, tshark_fields

# Anything tshark's TCP analysis says about a stream that a clean synthetic one must not show.
SUSPICIOUS = " || ".join(
    f"tcp.analysis.{flag}"
    for flag in (
        "lost_segment", "ack_lost_segment", "retransmission", "fast_retransmission", "spurious_retransmission",
        "out_of_order", "duplicate_ack", "zero_window", "window_full", "reused_ports", "keep_alive",
    )
)  # fmt: skip


def _session(port: int, isn: int = 1) -> TcpSession:
    return TcpSession(TV_MAC, TV_IP, port, ROUTER_MAC, COLLECTOR_IP, 443, isn, 900_000)


def _write(path: Path, sessions: list[TcpSession]) -> Path:
    frames = sorted((ts, frame, f"s{i}") for i, s in enumerate(sessions) for ts, frame in s.frames)
    with PcapngWriter(path) as writer:
        writer.write_many(frames)
    return path


@pytest.fixture(scope="module")
def transfers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TcpSession]]:
    sessions = []
    for port, rtt in ((42000, 150), (42001, 80_000)):  # LAN-short (bursts and ACKs interleave) and WAN-long
        session = _session(port, isn=2**32 - 5000)
        t = session.handshake(1_000_000, rtt)
        t = session.client_send(bytes(300_000), t, rtt)
        t = session.server_send(bytes(range(256)) * 1000 + b"odd", t + 500, rtt)
        session.close(t, rtt, by_server=True)
        sessions.append(session)
    aborted = _session(42002)
    t = aborted.handshake(5_000_000, 1000)
    t = aborted.client_send(b"GET / HTTP/1.1\r\n\r\n", t, 1000)
    aborted.reset(t + 10)
    sessions.append(aborted)
    small_mss = TcpSession(TV_MAC, TV_IP, 42005, ROUTER_MAC, COLLECTOR_IP, 443, 7, 8, mss=536)
    t = small_mss.handshake(6_000_000, 20_000)
    t = small_mss.client_send(bytes(200_001), t, 20_000)  # slow start runs into the receive window
    small_mss.close(t, 20_000)
    sessions.append(small_mss)
    return _write(tmp_path_factory.mktemp("tcp") / "tcp.pcapng", sessions), sessions


def test_frames_are_in_time_order(transfers: tuple[Path, list[TcpSession]]) -> None:
    for session in transfers[1]:
        times = [ts for ts, _ in session.frames]
        assert times == sorted(times)


def test_tshark_finds_nothing_wrong(transfers: tuple[Path, list[TcpSession]]) -> None:
    path, sessions = transfers
    assert tshark_fields(path, ["frame.number", "_ws.col.Info"], SUSPICIOUS) == []
    assert "Errors (" not in run_tshark(path, "-z", "expert,error", "-q")
    rows = tshark_fields(path, ["tcp.checksum.status"])
    assert len(rows) == sum(len(s.frames) for s in sessions) and {r["tcp.checksum.status"] for r in rows} == {
        "1"
    }


def test_bytes_and_flags_add_up(transfers: tuple[Path, list[TcpSession]]) -> None:
    session = transfers[1][1]
    segments = [dpkt.ethernet.Ethernet(frame).data for _, frame in session.frames]
    sent = {TV_IP: 0, COLLECTOR_IP: 0}
    for ip in segments:
        sent[ip.src] += len(ip.data.data)
    assert sent == {TV_IP: 300_000, COLLECTOR_IP: 256_003}
    flags = [ip.data.flags for ip in segments]
    assert flags[:3] == [SYN, SYN | ACK, ACK]
    assert flags[-3:] == [FIN | ACK, FIN | ACK, ACK]
    assert all(len(ip.data.data) <= session.mss for ip in segments)
    # Slow start: the client's first burst is the initial window of 10 segments, then it waits an RTT.
    client_data_times = [
        ts for (ts, _), ip in zip(session.frames, segments, strict=True) if ip.src == TV_IP and ip.data.data
    ]
    assert client_data_times[10] - client_data_times[9] >= 80_000


def test_reset_and_misuse(transfers: tuple[Path, list[TcpSession]]) -> None:
    aborted = transfers[1][2]
    last = dpkt.ethernet.Ethernet(aborted.frames[-1][1]).data.data
    assert last.flags == RST | ACK
    with pytest.raises(RuntimeError):
        aborted.client_send(b"x", 0, 1)
    with pytest.raises(RuntimeError):
        _session(42003).server_send(b"x", 0, 1)
    assert _session(42004).handshake(10, 5) == 10 + 5 + 50
