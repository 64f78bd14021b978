"""Event-level scores of one detector on one run: pure functions over events, alerts and the homes.

Definitions are DESIGN.md's ("Detectors and scoring"); no point-adjust anywhere: an event counts as
detected only through an alert that itself matches it. Undefined values (recall with no events,
precision with no incidents, a median of nothing) are ``None``, never 0, so that "nothing to measure"
is not read as "measured and bad".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from testbed.score.incidents import INCIDENT_GAP, Incident, group_incidents
from testbed.score.matching import DEFAULT_DELTA, EventMatcher, TvAddress, alert_dict, match_alerts

#: Kinds of SDK event with no traffic on the wire: reported, excluded from overall recall.
NOT_OBSERVABLE = frozenset({"wifi_scan"})
#: The fields a leak detector may say leaked, in the order reports show them.
LEAK_FIELDS = ("mac", "hostname", "ip", "rtt", "ssid", "bssid")


def ratio(num: int, den: int) -> float | None:
    """num / den, or None when there is nothing to divide by."""
    return num / den if den else None


def f1_score(recall: float | None, precision: float | None) -> float | None:
    """Harmonic mean of event recall and incident precision (None if either is undefined)."""
    if recall is None or precision is None:
        return None
    return 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)


def fp_per_home_hour(false_incidents: int, households: int, duration_s: float) -> float | None:
    """False-positive incidents per monitored home-hour."""
    home_hours = households * duration_s / 3600.0
    return false_incidents / home_hours if home_hours > 0 else None


def quantiles(values: Sequence[float]) -> dict[str, Any]:
    """Median and 90th percentile (numpy's linear interpolation) of a sample, with its size."""
    if not values:
        return {"n": 0, "median": None, "p90": None}
    arr = np.asarray(values, dtype=float)
    return {"n": len(values), "median": float(np.median(arr)), "p90": float(np.percentile(arr, 90))}


def first_match_ts(n_events: int, alert_ts: Sequence[float], matched: Sequence[Sequence[int]]) -> list[float | None]:
    """For each event, the time of the first alert that matches it (None if none does)."""
    first: list[float | None] = [None] * n_events
    for ts, events in zip(alert_ts, matched, strict=True):
        for e in events:
            if first[e] is None or ts < first[e]:
                first[e] = ts
    return first


def event_recall(events: Sequence[Mapping[str, Any]], first: Sequence[float | None]) -> dict[str, Any]:
    """Recall per kind and overall (observable kinds only), and time-to-detect per kind and overall."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, ev in enumerate(events):
        by_kind[ev["kind"]].append(i)
    kinds: dict[str, Any] = {}
    ttd: dict[str, Any] = {}
    ttd_values: dict[str, list[float]] = {}
    observed = detected_total = 0
    for kind in sorted(by_kind):
        idx = by_kind[kind]
        if kind in NOT_OBSERVABLE:
            kinds[kind] = {"events": len(idx), "observable": False}
            continue
        hits = [i for i in idx if first[i] is not None]
        kinds[kind] = {"events": len(idx), "detected": len(hits), "recall": ratio(len(hits), len(idx))}
        values = [first[i] - events[i]["start"] for i in hits]  # type: ignore[operator]
        ttd_values[kind] = values
        ttd[kind] = quantiles(values)
        observed += len(idx)
        detected_total += len(hits)
    all_values = [v for vs in ttd_values.values() for v in vs]
    return {
        "overall": ratio(detected_total, observed),
        "events": observed,
        "detected": detected_total,
        "by_kind": kinds,
        "ttd": {"overall": quantiles(all_values), "by_kind": ttd},
        "ttd_values": ttd_values,
    }


def incident_precision(incidents: Sequence[Incident], alert_matched: Sequence[bool]) -> dict[str, Any]:
    """Incidents, true (any alert matches an event) and false, and the precision."""
    true = sum(1 for inc in incidents if any(alert_matched[i] for i in inc.alerts))
    return {"total": len(incidents), "true": true, "false": len(incidents) - true,
            "precision": ratio(true, len(incidents))}


def pre_exfil_rate(events: Sequence[Mapping[str, Any]], alert_ts: Sequence[float],
                   matched: Sequence[Sequence[int]],
                   payload_start: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Share of SDK cycles with a matched alert at or before their upload's first frame.

    A cycle is (TV, cycle number). Its upload is the earliest upload (lowest cycle >= this one, for a
    batching SDK) of which some attempt was delivered; its deadline is that upload's first attempt's
    first frame of the connection to the collector (``payload_start[event id]``, from flows.csv), else
    the event's start (its DNS lookup). Both come before the first payload byte, so the rate is a lower
    bound. A failed first attempt may already have sent the payload, hence the first attempt, not the
    delivered one. Cycles never followed by a delivered upload leaked nothing and are not counted.

    An alert counts for a cycle when it matches one of that cycle's events (any kind, the upload too).
    """
    payload_start = payload_start or {}
    cycles: set[tuple[str, int]] = set()
    uploads: dict[tuple[str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for ev in events:
        cycles.add((ev["tv"], ev["cycle"]))
        if ev["kind"] == "upload":
            uploads[(ev["tv"], ev["cycle"])].append(ev)
    # Per TV: (cycle, deadline) of each upload that was delivered, ascending by cycle.
    delivered: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (tv, cycle), attempts in uploads.items():
        if any(a.get("delivered", True) for a in attempts):
            first = min(attempts, key=lambda a: (a.get("attempt", 1), a["start"]))
            delivered[tv].append((cycle, payload_start.get(first["id"], first["start"])))
    for lst in delivered.values():
        lst.sort()
    earliest: dict[tuple[str, int], float] = {}
    for ts, evs in zip(alert_ts, matched, strict=True):
        for e in evs:
            key = (events[e]["tv"], events[e]["cycle"])
            if key not in earliest or ts < earliest[key]:
                earliest[key] = ts
    counted = hits = 0
    for tv, cycle in cycles:
        deadline = next((d for c, d in delivered.get(tv, ()) if c >= cycle), None)
        if deadline is None:
            continue
        counted += 1
        if (tv, cycle) in earliest and earliest[(tv, cycle)] <= deadline:
            hits += 1
    return {"cycles": counted, "detected": hits, "rate": ratio(hits, counted)}


def alert_fields(alert: Mapping[str, Any]) -> set[str]:
    """The field names an alert says leaked: ``fields`` as a list of names, of {field: ...}, or a dict."""
    raw = alert.get("fields")
    if not raw:
        return set()
    if isinstance(raw, Mapping):
        return {str(k) for k in raw}
    if isinstance(raw, str):
        return {raw}
    out: set[str] = set()
    for x in raw:
        if isinstance(x, str):
            out.add(x)
        elif isinstance(x, Mapping) and "field" in x:
            out.add(str(x["field"]))
    return out


def field_recall(events: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]],
                 matched: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Per leak field: over upload events carrying it, the share with a matched alert naming it."""
    found_by_event: dict[int, set[str]] = defaultdict(set)
    for alert, evs in zip(alerts, matched, strict=True):
        names = alert_fields(alert)
        if names:
            for e in evs:
                found_by_event[e] |= names
    out: dict[str, Any] = {}
    for name in LEAK_FIELDS:
        carrying = [i for i, ev in enumerate(events)
                    if ev["kind"] == "upload" and any(it.get("field") == name for it in ev.get("items") or ())]
        found = sum(1 for i in carrying if name in found_by_event.get(i, ()))
        out[name] = {"uploads": len(carrying), "found": found, "recall": ratio(found, len(carrying))}
    return out


def score_events(events: Sequence[Mapping[str, Any]], alerts: Iterable[Any], tvs: Mapping[str, TvAddress],
                 households: int, duration_s: float, *, delta: float = DEFAULT_DELTA,
                 incident_gap: float = INCIDENT_GAP,
                 payload_start: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Every event-level score of one detector's alerts on one run, as a JSON-ready dict."""
    alert_list = [alert_dict(a) for a in alerts]
    matcher = EventMatcher(events, tvs, delta)
    matched = match_alerts(alert_list, matcher)
    alert_ts = [float(a["ts"]) for a in alert_list]
    first = first_match_ts(len(events), alert_ts, matched)
    recall = event_recall(events, first)
    incidents = group_incidents(alert_list, incident_gap)
    inc = incident_precision(incidents, [bool(m) for m in matched])
    return {
        "delta": delta,
        "incident_gap": incident_gap,
        "households": households,
        "duration_s": duration_s,
        "alerts": len(alert_list),
        "matched_alerts": sum(1 for m in matched if m),
        "recall": {k: recall[k] for k in ("overall", "events", "detected", "by_kind")},
        "incidents": inc,
        "precision": inc["precision"],
        "f1": f1_score(recall["overall"], inc["precision"]),
        "fp_per_home_hour": fp_per_home_hour(inc["false"], households, duration_s),
        "ttd": recall["ttd"],
        "ttd_values": recall["ttd_values"],
        "pre_exfil": pre_exfil_rate(events, alert_ts, matched, payload_start),
        "leak_detector": any(alert_fields(a) for a in alert_list),
        "field_recall": field_recall(events, alert_list, matched),
    }
