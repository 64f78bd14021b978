"""``blocklist``: names of known smart-TV trackers in DNS queries, TLS SNI and HTTP Host (``tracking``).

The shipped list, ``data/tracking_domains.csv`` (domain, vendor, category, source), names the public
source of each entry. A name matches an entry when it equals it or is a subdomain of it. The maker's own
first-party telemetry (e.g. ``log.tv.skyworthdigital.com``) is deliberately not listed: blocking it would
break the TV, and an SDK that rides it (evasion level L6) evades this detector, as it would in reality.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .base import Detector, DetectorError, Watch
from .frame import PROTO_TCP, PROTO_UDP


@dataclass(frozen=True)
class TrackingDomain:
    """One entry of a tracking-domain list."""

    domain: str
    vendor: str
    category: str
    source: str


def load_tracking_domains(path: str | Path | None = None) -> dict[str, TrackingDomain]:
    """The entries of ``path`` (default: the shipped list), keyed by lower-case domain."""
    if path is None:
        text = resources.files("testbed.detect").joinpath("data/tracking_domains.csv").read_text("utf-8")
        where = "tracking_domains.csv"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise DetectorError(f"blocklist: cannot read domain list {path}: {exc}") from None
        where = str(path)
    rows = list(csv.DictReader(text.splitlines()))
    if rows and not {"domain", "vendor", "category", "source"} <= set(rows[0]):
        raise DetectorError(f"{where}: needs the columns domain, vendor, category, source")
    return {r["domain"].strip().lower().rstrip("."): TrackingDomain(
        r["domain"].strip().lower().rstrip("."), r["vendor"], r["category"], r["source"]) for r in rows}


def match_domain(name: str, listed: dict[str, TrackingDomain]) -> TrackingDomain | None:
    """The entry ``name`` falls under (itself or a parent domain), or ``None``."""
    name = name.lower().rstrip(".")
    while True:
        hit = listed.get(name)
        if hit is not None:
            return hit
        dot = name.find(".")
        if dot < 0:
            return None
        name = name[dot + 1:]


class BlocklistDetector(Detector):
    """Alerts on every DNS query, TLS ClientHello and HTTP request for a listed tracking domain."""

    name = "blocklist"
    category = "tracking"
    frame_kinds = frozenset(("tcp", "udp"))

    def __init__(self, domains: str | None = None, dns: bool = True, sni: bool = True,
                 http: bool = True) -> None:
        self.domains = domains
        self.dns = dns
        self.sni = sni
        self.http = http

    def watch(self) -> Watch:
        listed = load_tracking_domains(self.domains)
        alerts = []
        cache: dict[str, TrackingDomain | None] = {}
        use_dns, use_sni, use_http = self.dns, self.sni, self.http
        while (f := (yield)) is not None:
            p = f.payload
            if not p:
                continue
            proto = f.ip_proto
            if proto == PROTO_UDP:
                if not use_dns or f.dport != 53 or len(p) < 13 or p[2] & 0x80:
                    continue  # queries only: the answer repeats the question
                name, how = f.dns_qname, "dns"
            elif proto == PROTO_TCP:
                c = p[0]
                if c == 0x16 and use_sni:
                    name, how = f.tls_sni, "tls"
                elif use_http and 65 <= c <= 90:
                    name, how = f.http_host, "http"
                else:
                    continue
            else:
                continue
            if not name:
                continue
            hit = cache.get(name, False)
            if hit is False:
                hit = cache[name] = match_domain(name, listed)
            if hit is None:
                continue
            dst = {"domain": name} if how == "dns" else {"domain": name, "ip": f.ip_dst, "port": f.dport}
            alerts.append(self._alert(
                ts=f.ts, src_ip=f.ip_src, src_mac=f.src_mac, dst=dst, proto=how, score=1.0,
                message=f"{how} name {name} is a listed {hit.category} domain of {hit.vendor} "
                        f"({hit.domain}; source: {hit.source.split(';')[0]})",
            ))
        return alerts
