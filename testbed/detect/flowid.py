"""Community ID flow hashes (https://github.com/corelight/community-id-spec), as in truth/flows.csv."""

from __future__ import annotations

import struct
from base64 import b64encode
from functools import lru_cache
from hashlib import sha1
from socket import inet_aton

import communityid

_CID = communityid.CommunityID()
_PROTOS = {6: communityid.PROTO_TCP, 17: communityid.PROTO_UDP, 1: communityid.PROTO_ICMP}
_PACK = struct.Struct("!H4s4sBxHH").pack  # seed, addresses, protocol, padding, ports


@lru_cache(maxsize=65536)
def community_id(proto: int, src: str, dst: str, sport: int = 0, dport: int = 0) -> str | None:
    """The v1 Community ID of a flow (direction-independent); ``None`` for protocols it does not cover.

    For ICMP pass the type as ``sport`` and the code as ``dport``.
    """
    p = _PROTOS.get(proto)
    if p is None:
        return None
    if p != communityid.PROTO_ICMP and src.count(".") == 3 and dst.count(".") == 3:
        try:
            return _transport_id(proto, src, dst, sport, dport)
        except OSError:
            pass  # not a dotted quad after all: the package will say what it is
    return _CID.calc(communityid.FlowTuple(p, src, dst, sport, dport))


def _transport_id(proto: int, src: str, dst: str, sport: int, dport: int) -> str:
    """A TCP/UDP flow over IPv4 computed directly as the spec defines it (sha1 over the ordered tuple):
    the ``communityid`` package spends ~35 µs per call validating its input, a tenth of a one-pass
    detector run (testbed.truth.recorder does the same for flows.csv; tests compare both with the
    package)."""
    a, b = inet_aton(src), inet_aton(dst)
    if (b, dport) < (a, sport):  # the spec orders the endpoints so that both directions get one id
        a, b, sport, dport = b, a, dport, sport
    return "1:" + b64encode(sha1(_PACK(0, a, b, proto, sport, dport)).digest()).decode("ascii")
