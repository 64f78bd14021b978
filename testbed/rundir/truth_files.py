"""Writers for ``truth/events.jsonl`` and ``truth/flows.csv``, streamed chunk by chunk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic_core import to_json

from testbed.packets.encoded_frames import EncodedFrames
from testbed.truth.flow_log import FLOW_COLUMNS, flow_rows_text

__all__ = ["FLOW_COLUMNS", "TruthFiles", "read_events"]


class TruthFiles:
    """Appends truth events and flow rows as the run produces them."""

    def __init__(self, events_path: Path, flows_path: Path) -> None:
        self._events = open(events_path, "wb")  # noqa: SIM115
        self._flows_file = open(flows_path, "wb")  # noqa: SIM115
        self._flows_file.write((",".join(FLOW_COLUMNS) + "\n").encode("ascii"))
        self.events = 0
        self.flows = 0

    def write_events(self, events: list[dict[str, Any]]) -> None:
        # pydantic-core's serialiser (compiled; pydantic's own, so no new dependency): UTF-8, compact, floats
        # as their shortest round-trip repr. The json module took 4x as long on a run's 24 k events
        # (measured: 1.21 s against 0.28 s to serialise those of a 1000 household-hour run).
        self._events.write(b"".join([to_json(e) + b"\n" for e in events]))
        self.events += len(events)

    def write_flows(self, rows: list[tuple]) -> None:
        """Flow rows ``(community_id, first_us, last_us, src, dst, proto, label, event_id)`` (the container
        backend's)."""
        self._flows_file.write(flow_rows_text(rows).encode("utf-8"))
        self.flows += len(rows)

    def write_flow_lines(self, lines: EncodedFrames) -> None:
        """A window's flows as ``take_flow_lines`` gave them: lines of this file already (the simulation's)."""
        self._flows_file.write(lines.blob)
        self.flows += len(lines)

    def close(self) -> None:
        self._events.close()
        self._flows_file.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    """All truth events of a run (``truth/events.jsonl``)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
