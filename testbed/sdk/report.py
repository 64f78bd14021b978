"""The report a Gozen-like SDK uploads, and the list of what it leaks."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic_core import to_json

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
    hash_ids: bool = False,
) -> tuple[dict[str, Any], tuple[Leak, ...]]:
    """The report for one cycle, and the leaks it carries (one per field and subject).

    With ``hash_ids`` the identifiers travel as sha256 hex (as evasive SDKs do); the leaks then
    carry both the hash that was sent and the plain value it stands for.
    """
    leaks: list[Leak] = []

    def ident(field: str, value: str | None, key: str) -> str | None:
        if value is None or value == "":
            return value
        if not hash_ids:
            leaks.append(Leak(field, value, key))
            return value
        hashed = hashed_id(value)
        leaks.append(Leak(field, hashed, key, plain=value))
        return hashed

    host_rows = []
    for h in hosts:
        rtt = None if h.rtt_ms is None else round(h.rtt_ms, 2)
        leaks.append(Leak("ip", h.ip, h.mac))
        row = {"ip": h.ip, "mac": ident("mac", h.mac, h.mac), "hostname": ident("hostname", h.hostname, h.mac),
               "rtt_ms": rtt}
        host_rows.append(row)
        if rtt is not None:
            leaks.append(Leak("rtt", rtt, h.mac))
    wifi_rows = []
    for n in wifi:
        wifi_rows.append({"ssid": ident("ssid", n.ssid, n.bssid), "bssid": ident("bssid", n.bssid, n.bssid),
                          "rssi": n.rssi, "channel": n.channel})
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


def hashed_id(value: str) -> str:
    """How a hashing SDK disguises an identifier: sha256 hex of its lower-case text."""
    return hashlib.sha256(value.lower().encode("utf-8")).hexdigest()


def report_bytes(report: dict[str, Any]) -> bytes:
    """Compact, deterministic UTF-8 JSON: the same report always gives the same bytes.

    Serialised by pydantic-core (the json module's compact output, byte for byte, for these reports'
    values; a quarter of its time).
    """
    return to_json(report)
