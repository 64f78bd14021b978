"""A TCP connection as a capture on the client's LAN sees it: handshake, data both ways with
slow-start bursts and delayed ACKs, and an orderly close or a reset, with consistent seq/ack numbers.

Timing model: the capture point is on the client's side of the path. A segment the client sends is
captured at once and answered one RTT later; the client answers what it receives after a short host
delay. Each method takes the time to start and the RTT, appends ``(ts_us, frame)`` pairs to
``frames`` in non-decreasing time order, and returns the time at which the exchange is over.
"""

from __future__ import annotations

import struct
from operator import itemgetter
from typing import TYPE_CHECKING

from . import speedups
from .checksum import segment_sums
from .ethernet import ETHERTYPE_IPV4, MIN_FRAME, pad
from .ip import (
    ACK,
    FIN,
    IP_DF,
    PROTO_TCP,
    PSH,
    RST,
    SYN,
    tcp_frame,
    tcp_syn_options,
)

# What a send of ``tcp_connection`` hands over: bytes, or the pieces they are joined from.
Data = bytes | memoryview | list[bytes | memoryview] | tuple[bytes | memoryview, ...]

if TYPE_CHECKING:
    from .frame_log import FrameLogLike

HOST_DELAY_US = 50  # how long an end host takes to answer a segment (ACK, FIN/ACK)
SEGMENT_GAP_US = 12  # back-to-back full segments on a 1 Gb/s link
INITIAL_CWND = 10  # segments (RFC 6928, the Linux default)
WSCALE = 7
# Initial windows as Linux and Android advertise them, then the same after scaling by 2**7.
CLIENT_SYN_WINDOW, CLIENT_WINDOW = 64240, 502
SERVER_SYN_WINDOW, SERVER_WINDOW = 65160, 509


_by_time = itemgetter(0)
# A plain segment's Ethernet, IPv4 and TCP headers with the constant runs as byte strings: half the
# arguments of ``TCP_FRAME_PACK``, for the bulk path. Fields: Ethernet and IPv4 version/TOS; total
# length; id; flags, TTL, protocol; checksum; addresses and ports; seq; ack; offset and flags;
# window; checksum; urgent pointer.
_BULK = struct.Struct(">16sHH4sH12sIIH2sHH").pack
_ACK_PAD = bytes(MIN_FRAME - 54)  # a bare ACK (54 bytes of headers) padded to the Ethernet minimum
_from_bytes = int.from_bytes


class _End:
    """One side of a connection: the fields and partial checksums all its plain segments share.

    Why: a streaming session is most of a run's frames, and ``tcp_frame`` recomputes these for each.
    Only SYNs and segments with options take the general path.
    """

    __slots__ = ("src_mac", "dst_mac", "src_ip", "dst_ip", "sport", "dport", "ttl", "window", "_ip_base",
                 "_tcp_base", "bulk")

    def __init__(self, src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, sport: int, dport: int,
                 ttl: int, window: int) -> None:
        self.src_mac, self.dst_mac, self.src_ip, self.dst_ip = src_mac, dst_mac, src_ip, dst_ip
        self.sport, self.dport, self.ttl, self.window = sport, dport, ttl, window
        addr_sum = _from_bytes(src_ip) + _from_bytes(dst_ip)
        # The IPv4 header words that never change (version/IHL/TOS, flags, TTL/protocol, addresses)...
        self._ip_base = 0x4500 + IP_DF + (ttl << 8 | PROTO_TCP) + addr_sum
        # ...and the TCP pseudo-header and header words that never change (no options: 5-word header).
        self._tcp_base = addr_sum + PROTO_TCP + sport + dport + window + (5 << 12)
        # The constant runs of a plain segment's headers, as ``_BULK`` takes them.
        self.bulk = (dst_mac + src_mac + ETHERTYPE_IPV4.to_bytes(2) + b"\x45\x00",
                     (IP_DF << 16 | ttl << 8 | PROTO_TCP).to_bytes(4),
                     src_ip + dst_ip + sport.to_bytes(2) + dport.to_bytes(2), window.to_bytes(2))

    def segment(self, seq: int, ack: int, flags: int, payload: bytes, ip_id: int) -> bytes:
        """A segment without options: the same bytes as ``tcp_frame`` with this side's fields."""
        n = len(payload)
        total = 40 + n
        ip_sum = 0xFFFF - (self._ip_base + total + ip_id) % 0xFFFF
        body = _from_bytes(payload)
        if n & 1:  # an odd last byte is the high byte of a zero-padded word
            body <<= 8
        tcp_sum = 0xFFFF - (self._tcp_base + 20 + n + seq + ack + flags + body) % 0xFFFF
        eth, ip_mid, addrs, window = self.bulk
        frame = _BULK(eth, total, ip_id, ip_mid, ip_sum, addrs, seq, ack, 5 << 12 | flags, window, tcp_sum, 0)
        return pad(frame + payload)  # only a segment of under 6 bytes needs it


