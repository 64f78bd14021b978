"""Lightweight per-frame records parsed straight from the frame bytes (no dpkt objects on the hot path).

Only the layers the detectors use are decoded: Ethernet, ARP, IPv4, ICMP, UDP, TCP; the application
fields a detector keys on (DNS query name, TLS SNI, HTTP Host) are decoded once per frame here so that
every detector in a pass shares the work.
"""

from __future__ import annotations

import contextlib
import struct

import dpkt

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
PROTO_ICMP, PROTO_TCP, PROTO_UDP = 1, 6, 17
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
PROTO_NAMES = {PROTO_ICMP: "icmp", PROTO_TCP: "tcp", PROTO_UDP: "udp"}
DNS_PORTS = (53, 5353)
HTTP_METHODS = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"OPTIONS ", b"PATCH ")

_HH = struct.Struct("!HH")
# The fields of the IPv4 and TCP headers the detectors use, each header decoded by one call:
# IPv4 version+IHL, total length, flags+fragment offset, protocol, addresses; TCP ports, sequence
# number, data offset, flags.
_IPV4 = struct.Struct("!BxH2xHxB2x8s")
_TCP = struct.Struct("!HHI4xBB")

# Text forms and decoded fields, cached by their bytes: a home has a few dozen addresses and a sweep
# repeats the same few thousand ARP frames every cycle, while a capture holds millions of frames. Each
# cache is emptied when it reaches ``_CACHE_MAX`` entries, so memory does not grow with the capture.
_CACHE_MAX = 1 << 16
_MAC_TEXT: dict[bytes, str] = {}
_IP_TEXT: dict[bytes, str] = {}
_IP_PAIRS: dict[bytes, tuple[str, str]] = {}  # eight address bytes of an IPv4 header -> (src, dst)
_ARP_FRAMES: dict[bytes, tuple] = {}  # a whole ARP frame -> its fields (see ``_arp_frame``)
_QNAMES: dict[bytes, str | None] = {}  # a DNS message but its ID -> first question name
_MISS = object()  # a cache miss (a cached name may be None)


def mac_text(b: bytes) -> str:
    """``aa:bb:cc:dd:ee:ff`` for six address bytes."""
    s = _MAC_TEXT.get(b)
    if s is None:
        if len(_MAC_TEXT) >= _CACHE_MAX:
            _MAC_TEXT.clear()
        s = _MAC_TEXT[b] = b.hex(":")
    return s


def ip_text(b: bytes) -> str:
    """Dotted quad for four address bytes."""
    s = _IP_TEXT.get(b)
    if s is None:
        if len(_IP_TEXT) >= _CACHE_MAX:
            _IP_TEXT.clear()
        s = _IP_TEXT[b] = f"{b[0]}.{b[1]}.{b[2]}.{b[3]}"
    return s


def _ip_pair(b: bytes) -> tuple[str, str]:
    """``(source, destination)`` text for the eight address bytes of an IPv4 header."""
    if len(_IP_PAIRS) >= _CACHE_MAX:
        _IP_PAIRS.clear()
    pair = _IP_PAIRS[b] = (ip_text(b[:4]), ip_text(b[4:]))
    return pair


def _arp_frame(raw: bytes, off: int) -> tuple:
    """The fields of ``Frame`` for the ARP frame ``raw`` (its ARP message at ``off``), all but ``ts``,
    ``raw`` and ``_dns``, in the order ``Frame.__init__`` unpacks them; cached."""
    if len(_ARP_FRAMES) >= _CACHE_MAX:
        _ARP_FRAMES.clear()
    fields = _ARP_FRAMES[raw] = (
        ETH_ARP, off, (raw[off + 6] << 8) | raw[off + 7], mac_text(raw[off + 8:off + 14]),
        ip_text(raw[off + 14:off + 18]), ip_text(raw[off + 24:off + 28]), None, None, 0, -1, 0, 0, 0, 0, b"")
    return fields


