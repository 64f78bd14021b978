"""Ethernet II framing and MAC address helpers."""

from __future__ import annotations

from .header import Header

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806

BROADCAST_MAC = b"\xff" * 6
ZERO_MAC = bytes(6)

ETHERNET = Header(
    "ethernet",
    (
        ("dst", "6s", BROADCAST_MAC),
        ("src", "6s", ZERO_MAC),
        ("type", "H", ETHERTYPE_IPV4),
    ),
)

# Frames shorter than the 60-byte Ethernet minimum (64 with the FCS, which captures omit) are padded
# by the sending NIC, so a tap or mirror port on the LAN sees them padded; we write what the wire carries.
MIN_FRAME = 60
_PADDING = bytes(MIN_FRAME)


def pad(frame: bytes) -> bytes:
    """``frame`` padded with zeros to the 60-byte Ethernet minimum."""
    short = MIN_FRAME - len(frame)
    return frame + _PADDING[:short] if short > 0 else frame


def ethernet_header(dst_mac: bytes, src_mac: bytes, ethertype: int = ETHERTYPE_IPV4) -> bytes:
    """The 14-byte Ethernet II header."""
    return ETHERNET.struct.pack(dst_mac, src_mac, ethertype)


def mac_bytes(mac: str) -> bytes:
    """``"3c:22:fb:11:22:33"`` (or with ``-``) to 6 bytes."""
    raw = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {mac!r}")
    return raw


def mac_str(mac: bytes) -> str:
    """6 bytes to lower-case ``"3c:22:fb:11:22:33"``."""
    if len(mac) != 6:
        raise ValueError(f"a MAC address has 6 bytes, got {len(mac)}")
    return mac.hex(":")


def multicast_mac(ip4: bytes) -> bytes:
    """The Ethernet group address of an IPv4 multicast group (RFC 1112): 224.0.0.251 -> 01:00:5e:00:00:fb."""
    if len(ip4) != 4 or not 224 <= ip4[0] <= 239:
        raise ValueError(f"not an IPv4 multicast address: {ip4!r}")
    return b"\x01\x00\x5e" + bytes((ip4[1] & 0x7F,)) + ip4[2:]
