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
_EPB = struct.Struct("<IIIIIII")
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
        """``(capture time in seconds, frame bytes)`` for every Ethernet frame, in file order."""
        with open(self.path, "rb") as f:
            head = f.read(4)
            f.seek(0)
            if len(head) < 4:
                return
            if head == b"\x0a\x0d\x0d\x0a":
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                    yield from _pcapng_frames(buf, self.path)
            elif struct.unpack("<I", head)[0] in _PCAP_MAGICS:
                reader = dpkt.pcap.Reader(f)
                if reader.datalink() != LINKTYPE_ETHERNET:
                    raise CaptureError(f"{self.path}: link type {reader.datalink()} is not Ethernet")
                yield from reader
            else:
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


def _pcapng_frames(buf: mmap.mmap, path: Path) -> Iterator[tuple[float, bytes]]:
    # A hand-rolled block walk: it reads each EPB's fixed head and packet data and never looks at the
    # options (where the labels live). About 2x faster than dpkt's pcapng reader; see bench_detect.
    if buf[8:12] != _LE_MAGIC:
        raise CaptureError(f"{path}: big-endian pcapng is not supported")
    resolutions: list[float] = []
    linktypes: list[int] = []
    n = len(buf)
    pos = 0
    epb = _EPB.unpack_from
    bh = _BLOCK_HEAD.unpack_from
    while pos + 12 <= n:
        btype, blen = bh(buf, pos)
        if blen < 12 or pos + blen > n:
            raise CaptureError(f"{path}: truncated or corrupt block at byte {pos}")
        if btype == BLOCK_EPB:
            _, _, iface, hi, lo, caplen, _ = epb(buf, pos)
            if linktypes[iface] == LINKTYPE_ETHERNET:
                yield ((hi << 32) | lo) * resolutions[iface], buf[pos + 28:pos + 28 + caplen]
        elif btype == BLOCK_IDB:
            linktypes.append(struct.unpack_from("<H", buf, pos + 8)[0])
            resolutions.append(_tsresol(buf, pos + 16, pos + blen - 4))
        elif btype == BLOCK_SHB:
            resolutions, linktypes = [], []  # interfaces are numbered per section
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
