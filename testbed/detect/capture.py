"""A capture as a detector sees it: frames and flows of one pcapng (or pcap) file, never its labels.

The run directory's ``capture.pcapng`` carries each frame's ground-truth label as a pcapng comment.
``Capture`` reads only the packet data of each Enhanced Packet Block and skips block options, so no
detector can reach a label; ``label_free_pcap`` writes a copy without them for external programs.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from itertools import starmap
from pathlib import Path
from typing import Any

import dpkt

from testbed.errors import TestbedError

from .frame import Frame

BLOCK_SHB = 0x0A0D0D0A
BLOCK_IDB = 0x00000001
BLOCK_EPB = 0x00000006
BLOCK_SPB = 0x00000003
_LE_MAGIC = b"\x4d\x3c\x2b\x1a"
_PCAP_MAGICS = (0xA1B2C3D4, 0xD4C3B2A1, 0xA1B23C4D, 0x4D3CB2A1)
_EPB = struct.Struct("<IIIIII")  # an EPB's head: type, length, interface, ts high, ts low, caplen
_BLOCK_HEAD = struct.Struct("<II")
_PCAP_GLOBAL = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")
LINKTYPE_ETHERNET = 1


class CaptureError(TestbedError):
    """A capture that cannot be opened or read (missing, ground truth, unknown format)."""


class Capture:
    """The frames of one capture file. Construct from the capture's path only (not a run directory).

    ``frames()`` decodes the file in one streaming pass; ``raw_frames()`` yields ``(ts, bytes)``;
    ``flows()`` gives nfstream's flows (computed once per ``Capture``).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        if "truth" in p.resolve().parts or "truth" in p.parts:
            raise CaptureError(f"{p}: refusing a file under truth/; detectors read the capture only")
        if not p.is_file():
            raise CaptureError(f"{p}: not a capture file (pass RUN/capture.pcapng, not a directory)")
        self.path = p
        self._flows: list[Any] | None = None

    def __repr__(self) -> str:
        return f"Capture({str(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "_flows": None}  # flows are a cache; nfstream objects do not pickle

    def raw_frames(self) -> Iterator[tuple[float, bytes]]:
        """``(capture time in seconds, frame bytes)`` for every Ethernet frame, in file order.

        The format is checked at once (``CaptureError`` if the file is neither pcapng nor pcap); the
        frames are read as they are iterated.
        """
        with open(self.path, "rb") as f:
            head = f.read(4)
        if len(head) < 4:
            return iter(())
        # The reader generator is returned, not delegated to with ``yield from``: that would cost one
        # more generator step per frame.
        if head == b"\x0a\x0d\x0d\x0a":
            return _pcapng_frames(self.path)
        if struct.unpack("<I", head)[0] in _PCAP_MAGICS:
            return _pcap_frames(self.path)
        raise CaptureError(f"{self.path}: neither pcapng nor pcap (starts with {head.hex()})")

    def frames(self) -> Iterator[Frame]:
        """Decoded frames, one streaming pass over the file."""
        return starmap(Frame, self.raw_frames())  # starmap: no Python-level loop per frame

    def label_free_pcap(self, path: str | os.PathLike[str]) -> Path:
        """Write the frames as a classic pcap (microseconds, Ethernet): no comments, so no labels."""
        out = Path(path)
        with open(out, "wb") as f:
            f.write(_PCAP_GLOBAL.pack(0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET))
            rec = _PCAP_RECORD.pack
            for ts, raw in self.raw_frames():
                us = round(ts * 1e6)
                f.write(rec(us // 1_000_000, us % 1_000_000, len(raw), len(raw)))
                f.write(raw)
        return out

    def flows(self) -> list[Any]:
        """nfstream's bidirectional flows with statistical features (``NFlow`` objects), cached."""
        if self._flows is None:
            from nfstream import NFStreamer  # heavy import, only for flow-level detectors

            # nfstream reads packet data only and exposes no pcapng comments, so the labels stay out of
            # reach here too. One meter: tests and benches run on few cores, and it is deterministic.
            streamer = NFStreamer(source=str(self.path), statistical_analysis=True, n_meters=1,
                                  n_dissections=0, accounting_mode=1)
            self._flows = list(streamer)
        return self._flows


def _pcap_frames(path: Path) -> Iterator[tuple[float, bytes]]:
    """The frames of a classic pcap file, read by dpkt."""
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        if reader.datalink() != LINKTYPE_ETHERNET:
            raise CaptureError(f"{path}: link type {reader.datalink()} is not Ethernet")
        yield from reader


def _pcapng_frames(path: Path) -> Iterator[tuple[float, bytes]]:
    """The Ethernet frames of a pcapng file, read from a memory map."""
    # A hand-rolled block walk: it reads each EPB's fixed head and packet data and never looks at the
    # options (where the labels live). Many times faster than dpkt's pcapng reader; see bench_detect.
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[8:12] != _LE_MAGIC:
            raise CaptureError(f"{path}: big-endian pcapng is not supported")
        # Seconds per timestamp unit of each interface of the section, None for a link type other than
        # Ethernet (its frames are skipped): one list look-up per frame.
        scales: list[float | None] = []
        n = len(buf)
        pos = 0
        epb = _EPB.unpack_from
        bh = _BLOCK_HEAD.unpack_from
        while pos + 12 <= n:
            # Nearly every block is an EPB: read its whole fixed head at once (one call, not two).
            if pos + 28 <= n:
                btype, blen, iface, hi, lo, caplen = epb(buf, pos)
            else:
                btype, blen = bh(buf, pos)
                if btype == BLOCK_EPB:
                    raise CaptureError(f"{path}: truncated packet block at byte {pos}")
            if blen < 12 or pos + blen > n:
                raise CaptureError(f"{path}: truncated or corrupt block at byte {pos}")
            if btype == BLOCK_EPB:
                scale = scales[iface]
                if scale is not None:
                    start = pos + 28
                    # In floats: exact below 2**53 units, and rounded as int-to-float would round above.
                    yield (hi * 4294967296.0 + lo) * scale, buf[start:start + caplen]
            elif btype == BLOCK_IDB:
                ethernet = struct.unpack_from("<H", buf, pos + 8)[0] == LINKTYPE_ETHERNET
                scales.append(_tsresol(buf, pos + 16, pos + blen - 4) if ethernet else None)
            elif btype == BLOCK_SHB:
                scales = []  # interfaces are numbered per section
            pos += blen


def _tsresol(buf: mmap.mmap, i: int, end: int) -> float:
    """Seconds per timestamp unit from an IDB's if_tsresol option (default microseconds)."""
    while i + 4 <= end:
        code, length = struct.unpack_from("<HH", buf, i)
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = buf[i + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        i += 4 + length + (-length % 4)
    return 1e-6
