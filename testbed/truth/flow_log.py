"""A household's flows, kept as the lines of ``truth/flows.csv`` from the moment they are made.

Why: a 1000 household-hour run labels ~540 k flows. Kept as 8-field tuples until their window was written,
their objects were cold in the CPU's cache by then: formatting them took 0.48 s in a run against 0.15 s on
the same rows freshly made, on top of making the tuples and their endpoint strings. The compiled
``FrameLog`` (``_speedups.c``) formats a flow's line when it is made (``add_flow``) and keeps it as a block at
the flow's first time; ``take_flow_lines`` merges a window's lines of every household by that time, as it
merges frames. ``PyFlowLog`` and ``flow_line`` are the pure-Python twins, and the reference.

A window's lines are in the order of a stable sort by first time of the households' flows, in household
order, each in the order its steps made them.
"""

from __future__ import annotations

import csv
import io
from array import array
from typing import Any, Protocol

from testbed.packets import speedups
from testbed.packets.encoded_frames import EncodedFrames
from testbed.packets.frame_log import merge_encoded, split_ready

FLOW_COLUMNS = ("community_id", "first_ts", "last_ts", "src", "dst", "proto", "label", "event_id")
_COMMAS = len(FLOW_COLUMNS) - 1
_NEEDS_CSV = ('"', "\r", "None")  # in any field: quoting, or the csv module's rendering of None


def flow_rows_text(rows: list[tuple]) -> str:
    """Flow rows ``(community_id, first_us, last_us, src, dst, proto, label, event_id)`` as CSV lines,
    exactly as the csv module writes them (times as seconds with six decimals)."""
    # Formatted directly, not by the csv module (which took 60% of this): the fields are addresses, ports,
    # ids and labels the testbed makes, which never need quoting. Rows that might (a comma, quote or line
    # break in a field, or a None, which csv writes as empty) go through the csv writer instead.
    lines = [f"{cid},{first / 1e6:.6f},{last / 1e6:.6f},{src},{dst},{proto},{label},{event}\n"
             for cid, first, last, src, dst, proto, label, event in rows]
    text = "".join(lines)
    # Substring tests, not one regular expression with an alternation, which is tried at every position.
    if (len(lines) != text.count("\n") or text.count(",") != _COMMAS * len(lines)
            or any(needle in text for needle in _NEEDS_CSV)):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(
            (cid, f"{first / 1e6:.6f}", f"{last / 1e6:.6f}", src, dst, proto, label, event)
            for cid, first, last, src, dst, proto, label, event in rows
        )
        return out.getvalue()
    return text


def flow_line(cid: str, first_us: int, last_us: int, src: str, sport: int, dst: str, dport: int, proto: str,
              label: str, event: str) -> str:
    """One flow's line of ``truth/flows.csv``; a TCP or UDP endpoint is ``address:port``, others the address."""
    if proto == "tcp" or proto == "udp":
        src, dst = f"{src}:{sport}", f"{dst}:{dport}"
    return flow_rows_text([(cid, first_us, last_us, src, dst, proto, label, event)])


class FlowLogLike(Protocol):
    """What ``HouseholdSim`` needs of a flow log (the compiled ``FrameLog`` or ``PyFlowLog``)."""

    def add_flow(self, cid: str, first_us: int, last_us: int, src: str, sport: int, dst: str, dport: int,
                 proto: str, label: str, event: str) -> bool: ...
    def add_raw(self, t_us: int, data: bytes) -> None: ...
    def take(self, until_us: int, final: bool) -> tuple[bytes, bytes, bytes]: ...
    def __len__(self) -> int: ...


class PyFlowLog:
    """The pure-Python flow log: the same lines as the compiled one, in the same order."""

    def __init__(self) -> None:
        self._pending: list[tuple[int, bytes]] = []

    def add_flow(self, cid: str, first_us: int, last_us: int, src: str, sport: int, dst: str, dport: int,
                 proto: str, label: str, event: str) -> bool:
        """The flow's line, kept at ``first_us``; always True (the compiled log says False for odd rows)."""
        self.add_raw(first_us, flow_line(cid, first_us, last_us, src, sport, dst, dport, proto, label,
                                         event).encode("utf-8"))
        return True

    def add_raw(self, t_us: int, data: bytes) -> None:
        """``data`` as one block at ``t_us``."""
        if type(t_us) is not int:
            raise TypeError(f"add_raw: the time must be an int, not {type(t_us).__name__}")
        self._pending.append((t_us, bytes(data)))

    def take(self, until_us: int, final: bool) -> tuple[bytes, bytes, bytes]:
        """The blocks before ``until_us`` (all if ``final``) as ``(times, ends, blob)``, by time (stably)."""
        ready, self._pending = split_ready(self._pending, until_us, final)
        times, ends, offset = array("q"), array("Q"), 0
        for t, data in ready:
            offset += len(data)
            times.append(t)
            ends.append(offset)
        return times.tobytes(), ends.tobytes(), b"".join(data for _, data in ready)

    def __len__(self) -> int:
        return len(self._pending)


def new_flow_log() -> FlowLogLike:
    """The compiled log where the extension was built, else ``PyFlowLog``."""
    native = speedups.native
    return native.FrameLog() if native is not None else PyFlowLog()


def add_odd_flow(log: FlowLogLike, *flow: Any) -> None:
    """Add a flow that ``add_flow`` of the compiled log turned down (a field to quote...), made in Python."""
    log.add_raw(flow[1], flow_line(*flow).encode("utf-8"))


def take_flow_lines(logs: list[FlowLogLike]) -> EncodedFrames:
    """Every line of ``logs``, merged by first time (ties in the order of ``logs``), as one encoded part."""
    native = speedups.native
    if native is not None and all(type(log) is native.FrameLog for log in logs):
        return EncodedFrames.from_raw(native.take_merged(logs, 0, True))
    return merge_encoded([EncodedFrames.from_raw(log.take(0, True)) for log in logs])