def is_local_ip(ip: str) -> bool:
    """Addresses that stay inside a home: RFC 1918, link-local, loopback, multicast, broadcast, 0/8.

    (``ipaddress.is_private`` would also call the TEST-NET ranges private, but here they stand for the
    internet, so a hand-written test is both right and faster.)

    The per-frame detectors (beacon, pii-leak) keep their own plain-dict cache of it inline: a dict
    subclass with ``__missing__`` measured 4% slower over a one-pass run (it loses the interpreter's
    dict fast path), and a helper function costs a call per address.
    """
    a, _, rest = ip.partition(".")
    o1 = int(a)
    if o1 in (10, 127, 0) or o1 >= 224:
        return True
    o2 = int(rest.partition(".")[0])
    return (o1 == 192 and o2 == 168) or (o1 == 172 and 16 <= o2 < 32) or (o1 == 169 and o2 == 254)


class Frame:
    """One captured frame, decoded as far as the detectors need.

    The integer fields, IP addresses and ARP fields are decoded eagerly (several detectors look at them,
    and sweeps make ARP a large share of frames); Ethernet addresses and the application fields are
    properties decoded on access, since most other frames are bulk TCP that no detector asks about.
    Absent layers read as ``None``/0/``b""``.
    """

    __slots__ = ("ts", "raw", "ethertype", "_l3", "arp_op", "arp_sha", "arp_spa", "arp_tpa",
                 "ip_src", "ip_dst", "ip_proto", "icmp_type", "sport", "dport", "tcp_flags", "tcp_seq", "payload",
                 "_dns")

    def __init__(self, ts: float, raw: bytes) -> None:
        self.ts = ts
        self.raw = raw
        self._dns = None
        n = len(raw)
        et = (raw[12] << 8) | raw[13] if n >= 14 else 0
        off = 14
        if et == ETH_VLAN and n >= 18:
            et = (raw[16] << 8) | raw[17]
            off = 18
        if et == ETH_ARP and n >= off + 28:
            # All fields at once from the cache (a sweep repeats the same frames): ARP frames are
            # the commonest kind in a capture with SDK sweeps.
            fields = _ARP_FRAMES.get(raw)
            if fields is None:
                fields = _arp_frame(raw, off)
            (self.ethertype, self._l3, self.arp_op, self.arp_sha, self.arp_spa, self.arp_tpa, self.ip_src,
             self.ip_dst, self.ip_proto, self.icmp_type, self.sport, self.dport, self.tcp_flags, self.tcp_seq,
             self.payload) = fields
            return
        self.ethertype = et
        self._l3 = off if n >= 14 else 0
        self.arp_op = 0
        self.arp_sha = self.arp_spa = self.arp_tpa = None
        self.icmp_type = -1
        # Each field is stored once on the paths of TCP and UDP frames (most of the rest).
        if et == ETH_IPV4 and n >= off + 20:
            vihl, total, frag, proto, addrs = _IPV4.unpack_from(raw, off)
            if vihl >> 4 == 4:
                pair = _IP_PAIRS.get(addrs)
                if pair is None:
                    pair = _ip_pair(addrs)
                self.ip_src, self.ip_dst = pair
                self.ip_proto = proto
                if not frag & 0x1FFF:  # a non-first fragment carries no transport header
                    end = off + total if total >= 20 and off + total < n else n
                    t = off + (vihl & 0x0F) * 4
                    if proto == PROTO_TCP and end >= t + 20:
                        self.sport, self.dport, self.tcp_seq, doff, self.tcp_flags = _TCP.unpack_from(raw, t)
                        self.payload = raw[t + (doff >> 4) * 4:end]
                        return
                    if proto == PROTO_UDP and end >= t + 8:
                        self.sport, self.dport = _HH.unpack_from(raw, t)
                        self.tcp_seq = self.tcp_flags = 0
                        self.payload = raw[t + 8:end]
                        return
                    if proto == PROTO_ICMP and end > t:
                        self.icmp_type = raw[t]
                self.sport = self.dport = self.tcp_flags = self.tcp_seq = 0
                self.payload = b""
                return
        self.ip_src = self.ip_dst = None
        self.ip_proto = self.sport = self.dport = self.tcp_flags = self.tcp_seq = 0
        self.payload = b""

    @property
    def src_mac(self) -> str:
        """Ethernet source, ``aa:bb:cc:dd:ee:ff``."""
        return mac_text(self.raw[6:12])

    @property
    def dst_mac(self) -> str:
        """Ethernet destination, ``aa:bb:cc:dd:ee:ff``."""
        return mac_text(self.raw[0:6])

    @property
    def arp_tha(self) -> str | None:
        """ARP target hardware address."""
        return mac_text(self.raw[self._l3 + 18:self._l3 + 24]) if self.arp_op else None

    @property
    def proto(self) -> str:
        """``arp``, ``icmp``, ``tcp``, ``udp`` or ``ip``/``eth`` for anything else."""
        if self.ethertype == ETH_ARP:
            return "arp"
        if self.ip_src is None:
            return "eth"
        return PROTO_NAMES.get(self.ip_proto, "ip")

    @property
    def dns_qname(self) -> str | None:
        """The first question name of a DNS/mDNS message (UDP or TCP port 53/5353), lower case."""
        p = self.payload
        if not p or not (self.sport in DNS_PORTS or self.dport in DNS_PORTS):
            return None
        if self.ip_proto == PROTO_TCP:
            p = p[2:]
        return _first_qname(p)

    @property
    def tls_sni(self) -> str | None:
        """The server name of a TLS ClientHello that starts in this TCP segment."""
        p = self.payload
        return _sni(p) if self.ip_proto == PROTO_TCP and p[:1] == b"\x16" else None

    @property
    def http_host(self) -> str | None:
        """The Host of an HTTP request that starts in this TCP segment."""
        p = self.payload
        return _http_host(p) if self.ip_proto == PROTO_TCP and p[:1].isupper() else None

    def dns(self) -> dpkt.dns.DNS | None:
        """The DNS (or mDNS) message of a UDP port-53/5353 frame, parsed once on demand; else ``None``."""
        if self._dns is None:
            self._dns = False
            if self.ip_proto == PROTO_UDP and (self.sport in DNS_PORTS or self.dport in DNS_PORTS):
                with contextlib.suppress(dpkt.UnpackError, IndexError, struct.error, UnicodeDecodeError):
                    self._dns = dpkt.dns.DNS(self.payload)
        return self._dns or None


