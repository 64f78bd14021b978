"""ARP over Ethernet (RFC 826): requests, replies and the sweeper's hot path."""

from __future__ import annotations

from .ethernet import BROADCAST_MAC, ETHERNET, ETHERTYPE_ARP, MIN_FRAME, ZERO_MAC, pad
from .header import Header

OP_REQUEST = 1
OP_REPLY = 2

ARP = Header(
    "arp",
    (
        ("hrd", "H", 1),  # Ethernet
        ("pro", "H", 0x0800),  # IPv4
        ("hln", "B", 6),
        ("pln", "B", 4),
        ("op", "H", OP_REQUEST),
        ("sha", "6s", ZERO_MAC),
        ("spa", "4s", bytes(4)),
        ("tha", "6s", ZERO_MAC),
        ("tpa", "4s", bytes(4)),
    ),
)

_FRAME = ETHERNET + ARP
_TPA = _FRAME.offsets["arp.tpa"]
_TRAILER = bytes(MIN_FRAME - _FRAME.size)


def _arp(op: int, dst_mac: bytes, src_mac: bytes, src_ip: bytes, tha: bytes, tpa: bytes) -> bytes:
    return pad(
        _FRAME.struct.pack(dst_mac, src_mac, ETHERTYPE_ARP, 1, 0x0800, 6, 4, op, src_mac, src_ip, tha, tpa)
    )


def arp_request(src_mac: bytes, src_ip: bytes, target_ip: bytes) -> bytes:
    """A broadcast who-has ``target_ip`` from ``src_mac``/``src_ip``."""
    return _arp(OP_REQUEST, BROADCAST_MAC, src_mac, src_ip, ZERO_MAC, target_ip)


def arp_reply(src_mac: bytes, src_ip: bytes, dst_mac: bytes, dst_ip: bytes) -> bytes:
    """A unicast "``src_ip`` is at ``src_mac``" to the asker ``dst_mac``/``dst_ip``."""
    return _arp(OP_REPLY, dst_mac, src_mac, src_ip, dst_mac, dst_ip)


class ArpSweeper:
    """Who-has requests from one sender: everything but the target address is built once.

    A sweep asks for every address of the subnet, so this is the hottest path of a run; a request is
    one concatenation of the cached prefix, the target and the padding.
    """

    __slots__ = ("_prefix",)

    def __init__(self, src_mac: bytes, src_ip: bytes) -> None:
        self._prefix = arp_request(src_mac, src_ip, bytes(4))[:_TPA]

    def request(self, target_ip: bytes) -> bytes:
        """The broadcast who-has frame for ``target_ip`` (4 bytes)."""
        return self._prefix + target_ip + _TRAILER
