"""Community ID v1 (https://github.com/corelight/community-id-spec) of TCP/UDP flows over IPv4, direct.

Why not the ``communityid`` package for these: it spends ~30-35 µs per call validating and converting
every field, which was a tenth of a simulation run and of a one-pass detector run. The spec's hash is
short: sha1 over the seed, the endpoints in a fixed order, the protocol and the ports. The compiled
extension does the same in C when it was built (``community_id`` in ``_speedups.c``, ~0.3 µs against ~1 µs
here); this module's code is its reference. Other protocols (ICMP, IPv6) still go through the package;
tests compare every path with it.
"""

from __future__ import annotations

import struct
from binascii import b2a_base64
from hashlib import sha1
from socket import inet_aton

from testbed.packets import speedups

_PACK = struct.Struct("!H4s4sBxHH").pack  # seed, addresses, protocol, padding, ports
_PACKED: dict[str, bytes] = {}  # addresses seen, packed: a run's flows come from a few hundred hosts
_MAX_PACKED = 65_536


def transport_community_id(proto: int, src: str, sport: int, dst: str, dport: int, seed: int = 0) -> str:
    """Community ID v1 of a TCP (6) or UDP (17) flow over IPv4.

    Raises ``OSError`` on a bad address, ``ValueError`` on a port or seed outside 0..65535 or a protocol
    outside 0..255.
    """
    native = speedups.native
    if native is not None:
        return native.community_id(proto, src, sport, dst, dport, seed)
    return python_community_id(proto, src, sport, dst, dport, seed)


def python_community_id(proto: int, src: str, sport: int, dst: str, dport: int, seed: int = 0) -> str:
    """``transport_community_id`` in pure Python: the compiled path's reference."""
    a = _PACKED.get(src) or _packed(src)
    b = _PACKED.get(dst) or _packed(dst)
    if (b, dport) < (a, sport):  # the spec orders the endpoints so that both directions get one id
        a, b, sport, dport = b, a, dport, sport
    try:
        packed = _PACK(seed, a, b, proto, sport, dport)
    except struct.error as exc:
        raise ValueError(f"community_id: a port or seed outside 0..65535, or a protocol outside 0..255: {exc}") from None
    # b2a_base64 is what base64.b64encode calls, without its argument checks (a quarter of this function).
    return "1:" + b2a_base64(sha1(packed).digest(), newline=False).decode("ascii")


def _packed(address: str) -> bytes:
    try:
        packed = inet_aton(address)
    except OSError:  # nothing is cached then
        raise OSError(f"community_id: {address!r} is not an IPv4 address") from None
    if len(_PACKED) >= _MAX_PACKED:  # bound memory for a caller that sees endless addresses
        _PACKED.clear()
    _PACKED[address] = packed
    return packed
