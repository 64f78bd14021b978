"""The report a Gozen-like SDK uploads, and the list of what it leaks."""

from __future__ import annotations

import json
from typing import Any

from testbed.population.model import Tv
from testbed.steps import Leak, ProbedHost, SeenNetwork

SCHEMA = "gozen/1"


def build_report(
    tv: Tv,
    home: str,
    sdk: dict[str, str],
    cycle: int,
    collected_at: float,
    consent_claim: str,
    hosts: list[ProbedHost],
    wifi: list[SeenNetwork],
) -> tuple[dict[str, Any], tuple[Leak, ...]]:
    """The report for one cycle, and the leaks it carries (one per field and subject)."""
    leaks: list[Leak] = []
    host_rows = []
    for h in hosts:
        rtt = None if h.rtt_ms is None else round(h.rtt_ms, 2)
        host_rows.append({"ip": h.ip, "mac": h.mac, "hostname": h.hostname, "rtt_ms": rtt})
        leaks.append(Leak("ip", h.ip, h.mac))
        leaks.append(Leak("mac", h.mac, h.mac))
        if h.hostname:
            leaks.append(Leak("hostname", h.hostname, h.mac))
        if rtt is not None:
            leaks.append(Leak("rtt", rtt, h.mac))
    wifi_rows = []
    for n in wifi:
        wifi_rows.append({"ssid": n.ssid, "bssid": n.bssid, "rssi": n.rssi, "channel": n.channel})
        leaks.append(Leak("ssid", n.ssid, n.bssid))
        leaks.append(Leak("bssid", n.bssid, n.bssid))
    dev = tv.device
    report = {
        "schema": SCHEMA,
        "sdk": sdk,
        "tv": {"id": tv.id, "home": home, "vendor": dev.vendor, "model": dev.model, "mac": dev.mac, "ip": dev.ip},
        "cycle": cycle,
        "collected_at": round(collected_at, 6),
        "consent": consent_claim,
        "hosts": host_rows,
        "wifi": wifi_rows,
    }
    return report, tuple(leaks)


def report_bytes(report: dict[str, Any]) -> bytes:
    """Compact, deterministic JSON: the same report always gives the same bytes."""
    return json.dumps(report, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
