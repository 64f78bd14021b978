"""The Internet checksum (RFC 1071), computed with big-integer arithmetic instead of a word loop.

The ones'-complement sum of 16-bit words equals the value of the byte string, read as one big-endian
integer, modulo 0xFFFF (because 2**16 == 1 mod 0xFFFF). ``int.from_bytes`` and ``%`` both run in C, so
this is several times faster than summing an ``array('H')``. The sum is linear, which lets the callers
add header words arithmetically and combine partial sums of separately built parts (each part must
start at an even offset of the checksummed data).
"""

from __future__ import annotations

_MOD = 0xFFFF


def ones_sum(data: bytes) -> int:
    """Ones'-complement sum of ``data`` as 16-bit big-endian words, reduced into ``0 .. 0xFFFE``.

    An odd trailing byte counts as the high byte of a last word padded with zero, as RFC 1071 says.
    """
    n = int.from_bytes(data)  # big-endian by default
    if len(data) & 1:
        n <<= 8
    return n % _MOD


def finish(partial: int) -> int:
    """The checksum field for a sum of partial sums: its ones' complement, folded to 16 bits.

    The result is never 0 (a zero sum gives 0xFFFF, the other ones'-complement zero), which is what
    UDP needs, since a 0 there would mean "no checksum".
    """
    return _MOD - partial % _MOD


def internet_checksum(data: bytes) -> int:
    """The RFC 1071 checksum of ``data`` (ready for the header field)."""
    return finish(ones_sum(data))


def verify(data: bytes) -> bool:
    """True when ``data`` (which includes its checksum field) sums to ones'-complement zero."""
    return ones_sum(data) == 0 and bool(data.strip(b"\x00"))


_NUMPY_FROM = 4  # segments: below this, a call into numpy costs more than the integers


def segment_sums(data: bytes, size: int) -> list[int]:
    """For each consecutive ``size``-byte segment of ``data`` (the last may be shorter), the segment read
    as one big-endian integer mod 0xFFFF: what a TCP checksum needs of the payload it carries.

    Why numpy: a streaming session is most of a run's frames, and reducing each segment as a
    12,000-bit integer cost more than building its frame. The full segments of an even ``size`` are
    rows of 16-bit words instead, all summed in one call. They are read as little-endian words, the
    native order of x86 and ARM, which needs no conversion: swapping the bytes of every word swaps
    those of the sum, and a byte swap is multiplication by 256 mod 0xFFFF. (A segment of odd length
    is left to ``int.from_bytes``: its value is not its word sum, see ``ones_sum``.)
    """
    n = len(data)
    full = n // size if size % 2 == 0 and n >= _NUMPY_FROM * size else 0
    sums: list[int] = []
    if full:
        # Imported here: only the pure-Python TCP path needs it, and importing numpy starts its BLAS
        # threads, which took CPU time of their own during compiled runs that never call it.
        import numpy as np

        words = np.frombuffer(data, "<u2", full * size // 2).reshape(full, size // 2)
        acc = np.uint32 if size // 2 * 0xFFFF < 2**32 else np.uint64  # no overflow, the narrowest
        sums = (np.add.reduce(words, axis=1, dtype=acc) % _MOD * 256 % _MOD).tolist()
    sums.extend(int.from_bytes(data[k:k + size]) % _MOD for k in range(full * size, n, size))
    return sums

