"""The home LAN: which /24 the router hands out, and which address each device holds.

Subnets follow what each router brand ships with (Xiaomi 192.168.31.0/24, Huawei 192.168.3.0/24, eero
192.168.4.0/24, Comcast's Arris gateways 10.0.0.0/24, ...). All households share one capture, so a subnet
is unique within a run, decided in index order:

    household i takes its preferred subnet unless a lower-index household already preferred it;
    otherwise it takes ``fallback_subnet(i)``, the i-th /24 of the fallback blocks below.

Fallbacks never overlap a preferred subnet, so the rule needs only the lower households' preferences,
which are cheap to recompute (``build_household`` does so when it is not told what is taken).
"""

from __future__ import annotations

import ipaddress
import random

# Router maker -> (subnet, weight): the factory defaults of that brand's home routers.
ROUTER_SUBNETS: dict[str, tuple[tuple[str, float], ...]] = {
    "tp-link": (("192.168.1.0/24", 0.6), ("192.168.0.0/24", 0.4)),
    "mercury": (("192.168.1.0/24", 1.0),),
    "xiaomi-iot": (("192.168.31.0/24", 1.0),),
    "huawei": (("192.168.3.0/24", 1.0),),
    "tenda": (("192.168.0.0/24", 1.0),),
    "zte": (("192.168.1.0/24", 1.0),),
    "netgear": (("192.168.1.0/24", 0.8), ("192.168.0.0/24", 0.2)),
    "asus": (("192.168.50.0/24", 0.6), ("192.168.1.0/24", 0.4)),
    "linksys": (("192.168.1.0/24", 1.0),),
    "eero": (("192.168.4.0/24", 1.0),),
    "arris": (("10.0.0.0/24", 0.7), ("192.168.0.0/24", 0.3)),
}
_DEFAULT_SUBNETS = (("192.168.1.0/24", 0.5), ("192.168.0.0/24", 0.3), ("192.168.2.0/24", 0.2))

# Fallback /24s, in order. Private space first (10.0.0.0/24 itself is a preferred subnet, so 10.0.x.x is
# skipped); 198.18.0.0/15 (RFC 2544 benchmarking) and 240.0.0.0/4 (reserved, never routed) only for runs
# larger than private space holds (> 69,888 homes).
_FALLBACK_BLOCKS = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("198.18.0.0/15"),
    ipaddress.ip_network("240.0.0.0/4"),
)
_FALLBACK_SKIP = 256  # the first 256 /24s of 10.0.0.0/8: 10.0.0.0/16


def preferred_subnet(rng: random.Random, router_maker: str) -> str:
    """The subnet this brand's router would use out of the box."""
    choices = ROUTER_SUBNETS.get(router_maker, _DEFAULT_SUBNETS)
    return rng.choices([s for s, _ in choices], weights=[w for _, w in choices])[0]


def fallback_subnet(index: int) -> str:
    """The fallback /24 of household ``index``: ``10.{1 + i // 256}.{i % 256}.0/24`` for the first
    65,280 homes, then 172.16.0.0/12, 198.18.0.0/15 and 240.0.0.0/4 in order."""
    n = index + _FALLBACK_SKIP
    for block in _FALLBACK_BLOCKS:
        size = 1 << (24 - block.prefixlen)
        if n < size:
            return str(ipaddress.ip_network((int(block.network_address) + (n << 8), 24)))
        n -= size
    raise ValueError(f"no fallback subnet left for household {index}")


def resolve_subnet(preferred: str, index: int, taken: set[str]) -> str:
    """``preferred`` unless a lower-index household took it, else the fallback of ``index``."""
    return preferred if preferred not in taken else fallback_subnet(index)


# Devices that owners often pin to a fixed low address (so that print and camera apps keep finding them).
_STATIC_KINDS = {"printer": 0.3, "camera": 0.3, "desktop": 0.05}
_STATIC_FAVOURITES = (2, 5, 8, 10, 20, 50, 66, 88, 99)
_POOL_START = 100


def assign_hosts(rng: random.Random, kinds: list[str]) -> list[int]:
    """Host numbers (2..254) for devices of ``kinds``, in that order: a few pinned low ones, the rest
    leased from a DHCP pool that starts at .100 in the order devices joined, with gaps left by devices that
    came and went. The router is .1; .0 and .255 are never used."""
    if len(kinds) > 253:
        raise ValueError(f"{len(kinds)} devices do not fit in a /24")
    hosts: list[int | None] = [None] * len(kinds)
    used: set[int] = set()
    for i, kind in enumerate(kinds):
        if rng.random() < _STATIC_KINDS.get(kind, 0.0):
            free = [h for h in _STATIC_FAVOURITES if h not in used]
            free = free or [h for h in range(2, _POOL_START) if h not in used]
            hosts[i] = rng.choice(free)
            used.add(hosts[i])
    pool = [h for h in (*range(_POOL_START, 255), *range(2, _POOL_START)) if h not in used]
    dynamic = [i for i, h in enumerate(hosts) if h is None]
    rng.shuffle(dynamic)  # join order
    spare = len(pool) - len(dynamic)
    at = 0
    for i in dynamic:
        gap = min(spare, rng.choice((0, 0, 0, 1, 1, 2, 3)))
        spare -= gap
        at += gap
        hosts[i] = pool[at]
        at += 1
    return [h for h in hosts if h is not None]


def host_ip(subnet: str, host: int) -> str:
    """The address of host number ``host`` (1..254) in a ``a.b.c.0/24`` subnet."""
    if not subnet.endswith(".0/24") or not 1 <= host <= 254:
        raise ValueError(f"host {host} in {subnet}: expected a /24 and a host number 1..254")
    return f"{subnet[:-4]}{host}"
