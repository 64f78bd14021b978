"""Running several detectors over one capture with a single decoding pass."""

from __future__ import annotations

from collections.abc import Sequence

from testbed.gc_threshold import fewer_collections

from .alert import Alert
from .base import Detector, DetectorError, Watch
from .capture import Capture
from .frame import ETH_ARP, PROTO_ICMP, PROTO_TCP, PROTO_UDP


def run_detectors(capture: Capture, detectors: Sequence[Detector]) -> list[list[Alert]]:
    """Alerts of each detector (same order as ``detectors``), each list sorted by ``ts``.

    Frame-level detectors share one pass over the capture: each frame is decoded once and sent to
    every detector's ``watch`` generator. Others run their own ``detect``.
    """
    for d in detectors:
        d.check_fitted()
    results: list[list[Alert] | None] = [None] * len(detectors)
    watches: list[tuple[int, Watch]] = []
    for i, d in enumerate(detectors):
        w = d.watch()
        if w is None:
            if type(d).detect is Detector.detect:
                raise DetectorError(f"{type(d).__name__} fills neither watch() nor detect()")
            results[i] = d.detect(capture)
        else:
            next(w)  # run to the first ``yield``
            watches.append((i, w))
    if watches:
        def sends(kind: str) -> list:
            return [w.send for i, w in watches if kind in detectors[i].frame_kinds]

        # The detectors to feed, by IP protocol number (ARP frames apart): one list look-up per frame.
        arp, by_proto = sends("arp"), [sends("other")] * 256
        for proto, kind in ((PROTO_ICMP, "icmp"), (PROTO_TCP, "tcp"), (PROTO_UDP, "udp")):
            by_proto[proto] = sends(kind)
        eth_arp = ETH_ARP
        with fewer_collections():  # a Frame per frame, dead by the next: see ``gc_threshold``
            for frame in capture.frames():
                for send in arp if frame.ethertype == eth_arp else by_proto[frame.ip_proto]:
                    send(frame)
        for i, w in watches:
            try:
                w.send(None)
            except StopIteration as stop:
                results[i] = list(stop.value or [])
            else:
                raise RuntimeError(f"{detectors[i]!r}: watch() must return after receiving None")
    return [sorted(r or [], key=lambda a: a.ts) for r in results]
