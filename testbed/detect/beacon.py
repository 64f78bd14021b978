"""``beacon``: periodic outbound connections from one host to one destination (category ``anomaly``).

Connections are TCP SYNs and new UDP flows from a local address to a non-local one. The destination is
the name the host resolved for that address (from DNS answers in the capture) or else the address.
Connections closer than ``merge`` seconds to the previous one to the same destination join its burst
(a page load or a video session is one burst, not a beacon). Once a (source, destination) pair has
``min_count`` bursts, each new burst is tested: the robust coefficient of variation of the last
``min_count - 1`` intervals (1.4826 * MAD / median, which a retry or a missed cycle barely moves) must
be at most ``max_cv`` and the median interval at least ``min_period``. Every burst that passes alerts,
so each upload of a beaconing SDK is matched; score = 1 - cv (higher = more regular).

Known false positive: first-party telemetry (the TV maker's own, consented) is just as periodic as an
SDK's uploads; a regularity test cannot tell consent apart.
"""

from __future__ import annotations

import statistics

from .base import Detector, Watch
from .flowid import community_id
from .frame import PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_SYN, is_local_ip


def robust_cv(intervals: list[float]) -> float:
    """1.4826 * median absolute deviation / median (a CV that ignores a few outliers)."""
    med = statistics.median(intervals)
    if med <= 0:
        return float("inf")
    mad = statistics.median(abs(x - med) for x in intervals)
    return 1.4826 * mad / med


class BeaconDetector(Detector):
    """Regular inter-arrival times of connections per (source, destination)."""

    name = "beacon"
    category = "anomaly"
    frame_kinds = frozenset(("tcp", "udp"))

    def __init__(self, min_count: int = 7, max_cv: float = 0.06, merge: float = 60.0,
                 min_period: float = 60.0, udp: bool = True) -> None:
        self.min_count = min_count
        self.max_cv = max_cv
        self.merge = merge
        self.min_period = min_period
        self.udp = udp

    def watch(self) -> Watch:
        alerts = []
        names: dict[str, str] = {}  # address -> the name a DNS answer gave it
        last_conn: dict[tuple, float] = {}  # (src, dst) -> last connection time
        bursts: dict[tuple, list[float]] = {}
        udp_flows: set[tuple] = set()
        answers: set[bytes] = set()
        n_hist = max(2, self.min_count - 1)
        local: dict[str, bool] = {}  # address -> is_local_ip(address), cached: a home has few peers
        use_udp = self.udp
        while (f := (yield)) is not None:
            proto = f.ip_proto
            if proto == PROTO_TCP:
                if f.tcp_flags & (TCP_SYN | TCP_ACK) != TCP_SYN:
                    continue
            elif proto != PROTO_UDP:
                continue
            elif f.sport == 53 and f.payload:
                body = f.payload[2:]  # answers repeat but for the id: parse each distinct one once
                if body not in answers:
                    if len(answers) > 100_000:
                        answers.clear()
                    answers.add(body)
                    msg = f.dns()
                    if msg is not None:
                        for rr in msg.an:
                            if rr.type == 1 and len(rr.rdata) == 4:
                                names[".".join(map(str, rr.rdata))] = rr.name.lower()
                continue
            elif not use_udp:
                continue
            src, dst = f.ip_src, f.ip_dst
            ls = local.get(src)
            if ls is None:
                ls = local[src] = is_local_ip(src)
            ld = local.get(dst)
            if ld is None:
                ld = local[dst] = is_local_ip(dst)
            if ls == ld:
                continue  # within the home (or outside it): never an outbound connection, either way
            if proto == PROTO_UDP:
                # The first datagram of a UDP flow, in either direction, opens it; only flows that
                # cross the home's edge are remembered (the others never count).
                flow = (src, f.sport, dst, f.dport)
                if flow in udp_flows or (dst, f.dport, src, f.sport) in udp_flows:
                    continue
                udp_flows.add(flow)
            if not ls:
                continue  # inbound
            key = (src, names.get(dst) or dst)
            ts = f.ts
            prev = last_conn.get(key)
            last_conn[key] = ts
            if prev is not None and ts - prev < self.merge:
                continue
            starts = bursts.setdefault(key, [])
            starts.append(ts)
            if len(starts) < self.min_count:
                continue
            recent = starts[-(n_hist + 1):]
            intervals = [b - a for a, b in zip(recent, recent[1:], strict=False)]
            cv = robust_cv(intervals)
            period = statistics.median(intervals)
            if cv > self.max_cv or period < self.min_period:
                continue
            dst_d = {"ip": dst, "port": f.dport}
            if key[1] != dst:
                dst_d["domain"] = key[1]
            alerts.append(self._alert(
                ts=ts, src_ip=src, src_mac=f.src_mac, dst=dst_d, proto="tcp" if proto == PROTO_TCP else "udp",
                community_id=community_id(proto, src, dst, f.sport, f.dport), score=round(1.0 - cv, 6),
                message=f"beacon to {key[1]}: {len(starts)} bursts, period {period:.0f}s, robust CV {cv:.3f}",
            ))
        return alerts
