"""Community ID flow hashes (https://github.com/corelight/community-id-spec), as in truth/flows.csv."""

from __future__ import annotations

from functools import lru_cache

import communityid

from testbed.community_id import transport_community_id

_CID = communityid.CommunityID()
_PROTOS = {6: communityid.PROTO_TCP, 17: communityid.PROTO_UDP, 1: communityid.PROTO_ICMP}


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
            return transport_community_id(proto, src, sport, dst, dport)
        except OSError:
            pass  # not a dotted quad after all: the package will say what it is
    return _CID.calc(communityid.FlowTuple(p, src, dst, sport, dport))
