"""DHCP (RFC 2131, 2132): the four messages of a lease (discover, offer, request, ack) as UDP payloads."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from .header import Header

DHCP_SERVER_PORT = 67
DHCP_CLIENT_PORT = 68

BOOTREQUEST, BOOTREPLY = 1, 2
MAGIC_COOKIE = 0x63825363

MESSAGE_TYPES = {
    "discover": 1,
    "offer": 2,
    "request": 3,
    "decline": 4,
    "ack": 5,
    "nak": 6,
    "release": 7,
    "inform": 8,
}
_CLIENT_KINDS = {"discover", "request", "decline", "release", "inform"}

OPT_PAD, OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME = 0, 1, 3, 6, 12
OPT_REQUESTED_IP, OPT_LEASE_TIME, OPT_MESSAGE_TYPE, OPT_SERVER_ID = 50, 51, 53, 54
OPT_PARAMETER_LIST, OPT_RENEWAL_TIME, OPT_REBINDING_TIME, OPT_CLIENT_ID, OPT_END = 55, 58, 59, 61, 255

# What an Android 11 client asks for (mask, router, DNS, domain, MTU, broadcast, lease, T1, T2, vendor).
ANDROID_PARAMETER_LIST = bytes((1, 3, 6, 15, 26, 28, 51, 58, 59, 43))

BOOTP = Header(
    "bootp",
    (
        ("op", "B", BOOTREQUEST),
        ("htype", "B", 1),  # Ethernet
        ("hlen", "B", 6),
        ("hops", "B", 0),
        ("xid", "I", 0),
        ("secs", "H", 0),
        ("flags", "H", 0),
        ("ciaddr", "4s", bytes(4)),
        ("yiaddr", "4s", bytes(4)),
        ("siaddr", "4s", bytes(4)),
        ("giaddr", "4s", bytes(4)),
        ("chaddr", "16s", bytes(16)),  # the MAC, zero-padded
        ("sname", "64s", bytes(64)),
        ("file", "128s", bytes(128)),
        ("magic", "I", MAGIC_COOKIE),
    ),
)
_MIN_MESSAGE = 300  # the BOOTP minimum (RFC 1542 2.1): clients and servers pad up to it


def _addr(ip: str | bytes | None) -> bytes:
    if ip is None:
        return bytes(4)
    return ip if isinstance(ip, bytes) else ipaddress.IPv4Address(ip).packed


def _option(code: int, value: bytes) -> bytes:
    return bytes((code, len(value))) + value


def dhcp_message(
    kind: str,
    xid: int,
    client_mac: bytes,
    *,
    your_ip: str | bytes | None = None,
    server_ip: str | bytes | None = None,
    requested_ip: str | bytes | None = None,
    router: str | bytes | None = None,
    dns: str | bytes | Sequence[str | bytes] | None = None,
    hostname: str | None = None,
    lease: int = 86400,
    subnet_mask: str | bytes = "255.255.255.0",
    client_ip: str | bytes | None = None,
) -> bytes:
    """A DHCP message of ``kind`` (discover, offer, request, ack; also decline, nak, release, inform).

    Client messages carry the client id (61), requested address (50, if given), server id (54, in a
    request that answers an offer), host name (12) and parameter request list (55). Server messages
    carry the server id, lease, renewal and rebinding times, mask, router and DNS servers.
    """
    if kind not in MESSAGE_TYPES:
        raise ValueError(f"unknown DHCP message kind {kind!r}; expected one of {sorted(MESSAGE_TYPES)}")
    from_client = kind in _CLIENT_KINDS
    options = [_option(OPT_MESSAGE_TYPE, bytes((MESSAGE_TYPES[kind],)))]
    if from_client:
        options.append(_option(OPT_CLIENT_ID, b"\x01" + client_mac))  # type 1 = Ethernet, then the MAC
        if requested_ip is not None:
            options.append(_option(OPT_REQUESTED_IP, _addr(requested_ip)))
        if server_ip is not None and kind != "discover":
            options.append(_option(OPT_SERVER_ID, _addr(server_ip)))
        if hostname:
            options.append(_option(OPT_HOSTNAME, hostname.encode()))
        if kind in ("discover", "request", "inform"):
            options.append(_option(OPT_PARAMETER_LIST, ANDROID_PARAMETER_LIST))
    else:
        if server_ip is not None:
            options.append(_option(OPT_SERVER_ID, _addr(server_ip)))
        if kind != "nak":
            options.append(_option(OPT_LEASE_TIME, lease.to_bytes(4, "big")))
            options.append(_option(OPT_RENEWAL_TIME, (lease // 2).to_bytes(4, "big")))
            options.append(_option(OPT_REBINDING_TIME, (lease * 7 // 8).to_bytes(4, "big")))
            options.append(_option(OPT_SUBNET_MASK, _addr(subnet_mask)))
            if router is not None:
                options.append(_option(OPT_ROUTER, _addr(router)))
            if dns is not None:
                servers = [dns] if isinstance(dns, str | bytes) else list(dns)
                options.append(_option(OPT_DNS, b"".join(_addr(s) for s in servers)))
            if hostname:
                options.append(_option(OPT_HOSTNAME, hostname.encode()))
    options.append(bytes((OPT_END,)))
    fixed = BOOTP.pack(
        op=BOOTREQUEST if from_client else BOOTREPLY,
        xid=xid,
        ciaddr=_addr(client_ip),
        yiaddr=_addr(your_ip) if not from_client else bytes(4),
        chaddr=client_mac,
    )
    message = fixed + b"".join(options)
    return message.ljust(_MIN_MESSAGE, b"\x00")
