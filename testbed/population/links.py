"""How a device is attached and how fast it answers: the "network delay" the SDK measured and uploaded.

Wired hosts answer a LAN ping in well under a millisecond. Wi-Fi adds contention and retries: a few
milliseconds, with jitter of the same order. Devices in power save (phones with the screen off, battery
cameras, many ESP plugs) only wake for the AP's DTIM beacon (every 100-300 ms), so they answer in
30-100 ms with large jitter; that is why a sweep sees some phones as "slow".
"""

from __future__ import annotations

import random

# Share of each kind on Ethernet, unless the model says otherwise.
WIRED_SHARE: dict[str, float] = {
    "desktop": 0.85, "printer": 0.35, "console": 0.35, "tv": 0.3, "laptop": 0.05, "speaker": 0.0,
    "phone": 0.0, "tablet": 0.0, "camera": 0.0, "plug": 0.0, "router": 1.0,
}
# Share of each kind's Wi-Fi units that sit in power save when probed.
SLEEPY_SHARE: dict[str, float] = {"phone": 0.3, "tablet": 0.25, "plug": 0.4, "camera": 0.1, "speaker": 0.1}


def draw_link(rng: random.Random, kind: str, wired_share: float | None = None) -> str:
    """``"wired"`` or ``"wifi"``."""
    share = WIRED_SHARE.get(kind, 0.0) if wired_share is None else wired_share
    return "wired" if rng.random() < share else "wifi"


def draw_rtt(rng: random.Random, kind: str, link: str) -> tuple[float, float]:
    """(median RTT, jitter) in milliseconds, rounded to microseconds."""
    if link == "wired":
        rtt, jitter = rng.uniform(0.3, 1.0), rng.uniform(0.05, 0.3)
    elif rng.random() < SLEEPY_SHARE.get(kind, 0.0):
        rtt = rng.uniform(30.0, 100.0)
        jitter = rtt * rng.uniform(0.2, 0.5)
    else:
        rtt = min(15.0, max(1.5, rng.lognormvariate(1.5, 0.5)))  # median ~4.5 ms
        jitter = rtt * rng.uniform(0.4, 1.0)
    return round(rtt, 3), round(jitter, 3)
