"""A TCP connection as a capture on the client's LAN sees it: handshake, data both ways with
slow-start bursts and delayed ACKs, and an orderly close or a reset, with consistent seq/ack numbers.

Timing model: the capture point is on the client's side of the path. A segment the client sends is
captured at once and answered one RTT later; the client answers what it receives after a short host
delay. Each method takes the time to start and the RTT, appends ``(ts_us, frame)`` pairs to
``frames`` in non-decreasing time order, and returns the time at which the exchange is over.
"""

from __future__ import annotations

from .ip import ACK, FIN, PSH, RST, SYN, tcp_frame, tcp_syn_options

HOST_DELAY_US = 50  # how long an end host takes to answer a segment (ACK, FIN/ACK)
SEGMENT_GAP_US = 12  # back-to-back full segments on a 1 Gb/s link
INITIAL_CWND = 10  # segments (RFC 6928, the Linux default)
WSCALE = 7
# Initial windows as Linux and Android advertise them, then the same after scaling by 2**7.
CLIENT_SYN_WINDOW, CLIENT_WINDOW = 64240, 502
SERVER_SYN_WINDOW, SERVER_WINDOW = 65160, 509


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
        # Per direction: (src mac, dst mac, src ip, dst ip, sport, dport, ttl).
        self._client_end = (
            client_mac,
            server_mac,
            client_ip,
            server_ip,
            client_port,
            server_port,
            client_ttl,
        )
        self._server_end = (
            server_mac,
            client_mac,
            server_ip,
            client_ip,
            server_port,
            client_port,
            server_ttl,
        )
        # Per-direction state is keyed by ``from_client``: the next sequence number each side sends...
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
        src_mac, dst_mac, src_ip, dst_ip, sport, dport, ttl = (
            self._client_end if from_client else self._server_end
        )
        seq = self._next_seq[from_client]
        if ack is None:
            ack = self._next_seq[not from_client] if flags & ACK else 0
        if flags & SYN:
            window = CLIENT_SYN_WINDOW if from_client else SERVER_SYN_WINDOW
        else:
            window = CLIENT_WINDOW if from_client else SERVER_WINDOW
        ip_id = self._ip_id[from_client]
        self._ip_id[from_client] = (ip_id + 1) & 0xFFFF
        frame = tcp_frame(
            src_mac,
            dst_mac,
            src_ip,
            dst_ip,
            sport,
            dport,
            seq,
            ack,
            flags,
            payload,
            window,
            ttl,
            ip_id,
            options,
        )
        out.append((t_us, frame))
        self._next_seq[from_client] = (seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF

    def _commit(self, out: list[tuple[int, bytes]]) -> None:
        # Bursts and their ACKs can overlap in time when the RTT is short; sorting is stable, so frames
        # at the same instant keep their causal order.
        out.sort(key=lambda item: item[0])
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
        while start < len(data):
            cwnd = min(self._cwnd[from_client], max_burst)
            end = min(len(data), start + cwnd * mss)
            unacked = 0
            for k, offset in enumerate(range(start, end, mss)):
                t_seg = t_burst + k * SEGMENT_GAP_US
                segment = data[offset : offset + mss]
                # PSH marks the end of what the application handed over, as Linux does.
                flags = PSH | ACK if offset + mss >= len(data) else ACK
                self._emit(out, t_seg, from_client, flags, segment)
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
