"""``arp-sweep`` / ``arp-trw``: one host probing many addresses of its LAN (category ``scan``).

Two methods:

- ``fanout``: distinct targets of ARP requests (and, separately, ICMP echo requests) from one source
  within ``window`` seconds; an alert when they reach ``threshold`` (``icmp_threshold`` for ICMP), then
  silence for that source until it has been quiet for ``window`` seconds (one alert per sweep).
- ``trw``: threshold random walk (Jung, Paxson, Berger, Balakrishnan, "Fast portscan detection using
  sequential hypothesis testing", IEEE S&P 2004). Each first contact of a source with an address is a
  Bernoulli trial: success if the address answers (ARP reply / ICMP echo reply) within ``timeout``,
  failure otherwise (ARP and ICMP answers on a LAN take milliseconds). With ``theta0`` = P(success | benign) and ``theta1`` = P(success | scanner) the
  likelihood ratio walks up by (1-theta1)/(1-theta0) per failure and down by theta1/theta0 per success;
  reaching eta1 = (1-beta)/alpha declares a scanner, falling to eta0 = beta/(1-alpha) a benign host
  (the walk then restarts). A sweep of a sparse /24 is mostly failures, so it is flagged after a few
  probes; ICMP pings of live hosts all succeed, so TRW (by design) does not flag a probe phase.

Hard negative: a Fing-like scanner app on a phone sweeps the LAN too, but rarely and irregularly.
``periodic=True`` alerts only for a source whose sweeps recur regularly (at least ``min_sweeps`` sweeps
whose start-to-start intervals have a coefficient of variation <= ``max_cv``): it stays silent on the
app but also on a telemetry SDK's first ``min_sweeps - 1`` sweeps, which the report should show.
"""

from __future__ import annotations

import math
import statistics
from collections import OrderedDict, deque
from typing import Literal

from .alert import Alert
from .base import Detector, DetectorError, Watch

ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0
ARP_REQUEST, ARP_REPLY = 1, 2


def _slash24(ip: str) -> str:
    return ip.rsplit(".", 1)[0] + ".0/24"


class _Source:
    """What a detector keeps about one probing source (one key: protocol and/or MAC and IP address).

    One object per source, found with one dictionary look-up per frame: the hot path of both methods
    (a probe of a sweep that has already alerted) then touches only its attributes.
    """

    __slots__ = ("key", "last", "starts", "alerted", "targets", "walk", "pending")

    def __init__(self, key: tuple, targets: OrderedDict[str, float] | set[str]) -> None:
        self.key = key
        self.last: float | None = None  # time of the last probe
        self.starts: list[float] = []  # start time of each sweep episode
        self.alerted = False  # whether the current episode has raised its alert
        self.targets = targets  # fanout: target -> last probe (oldest first); trw: this episode's targets
        self.walk = 0.0  # trw: log-likelihood ratio
        self.pending: dict[str, float] = {}  # trw: unanswered first contacts, target -> deadline

    def begin(self, ts: float) -> None:
        """Open a new episode at ``ts`` (the detectors call it on a probe after a quiet gap longer than
        their window; they test and update ``last`` inline, as it happens for every probe)."""
        self.starts.append(ts)
        self.alerted = False

    def regular(self, min_sweeps: int, max_cv: float) -> bool:
        """Whether the last ``min_sweeps`` episode starts are evenly spaced."""
        starts = self.starts[-min_sweeps:]
        if len(starts) < max(min_sweeps, 3):
            return False
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
        mean = statistics.fmean(gaps)
        return mean > 0 and statistics.pstdev(gaps) / mean <= max_cv


