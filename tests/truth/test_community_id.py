"""Our Community ID fast path agrees with the reference ``communityid`` package."""

from __future__ import annotations

import random

import communityid
import pytest

from testbed.community_id import transport_community_id
from testbed.truth.recorder import CommunityIds

REF = communityid.CommunityID()


def _ip(rng: random.Random) -> str:
    return ".".join(str(rng.randint(0, 255)) for _ in range(4))


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_fast_path_matches_the_reference_package(proto):
    rng = random.Random(proto)
    make = communityid.FlowTuple.make_tcp if proto == "tcp" else communityid.FlowTuple.make_udp
    for _ in range(2000):
        src, dst = _ip(rng), _ip(rng)
        if rng.random() < 0.1:
            dst = src  # equal addresses: ports decide the order
        sport, dport = rng.randint(0, 65535), rng.randint(0, 65535)
        expected = REF.calc(make(src, dst, sport, dport))
        assert transport_community_id(6 if proto == "tcp" else 17, src, sport, dst, dport) == expected
        # Both directions of a flow share one id.
        assert CommunityIds().of(proto, dst, dport, src, sport) == expected


def test_icmp_and_arp():
    ids = CommunityIds()
    expected = REF.calc(communityid.FlowTuple.make_icmp("192.168.1.5", "192.168.1.9", 8, 0))
    assert ids.of("icmp", "192.168.1.5", 8, "192.168.1.9", 0) == expected
    assert ids.of("arp", "192.168.1.5", 0, "192.168.1.0/24", 0) == ""


def test_a_bad_address_is_refused_and_not_remembered(monkeypatch):
    from testbed import community_id

    with pytest.raises(OSError):
        transport_community_id(17, "192.168.1.300", 53, "192.168.1.1", 53)
    assert "192.168.1.300" not in community_id._PACKED
    # The cache of packed addresses is bounded: full, it starts again, and ids stay right.
    monkeypatch.setattr(community_id, "_MAX_PACKED", 2)
    for host in range(1, 6):
        src = f"10.0.0.{host}"
        expected = REF.calc(communityid.FlowTuple.make_udp(src, "10.0.1.1", 5000, 53))
        assert transport_community_id(17, src, 5000, "10.0.1.1", 53) == expected
        assert len(community_id._PACKED) <= 2
