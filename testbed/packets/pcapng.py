"""A streaming pcapng writer (little-endian): one section, one interface description per interface,
and an Enhanced Packet Block per frame whose ``opt_comment`` carries the frame's label.

Block layouts follow draft-ietf-opsawg-pcapng. Nothing is buffered across calls except inside one
``write_many`` batch, so memory does not grow with the length of a run.
"""

from __future__ import annotations

import hashlib
import os
import struct
from array import array
from collections.abc import Iterable
from itertools import islice
from operator import itemgetter
from types import TracebackType
from typing import BinaryIO

from . import speedups
from .direct_file import DirectFile
from .encoded_frames import EncodedFrames, place, write_merged
from .header import Header

BLOCK_SHB = 0x0A0D0D0A
BLOCK_IDB = 0x00000001
BLOCK_EPB = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144

OPT_ENDOFOPT = 0
OPT_COMMENT = 1
OPT_SHB_USERAPPL = 4
OPT_IF_NAME = 2
OPT_IF_TSRESOL = 9
TSRESOL_MICROSECONDS = 6  # 10**-6 s per timestamp unit

# pcapng is written in the writer's byte order; we always write little-endian. Each block is its type,
# its total length, the fields below, options, and the total length again.
SHB_FIELDS = Header(
    "shb",
    (
        ("byte_order_magic", "I", BYTE_ORDER_MAGIC),
        ("major", "H", 1),
        ("minor", "H", 0),
        ("section_length", "q", -1),  # unknown: we stream
    ),
    byte_order="<",
)
IDB_FIELDS = Header(
    "idb",
    (("linktype", "H", LINKTYPE_ETHERNET), ("reserved", "H", 0), ("snaplen", "I", SNAPLEN)),
    byte_order="<",
)
EPB_HEAD = Header(
    "epb",
    (
        ("type", "I", BLOCK_EPB),
        ("total_length", "I", 0),
        ("interface_id", "I", 0),
        ("ts_high", "I", 0),
        ("ts_low", "I", 0),
        ("captured_length", "I", 0),
        ("original_length", "I", 0),
    ),
    byte_order="<",
)
_EPB_FIXED = EPB_HEAD.struct.size + 4  # the head and the trailing total length
# ``EPB_HEAD`` in the pieces ``EpbEncoder`` packs apart: type, total length and interface, then the
# timestamp's high and low words, then the captured and original lengths (two words each).
_EPB_START = struct.Struct("<III")
_U32_PAIR = struct.Struct("<II")
_U32 = struct.Struct("<I")
_OPTION_HEAD = struct.Struct("<HH")
_PAD = bytes(4)
_END_OF_OPTIONS = _OPTION_HEAD.pack(OPT_ENDOFOPT, 0)
_BLOCK_CACHE_LIMIT = 8192  # (label, length) pairs whose block parts are kept (see ``EpbEncoder``)
_BATCH = 1024  # frames per file write: big enough to amortise, small enough to stay in cache
_SLICE = 1 << 20  # bytes per file write of ready-made blocks, for the same reason
_first = itemgetter(0)


def _option(code: int, value: bytes) -> bytes:
    return _OPTION_HEAD.pack(code, len(value)) + value + _PAD[: -len(value) % 4]


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return _U32.pack(block_type) + _U32.pack(total) + body + _U32.pack(total)


class EpbEncoder:
    """Encodes ``(ts_us, frame, comment)`` records as Enhanced Packet Blocks (the writer's hot path)."""

    def __init__(self) -> None:
        # Per interface: (label, frame length) -> the parts of a block that depend on nothing else.
        self._caches: dict[int, dict[tuple[str | None, int], tuple[bytes, bytes, bytes, int]]] = {}

    @staticmethod
    def _block_parts(cache: dict, comment: str | None, length: int, interface: int) -> tuple[bytes, bytes, bytes, int]:
        # Everything of a block but its timestamp and frame depends only on the frame's label and length:
        # the head before the timestamp, the two lengths after it, then the padding to 32 bits, the
        # comment option, end-of-options and the trailing total length; and that total. Labels repeat
        # within an event and lengths within a session; bounded so memory stays flat over a run.
        options = b"" if comment is None else _option(OPT_COMMENT, comment.encode()) + _END_OF_OPTIONS
        tail = bytes(-length % 4) + options
        total = _EPB_FIXED + length + len(tail)
        if len(cache) >= _BLOCK_CACHE_LIMIT:
            cache.clear()
        parts = cache[(comment, length)] = (_EPB_START.pack(BLOCK_EPB, total, interface), _U32_PAIR.pack(length, length),
                                            tail + _U32.pack(total), total)
        return parts

    def encode(self, records: list[tuple[int, bytes, str | None]], interface: int = 0) -> EncodedFrames:
        """``(ts_us, frame, comment)`` records, in capture order, as ``EncodedFrames``."""
        native = speedups.native
        if native is not None and type(records) is list:  # the compiled loop reads a list in place
            return EncodedFrames.from_raw(native.epb_encode(records, interface))
        return self.encode_python(records, interface)

    def encode_python(self, records: list[tuple[int, bytes, str | None]], interface: int = 0) -> EncodedFrames:
        """``encode`` without the compiled loop: the same blocks (the tests hold the two to that)."""
        # Locals: this loop runs once per frame.
        cache = self._caches.setdefault(interface, {})
        timestamp = _U32_PAIR.pack
        parts: list[bytes] = []
        extend = parts.extend
        ends = array("Q")
        end_at = ends.append
        offset = 0
        for ts_us, frame, comment in records:
            length = len(frame)
            block = cache.get((comment, length))
            if block is None:
                block = self._block_parts(cache, comment, length, interface)
            head, lengths, tail, total = block
            extend((head, timestamp(ts_us >> 32, ts_us & 0xFFFFFFFF), lengths, frame, tail))
            offset += total
            end_at(offset)
        return EncodedFrames(array("q", map(_first, records)), ends, b"".join(parts))


