"""Seeded random streams, one per (scenario seed, household index, purpose).

Nothing in the testbed uses the global ``random`` module: every choice draws from a stream made
here, so a household's behaviour does not depend on which other households run, or in which
worker process.
"""

from __future__ import annotations

import hashlib
import random


def stream_seed(seed: int, household: int, purpose: str) -> int:
    """A 64-bit seed derived from (seed, household, purpose), stable across Python versions."""
    digest = hashlib.sha256(f"{seed}/{household}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def stream(seed: int, household: int, purpose: str) -> random.Random:
    """An independent ``random.Random`` for one household and purpose (``"devices"``, ``"sdk:h0001-tv1"``...)."""
    return random.Random(stream_seed(seed, household, purpose))
