"""MAC addresses: a registered OUI of the maker, plus a NIC part that is unique within the run.

All households share one capture, so two devices must never share a MAC, yet each household is built
from its own random streams and may not look at the others. Drawing the 3 NIC bytes at random would
collide (10,000 homes put ~15,000 smart plugs on four Espressif prefixes: a birthday collision is
likely). Instead every MAC-bearing thing in a household gets a slot number; ``index * slots + slot``
is unique in the run, and a 24-bit permutation keyed from the run's seed turns it into NIC bytes that
look random but cannot collide. The guarantee holds while
``households * slots <= 2**24`` (default scenario: 34 slots, so up to ~490,000 homes); beyond that the
NIC part wraps and two devices collide only if they also drew the same OUI.

Randomised (private) MACs set the locally-administered bit (0x02) and clear the multicast bit; their
low 3 bytes use the same permutation, so they are unique too and never equal a registered MAC.
"""

from __future__ import annotations

import random
from functools import lru_cache

from testbed.rng import stream

NIC_SPACE = 1 << 24
_MASK = NIC_SPACE - 1
_RUN_WIDE = -1  # not a household: a stream shared by the whole run


@lru_cache(maxsize=8)
def _keys(seed: int) -> tuple[int, int, int, int]:
    rng = stream(seed, _RUN_WIDE, "population:mac-permutation")
    # Two odd multipliers (invertible modulo 2**24) and two offsets.
    return rng.getrandbits(24) | 1, rng.getrandbits(24), rng.getrandbits(24) | 1, rng.getrandbits(24)


def nic_bits(seed: int, household: int, slot: int, slots: int) -> int:
    """The unique 24-bit NIC part for one slot of one household: a keyed permutation of its number
    (multiply by an odd number, add, xor-shift, twice: each step is invertible modulo 2**24)."""
    if not 0 <= slot < slots:
        raise ValueError(f"slot {slot} outside 0..{slots - 1}")
    a, b, c, d = _keys(seed)
    x = ((household * slots + slot) * a + b) & _MASK
    x ^= x >> 12
    x = (x * c + d) & _MASK
    return x ^ (x >> 12)


def draw_mac(rng: random.Random, ouis: tuple[str, ...], nic: int, randomised: bool = False) -> str:
    """A MAC for a device: one of ``ouis`` (or, if ``randomised`` or no OUI is known, a private
    locally-administered prefix drawn from ``rng``) followed by the 24-bit ``nic`` from ``nic_bits``."""
    if randomised or not ouis:
        bits = (rng.getrandbits(24) | 0x020000) & ~0x010000  # locally administered, unicast
        prefix = f"{bits >> 16:02x}:{(bits >> 8) & 0xFF:02x}:{bits & 0xFF:02x}"
    else:
        prefix = rng.choice(ouis)
    return f"{prefix}:{nic >> 16:02x}:{(nic >> 8) & 0xFF:02x}:{nic & 0xFF:02x}"


def is_randomised(mac: str) -> bool:
    """True for a locally administered (private, randomised) MAC."""
    return bool(int(mac[:2], 16) & 0x02)
