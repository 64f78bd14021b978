"""The detectors' Community IDs: the direct TCP/UDP path agrees with the reference package."""

from __future__ import annotations

import random

import communityid
import pytest

from testbed.detect.flowid import community_id

REF = communityid.CommunityID()
_PROTOS = {6: communityid.PROTO_TCP, 17: communityid.PROTO_UDP}


def _ip(rng: random.Random) -> str:
    return ".".join(str(rng.choice((0, 10, 192, 203, 255, rng.randint(0, 255)))) for _ in range(4))


@pytest.mark.parametrize("proto", [6, 17])
def test_direct_path_matches_the_reference_package(proto):
    rng = random.Random(proto)
    for _ in range(2000):
        src, dst = _ip(rng), _ip(rng)
        if rng.random() < 0.1:
            dst = src  # equal addresses: the ports decide the order
        sport, dport = rng.choice((0, 80, rng.randint(0, 65535))), rng.choice((0, 443, rng.randint(0, 65535)))
        expected = REF.calc(communityid.FlowTuple(_PROTOS[proto], src, dst, sport, dport))
        assert community_id.__wrapped__(proto, src, dst, sport, dport) == expected
        assert community_id.__wrapped__(proto, dst, src, dport, sport) == expected  # one id per flow


def test_icmp_ipv6_and_others_go_through_the_package():
    icmp = REF.calc(communityid.FlowTuple.make_icmp("192.168.1.5", "192.168.1.9", 8, 0))
    assert community_id(1, "192.168.1.5", "192.168.1.9", 8, 0) == icmp
    v6 = REF.calc(communityid.FlowTuple.make_tcp("fe80::1", "fe80::2", 1234, 80))
    assert community_id(6, "fe80::1", "fe80::2", 1234, 80) == v6
    assert community_id(47, "10.0.0.1", "10.0.0.2") is None  # GRE: not covered
