"""When a device is at home: its daily away windows (phones at work, tablets at school) on a clock.

The simulation asks ``at_home`` at each step (``Node.present``). The container backend takes the same
windows twice: the host takes an away device's link down for the window (``presence_changes``: the
kernel then answers no ARP or ping, as a phone that left), and the device's own behaviours send nothing
meanwhile (``at_home``). Both read the scenario's clock as the SDK sees it: scenario start plus real
seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

Windows = Sequence[tuple[float, float]]  # hours since local midnight, [start, end)


def at_home(away: Windows, utc_offset_s: float, ts: float) -> bool:
    """Whether a device with daily ``away`` windows is at home at epoch second ``ts`` (as the simulation)."""
    if not away:
        return True
    hour = ((ts + utc_offset_s) % 86400) / 3600.0
    return not any(start <= hour < end for start, end in away)


def presence_changes(away: Windows, utc_offset_s: float, start_ts: float, duration_s: float) -> list[tuple[float, bool]]:
    """``(seconds after start, at home after it)`` for every change within the run, and the state at 0 if away."""
    if not away:
        return []
    changes = [] if at_home(away, utc_offset_s, start_ts) else [(0.0, False)]
    local_midnight = start_ts - (start_ts + utc_offset_s) % 86400
    day = 0.0
    while local_midnight + day < start_ts + duration_s:
        for start, end in away:
            for hour, home in ((start, False), (end, True)):
                t = local_midnight + day + hour * 3600.0 - start_ts
                if 0.0 < t < duration_s and at_home(away, utc_offset_s, start_ts + t) == home:
                    changes.append((t, home))
        day += 86400.0
    return sorted(set(changes))