def _first_qname(p: bytes) -> str | None:
    """The first question's name of a DNS message (header then question), lower case; ``None`` if absent."""
    if len(p) < 13 or not (p[4] or p[5]):
        return None
    # Homes ask for the same few names over and over: cache by the message without its ID (which
    # changes with every query and plays no part in the name).
    key = p[2:]
    name = _QNAMES.get(key, _MISS)
    if name is _MISS:
        if len(_QNAMES) >= _CACHE_MAX:
            _QNAMES.clear()
        name = _QNAMES[key] = _parse_qname(p)
    return name


def _parse_qname(p: bytes) -> str | None:
    """``_first_qname`` without the cache."""
    labels, i, n = [], 12, len(p)
    while i < n:
        ln = p[i]
        if ln == 0:
            return ".".join(labels).lower() if labels else None
        if ln & 0xC0 or i + 1 + ln > n:
            return None
        labels.append(p[i + 1:i + 1 + ln].decode("ascii", "replace"))
        i += 1 + ln
    return None


def _sni(p: bytes) -> str | None:
    """The server_name of a TLS ClientHello in the first segment, or ``None``."""
    try:
        if len(p) < 43 or p[5] != 1:
            return None
        i = 9 + 2 + 32  # record(5) + handshake(4) + version + random
        i += 1 + p[i]  # session id
        i += 2 + ((p[i] << 8) | p[i + 1])  # cipher suites
        i += 1 + p[i]  # compression methods
        end = min(len(p), i + 2 + ((p[i] << 8) | p[i + 1]))
        i += 2
        while i + 4 <= end:
            etype, elen = _HH.unpack_from(p, i)
            i += 4
            if etype == 0 and i + 5 <= end:  # server_name: list length, type, name length, name
                nlen = (p[i + 3] << 8) | p[i + 4]
                return p[i + 5:i + 5 + nlen].decode("ascii", "replace").lower()
            i += elen
    except IndexError:
        return None
    return None


def _http_host(p: bytes) -> str | None:
    """The Host header of an HTTP request that starts in this segment, or ``None``."""
    if not p.startswith(HTTP_METHODS):
        return None
    head = p[:p.find(b"\r\n\r\n") if b"\r\n\r\n" in p[:4096] else 4096]
    for line in head.split(b"\r\n")[1:]:
        if line[:5].lower() == b"host:":
            return line[5:].strip().split(b":")[0].decode("ascii", "replace").lower()
    return None
