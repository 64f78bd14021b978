"""Which truth events an alert matches (DESIGN.md, "Detectors and scoring").

An alert matches an event when its entity matches and ``event.start <= alert.ts <= event.end + delta``.
The entity matches when the alert's source is the event's TV, or the alert's community_id is one of the
event's flows.

Source rule: when the alert names a source MAC, the MAC decides; only an alert without a MAC is matched by
its source IP. MACs are unique across the population, IPs are not: many homes share 192.168.1.0/24, so
another home's phone may hold a TV's address, and matching on the IP alone would credit that phone's
alerts to the TV.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_DELTA = 60.0


@dataclass(frozen=True)
class TvAddress:
    """A TV's identity on the wire, from population.json."""

    tv: str
    ip: str
    mac: str


def tv_addresses(population: Mapping[str, Any]) -> dict[str, TvAddress]:
    """Every TV of a population (``population.json`` as parsed JSON), by TV id."""
    out: dict[str, TvAddress] = {}
    for home in population["households"]:
        for tv in home["tvs"]:
            dev = tv["device"]
            out[tv["id"]] = TvAddress(tv["id"], dev["ip"], dev["mac"].lower())
    return out


def alert_dict(alert: Any) -> dict[str, Any]:
    """An alert as a plain dict, whether given as a dict or as an object with ``to_dict()``."""
    if isinstance(alert, Mapping):
        return dict(alert)
    return alert.to_dict()


class EventMatcher:
    """Finds the events an alert matches; built once per run, then asked once per alert."""

    def __init__(self, events: Sequence[Mapping[str, Any]], tvs: Mapping[str, TvAddress],
                 delta: float = DEFAULT_DELTA) -> None:
        self.events = events
        self.delta = delta
        by_tv: dict[str, list[int]] = defaultdict(list)
        self._by_flow: dict[str, list[int]] = defaultdict(list)
        for i, ev in enumerate(events):
            by_tv[ev["tv"]].append(i)
            for cid in ev.get("flows") or ():
                self._by_flow[cid].append(i)
        # Per TV: event indices sorted by start, with the starts for bisection.
        self._tv_events: dict[str, tuple[list[float], list[int]]] = {}
        for tv, idx in by_tv.items():
            idx.sort(key=lambda i: events[i]["start"])
            self._tv_events[tv] = ([events[i]["start"] for i in idx], idx)
        # The longest event bounds how far back from an alert a matching event can start.
        self._longest = max((ev["end"] - ev["start"] for ev in events), default=0.0)
        self._tv_by_mac: dict[str, list[str]] = defaultdict(list)
        self._tv_by_ip: dict[str, list[str]] = defaultdict(list)
        for addr in tvs.values():
            self._tv_by_mac[addr.mac].append(addr.tv)
            self._tv_by_ip[addr.ip].append(addr.tv)

    def in_window(self, ts: float, event: Mapping[str, Any]) -> bool:
        """Whether ``ts`` lies in [event start, event end + delta] (both ends included)."""
        return event["start"] <= ts <= event["end"] + self.delta

    def source_tvs(self, alert: Mapping[str, Any]) -> list[str]:
        """The TVs the alert's source is (see the module docstring for the MAC-decides rule)."""
        mac = (alert.get("src_mac") or "").lower()
        if mac:
            return self._tv_by_mac.get(mac, [])
        ip = alert.get("src_ip") or ""
        return self._tv_by_ip.get(ip, []) if ip else []

    def matches(self, alert: Mapping[str, Any]) -> list[int]:
        """Indices (into ``events``) of every event the alert matches, ascending."""
        ts = float(alert["ts"])
        found: set[int] = set()
        for tv in self.source_tvs(alert):
            starts, idx = self._tv_events.get(tv, ([], []))
            hi = bisect.bisect_right(starts, ts)  # events that started at or before ts
            lo = bisect.bisect_left(starts, ts - self.delta - self._longest)
            found.update(i for i in idx[lo:hi] if self.in_window(ts, self.events[i]))
        cid = alert.get("community_id")
        if cid:
            found.update(i for i in self._by_flow.get(cid, ()) if self.in_window(ts, self.events[i]))
        return sorted(found)


def match_alerts(alerts: Iterable[Mapping[str, Any]], matcher: EventMatcher) -> list[list[int]]:
    """For each alert, the indices of the events it matches."""
    return [matcher.matches(a) for a in alerts]
