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