RELEASE_EVERY = 64 << 20  # bytes of capture between two hints to the kernel (see ``PcapngWriter._release``)
RELEASE_LAG = 64 << 20  # the latest bytes, left cached
RELEASE_REVISIT = 512 << 20  # bytes already released that each hint covers again (dirty the first time)


class PcapngWriter:
    """Writes frames with their labels to a pcapng stream, microsecond timestamps.

    ``fileobj`` is a binary file object or a ``DirectFile`` (left open by ``close``), or a path (opened
    and closed here). Only a real file object serves ``write_encoded``, which copies by file position.
    ``interfaces`` are ``(name, linktype)`` pairs; frames name theirs by index. Usable as a context
    manager.
    """

    def __init__(
        self,
        fileobj: BinaryIO | DirectFile | str | os.PathLike[str],
        interfaces: list[tuple[str, int]] | None = None,
        application: str = "smarttv-testbed",
    ) -> None:
        if isinstance(fileobj, str | os.PathLike):
            self._file: BinaryIO | DirectFile = open(fileobj, "wb")  # noqa: SIM115 - closed by close()
            self._owns_file = True
        else:
            self._file = fileobj
            self._owns_file = False
        self.interfaces = list(interfaces) if interfaces is not None else [("lan", LINKTYPE_ETHERNET)]
        self.frames_written = 0
        self.bytes_written = 0
        self._encoder = EpbEncoder()
        # The file's sha256, kept as it is written, so that the run's manifest need not read it back. A
        # DirectFile that hashes what it writes does it on its own thread: then this writer keeps none.
        self._sha256 = None if isinstance(self._file, DirectFile) and self._file.hashes else hashlib.sha256()
        self._hashed = 0
        self._released = 0  # the file's bytes before this are handed back to the kernel (``_release``)
        shb = _block(
            BLOCK_SHB,
            SHB_FIELDS.template + _option(OPT_SHB_USERAPPL, application.encode()) + _END_OF_OPTIONS,
        )
        idbs = b"".join(
            _block(
                BLOCK_IDB,
                IDB_FIELDS.pack(linktype=linktype)
                + _option(OPT_IF_NAME, name.encode())
                + _option(OPT_IF_TSRESOL, bytes((TSRESOL_MICROSECONDS,)))
                + _END_OF_OPTIONS,
            )
            for name, linktype in self.interfaces
        )
        self._write(shb + idbs)

    def _write(self, data: bytes | memoryview) -> None:
        if self._sha256 is None:  # the file hashes it
            self._file.write(data)
            self.bytes_written += len(data)
            return
        if self._hashed < self.bytes_written:  # first the bytes others wrote (write_encoded, reserve)
            self.hash_through(self.bytes_written)
        self._file.write(data)
        self._sha256.update(data)
        self.bytes_written += len(data)
        self._hashed = self.bytes_written
        self._release()

    def write(self, ts_us: int, frame: bytes, comment: str | None = None, interface: int = 0) -> None:
        """Write one frame captured at ``ts_us`` (microseconds since the epoch), labelled ``comment``."""
        self.write_many(((ts_us, frame, comment),), interface)

    def write_many(self, records: Iterable[tuple[int, bytes, str | None]], interface: int = 0) -> None:
        """Write ``(ts_us, frame, comment)`` records, joined into one file write per batch of frames."""
        if not 0 <= interface < len(self.interfaces):
            raise ValueError(f"no interface {interface}; this writer has {len(self.interfaces)}")
        records = iter(records)
        while batch := list(islice(records, _BATCH)):
            self._write(self._encoder.encode(batch, interface).blob)
            self.frames_written += len(batch)

    def write_blocks(self, frames: EncodedFrames) -> None:
        """Write blocks ``EpbEncoder`` (or a frame log) made, in the order given."""
        view = memoryview(frames.blob)
        # In slices: each is hashed, then written, while it is still in the CPU's cache.
        for start in range(0, len(view), _SLICE):
            self._write(view[start:start + _SLICE])
        self.frames_written += len(frames)

    def write_logs(self, logs: list, until_us: int, final: bool) -> None:
        """Write the frames of frame ``logs`` before ``until_us`` (all if ``final``), merged by capture time
        as ``take_merged`` gives them: straight into the staging buffers of a ``DirectFile`` that hashes
        what it writes, else through ``write_blocks``."""
        from .frame_log import take_merged, take_merged_into  # frame_log builds on this module

        if self._sha256 is None:  # the file is a DirectFile that hashes: nothing for this writer to see
            frames, size = take_merged_into(logs, until_us, final, self._file)  # type: ignore[arg-type]
            self.frames_written += frames
            self.bytes_written += size
        else:
            self.write_blocks(take_merged(logs, until_us, final))

    @property
    def path(self) -> str:
        """The path of the file written (others write into it after ``reserve``; it is read to hash)."""
        return self._file.name

    def write_encoded(self, parts: list[EncodedFrames]) -> None:
        """Copy blocks that ``EpbEncoder`` made elsewhere (shard part files), merged by capture time.

        Ties keep the order of ``parts``, as a stable sort of their concatenation would.
        """
        self._refuse_others_bytes("write_encoded")
        self._file.flush()  # blocks may be copied into the file's descriptor behind the buffer
        written = write_merged(parts, self._file)
        self.bytes_written += written
        self.frames_written += sum(len(p) for p in parts)

    def reserve(self, parts: list[EncodedFrames]) -> list[list[tuple[int, int, int]]]:
        """Make room for ``parts``, merged by capture time, that others will write (``write_placed``).

        Returns where each part's runs go (see ``encoded_frames.place``). The file is written at those
        offsets by other processes from now on, so this writer writes no frames itself after a reserve.
        """
        self._refuse_others_bytes("reserve")
        self._file.flush()
        placements, end = place(parts, self.bytes_written)
        self.frames_written += sum(len(p) for p in parts)
        self.bytes_written = end
        return placements

    def _refuse_others_bytes(self, what: str) -> None:
        if self._sha256 is None:  # the file would miss the bytes written behind it, and hash them wrong
            raise ValueError(f"{what}: bytes written by others cannot be hashed by the file; open it with hash=False")

    def hash_through(self, offset: int) -> None:
        """Hash the file up to ``offset``, reading back what others wrote into reserved room.

        Call it as soon as the bytes before ``offset`` are known to be written, so that hashing a large
        capture overlaps the run instead of following it.
        """
        if offset <= self._hashed or self._sha256 is None:  # nothing to read back, or the file hashes itself
            return
        self._file.flush()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            while self._hashed < offset:
                block = os.pread(fd, min(offset - self._hashed, 1 << 20), self._hashed)
                if not block:
                    raise OSError(f"{self.path}: shorter than the {offset} bytes written into it")
                self._sha256.update(block)
                self._hashed += len(block)
        finally:
            os.close(fd)
        self._release()

    def _release(self) -> None:
        """Tell the kernel that the capture's hashed bytes, but the last ``RELEASE_LAG``, are done with.

        A capture is written once and never read back by this run: cached, a capture larger than the
        free memory makes the kernel reclaim pages under the run, and with every core busy (workers)
        that reclaim took a quarter more CPU time (measured at 200 household-days, 23 GB). Dropped as
        they go, the pages never fill the cache. A page still dirty is skipped (the call starts its
        write-back instead), so each call covers the last few ranges again.
        """
        end = self._hashed - RELEASE_LAG
        if end - self._released < RELEASE_EVERY or not hasattr(os, "posix_fadvise"):
            return
        try:
            start = max(0, self._released - RELEASE_REVISIT)
            os.posix_fadvise(self._file.fileno(), start, end - start, os.POSIX_FADV_DONTNEED)
        except (OSError, ValueError):  # not a plain file (io.UnsupportedOperation is both): nothing to release
            pass
        self._released = end

    def sha256(self) -> str:
        """Hex sha256 of everything written so far (reading back the rest of any reserved room)."""
        if self._sha256 is None:
            return self._file.sha256()  # type: ignore[union-attr] - a DirectFile that hashes
        self.hash_through(self.bytes_written)
        return self._sha256.hexdigest()

    def flush(self) -> None:
        """Flush the underlying file object."""
        self._file.flush()

    def close(self) -> None:
        """Flush, and close the file if this writer opened it."""
        if self._owns_file:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> PcapngWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
