"""Behaviour steps: what a device or SDK asks its network stack to do.

A behaviour is a generator that yields steps and receives each step's result back
(``result = yield Sweep(...)``). Executors perform steps: the SimPy executor turns a step into
frames at computed capture times plus one timeout; the live executor (in a container) uses real
sockets. Steps are plain frozen data so that both backends, and the truth recorder, agree on them.

Identity (own MAC, IP, router) belongs to the executor, never to the step: a step names only
what varies between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# --------------------------------------------------------------------------- results
# Hosts, probed hosts, seen networks and leaks are named tuples, as immutable as the steps: a 42-home day
# makes ~570 k of them, and a frozen dataclass takes twice as long to create (986 ns against 457 ns for
# a Leak, timeit): its __init__ goes through object.__setattr__ for every field.


class Host(NamedTuple):
    """A LAN host as seen on the wire: answered ARP with this MAC."""

    ip: str
    mac: str


class ProbedHost(NamedTuple):
    """What a probe learned about one host: latency and any name it gave."""

    ip: str
    mac: str
    rtt_ms: float | None
    hostname: str | None


class SeenNetwork(NamedTuple):
    """A neighbour Wi-Fi network as a scan reports it."""

    ssid: str
    bssid: str
    channel: int
    rssi: int


class Leak(NamedTuple):
    """One piece of information an upload carries: ``field`` of the subject keyed by ``key``.

    ``key`` is how the SDK knows the subject (a host's MAC, a network's BSSID); the truth recorder
    maps it to the population id. ``value`` is the information itself, as the SDK learned it.
    """

    field: str  # mac, ip, hostname, rtt, ssid, bssid
    value: str | float  # as it appears in the body
    key: str
    plain: str | float | None = None  # the value before hashing, when ``value`` is a hash


@dataclass(frozen=True, slots=True)
class UploadResult:
    """How an upload ended: HTTP status (0 when no connection could be made)."""

    status: int
    ip: str | None = None
    request_bytes: int = 0
    response_bytes: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# --------------------------------------------------------------------------- steps


class Step:
    """Base of every step (marker class)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Sleep(Step):
    """Do nothing on the wire for ``seconds``."""

    seconds: float


@dataclass(frozen=True, slots=True)
class BeginCycle(Step):
    """Marks the start of SDK collection cycle ``number`` (zero duration, no traffic).

    Result: capture time in epoch seconds, as ``Clock``.
    """

    number: int


@dataclass(frozen=True, slots=True)
class Clock(Step):
    """Ask the time (zero duration, no traffic). Result: capture time in epoch seconds."""


@dataclass(frozen=True, slots=True)
class Sweep(Step):
    """ARP who-has for every address of ``subnet`` (a /24) but one's own. Result: ``list[Host]``."""

    subnet: str
    gap_ms: float = 3.0  # time between two requests, as a real sweep paces itself


@dataclass(frozen=True, slots=True)
class Probe(Step):
    """ICMP echo for latency plus name lookups (mDNS reverse PTR, NetBIOS NBSTAT) of each host.

    Result: ``list[ProbedHost]`` in the order of ``targets``.
    """

    targets: tuple[Host, ...]
    icmp: bool = True
    mdns: bool = True
    nbns: bool = True


@dataclass(frozen=True, slots=True)
class WifiScan(Step):
    """Read the neighbour Wi-Fi networks (no wire traffic). Result: ``list[SeenNetwork]``."""


@dataclass(frozen=True, slots=True)
class Upload(Step):
    """Resolve ``domain`` (when ``resolve``), then send ``body`` by HTTP POST or inside TLS.

    ``headers`` are the HTTP headers beyond Host/Content-Length. Under ``transport="tls"`` the
    HTTP request is what the TLS records carry (opaque on the wire). Result: ``UploadResult``.
    """

    domain: str
    port: int
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    transport: str = "http"  # "http" or "tls"
    resolve: bool = True
    attempt: int = 1
    encoding: str = "json"
    leaks: tuple[Leak, ...] = ()  # what the body carries, for ground truth


# Benign background steps -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DhcpJoin(Step):
    """DHCP DISCOVER/OFFER/REQUEST/ACK for the actor's own address and hostname."""


@dataclass(frozen=True, slots=True)
class DnsLookup(Step):
    """A/AAAA query to the router's resolver. Result: the address (str) or None."""

    name: str


def _check_gaps(step: str, items: tuple, gaps: tuple[float, ...]) -> None:
    """A paced step's items (at least one) and the pauses between them (one fewer)."""
    if not items or len(gaps) != len(items) - 1:
        raise ValueError(f"{step}: {len(items)} items need {max(0, len(items) - 1)} gaps, got {len(gaps)}")


@dataclass(frozen=True, slots=True)
class DnsLookups(Step):
    """Background lookups of ``names`` in turn, ``gaps[i]`` seconds after the ``i``-th one is over.

    What a device's resolver does between its other activity, planned a stretch at a time: one step
    for them all, as a sweep is one step. Each lookup happens only if the device is home by then.
    """

    names: tuple[str, ...]
    gaps: tuple[float, ...]  # seconds between one lookup's end and the next one's start

    def __post_init__(self) -> None:
        _check_gaps("DnsLookups", self.names, self.gaps)


@dataclass(frozen=True, slots=True)
class NtpSync(Step):
    """One NTP client request and the server's reply."""

    server: str


@dataclass(frozen=True, slots=True)
class MdnsAnnounce(Step):
    """Unsolicited mDNS response announcing the actor's name and ``services``."""

    services: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MdnsQuery(Step):
    """mDNS PTR question for ``service``; devices offering it answer."""

    service: str


@dataclass(frozen=True, slots=True)
class SsdpNotify(Step):
    """SSDP NOTIFY ssdp:alive for the actor's ``device_type``."""

    device_type: str


@dataclass(frozen=True, slots=True)
class SsdpSearch(Step):
    """SSDP M-SEARCH for ``search_target``; matching devices answer by unicast."""

    search_target: str


@dataclass(frozen=True, slots=True)
class RouterArp(Step):
    """The router refreshing its ARP cache: a who-has for each of ``targets`` in turn, and the answers.

    Each request waits a second for its answer, then ``gaps[i]`` seconds more before the next one, as
    routers pace their refreshes (the same pacing as ``DnsLookups``). The round is one step, as a sweep is.
    """

    targets: tuple[Host, ...]
    gaps: tuple[float, ...]  # seconds between one target's second of waiting and the next request

    def __post_init__(self) -> None:
        _check_gaps("RouterArp", self.targets, self.gaps)


@dataclass(frozen=True, slots=True)
class HttpsSession(Step):
    """A TLS session to ``domain``: handshake, then ``up_bytes`` out and ``down_bytes`` in over ``seconds``."""

    domain: str
    up_bytes: int
    down_bytes: int
    seconds: float = 1.0
    port: int = 443


SDK_EVENT_KINDS: dict[type[Step], str] = {Sweep: "sweep", Probe: "probe", WifiScan: "wifi_scan", Upload: "upload"}
"""Which steps of an SDK behaviour are truth events, and under which kind."""
