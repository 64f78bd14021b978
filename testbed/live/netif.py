"""The container's own interfaces, sockets for multicast and small parsers of answers.

Kept apart from the executor so that the containment check (own subnet only) reads the kernel's
idea of the interface, not a configuration file.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct

import dpkt

_SIOCGIFADDR = 0x8915
_SIOCGIFNETMASK = 0x891B
_SIOCGIFHWADDR = 0x8927


def _ioctl(iface: str, request: int) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return fcntl.ioctl(s.fileno(), request, struct.pack("256s", iface.encode()[:15]))


def interface_network(iface: str) -> ipaddress.IPv4Interface:
    """The address and subnet the kernel gives ``iface`` (``192.168.3.102/24``)."""
    addr = socket.inet_ntoa(_ioctl(iface, _SIOCGIFADDR)[20:24])
    mask = socket.inet_ntoa(_ioctl(iface, _SIOCGIFNETMASK)[20:24])
    return ipaddress.IPv4Interface(f"{addr}/{mask}")


def interface_mac(iface: str) -> bytes:
    """The 6-byte MAC of ``iface``."""
    return _ioctl(iface, _SIOCGIFHWADDR)[18:24]


def interface_for(ip: str) -> str:
    """The name of the interface that holds ``ip``."""
    for _, name in socket.if_nameindex():
        try:
            if str(interface_network(name).ip) == ip:
                return name
        except OSError:
            continue
    raise OSError(f"no interface holds {ip}")


def multicast_socket(group: str, port: int, own_ip: str) -> socket.socket:
    """A UDP socket bound to ``port`` that has joined ``group`` on the interface of ``own_ip``."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("", port))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(own_ip))
    # Internal networks have no default route: name the interface for outgoing multicast.
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(own_ip))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    return s


def dns_answers(data: bytes) -> tuple[int, list[tuple[int, str, str]]]:
    """``(txid, [(type, name, value)])`` of a DNS/mDNS message: A as text, PTR as the target name."""
    msg = dpkt.dns.DNS(data)
    out = []
    for rr in msg.an:
        if rr.type == dpkt.dns.DNS_A:
            out.append((rr.type, rr.name, socket.inet_ntoa(rr.ip)))
        elif rr.type == dpkt.dns.DNS_PTR:
            out.append((rr.type, rr.name, rr.ptrname))
    return msg.id, out


def dns_questions(data: bytes) -> tuple[int, int, list[tuple[str, int]]]:
    """``(txid, flags, [(name, type)])`` of a DNS message's questions."""
    msg = dpkt.dns.DNS(data)
    flags = (msg.op << 8) | msg.rcode  # opcode and flags byte first: QR is 0x8000
    return msg.id, flags, [(q.name, q.type) for q in msg.qd]


def nbstat_name(data: bytes) -> tuple[int, str] | None:
    """``(txid, first name)`` of a NetBIOS node-status response, or None if it is none."""
    if len(data) < 12 or not data[2] & 0x80:
        return None
    txid = int.from_bytes(data[:2], "big")
    pos = 12
    if data[4:6] != b"\x00\x00":  # a question section is repeated: skip its name and type/class
        pos += 34 + 4
    pos += 2 if data[pos] & 0xC0 == 0xC0 else 34  # the answer's name (pointer or full label)
    pos += 10  # type, class, ttl, rdlength
    if len(data) < pos + 16 or data[pos] == 0:
        return None
    return txid, data[pos + 1:pos + 16].decode("ascii", "replace").rstrip(" \x00")
