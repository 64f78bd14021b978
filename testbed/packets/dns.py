"""DNS (RFC 1035) and multicast DNS / DNS-SD (RFC 6762, 6763) messages: UDP payloads.

Unicast DNS is on the warm path (every probe resolves names), so queries and A answers are a header
pack plus a cached encoded name. mDNS messages are rarer and richer: they go through a small builder
that compresses names, and whole messages are cached on their arguments.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from functools import lru_cache

from .header import Header

DNS_PORT = 53
MDNS_PORT = 5353
MDNS_ADDR = bytes((224, 0, 0, 251))

TYPE_A = 1
TYPE_PTR = 12
TYPE_TXT = 16
TYPE_AAAA = 28
TYPE_SRV = 33
CLASS_IN = 1
CACHE_FLUSH = 0x8000  # mDNS: top bit of an answer's class says "this record replaces cached ones"
UNICAST_RESPONSE = 0x8000  # mDNS: top bit of a question's class asks for a unicast answer ("QU")

FLAG_RESPONSE = 0x8000
FLAG_AUTHORITATIVE = 0x0400
FLAG_RECURSION_DESIRED = 0x0100
FLAG_RECURSION_AVAILABLE = 0x0080
RCODE_NXDOMAIN = 3

DNS_HEADER = Header(
    "dns",
    (
        ("id", "H", 0),
        ("flags", "H", FLAG_RECURSION_DESIRED),
        ("qdcount", "H", 0),
        ("ancount", "H", 0),
        ("nscount", "H", 0),
        ("arcount", "H", 0),
    ),
)
_HEADER = DNS_HEADER.struct
_QUESTION_TAIL = struct.Struct("!HH")  # qtype, qclass
_RR_TAIL = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_SRV_PREFIX = struct.Struct("!HHH")  # priority, weight, port
_POINTER_TO_QNAME = b"\xc0\x0c"  # the question's name always starts right after the 12-byte header

# Ports of the DNS-SD services TVs and their neighbours commonly announce; others default to 80.
SERVICE_PORTS = {
    "_airplay._tcp": 7000,
    "_raop._tcp": 7000,
    "_googlecast._tcp": 8009,
    "_http._tcp": 80,
    "_ipp._tcp": 631,
    "_printer._tcp": 515,
    "_smb._tcp": 445,
    "_spotify-connect._tcp": 57621,
    "_device-info._tcp": 0,
}
_HOST_TTL_DEFAULT = 120
_SERVICE_TTL = 4500  # RFC 6762 section 10: records not tied to a host name live 75 minutes


def _labels(name: str) -> list[bytes]:
    labels = [label.encode() for label in name.rstrip(".").split(".")] if name.strip(".") else []
    if any(not 0 < len(label) < 64 for label in labels):
        raise ValueError(f"bad DNS name {name!r}: every label needs 1..63 bytes")
    return labels


@lru_cache(maxsize=4096)
def encode_name(name: str) -> bytes:
    """A domain name in uncompressed wire format (length-prefixed labels, then a zero byte)."""
    wire = b"".join(bytes((len(label),)) + label for label in _labels(name)) + b"\x00"
    if len(wire) > 255:
        raise ValueError(f"DNS name longer than 255 bytes: {name!r}")
    return wire


def reverse_name(ip: str | bytes) -> str:
    """The in-addr.arpa name of an IPv4 address: 192.168.1.5 -> ``5.1.168.192.in-addr.arpa``."""
    raw = _ip4(ip)
    return f"{raw[3]}.{raw[2]}.{raw[1]}.{raw[0]}.in-addr.arpa"


@lru_cache(maxsize=4096)
def _packed(ip: str) -> bytes:
    # Cached: a run packs the same few addresses per home again and again (mDNS names, answers), and
    # parsing one with ``ipaddress`` cost 2% of a simulated run.
    return ipaddress.IPv4Address(ip).packed


def _ip4(ip: str | bytes) -> bytes:
    return ip if isinstance(ip, bytes) else _packed(ip)


def dns_query(txid: int, name: str, qtype: int = TYPE_A) -> bytes:
    """A recursive standard query for ``name`` (class IN)."""
    return (
        _HEADER.pack(txid, FLAG_RECURSION_DESIRED, 1, 0, 0, 0)
        + encode_name(name)
        + _QUESTION_TAIL.pack(qtype, CLASS_IN)
    )


def dns_response(
    txid: int, name: str, qtype: int, addresses: Sequence[str], ttl: int = 300, rcode: int = 0
) -> bytes:
    """A recursive resolver's answer that repeats the question, answers pointing back at its name.

    ``addresses`` are IPv4 text for A, IPv6 text for AAAA, host names for PTR. No answers with rcode 0
    is the NOERROR/NODATA reply (e.g. AAAA for an IPv4-only name); rcode 3 is NXDOMAIN.
    """
    flags = FLAG_RESPONSE | FLAG_RECURSION_DESIRED | FLAG_RECURSION_AVAILABLE | rcode
    parts = [
        _HEADER.pack(txid, flags, 1, len(addresses), 0, 0),
        encode_name(name),
        _QUESTION_TAIL.pack(qtype, CLASS_IN),
    ]
    for value in addresses:
        if qtype == TYPE_A:
            rdata = ipaddress.IPv4Address(value).packed
        elif qtype == TYPE_AAAA:
            rdata = ipaddress.IPv6Address(value).packed
        elif qtype == TYPE_PTR:
            rdata = encode_name(value)
        else:
            raise ValueError(f"dns_response answers A, AAAA or PTR questions, not type {qtype}")
        parts += (_POINTER_TO_QNAME, _RR_TAIL.pack(qtype, CLASS_IN, ttl, len(rdata)), rdata)
    return b"".join(parts)


class _MessageBuilder:
    """Builds one DNS message section by section, compressing repeated name suffixes (RFC 1035 4.1.4)."""

    def __init__(self, txid: int, flags: int) -> None:
        self._txid = txid
        self._flags = flags
        self._buf = bytearray(DNS_HEADER.size)
        self._counts = [0, 0, 0, 0]  # questions, answers, authority, additional
        self._suffix_offsets: dict[tuple[bytes, ...], int] = {}

    def _name(self, name: str) -> None:
        labels = _labels(name)
        for i, label in enumerate(labels):
            suffix = tuple(lab.lower() for lab in labels[i:])
            offset = self._suffix_offsets.get(suffix)
            if offset is not None:
                self._buf += (0xC000 | offset).to_bytes(2, "big")
                return
            if len(self._buf) < 0x3FFF:  # a pointer has 14 bits
                self._suffix_offsets[suffix] = len(self._buf)
            self._buf += bytes((len(label),)) + label
        self._buf += b"\x00"

    def question(self, name: str, qtype: int, qclass: int = CLASS_IN) -> None:
        self._check_order(0)
        self._name(name)
        self._buf += _QUESTION_TAIL.pack(qtype, qclass)

    def record(
        self, section: int, name: str, rtype: int, ttl: int, rdata: bytes = b"", *,
        rdata_name: str | None = None, cache_flush: bool = False,
    ) -> None:  # fmt: skip
        """Append a resource record; ``rdata_name`` (compressed) follows the fixed ``rdata`` bytes."""
        self._check_order(section)
        self._name(name)
        length_at = len(self._buf) + 8
        self._buf += _RR_TAIL.pack(rtype, CLASS_IN | (CACHE_FLUSH if cache_flush else 0), ttl, 0)
        self._buf += rdata
        if rdata_name is not None:
            self._name(rdata_name)
        struct.pack_into("!H", self._buf, length_at, len(self._buf) - length_at - 2)

    def _check_order(self, section: int) -> None:
        if any(self._counts[section + 1 :]):
            raise ValueError("DNS sections must be written in order")
        self._counts[section] += 1

    def to_bytes(self) -> bytes:
        _HEADER.pack_into(self._buf, 0, self._txid, self._flags, *self._counts)
        return bytes(self._buf)


ANSWER, AUTHORITY, ADDITIONAL = 1, 2, 3


def _local(name: str) -> str:
    name = name.rstrip(".")
    return name if name.endswith(".local") else name + ".local"


def mdns_query(questions: Iterable[tuple[str, int]], unicast_response: bool = False) -> bytes:
    """An mDNS query (id 0, flags 0) for ``(name, qtype)`` questions; ``unicast_response`` sets the QU bit."""
    return _mdns_query(tuple(questions), unicast_response)


@lru_cache(maxsize=1024)
def _mdns_query(questions: tuple[tuple[str, int], ...], unicast_response: bool) -> bytes:
    message = _MessageBuilder(0, 0)
    qclass = CLASS_IN | (UNICAST_RESPONSE if unicast_response else 0)
    for name, qtype in questions:
        message.question(name, qtype, qclass)
    return message.to_bytes()


def mdns_announce(
    hostname: str, ip: str | bytes, services: Iterable[str], ttl: int = _HOST_TTL_DEFAULT
) -> bytes:
    """An unsolicited mDNS response announcing a host and its DNS-SD services (flags 0x8400).

    For each service (``"_airplay._tcp.local"``, optionally ``":port"``): a DNS-SD enumeration PTR, the
    shared PTR to the instance (named from the host name, dashes as spaces), and the unique SRV and
    TXT; then the host's A record. Unique records carry the cache-flush bit; host-bound records (A,
    SRV) get ``ttl``, the others 4500 s, as mDNSResponder does.
    """
    return _mdns_announce(hostname, _ip4(ip), tuple(services), ttl)


@lru_cache(maxsize=1024)
def _mdns_announce(hostname: str, ip: bytes, services: tuple[str, ...], ttl: int) -> bytes:
    host = _local(hostname)
    instance = host[: -len(".local")].replace("-", " ")
    message = _MessageBuilder(0, FLAG_RESPONSE | FLAG_AUTHORITATIVE)
    for entry in services:
        service, _, port_text = entry.partition(":")
        service = _local(service)
        port = int(port_text) if port_text else SERVICE_PORTS.get(service[: -len(".local")], 80)
        full = f"{instance}.{service}"
        message.record(ANSWER, "_services._dns-sd._udp.local", TYPE_PTR, _SERVICE_TTL, rdata_name=service)
        message.record(ANSWER, service, TYPE_PTR, _SERVICE_TTL, rdata_name=full)
        message.record(
            ANSWER, full, TYPE_SRV, ttl, _SRV_PREFIX.pack(0, 0, port), rdata_name=host, cache_flush=True
        )
        message.record(ANSWER, full, TYPE_TXT, _SERVICE_TTL, b"\x09txtvers=1", cache_flush=True)
    message.record(ANSWER, host, TYPE_A, ttl, ip, cache_flush=True)
    return message.to_bytes()


def mdns_reverse_query(ip: str | bytes) -> bytes:
    """An mDNS query for the PTR of ``ip`` (``5.1.168.192.in-addr.arpa``): who is this address?"""
    return _mdns_query(((reverse_name(ip), TYPE_PTR),), False)


def mdns_reverse_response(ip: str | bytes, hostname: str, ttl: int = _HOST_TTL_DEFAULT) -> bytes:
    """The owner's mDNS answer to a reverse query: PTR ``<reversed ip>.in-addr.arpa`` -> ``hostname.local``."""
    return _mdns_reverse_response(_ip4(ip), hostname, ttl)


@lru_cache(maxsize=1024)
def _mdns_reverse_response(ip: bytes, hostname: str, ttl: int) -> bytes:
    message = _MessageBuilder(0, FLAG_RESPONSE | FLAG_AUTHORITATIVE)
    message.record(ANSWER, reverse_name(ip), TYPE_PTR, ttl, rdata_name=_local(hostname), cache_flush=True)
    return message.to_bytes()
