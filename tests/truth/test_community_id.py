"""Our Community ID paths, compiled and pure Python, agree with the reference ``communityid`` package."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import communityid
import pytest

from testbed import community_id
from testbed.community_id import python_community_id, transport_community_id
from testbed.packets import speedups
from testbed.truth.recorder import CommunityIds
from tests.helpers import require_speedups

REF = communityid.CommunityID()
IdFunction = Callable[..., str]


def _ip(rng: random.Random) -> str:
    return ".".join(str(rng.randint(0, 255)) for _ in range(4))


@pytest.fixture(params=["compiled", "python"])
def path(request, monkeypatch) -> Iterator[IdFunction]:
    """``transport_community_id`` as a run calls it, on the compiled path or forced onto the pure one."""
    if request.param == "compiled":
        require_speedups()
    else:
        monkeypatch.setattr(speedups, "native", None)
    yield transport_community_id


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_both_paths_match_the_reference_package(proto, path):
    rng = random.Random(proto)
    make = communityid.FlowTuple.make_tcp if proto == "tcp" else communityid.FlowTuple.make_udp
    number = 6 if proto == "tcp" else 17
    for _ in range(2000):
        src, dst = _ip(rng), _ip(rng)
        if rng.random() < 0.1:
            dst = src  # equal addresses: ports decide the order
        sport, dport = rng.randint(0, 65535), rng.randint(0, 65535)
        expected = REF.calc(make(src, dst, sport, dport))
        assert path(number, src, sport, dst, dport) == expected
        # Both directions of a flow share one id.
        assert CommunityIds().of(proto, dst, dport, src, sport) == expected


def test_a_seed_changes_the_id_as_the_reference_does(path):
    rng = random.Random(5)
    for seed in (1, 255, 256, 65535):
        ref = communityid.CommunityID(seed=seed)
        src, dst = _ip(rng), _ip(rng)
        assert path(17, src, 40000, dst, 53, seed) == ref.calc(communityid.FlowTuple.make_udp(src, dst, 40000, 53))


def test_the_compiled_path_is_the_pure_one_on_any_protocol_number():
    native = require_speedups()
    rng = random.Random(9)
    for _ in range(500):
        args = (rng.randint(0, 255), _ip(rng), rng.randint(0, 65535), _ip(rng), rng.randint(0, 65535),
                rng.randint(0, 65535))
        assert native.community_id(*args) == python_community_id(*args)


def test_icmp_and_arp():
    ids = CommunityIds()
    expected = REF.calc(communityid.FlowTuple.make_icmp("192.168.1.5", "192.168.1.9", 8, 0))
    assert ids.of("icmp", "192.168.1.5", 8, "192.168.1.9", 0) == expected
    assert ids.of("arp", "192.168.1.5", 0, "192.168.1.0/24", 0) == ""


@pytest.mark.parametrize(
    ("args", "error", "says"),
    [
        ((17, "192.168.1.300", 53, "192.168.1.1", 53), OSError, "192.168.1.300"),
        ((17, "192.168.1.2", 53, "not an address", 53), OSError, "not an address"),
        ((17, "192.168.1.2", 65536, "192.168.1.1", 53), ValueError, "0..65535"),
        ((17, "192.168.1.2", 53, "192.168.1.1", -1), ValueError, "0..65535"),
        ((256, "192.168.1.2", 53, "192.168.1.1", 53), ValueError, "0..255"),
        ((17, "192.168.1.2", 53, "192.168.1.1", 53, 70000), ValueError, "0..65535"),
    ],
)
def test_bad_flows_are_refused_by_both_paths(path, args, error, says):
    with pytest.raises(error, match=says.replace(".", r"\.")):
        path(*args)


def test_a_bad_address_is_not_remembered_and_the_cache_is_bounded(monkeypatch):
    with pytest.raises(OSError):
        python_community_id(17, "192.168.1.300", 53, "192.168.1.1", 53)
    assert "192.168.1.300" not in community_id._PACKED
    # The pure path's cache of packed addresses is bounded: full, it starts again, and ids stay right.
    monkeypatch.setattr(community_id, "_MAX_PACKED", 2)
    for host in range(1, 6):
        src = f"10.0.0.{host}"
        expected = REF.calc(communityid.FlowTuple.make_udp(src, "10.0.1.1", 5000, 53))
        assert python_community_id(17, src, 5000, "10.0.1.1", 53) == expected
        assert len(community_id._PACKED) <= 2
