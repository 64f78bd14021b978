"""Background behaviours of every device, so that detection is not trivial.

Each behaviour is one small generator of steps; its frames are labelled ``benign:<name>`` after the
name it is registered under in ``BEHAVIOURS``. ``behaviours_for`` decides which ones a device runs.
Rates are scaled down from real homes (video in particular) so that a run stays tractable; what
matters for detection is the mix and the shapes, not the gigabytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from testbed.benign.domains import BY_OS, DEFAULT_NTP, FIRST_PARTY_TELEMETRY, NTP_BY_OS, STREAMING
from testbed.population.model import Device, Household
from testbed.rng import stream
from testbed.scenario.model import Scenario
from testbed.steps import (
    Clock,
    DhcpJoin,
    DnsLookup,
    DnsLookups,
    Host,
    HttpsSession,
    MdnsAnnounce,
    MdnsQuery,
    NtpSync,
    Probe,
    RouterArp,
    Sleep,
    SsdpNotify,
    SsdpSearch,
    Step,
    Sweep,
)

Behaviour = Generator[Step, Any, None]
DIAL = "urn:dial-multiscreen-org:service:dial:1"
DNS_STRETCH_S = 1800.0  # background lookups are planned this far ahead, as one step


@dataclass(frozen=True)
class BenignContext:
    """What one device's background behaviour may use."""

    device: Device
    household: Household
    rng: random.Random
    utc_offset_s: float  # local time = capture time + offset (the scenario's time zone)
    streaming_hours: tuple[float, float] = (19.0, 23.0)

    def local_hour(self, ts: float) -> float:
        return ((ts + self.utc_offset_s) % 86400) / 3600.0


def _start(ctx: BenignContext, spread: float) -> Sleep:
    return Sleep(ctx.rng.uniform(0.0, spread))


def dhcp(ctx: BenignContext) -> Behaviour:
    """Join at start-up (spread over the first minutes), renew at half the lease."""
    yield _start(ctx, 600)
    while True:
        yield DhcpJoin()
        yield Sleep(43200 * ctx.rng.uniform(0.95, 1.0))


def dns(ctx: BenignContext) -> Behaviour:
    """Look up the platform's usual names at a rate that fits the device."""
    rate = {"phone": 1 / 120, "tablet": 1 / 300, "laptop": 1 / 90, "desktop": 1 / 90, "tv": 1 / 600}.get(
        ctx.device.kind, 1 / 1800
    )
    names = BY_OS.get(ctx.device.os, BY_OS["embedded"])
    yield _start(ctx, 300)
    while True:
        # A Poisson stream of lookups, a stretch at a time: a phone makes ~15 in half an hour, each of
        # which was a step of its own (the most common step of a run).
        stretch, gaps, span = [], [], 0.0
        while True:
            stretch.append(ctx.rng.choice(names))
            gap = ctx.rng.expovariate(rate)
            span += gap
            if span >= DNS_STRETCH_S:
                break
            gaps.append(gap)
        yield DnsLookups(tuple(stretch), tuple(gaps))
        yield Sleep(gap)


def ntp(ctx: BenignContext) -> Behaviour:
    """Set the clock now and then."""
    server = NTP_BY_OS.get(ctx.device.os, DEFAULT_NTP)
    yield _start(ctx, 900)
    while True:
        yield DnsLookup(server)
        yield NtpSync(server)
        yield Sleep(ctx.rng.uniform(3600, 4 * 3600))


def mdns(ctx: BenignContext) -> Behaviour:
    """Announce own services, and (phones, TVs, computers) browse for others: chatty discovery."""
    browses = ctx.device.kind in ("phone", "tablet", "laptop", "desktop", "tv")
    yield _start(ctx, 600)
    yield MdnsAnnounce(ctx.device.services)
    while True:
        yield Sleep(ctx.rng.uniform(300, 1200) if browses else ctx.rng.uniform(1800, 4500))
        if browses:
            yield MdnsQuery(ctx.rng.choice(("_googlecast._tcp.local", "_airplay._tcp.local", "_raop._tcp.local",
                                            "_ipp._tcp.local", "_companion-link._tcp.local")))
        if ctx.device.services and ctx.rng.random() < 0.5:
            yield MdnsAnnounce(ctx.device.services)


def ssdp(ctx: BenignContext) -> Behaviour:
    """UPnP devices NOTIFY; TVs and phones M-SEARCH (the TV looks for DIAL screens)."""
    searches = ctx.device.kind in ("tv", "phone", "tablet")
    yield _start(ctx, 900)
    while True:
        if ctx.device.ssdp_type:
            yield SsdpNotify(ctx.device.ssdp_type)
        if searches:
            yield SsdpSearch(DIAL if ctx.device.kind == "tv" else ctx.rng.choice((DIAL, "ssdp:all")))
        yield Sleep(ctx.rng.uniform(900, 1800))


