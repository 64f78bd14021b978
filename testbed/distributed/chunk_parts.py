"""A shard's window chunks on disk: the part file a worker writes and the parent merges.

Format: the magic ``TVCHUNK1``, then one record per window, each an unsigned 64-bit little-endian
length followed by that many bytes of a pickled ``Chunk``. Records are written as the shard runs, so
a worker holds one window in memory; the parent reads record ``k`` of every part at once, so it too
holds one window. Pickle is fine here: the parts are written and read by the same run, never shared.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from testbed.errors import RunError
from testbed.sim.household import Chunk

MAGIC = b"TVCHUNK1"
_LENGTH = struct.Struct("<Q")


class ChunkWriter:
    """Appends chunks to an open part file."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.chunks = 0
        fh.write(MAGIC)

    def write(self, chunk: Chunk) -> None:
        """Append one window's chunk."""
        data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        self._fh.write(_LENGTH.pack(len(data)))
        self._fh.write(data)
        self.chunks += 1


def read_chunks(path: Path) -> Iterator[Chunk]:
    """The chunks of a part file, one window at a time."""
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise RunError(f"{path}: not a chunk part file")
        while head := fh.read(_LENGTH.size):
            (length,) = _LENGTH.unpack(head)
            data = fh.read(length)
            if len(data) != length:
                raise RunError(f"{path}: truncated chunk part file")
            yield pickle.loads(data)
