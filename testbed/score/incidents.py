"""Incidents: alerts of one detector on one source less than ``gap`` seconds apart (DESIGN.md).

Chained: each alert joins the incident of the previous alert of the same (detector, source) when it is
less than ``gap`` seconds after it, so a steady stream of alerts 30 s apart is one incident however long.
Exactly ``gap`` seconds apart is a new incident ("less than 60 s apart").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

INCIDENT_GAP = 60.0


@dataclass
class Incident:
    """A group of alerts; ``alerts`` are indices into the scored alert list."""

    detector: str
    source: str
    start: float
    end: float
    alerts: list[int] = field(default_factory=list)


def alert_source(alert: Mapping[str, Any]) -> str:
    """The source an alert is about: its MAC, else its IP, else its flow (MACs are unique, IPs are not)."""
    mac = (alert.get("src_mac") or "").lower()
    if mac:
        return mac
    return alert.get("src_ip") or alert.get("community_id") or "?"


def group_incidents(alerts: Sequence[Mapping[str, Any]], gap: float = INCIDENT_GAP) -> list[Incident]:
    """The incidents of a list of alerts, ordered by start time."""
    streams: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, a in enumerate(alerts):
        streams[(a.get("detector") or "?", alert_source(a))].append(i)
    incidents: list[Incident] = []
    for (detector, source), idx in streams.items():
        idx.sort(key=lambda i: float(alerts[i]["ts"]))
        current: Incident | None = None
        for i in idx:
            ts = float(alerts[i]["ts"])
            if current is not None and ts - current.end < gap:
                current.end = ts
                current.alerts.append(i)
            else:
                current = Incident(detector, source, ts, ts, [i])
                incidents.append(current)
    incidents.sort(key=lambda inc: (inc.start, inc.detector, inc.source))
    return incidents