class TcpSession:
    """One client-server TCP connection whose frames accumulate in ``frames``.

    ``server_mac`` is the MAC the server is reached at on the LAN: the router's for an internet server.
    """

    def __init__(
        self,
        client_mac: bytes,
        client_ip: bytes,
        client_port: int,
        server_mac: bytes,
        server_ip: bytes,
        server_port: int,
        client_isn: int,
        server_isn: int,
        mss: int = 1460,
        *,
        client_ttl: int = 64,
        server_ttl: int = 64,
    ) -> None:
        self.frames: list[tuple[int, bytes]] = []
        self.mss = mss
        # Per direction (keyed by ``from_client``): what every segment that side sends has in common.
        self._end = {
            True: _End(client_mac, server_mac, client_ip, server_ip, client_port, server_port, client_ttl,
                       CLIENT_WINDOW),
            False: _End(server_mac, client_mac, server_ip, client_ip, server_port, client_port, server_ttl,
                        SERVER_WINDOW),
        }
        # The next sequence number each side sends...
        self._next_seq = {True: client_isn & 0xFFFFFFFF, False: server_isn & 0xFFFFFFFF}
        # ...its IP id counter (Linux keeps one per connection; start it at a value derived from the ISN)...
        self._ip_id = {True: client_isn >> 16 & 0xFFFF, False: server_isn >> 16 & 0xFFFF}
        # ...and its congestion window, in segments.
        self._cwnd = {True: INITIAL_CWND, False: INITIAL_CWND}
        self.established = False
        self.closed = False

    def _emit(
        self, out: list[tuple[int, bytes]], t_us: int, from_client: bool, flags: int,
        payload: bytes = b"", ack: int | None = None, options: bytes = b"",
    ) -> None:  # fmt: skip
        end = self._end[from_client]
        seq = self._next_seq[from_client]
        if ack is None:
            ack = self._next_seq[not from_client] if flags & ACK else 0
        ip_id = self._ip_id[from_client]
        self._ip_id[from_client] = (ip_id + 1) & 0xFFFF
        if options or flags & SYN:
            window = (CLIENT_SYN_WINDOW if from_client else SERVER_SYN_WINDOW) if flags & SYN else end.window
            frame = tcp_frame(end.src_mac, end.dst_mac, end.src_ip, end.dst_ip, end.sport, end.dport, seq, ack,
                              flags, payload, window, end.ttl, ip_id, options)
        else:
            frame = end.segment(seq, ack, flags, payload, ip_id)
        out.append((t_us, frame))
        self._next_seq[from_client] = (seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF

    def _commit(self, out: list[tuple[int, bytes]]) -> None:
        # Bursts and their ACKs can overlap in time when the RTT is short; sorting is stable, so frames
        # at the same instant keep their causal order.
        out.sort(key=_by_time)
        self.frames.extend(out)

    def handshake(self, t_us: int, rtt_us: int) -> int:
        """SYN, SYN/ACK one RTT later, then the client's ACK; returns the time of that ACK."""
        out: list[tuple[int, bytes]] = []
        syn_options = tcp_syn_options(self.mss, WSCALE, sack_perm=True)
        self._emit(out, t_us, True, SYN, options=syn_options)
        self._emit(out, t_us + rtt_us, False, SYN | ACK, options=syn_options)
        t_done = t_us + rtt_us + HOST_DELAY_US
        self._emit(out, t_done, True, ACK)
        self._commit(out)
        self.established = True
        return t_done

    def client_send(self, data: bytes, t_us: int, rtt_us: int) -> int:
        """Send ``data`` from the client; returns when the server's last ACK reaches the capture point."""
        return self._send(True, data, t_us, rtt_us)

    def server_send(self, data: bytes, t_us: int, rtt_us: int) -> int:
        """Send ``data`` from the server, its first segment captured at ``t_us``; returns the client's last ACK."""
        return self._send(False, data, t_us, rtt_us)

    def _send(self, from_client: bool, data: bytes, t_us: int, rtt_us: int) -> int:
        if not self.established or self.closed:
            raise RuntimeError("TcpSession: send needs an established, open connection")
        if not data:
            return t_us
        # The receiver's ACK is seen one RTT after a client segment (it travels to the server and back),
        # but only a host delay after a server segment (the client is next to the capture point).
        ack_delay = rtt_us if from_client else HOST_DELAY_US
        # Between bursts the sender waits for the ACK: for the server, that ACK still has to reach it.
        turnaround = HOST_DELAY_US if from_client else rtt_us
        # Slow start doubles the burst each round trip, up to what the receiver's window holds; staying
        # strictly below it keeps tshark from flagging "window full".
        receive_window = (SERVER_WINDOW if from_client else CLIENT_WINDOW) << WSCALE
        max_burst = max(1, (receive_window - 1) // self.mss)
        out, seq, snd_id, rcv_id, cwnd, t_done = self._bulk(from_client, data, t_us, ack_delay, turnaround, max_burst)
        self._next_seq[from_client] = seq
        self._ip_id[from_client], self._ip_id[not from_client] = snd_id, rcv_id
        self._cwnd[from_client] = cwnd
        self._commit(out)
        return t_done

    def _bulk(self, from_client: bool, data: bytes, t_us: int, ack_delay: int, turnaround: int,
              max_burst: int) -> tuple[list[tuple[int, bytes]], int, int, int, int, int]:
        # The bursts and ACKs of one send, and the state after it (next seq, both IP ids, cwnd, time of
        # the last ACK). The compiled ``tcp_session`` makes the same frames (``bulk_send``): this is its
        # reference, and the pure-Python path of ``tcp_connection``.
        mss = self.mss
        size = len(data)
        sums = segment_sums(data, mss)
        # The same segments as ``_End.segment`` builds, inlined with every per-connection field held in
        # a local: bulk sends are most of a run's frames, and calling ``segment`` per data segment and
        # ACK measured 29% slower per frame (a 150 kB server send). Neither kind carries options.
        snd, rcv = self._end[from_client], self._end[not from_client]
        seq, rcv_seq = self._next_seq[from_client], self._next_seq[not from_client]
        snd_id, rcv_id = self._ip_id[from_client], self._ip_id[not from_client]
        cwnd = self._cwnd[from_client]
        s_eth, s_ip_mid, s_addrs, s_window = snd.bulk
        r_eth, r_ip_mid, r_addrs, r_window = rcv.bulk
        s_ip_base, s_tcp_base = snd._ip_base + 40, snd._tcp_base + 20
        r_ip_base, r_tcp_base = rcv._ip_base + 40, rcv._tcp_base + 20 + ACK  # the ACK flag is in every one
        r_off_flags = 5 << 12 | ACK
        out: list[tuple[int, bytes]] = []
        append = out.append
        pack = _BULK
        start = 0
        t_burst = t_done = t_us
        while start < size:
            cwnd = min(cwnd, max_burst)
            end = min(size, start + cwnd * mss)
            unacked = 0
            t_seg = t_burst
            for offset in range(start, end, mss):
                payload = data[offset : offset + mss]
                n = len(payload)
                # PSH marks the end of what the application handed over, as Linux does.
                flags = PSH | ACK if offset + mss >= size else ACK
                body = sums[offset // mss]
                if n & 1:  # an odd last byte is the high byte of a zero-padded word
                    body <<= 8
                frame = pack(
                    s_eth, 40 + n, snd_id, s_ip_mid, 0xFFFF - (s_ip_base + n + snd_id) % 0xFFFF, s_addrs,
                    seq, rcv_seq, 5 << 12 | flags, s_window,
                    0xFFFF - (s_tcp_base + n + seq + rcv_seq + flags + body) % 0xFFFF, 0,
                )  # fmt: skip
                append((t_seg, frame + payload if n >= 6 else pad(frame + payload)))
                seq = (seq + n) & 0xFFFFFFFF
                snd_id = (snd_id + 1) & 0xFFFF
                unacked += 1
                if unacked == 2 or offset + mss >= end:  # delayed ACK: every second segment, the burst's last
                    t_done = t_seg + ack_delay
                    frame = pack(
                        r_eth, 40, rcv_id, r_ip_mid, 0xFFFF - (r_ip_base + rcv_id) % 0xFFFF, r_addrs,
                        rcv_seq, seq, r_off_flags, r_window, 0xFFFF - (r_tcp_base + rcv_seq + seq) % 0xFFFF, 0,
                    )  # fmt: skip
                    append((t_done, frame + _ACK_PAD))
                    rcv_id = (rcv_id + 1) & 0xFFFF
                    unacked = 0
                t_seg += SEGMENT_GAP_US
            cwnd = min(2 * cwnd, max_burst)
            start = end
            t_burst = t_done + turnaround
        return out, seq, snd_id, rcv_id, cwnd, t_done

    def close(self, t_us: int, rtt_us: int, by_server: bool = False) -> int:
        """FIN/ACK from one side, the peer's FIN/ACK, the last ACK; returns the time of the last ACK."""
        if self.closed:
            raise RuntimeError("TcpSession: already closed")
        out: list[tuple[int, bytes]] = []
        if by_server:
            self._emit(out, t_us, False, FIN | ACK)
            self._emit(out, t_us + HOST_DELAY_US, True, FIN | ACK)
            t_done = t_us + HOST_DELAY_US + rtt_us
            self._emit(out, t_done, False, ACK)
        else:
            self._emit(out, t_us, True, FIN | ACK)
            self._emit(out, t_us + rtt_us, False, FIN | ACK)
            t_done = t_us + rtt_us + HOST_DELAY_US
            self._emit(out, t_done, True, ACK)
        self._commit(out)
        self.closed = True
        return t_done

    def reset(self, t_us: int, by_server: bool = False) -> int:
        """An abortive close: one RST/ACK from the client (or the server); returns ``t_us``."""
        out: list[tuple[int, bytes]] = []
        self._emit(out, t_us, not by_server, RST | ACK)
        self._commit(out)
        self.closed = True
        return t_us


_WINDOWS = (CLIENT_SYN_WINDOW, CLIENT_WINDOW, SERVER_SYN_WINDOW, SERVER_WINDOW, WSCALE)
_TIMING = (HOST_DELAY_US, SEGMENT_GAP_US, INITIAL_CWND)
_SYN_OPTIONS: dict[int, bytes] = {}


def tcp_connection(
    client_mac: bytes,
    client_ip: bytes,
    client_port: int,
    server_mac: bytes,
    server_ip: bytes,
    server_port: int,
    client_isn: int,
    server_isn: int,
    t_us: int,
    rtt_us: int,
    sends: list[tuple[bool, Data, int]],
    close_delay_us: int,
    *,
    mss: int = 1460,
    client_ttl: int = 64,
    server_ttl: int = 64,
    close_by_server: bool = False,
    log: FrameLogLike | None = None,
    label: str | None = None,
) -> tuple[list[tuple[int, bytes]], int]:
    """A whole connection: the handshake at ``t_us``; each ``(from_client, data, delay_us)`` send begun
    ``delay_us`` after the previous exchange is over; the close ``close_delay_us`` after the last one.

    Returns the ``(ts_us, frame)`` pairs in time order and when the close's last ACK is seen: exactly the
    frames of the ``TcpSession`` calls this stands for (its reference, below), made in one call of the
    compiled extension where it is built. Why: a streaming session is seven exchanges, and the Python
    between them was over a third of its cost (measured on a 101-frame session: 54-56 us through
    ``TcpSession``, 34-35 us in one call). The connection's first frame is the SYN at ``t_us``, its last
    the ACK at the returned time (the RTT and the delays are never negative).

    A send's ``data`` is bytes-like, or a list of bytes-like pieces that stand for their concatenation
    (``tls_application_stream_parts``): the extension copies each piece once, straight into its segments.

    Given a frame ``log``, the frames go into it labelled ``label``, as ``log.add`` would put them, and
    the list returned is empty: a compiled log has the extension make each frame in place, in its block,
    without a Python object or a copy per frame (measured: a 101-frame session took 14.9 us as a list
    plus 8.3 us to add it).
    """
    native = speedups.native
    if native is None:  # (the compiled tcp_session checks its arguments itself)
        if rtt_us < 0 or close_delay_us < 0 or any(delay < 0 for _, _, delay in sends):
            raise ValueError("tcp_connection: the RTT and the delays are never negative")
        session = TcpSession(client_mac, client_ip, client_port, server_mac, server_ip, server_port, client_isn,
                             server_isn, mss, client_ttl=client_ttl, server_ttl=server_ttl)
        t = session.handshake(t_us, rtt_us)
        for from_client, data, delay_us in sends:
            whole = b"".join(data) if isinstance(data, list | tuple) else bytes(data)
            t = session._send(from_client, whole, t + delay_us, rtt_us)
        t = session.close(t + close_delay_us, rtt_us, by_server=close_by_server)
        frames = session.frames
    else:
        options = _SYN_OPTIONS.get(mss)
        if options is None:
            options = _SYN_OPTIONS[mss] = tcp_syn_options(mss, WSCALE, sack_perm=True)
        native_log = log if type(log) is native.FrameLog else None  # a pure-Python log is given the list
        frames, t = native.tcp_session(
            (client_mac, client_ip, client_port, client_isn, client_ttl),
            (server_mac, server_ip, server_port, server_isn, server_ttl),
            (mss, *_WINDOWS), _TIMING, options, t_us, rtt_us, sends, close_delay_us, close_by_server, native_log,
            label,
        )  # fmt: skip
        if native_log is not None:
            return frames, t
    if log is None:
        return frames, t
    log.add(frames, label)
    return [], t
