"""Ground truth: which frames belong to which SDK event, and what each event collected or sent.

The recorder is shared by both backends: it sees only steps, their results and the flows an
executor reports, so the simulation and the containers label identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import communityid

from testbed.community_id import python_community_id
from testbed.packets import speedups
from testbed.population.model import Household, Tv
from testbed.steps import SDK_EVENT_KINDS, Probe, Step, Sweep, Upload, UploadResult, WifiScan

_CID = communityid.CommunityID()


@dataclass(frozen=True, slots=True)
class FlowKey:
    """A flow's addresses as the executor reports them (ICMP type/code in the port fields)."""

    proto: str
    src: str
    sport: int
    dst: str
    dport: int


class CommunityIds:
    """Community ID v1 of flows (https://github.com/corelight/community-id-spec), cached.

    TCP and UDP take a direct path (sha1 over the ordered tuple, as the spec defines it) because the
    ``communityid`` package spends ~30 µs per call validating and converting every field, which was
    the largest single cost of a simulated run; a test checks both agree on random tuples. ICMP
    (with its type/code pairing rules) and anything else goes through the package, cached: the same
    ICMP tuples recur every SDK cycle.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple, str] = {}
        # ``transport_community_id``'s two paths, one chosen now: a run asks for half a million ids.
        native = speedups.native
        self._transport: Callable[[int, str, int, str, int, int], str] = (
            native.community_id if native is not None else python_community_id)

    def of(self, proto: str, src: str, sport: int, dst: str, dport: int) -> str:
        if proto == "tcp" or proto == "udp":
            return self._transport(6 if proto == "tcp" else 17, src, sport, dst, dport, 0)
        key = (proto, src, sport, dst, dport)
        cid = self._cache.get(key)
        if cid is None:
            if proto == "icmp":
                cid = _CID.calc(communityid.FlowTuple.make_icmp(src, dst, sport, dport))
            else:
                cid = ""  # ARP is not IP: it has no Community ID
            if len(self._cache) > 100_000:  # bound memory on long runs
                self._cache.clear()
            self._cache[key] = cid
        return cid


def event_id(tv_id: str, cycle: int, kind: str, attempt: int = 1) -> str:
    """``h0003-tv1-c0012-upload``; retries of an upload get ``-r1``, ``-r2``..."""
    base = f"{tv_id}-c{cycle:04d}-{kind}"
    return base if attempt <= 1 else f"{base}-r{attempt - 1}"


class TruthRecorder:
    """Turns one household's SDK steps and results into truth events (DESIGN.md's events.jsonl)."""

    def __init__(self, household: Household) -> None:
        self.household = household
        # The population id behind a MAC or BSSID (an item's subject; "?" for one not in the population).
        self._subjects: dict[str, str] = {d.mac: d.id for d in household.devices}
        self._subjects[household.router.mac] = household.router.id
        self._subjects.update({w.bssid: w.id for w in household.wifi})

    def label(self, tv: Tv, cycle: int, step: Step) -> str | None:
        """The event id that labels this step's frames, or None when the step is no SDK event."""
        kind = SDK_EVENT_KINDS.get(type(step))
        if kind is None:
            return None
        return event_id(tv.id, cycle, kind, step.attempt if isinstance(step, Upload) else 1)

    def event(
        self, tv: Tv, cycle: int, step: Step, result: Any, start_us: int, end_us: int,
        flow_ids: list[str], frames: int,
    ) -> dict[str, Any]:
        """One truth event, keys in the order DESIGN.md shows."""
        kind = SDK_EVENT_KINDS[type(step)]
        upload = isinstance(step, Upload)
        event: dict[str, Any] = {
            "id": self.label(tv, cycle, step),
            "household": self.household.id,
            "tv": tv.id,
            "cycle": cycle,
            "kind": kind,
            "start": round(start_us / 1e6, 6),
            "end": round(end_us / 1e6, 6),
            "consent": tv.consent,
            "transport": step.transport if upload else None,
            "encoding": step.encoding if upload else None,
            "dst": {"domain": step.domain, "ip": result.ip, "port": step.port} if upload else None,
            "flows": sorted({f for f in flow_ids if f}),
            "frames": frames,
            "items": self._items(step, result),
        }
        if upload:
            assert isinstance(result, UploadResult)
            event["attempt"] = step.attempt
            event["status"] = result.status
            event["delivered"] = result.ok
            event["request_bytes"] = result.request_bytes
        return event

    def _items(self, step: Step, result: Any) -> list[dict[str, Any]]:
        # Dicts made directly, one subject lookup per host or network: a 1000 household-hour run makes
        # ~500 k items, and tuples turned into dicts through ``subject`` took twice as long.
        subject = self._subjects.get
        items: list[dict[str, Any]] = []
        add = items.append
        if isinstance(step, Sweep):
            for h in result:
                who = subject(h.mac, "?")
                add({"field": "ip", "value": h.ip, "subject": who})
                add({"field": "mac", "value": h.mac, "subject": who})
        elif isinstance(step, Probe):
            for h in result:
                who = subject(h.mac, "?")
                if h.rtt_ms is not None:
                    add({"field": "rtt", "value": round(h.rtt_ms, 2), "subject": who})
                if h.hostname:
                    add({"field": "hostname", "value": h.hostname, "subject": who})
        elif isinstance(step, WifiScan):
            for n in result:
                who = subject(n.bssid, "?")
                add({"field": "ssid", "value": n.ssid, "subject": who})
                add({"field": "bssid", "value": n.bssid, "subject": who})
        elif isinstance(step, Upload):
            for leak in step.leaks:
                item = {"field": leak.field, "value": leak.value, "subject": subject(leak.key, "?")}
                if leak.plain is not None:
                    item["form"] = "sha256"
                    item["plain"] = leak.plain
                add(item)
        return items
