"""The population: plain data about every household, device, TV and neighbour Wi-Fi network.

Everything here is what can leak. It is built once from the scenario and seed
(``testbed.population.build``), written to ``population.json``, and read by both backends.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Device:
    """One device on a home LAN (the router and the TVs are devices too)."""

    id: str  # "h0003-d04"; the router is "h0003-router", a TV "h0003-tv1"
    kind: str  # phone, laptop, desktop, tablet, printer, console, speaker, camera, plug, router, tv
    vendor: str  # "Apple", "Samsung", "Skyworth"...
    model: str  # "iPhone 12", "Galaxy S21", ...
    os: str  # "ios", "android", "windows", "macos", "linux", "embedded"...
    hostname: str  # as the OS really names itself: "Johns-iPhone", "DESKTOP-4F2K9QX"
    mac: str  # "3c:22:fb:11:22:33", OUI registered to the vendor
    ip: str  # in the household subnet
    link: str  # "wifi" or "wired"
    rtt_ms: float  # median round-trip time from another LAN host
    rtt_jitter_ms: float  # spread of the RTT (Wi-Fi is noisier than wired)
    services: tuple[str, ...] = ()  # mDNS service types it offers ("_airplay._tcp.local", ...)
    ssdp_type: str | None = None  # UPnP device type it announces, if any
    netbios: bool = False  # answers NBNS node-status (Windows, Samba)
    away: tuple[tuple[float, float], ...] = ()  # daily absences, hours since midnight (phones at work)


@dataclass(frozen=True, slots=True)
class Tv:
    """A smart TV and the telemetry SDK its vendor pre-installed (``sdk`` None: no third-party SDK)."""

    id: str  # "h0003-tv1"; same as its Device id
    device: Device
    sdk: str | None  # SDK profile name ("gozen") or None
    consent: str  # "not_asked", "opted_in", "opted_out", "optout_ignored"
    sdk_options: dict[str, Any] = field(default_factory=dict)  # profile options after scenario defaults


@dataclass(frozen=True, slots=True)
class WifiNetwork:
    """A neighbour's Wi-Fi network that a TV's scan can see."""

    id: str  # "wifi-h0003-07"
    ssid: str
    bssid: str
    channel: int
    rssi: int  # dBm
    band: str  # "2.4GHz" or "5GHz"


@dataclass(frozen=True, slots=True)
class Household:
    """One home: its LAN, its devices, its TVs and the Wi-Fi networks around it."""

    id: str  # "h0003"
    index: int  # 3; seeds this household's random streams
    owner: str  # Faker name of the owner
    locale: str  # Faker locale the household was drawn from ("zh_CN", "en_US", ...)
    subnet: str  # "192.168.1.0/24", unique within a run
    router: Device
    devices: tuple[Device, ...]  # every non-router device, TVs included
    tvs: tuple[Tv, ...]
    wifi: tuple[WifiNetwork, ...]  # neighbour networks (not the home's own)
    own_ssid: str = ""  # the home's own network name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to population.json."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Population:
    """All households of a run."""

    seed: int
    households: tuple[Household, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to population.json."""
        return {"seed": self.seed, "households": [h.to_dict() for h in self.households]}
