"""NetBIOS name service (RFC 1002) node-status (NBSTAT) exchange on UDP 137: how a scanner learns a
Windows or Samba host's name, workgroup and MAC address from one unicast question."""

from __future__ import annotations

import struct

from .dns import DNS_HEADER  # NBNS reuses the DNS message header layout

NBNS_PORT = 137

TYPE_NBSTAT = 0x0021
CLASS_IN = 1
FLAG_RESPONSE = 0x8000
FLAG_AUTHORITATIVE = 0x0400
NAME_GROUP = 0x8000  # name flags: the G bit
NAME_ACTIVE = 0x0400  # name flags: ACT, the name is registered and in use

_QUESTION_TAIL = struct.Struct("!HH")  # type, class
_RR_TAIL = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_NAME_ENTRY = struct.Struct("!15sBH")  # name padded with spaces, suffix, flags
_STATISTICS_AFTER_UNIT_ID = 40  # jumpers .. session data packet size (RFC 1002 4.2.18), zero here


def encode_netbios_name(name: str, suffix: int = 0x00, pad: bytes = b" ") -> bytes:
    """First-level encoding (RFC 1001 14.1) as one 32-byte label, then the empty root label."""
    raw = name.upper().encode("ascii")[:15].ljust(15, pad) + bytes((suffix,))
    encoded = bytes(c for b in raw for c in (0x41 + (b >> 4), 0x41 + (b & 0x0F)))
    return b"\x20" + encoded + b"\x00"


# The wildcard "*" is padded with NULs, not spaces (RFC 1002 4.2.17).
_WILDCARD = encode_netbios_name("*", 0x00, pad=b"\x00")


def nbns_nbstat_query(txid: int) -> bytes:
    """A node status request for the wildcard name ``*``."""
    return (
        DNS_HEADER.struct.pack(txid, 0, 1, 0, 0, 0) + _WILDCARD + _QUESTION_TAIL.pack(TYPE_NBSTAT, CLASS_IN)
    )


def nbns_nbstat_response(txid: int, name: str, mac: bytes, group: str = "WORKGROUP") -> bytes:
    """A node status response, as Samba answers: ``NAME<00>``, ``NAME<20>``, ``GROUP<00>``,
    ``GROUP<1e>`` and the unit ID (the MAC address), statistics zeroed."""
    entries = (
        (name, 0x00, NAME_ACTIVE),
        (name, 0x20, NAME_ACTIVE),
        (group, 0x00, NAME_GROUP | NAME_ACTIVE),
        (group, 0x1E, NAME_GROUP | NAME_ACTIVE),
    )
    rdata = (
        bytes((len(entries),))
        + b"".join(
            _NAME_ENTRY.pack(n.upper().encode("ascii")[:15].ljust(15), suffix, flags)
            for n, suffix, flags in entries
        )
        + mac
        + bytes(_STATISTICS_AFTER_UNIT_ID)
    )
    return (
        DNS_HEADER.struct.pack(txid, FLAG_RESPONSE | FLAG_AUTHORITATIVE, 0, 1, 0, 0)
        + _WILDCARD
        + _RR_TAIL.pack(TYPE_NBSTAT, CLASS_IN, 0, len(rdata))
        + rdata
    )
