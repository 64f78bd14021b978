"""The alert record every detector emits (DESIGN.md, "Detectors and scoring"), modelled on Suricata's
eve.json alerts, with validation and JSON-lines I/O."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.errors import TestbedError

CATEGORIES = ("scan", "exfil", "tracking", "anomaly")
LEAK_FIELDS = ("mac", "hostname", "ip", "rtt", "ssid", "bssid")


class AlertFormatError(TestbedError):
    """An alert (or a line of an alerts file) that does not follow the alert format."""


@dataclass
class Alert:
    """One detection: who (``src_ip``/``src_mac``), where to (``dst``), when it could first have fired (``ts``)."""

    ts: float
    detector: str
    category: str
    src_ip: str | None
    src_mac: str | None
    dst: dict[str, Any]
    proto: str
    message: str
    community_id: str | None = None
    score: float | None = None
    fields: list[str] | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``AlertFormatError`` naming the first field that breaks the format."""
        problems = _problems(self)
        if problems:
            raise AlertFormatError(f"invalid alert from {self.detector!r}: {problems[0]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; optional fields that are unset are left out."""
        d: dict[str, Any] = {
            "ts": round(self.ts, 6), "detector": self.detector, "category": self.category,
            "src_ip": self.src_ip, "src_mac": self.src_mac, "dst": dict(self.dst), "proto": self.proto,
        }
        if self.community_id is not None:
            d["community_id"] = self.community_id
        if self.score is not None:
            d["score"] = self.score
        if self.fields is not None:
            d["fields"] = list(self.fields)
        d["message"] = self.message
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Alert:
        """Build (and validate) an alert from its dict form; unknown keys are an error."""
        if not isinstance(d, Mapping):
            raise AlertFormatError(f"an alert must be a JSON object, got {type(d).__name__}")
        known = {"ts", "detector", "category", "src_ip", "src_mac", "dst", "proto", "message",
                 "community_id", "score", "fields"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise AlertFormatError(f"unknown alert key(s) {unknown}; known: {sorted(known)}")
        missing = [k for k in ("ts", "detector", "category", "dst", "proto", "message") if k not in d]
        if missing:
            raise AlertFormatError(f"alert lacks required key(s) {missing}")
        ts = d["ts"]
        if isinstance(ts, bool) or not isinstance(ts, int | float):
            raise AlertFormatError(f"alert ts must be a number (epoch seconds), got {ts!r}")
        score = d.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            raise AlertFormatError(f"alert score must be a number, got {score!r}")
        return cls(
            ts=float(ts), detector=d["detector"], category=d["category"], src_ip=d.get("src_ip"),
            src_mac=d.get("src_mac"), dst=d["dst"], proto=d["proto"], message=d["message"],
            community_id=d.get("community_id"), score=None if score is None else float(score),
            fields=None if d.get("fields") is None else list(d["fields"]),
        )


def _problems(a: Alert) -> list[str]:
    out = []
    if not isinstance(a.ts, int | float) or isinstance(a.ts, bool) or not math.isfinite(a.ts):
        out.append(f"ts must be a finite number, got {a.ts!r}")
    if not isinstance(a.detector, str) or not a.detector:
        out.append("detector must be a non-empty string")
    if a.category not in CATEGORIES:
        out.append(f"category {a.category!r} is not one of {', '.join(CATEGORIES)}")
    for name in ("src_ip", "src_mac", "community_id"):
        v = getattr(a, name)
        if v is not None and not isinstance(v, str):
            out.append(f"{name} must be a string or null, got {v!r}")
    if a.src_ip is None and a.src_mac is None and a.community_id is None:
        out.append("needs an entity: src_ip, src_mac or community_id")
    if not isinstance(a.dst, dict) or set(a.dst) - {"ip", "domain", "port"}:
        out.append(f"dst must be a dict with ip and/or domain (and optionally port), got {a.dst!r}")
    if not isinstance(a.proto, str) or not a.proto:
        out.append("proto must be a non-empty string")
    if a.score is not None and (not isinstance(a.score, int | float) or not math.isfinite(a.score)):
        out.append(f"score must be a finite number or null, got {a.score!r}")
    if a.fields is not None and (
        not isinstance(a.fields, list) or any(f not in LEAK_FIELDS for f in a.fields)
    ):
        out.append(f"fields must be a list drawn from {', '.join(LEAK_FIELDS)}, got {a.fields!r}")
    if not isinstance(a.message, str):
        out.append("message must be a string")
    return out


def write_alerts(alerts: Iterable[Alert], path: str | Path) -> int:
    """Write alerts as JSON lines (one object per line); returns how many were written."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for a in alerts:
            f.write(json.dumps(a.to_dict(), ensure_ascii=False, sort_keys=False) + "\n")
            n += 1
    return n


def read_alerts(path: str | Path) -> list[Alert]:
    """Read and validate a JSON-lines alerts file; a bad line raises ``AlertFormatError`` naming it."""
    alerts = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                alerts.append(Alert.from_dict(json.loads(line)))
            except (json.JSONDecodeError, AlertFormatError) as exc:
                raise AlertFormatError(f"{path}:{lineno}: {exc}") from None
    return alerts
