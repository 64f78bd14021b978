"""A shard's window chunks on disk: the part file a worker writes and the parent merges.

Format: the magic ``TVCHUNK2``, then one record per window: an unsigned 64-bit little-endian length
and that many bytes of a pickled ``Chunk``, then the length and bytes of the window's frames as pcapng
blocks (empty when the frames went to a split capture). The blocks stay out of the pickle so that the
parent never reads them: the capture writer has the kernel copy them from this file (see
``testbed.packets.encoded_frames``). Records are written as the shard runs, so a worker holds one
window in memory; the parent reads record ``k`` of every part at once, so it too holds one window.
Pickle is fine here: the parts are written and read by the same run, never shared.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from testbed.errors import RunError
from testbed.sim.household import Chunk

MAGIC = b"TVCHUNK2"
_LENGTH = struct.Struct("<Q")


class ChunkWriter:
    """Appends chunks to an open part file."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.chunks = 0
        fh.write(MAGIC)

    def write(self, chunk: Chunk, blob: bytes = b"") -> None:
        """Append one window's chunk, and its frames' blocks as ``Chunk.take_frames`` gave them (or none)."""
        data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        self._fh.write(_LENGTH.pack(len(data)))
        self._fh.write(data)
        self._fh.write(_LENGTH.pack(len(blob)))
        self._fh.write(blob)
        self.chunks += 1


def read_chunks(path: Path) -> Iterator[Chunk]:
    """The chunks of a part file, one window at a time."""
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise RunError(f"{path}: not a chunk part file")
        while head := fh.read(_LENGTH.size):
            (length,) = _LENGTH.unpack(head)
            data = fh.read(length)
            blob_head = fh.read(_LENGTH.size)
            if len(data) != length or len(blob_head) != _LENGTH.size:
                raise RunError(f"{path}: truncated chunk part file")
            chunk = pickle.loads(data)
            (blob_length,) = _LENGTH.unpack(blob_head)
            if chunk.encoded:  # the blocks stay in this file, to be copied from there
                chunk.encoded[0].path, chunk.encoded[0].offset = str(path), fh.tell()
            fh.seek(blob_length, 1)
            yield chunk
