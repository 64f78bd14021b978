"""A flow as an executor reports it: what the truth files label, shared by both backends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Flow:
    """One flow a step produced (addresses as strings; ports 0 for ARP; ICMP type/code as ports)."""

    proto: str  # arp, icmp, udp, tcp
    src: str
    sport: int
    dst: str
    dport: int
    first_us: int  # capture times, epoch microseconds
    last_us: int
