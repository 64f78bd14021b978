"""A run of TLS application-data records that knows the checksum sum of any slice of itself.

Why: bulk TLS (streaming, uploads) is most of a run's frames, and summing each 1460-byte segment's
payload for its TCP checksum was most of the cost of building it (a 12,000-bit integer reduced mod
0xFFFF per segment). The records' bodies are slices of one fixed block (``tls.BLOCK``), so prefix sums
of that block, computed once, give any segment's sum in a few integer operations.

The arithmetic: read a byte string as one big-endian integer ``v``; its ones'-complement sum as 16-bit
words is ``v mod 0xFFFF`` (``checksum.py``). Since ``256**2 == 1 (mod 0xFFFF)``, appending ``Y`` to ``X``
gives ``v(X+Y) = v(X) * 256**(len(Y) % 2) + v(Y)``, and so ``v(S[a:b]) = P(b) - P(a) * 256**((b-a) % 2)``
for the prefix values ``P(i) = v(S[:i])``, all mod 0xFFFF.
"""

from __future__ import annotations

from array import array
from functools import cache

from .tls import APPLICATION_DATA_HEADER, BLOCK, FULL_RECORD_BODY, body_start, tls_application_data

_M = 0xFFFF
_HEAD = len(APPLICATION_DATA_HEADER) + 2  # content type, version, then the 2-byte body length
_FULL = _HEAD + FULL_RECORD_BODY  # the length of every record of a stream but its last


@cache
def _block_prefix() -> array:
    """``P(i)`` of ``tls.BLOCK`` for every ``i``: built once, 130 kB."""
    out = array("H", [0]) * (len(BLOCK) + 1)
    acc = 0
    for i, byte in enumerate(BLOCK, 1):
        acc = (acc * 256 + byte) % _M
        out[i] = acc
    return out


def _shift(value: int, length: int) -> int:
    """``value * 256**length`` mod 0xFFFF: what prefixing a ``length``-byte string does."""
    return value * 256 if length & 1 else value


def _value(data: bytes) -> int:
    return int.from_bytes(data) % _M


def _block_sum(start: int, length: int) -> int:
    """``BLOCK[start:start + length]`` as a big-endian integer, mod 0xFFFF."""
    q = _block_prefix()
    return q[start + length] - _shift(q[start], length)


class TlsStream(bytes):
    """Application-data records (see ``tls_application_stream``) that can sum their own slices."""

    _records: list[tuple[int, int, int, int]]  # per record: P at its start, v(header), body length, body start

    def sum_of(self, start: int, stop: int) -> int:
        """``self[start:stop]`` read as a big-endian integer, mod 0xFFFF (its ones'-complement sum)."""
        return (self._prefix(stop) - _shift(self._prefix(start), stop - start)) % _M

    def segment_sums(self, size: int) -> list[int]:
        """``sum_of`` for each consecutive ``size``-byte segment (the last may be shorter)."""
        n = len(self)
        cuts = [*range(0, n, size), n]
        prefix = [self._prefix(c) for c in cuts]  # each boundary once: it ends one segment, starts the next
        return [(prefix[k + 1] - _shift(prefix[k], cuts[k + 1] - cuts[k])) % _M for k in range(len(cuts) - 1)]

    def _prefix(self, i: int) -> int:
        if i <= 0:
            return 0
        k, d = divmod(i, _FULL)
        if d == 0:  # a record boundary: the end of record k - 1
            k, d = k - 1, _FULL
        before, head, length, start = self._records[k]
        if d <= _HEAD:  # inside the header: d is at most 5, summing those bytes directly is cheap
            return (_shift(before, d) + _value(self[k * _FULL : k * _FULL + d])) % _M
        body = min(d, _HEAD + length) - _HEAD
        return (_shift(_shift(before, _HEAD) + head, body) + _block_sum(start, body)) % _M


def tls_application_stream(length: int, seed: int = 0) -> TlsStream:
    """Application-data records whose bodies add up to ``length`` bytes, split into full records the
    way TLS 1.3 stacks split a large write (for anything bigger than one record can carry)."""
    if length <= 0:
        raise ValueError(f"a TLS stream carries at least one byte, got {length}")
    records = []
    parts = []
    before = 0
    for index, offset in enumerate(range(0, length, FULL_RECORD_BODY)):
        body = min(FULL_RECORD_BODY, length - offset)
        start = body_start(body, seed + index)
        record = tls_application_data(body, seed + index)
        head = _value(record[:_HEAD])
        records.append((before, head, body, start))
        parts.append(record)
        before = (_shift(_shift(before, _HEAD) + head, body) + _block_sum(start, body)) % _M
    stream = TlsStream(b"".join(parts))
    stream._records = records
    return stream
