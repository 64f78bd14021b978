"""A split capture (``--split-capture``): one pcapng per household shard, an index, and reassembly.

Layout, inside the run directory::

    capture/part-0000.pcapng   the frames of one contiguous range of households, in capture order
    capture/part-0001.pcapng   ...
    capture/index.json         every part: file, households, frames, first/last capture time, bytes, sha256

Every part starts with the same section and interface blocks as capture.pcapng. The single capture is
the parts' Enhanced Packet Blocks merged by timestamp, ties going to the lower part number (parts are
contiguous household ranges, so that is household order, as in the single-process run), behind the
first part's header blocks. ``reassemble_capture`` does exactly that, copying blocks byte for byte, so
its output is byte-identical to ``capture.pcapng`` of an unsplit run.
"""

from __future__ import annotations

import heapq
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from testbed.distributed.atomic import atomic_target, write_text_atomic
from testbed.errors import RunError
from testbed.packets.pcapng import BLOCK_EPB

INDEX = "index.json"
FORMAT = "smarttv-testbed split capture 1"
_HEAD = struct.Struct("<II")  # block type, total length
_TS = struct.Struct("<II")  # EPB: timestamp high, low (after the interface id)


def part_name(shard: int) -> str:
    """The file name of shard ``shard``'s capture part."""
    return f"part-{shard:04d}.pcapng"


def _blocks(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """``(block type, timestamp or -1, block bytes)`` for each block of a pcapng file we wrote."""
    with open(path, "rb") as fh:
        while head := fh.read(_HEAD.size):
            block_type, total = _HEAD.unpack(head)
            block = head + fh.read(total - _HEAD.size)
            if len(block) != total:
                raise RunError(f"{path}: truncated pcapng block")
            ts = -1
            if block_type == BLOCK_EPB:
                high, low = _TS.unpack_from(block, 12)
                ts = (high << 32) | low
            yield block_type, ts, block


def _packets(path: Path) -> Iterator[tuple[int, bytes]]:
    return ((ts, block) for kind, ts, block in _blocks(path) if kind == BLOCK_EPB)


def _header(path: Path) -> bytes:
    """The section and interface blocks before the first packet."""
    head = b""
    for kind, _, block in _blocks(path):
        if kind == BLOCK_EPB:
            break
        head += block
    return head


def write_index(capture_dir: Path, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Write ``capture/index.json`` for ``parts`` (in shard order); returns it."""
    index = {
        "format": FORMAT,
        "reassemble": "merge the parts' packet blocks by timestamp, ties to the lower part number, "
                      "behind part 0's header blocks (testbed.distributed.reassemble_capture)",
        "frames": sum(p["frames"] for p in parts),
        "parts": parts,
    }
    write_text_atomic(capture_dir / INDEX, json.dumps(index, indent=1) + "\n")
    return index


def read_index(capture_dir: Path) -> dict[str, Any]:
    """The index of a split capture directory."""
    try:
        index = json.loads((capture_dir / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"{capture_dir}: no readable split-capture index: {exc}") from None
    if index.get("format") != FORMAT:
        raise RunError(f"{capture_dir / INDEX}: unknown format {index.get('format')!r}")
    return index


def reassemble_capture(capture_dir: Path, out: Path) -> int:
    """Merge a split capture into one pcapng at ``out`` (atomically); returns the frames written."""
    parts = [capture_dir / p["file"] for p in read_index(capture_dir)["parts"]]
    if not parts:
        raise RunError(f"{capture_dir}: the index lists no parts")
    frames = 0
    with atomic_target(out) as tmp, open(tmp, "wb") as fh:
        fh.write(_header(parts[0]))
        # heapq.merge is stable across its inputs: equal timestamps come out in part order.
        for _, block in heapq.merge(*(_packets(p) for p in parts), key=lambda tb: tb[0]):
            fh.write(block)
            frames += 1
    return frames