def web(ctx: BenignContext) -> Behaviour:
    """Short HTTPS sessions of people using phones and computers, mostly while awake."""
    names = BY_OS.get(ctx.device.os, BY_OS["embedded"])
    yield _start(ctx, 600)
    while True:
        now = yield Clock()
        hour = ctx.local_hour(now)
        awake = 7.0 <= hour < 23.5
        if awake:
            name = ctx.rng.choice(names)
            yield DnsLookup(name)
            yield HttpsSession(name, ctx.rng.randint(600, 4000), ctx.rng.randint(8_000, 120_000), ctx.rng.uniform(0.3, 3))
        yield Sleep(ctx.rng.expovariate(1 / 420) if awake else ctx.rng.uniform(1800, 3600))


def streaming(ctx: BenignContext) -> Behaviour:
    """The TV streams video in the evening: an adaptive-bitrate segment fetch every few seconds."""
    first, last = ctx.streaming_hours
    while True:
        now = yield Clock()
        hour = ctx.local_hour(now)
        if first <= hour < last and ctx.rng.random() < 0.7:
            name = ctx.rng.choice(STREAMING)
            yield DnsLookup(name)
            for _ in range(ctx.rng.randint(40, 200)):  # 40-200 segments: about 7-35 minutes
                yield HttpsSession(name, ctx.rng.randint(400, 900), ctx.rng.randint(60_000, 160_000), 0.8)
                yield Sleep(ctx.rng.uniform(8.0, 12.0))
        yield Sleep(ctx.rng.uniform(900, 2700))


def tv_telemetry(ctx: BenignContext) -> Behaviour:
    """The TV maker's own first-party telemetry: small HTTPS posts every half hour."""
    yield _start(ctx, 1800)
    while True:
        yield DnsLookup(FIRST_PARTY_TELEMETRY)
        yield HttpsSession(FIRST_PARTY_TELEMETRY, ctx.rng.randint(800, 2500), ctx.rng.randint(300, 900), 0.4)
        yield Sleep(ctx.rng.uniform(1700, 1900))


def router_arp(ctx: BenignContext) -> Behaviour:
    """The router refreshes its ARP entry for each device every few minutes, one device after another."""
    targets = tuple(Host(d.ip, d.mac) for d in ctx.household.devices)
    yield _start(ctx, 300)
    while True:
        if targets:
            gaps = tuple(ctx.rng.uniform(0.5, 5.0) for _ in targets)
            yield RouterArp(targets, gaps[:-1])
            yield Sleep(gaps[-1])
        yield Sleep(ctx.rng.uniform(240, 600))


def netscan(ctx: BenignContext) -> Behaviour:
    """A Fing-like network-scanner app on a phone, run by its owner now and then (a hard negative)."""
    subnet = ctx.household.subnet
    while True:
        yield Sleep(ctx.rng.uniform(4 * 3600, 12 * 3600))
        now = yield Clock()
        if 8.0 <= ctx.local_hour(now) < 23.0:
            hosts = yield Sweep(subnet, gap_ms=1.0)
            yield Probe(tuple(hosts), icmp=True, mdns=True, nbns=True)


BEHAVIOURS: dict[str, Callable[[BenignContext], Behaviour]] = {
    "dhcp": dhcp,
    "dns": dns,
    "ntp": ntp,
    "mdns": mdns,
    "ssdp": ssdp,
    "web": web,
    "streaming": streaming,
    "tv-telemetry": tv_telemetry,
    "router-arp": router_arp,
    "netscan": netscan,
}
"""Behaviour name (the label after ``benign:``) -> behaviour function."""


def scanner_phone(scenario: Scenario, household: Household) -> str | None:
    """The id of the phone in ``household`` that runs a network-scanner app, if any.

    One draw per household from its own stream, so the simulation and the container backend agree.
    """
    if not scenario.benign.enabled:
        return None
    has_scanner = stream(scenario.seed, household.index, "scanner-app").random() < scenario.benign.scanner_app
    phones = [d.id for d in household.devices if d.kind == "phone"]
    return phones[0] if has_scanner and phones else None


def behaviours_for(device: Device, scanner_app: bool = False) -> list[str]:
    """The names of the background behaviours ``device`` runs."""
    if device.kind == "router":
        return ["router-arp"]
    names = ["dhcp", "dns", "ntp"]
    if device.services or device.kind in ("phone", "tablet", "laptop", "desktop", "tv"):
        names.append("mdns")
    if device.ssdp_type or device.kind in ("tv", "phone", "tablet"):
        names.append("ssdp")
    if device.kind in ("phone", "tablet", "laptop", "desktop"):
        names.append("web")
    if device.kind == "tv":
        names += ["streaming", "tv-telemetry"]
    if scanner_app and device.kind == "phone":
        names.append("netscan")
    return names
