"""A TCP connection as a capture on the client's LAN sees it: handshake, data both ways with
slow-start bursts and delayed ACKs, and an orderly close or a reset, with consistent seq/ack numbers.

Timing model: the capture point is on the client's side of the path. A segment the client sends is
captured at once and answered one RTT later; the client answers what it receives after a short host
delay. Each method takes the time to start and the RTT, appends ``(ts_us, frame)`` pairs to
``frames`` in non-decreasing time order, and returns the time at which the exchange is over.
"""

from __future__ import annotations

from operator import itemgetter

from .ethernet import ETHERTYPE_IPV4, pad
from .ip import (
    ACK,
    FIN,
    IP_DF,
    PROTO_TCP,
    PSH,
    RST,
    SYN,
    TCP_FRAME_PACK,
    tcp_frame,
    tcp_syn_options,
)
from .tls_stream import TlsStream

HOST_DELAY_US = 50  # how long an end host takes to answer a segment (ACK, FIN/ACK)
SEGMENT_GAP_US = 12  # back-to-back full segments on a 1 Gb/s link
INITIAL_CWND = 10  # segments (RFC 6928, the Linux default)
WSCALE = 7
# Initial windows as Linux and Android advertise them, then the same after scaling by 2**7.
CLIENT_SYN_WINDOW, CLIENT_WINDOW = 64240, 502
SERVER_SYN_WINDOW, SERVER_WINDOW = 65160, 509


_by_time = itemgetter(0)
_from_bytes = int.from_bytes


class _End:
    """One side of a connection: the fields and partial checksums all its plain segments share.

    Why: a streaming session is most of a run's frames, and ``tcp_frame`` recomputes these for each.
    Only SYNs and segments with options take the general path.
    """

    __slots__ = ("src_mac", "dst_mac", "src_ip", "dst_ip", "sport", "dport", "ttl", "window", "_ip_base",
                 "_tcp_base")

    def __init__(self, src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, sport: int, dport: int,
                 ttl: int, window: int) -> None:
        self.src_mac, self.dst_mac, self.src_ip, self.dst_ip = src_mac, dst_mac, src_ip, dst_ip
        self.sport, self.dport, self.ttl, self.window = sport, dport, ttl, window
        addr_sum = _from_bytes(src_ip) + _from_bytes(dst_ip)
        # The IPv4 header words that never change (version/IHL/TOS, flags, TTL/protocol, addresses)...
        self._ip_base = 0x4500 + IP_DF + (ttl << 8 | PROTO_TCP) + addr_sum
        # ...and the TCP pseudo-header and header words that never change (no options: 5-word header).
        self._tcp_base = addr_sum + PROTO_TCP + sport + dport + window + (5 << 12)

    def segment(self, seq: int, ack: int, flags: int, payload: bytes, ip_id: int, payload_sum: int | None) -> bytes:
        """A segment without options: the same bytes as ``tcp_frame`` with this side's fields.

        ``payload_sum``, when known, is the payload read as a big-endian integer mod 0xFFFF.
        """
        n = len(payload)
        total = 40 + n
        ip_sum = 0xFFFF - (self._ip_base + total + ip_id) % 0xFFFF
        body = _from_bytes(payload) if payload_sum is None else payload_sum
        if n & 1:  # an odd last byte is the high byte of a zero-padded word
            body <<= 8
        tcp_sum = 0xFFFF - (self._tcp_base + 20 + n + seq + ack + flags + body) % 0xFFFF
        frame = TCP_FRAME_PACK(
            self.dst_mac, self.src_mac, ETHERTYPE_IPV4,
            0x45, 0, total, ip_id, IP_DF, self.ttl, PROTO_TCP, ip_sum, self.src_ip, self.dst_ip,
            self.sport, self.dport, seq, ack, 5 << 12 | flags, self.window, tcp_sum, 0,
        )  # fmt: skip
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
        payload: bytes = b"", ack: int | None = None, options: bytes = b"", payload_sum: int | None = None,
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
            frame = end.segment(seq, ack, flags, payload, ip_id, payload_sum)
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
        mss = self.mss
        max_burst = max(1, (receive_window - 1) // mss)
        out: list[tuple[int, bytes]] = []
        start = 0
        t_burst = t_us
        t_done = t_us
        sums = data.segment_sums(mss) if isinstance(data, TlsStream) else None  # bulk TLS: sums come cheap
        while start < len(data):
            cwnd = min(self._cwnd[from_client], max_burst)
            end = min(len(data), start + cwnd * mss)
            unacked = 0
            for k, offset in enumerate(range(start, end, mss)):
                t_seg = t_burst + k * SEGMENT_GAP_US
                segment = data[offset : offset + mss]
                # PSH marks the end of what the application handed over, as Linux does.
                flags = PSH | ACK if offset + mss >= len(data) else ACK
                self._emit(out, t_seg, from_client, flags, segment,
                           payload_sum=sums[offset // mss] if sums else None)
                unacked += 1
                if unacked == 2 or offset + mss >= end:  # delayed ACK: every second segment, the burst's last
                    t_done = t_seg + ack_delay
                    self._emit(out, t_done, not from_client, ACK, ack=self._next_seq[from_client])
                    unacked = 0
            self._cwnd[from_client] = min(2 * cwnd, max_burst)
            start = end
            t_burst = t_done + turnaround
        self._commit(out)
        return t_done

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