class ArpSweepDetector(Detector):
    """Fan-out (or TRW) scan detection on ARP and ICMP, optionally only for periodic sweepers."""

    name = "arp-sweep"
    category = "scan"
    frame_kinds = frozenset(("arp", "icmp"))

    def __init__(self, method: Literal["fanout", "trw"] = "fanout", window: float = 10.0,
                 threshold: int = 30, icmp_threshold: int = 6, theta0: float = 0.8, theta1: float = 0.2,
                 alpha: float = 0.01, beta: float = 0.01, timeout: float = 1.0, periodic: bool = False,
                 min_sweeps: int = 3, max_cv: float = 0.2) -> None:
        self.method = method
        self.window = window
        self.threshold = threshold
        self.icmp_threshold = icmp_threshold
        self.theta0 = theta0
        self.theta1 = theta1
        self.alpha = alpha
        self.beta = beta
        self.timeout = timeout
        self.periodic = periodic
        self.min_sweeps = min_sweeps
        self.max_cv = max_cv

    def _check(self) -> None:
        if self.method not in ("fanout", "trw"):
            raise DetectorError(f"{self.name}: method must be 'fanout' or 'trw', got {self.method!r}")
        if not 0 < self.theta1 < self.theta0 < 1:
            raise DetectorError(f"{self.name}: need 0 < theta1 < theta0 < 1, got {self.theta1}, {self.theta0}")
        if not (0 < self.alpha < 1 and 0 < self.beta < 1):
            raise DetectorError(f"{self.name}: alpha and beta must lie in (0, 1)")

    def watch(self) -> Watch:
        self._check()
        return self._fanout() if self.method == "fanout" else self._trw()

    def _alert_ok(self, src: _Source) -> bool:
        if src.alerted:
            return False
        if self.periodic and not src.regular(self.min_sweeps, self.max_cv):
            return False
        src.alerted = True
        return True

    def _fanout(self) -> Watch:
        alerts: list[Alert] = []
        sources: dict[tuple, _Source] = {}  # (protocol, MAC, IP) -> state
        window, thresholds = self.window, {"arp": self.threshold, "icmp": self.icmp_threshold}
        # Most frames are probes of a sweep that has already alerted: that path is kept short (``arp_op``
        # is 0 and ``icmp_type`` -1 on frames of other protocols, so they need no protocol test).
        while (f := (yield)) is not None:
            if f.arp_op == ARP_REQUEST:
                src_ip, target = f.arp_spa, f.arp_tpa
                if src_ip == "0.0.0.0" or src_ip == target:
                    continue  # address probes (RFC 5227) and gratuitous ARP are not sweeps
                key = ("arp", f.arp_sha, src_ip)
            elif f.icmp_type == ICMP_ECHO_REQUEST:
                src_ip, target = f.ip_src, f.ip_dst
                key = ("icmp", f.src_mac, src_ip)
            else:
                continue
            src = sources.get(key)
            if src is None:
                src = sources[key] = _Source(key, OrderedDict())
            ts = f.ts
            last = src.last
            src.last = ts
            if last is None or ts - last > window:
                src.begin(ts)
            elif src.alerted:
                continue  # this sweep has its alert; the rest of it cannot raise another
            seen = src.targets
            seen[target] = ts
            seen.move_to_end(target)
            while seen and next(iter(seen.values())) < ts - window:
                seen.popitem(last=False)
            if len(seen) >= thresholds[key[0]] and self._alert_ok(src):
                proto, mac, ip = key
                alerts.append(self._alert(
                    ts=ts, src_ip=ip, src_mac=mac, dst={"ip": _slash24(target)}, proto=proto,
                    score=float(len(seen)),
                    message=f"{proto.upper()} fan-out: {len(seen)} distinct targets within {window:g}s",
                ))
        return alerts

    def _trw(self) -> Watch:
        alerts: list[Alert] = []
        up = math.log((1 - self.theta1) / (1 - self.theta0))  # log-ratio step of a failure
        down = math.log(self.theta1 / self.theta0)  # of a success
        eta1 = math.log((1 - self.beta) / self.alpha)
        eta0 = math.log(self.beta / (1 - self.alpha))
        sources: dict[tuple[str, str], _Source] = {}  # (MAC, IP) -> state
        # Unanswered first contacts in deadline order (frames come in time order, so appending keeps
        # the order); each is also in its source's ``pending``, until answered.
        deadlines: deque[tuple[float, _Source, str]] = deque()
        next_deadline = math.inf  # of deadlines[0]: one comparison per frame while nothing expires
        window, timeout = self.window, self.timeout

        def outcome(src: _Source, target: str, success: bool, ts: float) -> None:
            s = src.walk + (down if success else up)
            if s >= eta1:
                s = 0.0
                if self._alert_ok(src):
                    mac, ip = src.key
                    alerts.append(self._alert(
                        ts=ts, src_ip=ip, src_mac=mac, dst={"ip": _slash24(target)}, proto="arp",
                        score=round(eta1 + up, 6),
                        message=f"TRW: scanner hypothesis accepted (log-likelihood ratio >= {eta1:.2f}) "
                                f"after unanswered first contacts",
                    ))
            elif s <= eta0:
                s = 0.0
            src.walk = s

        def answered(mac: str, ip: str, target: str, ts: float) -> None:
            src = sources.get((mac, ip))
            if src is not None and src.pending.pop(target, None) is not None:
                outcome(src, target, True, ts)

        while (f := (yield)) is not None:
            ts = f.ts
            if next_deadline < ts:
                while deadlines and deadlines[0][0] < ts:
                    dl, src, target = deadlines.popleft()
                    if src.pending.pop(target, None) == dl and not src.alerted:
                        outcome(src, target, False, dl)
                next_deadline = deadlines[0][0] if deadlines else math.inf
            # ``arp_op`` is 0 and ``icmp_type`` -1 on frames of other protocols: no protocol test needed.
            op = f.arp_op
            if op == ARP_REQUEST:
                src_ip, target = f.arp_spa, f.arp_tpa
                if src_ip == "0.0.0.0" or src_ip == target:
                    continue
                key = (f.arp_sha, src_ip)
            elif op == ARP_REPLY:
                answered(f.arp_tha, f.arp_tpa, f.arp_spa, ts)
                continue
            elif op:
                continue
            elif f.icmp_type == ICMP_ECHO_REQUEST:
                key, target = (f.src_mac, f.ip_src), f.ip_dst
            elif f.icmp_type == ICMP_ECHO_REPLY:
                answered(f.dst_mac, f.ip_dst, f.ip_src, ts)
                continue
            else:
                continue
            src = sources.get(key)
            if src is None:
                src = sources[key] = _Source(key, set())
            last = src.last
            src.last = ts
            if last is None or ts - last > window:
                src.begin(ts)
                src.targets = set()  # a new sweep: its addresses count as first contacts again
                src.walk = 0.0
            elif src.alerted:
                continue  # this sweep has its alert; its remaining probes need no outcome
            seen = src.targets
            if target in seen:
                continue
            seen.add(target)
            dl = ts + timeout
            src.pending[target] = dl
            if not deadlines:
                next_deadline = dl
            deadlines.append((dl, src, target))
        while deadlines:  # the capture ended: unanswered probes failed (unless timeout is infinite)
            dl, src, target = deadlines.popleft()
            if src.pending.pop(target, None) == dl and dl < math.inf:
                outcome(src, target, False, dl)
        return alerts


class ArpTrwDetector(ArpSweepDetector):
    """``arp-sweep`` with the threshold-random-walk method by default."""

    name = "arp-trw"

    def __init__(self, method: Literal["fanout", "trw"] = "trw", window: float = 10.0,
                 threshold: int = 30, icmp_threshold: int = 6, theta0: float = 0.8, theta1: float = 0.2,
                 alpha: float = 0.01, beta: float = 0.01, timeout: float = 1.0, periodic: bool = False,
                 min_sweeps: int = 3, max_cv: float = 0.2) -> None:
        super().__init__(method=method, window=window, threshold=threshold, icmp_threshold=icmp_threshold,
                         theta0=theta0, theta1=theta1, alpha=alpha, beta=beta, timeout=timeout,
                         periodic=periodic, min_sweeps=min_sweeps, max_cv=max_cv)
