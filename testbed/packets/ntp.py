"""NTPv4 (RFC 5905) client/server packets: UDP payloads on port 123."""

from __future__ import annotations

import math

from .header import Header

NTP_PORT = 123
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix)

MODE_CLIENT, MODE_SERVER = 3, 4
_VERSION = 4

NTP = Header(
    "ntp",
    (
        ("li_vn_mode", "B", _VERSION << 3 | MODE_CLIENT),
        ("stratum", "B", 0),
        ("poll", "b", 0),
        ("precision", "b", 0),
        ("root_delay", "I", 0),  # 16.16 fixed point seconds
        ("root_dispersion", "I", 0),
        ("reference_id", "4s", bytes(4)),
        ("reference_ts", "Q", 0),  # 32.32 fixed point seconds since 1900
        ("origin_ts", "Q", 0),
        ("receive_ts", "Q", 0),
        ("transmit_ts", "Q", 0),
    ),
)


def ntp_timestamp(unix_time: float) -> int:
    """Unix seconds to a 64-bit NTP timestamp (32.32 fixed point since 1900)."""
    seconds = math.floor(unix_time)
    fraction = int((unix_time - seconds) * 2**32)
    return (seconds + NTP_EPOCH_OFFSET) << 32 | fraction


def ntp_request(transmit_time: float) -> bytes:
    """A client request as SNTP clients send it: only mode, version and the transmit timestamp set."""
    return NTP.pack(transmit_ts=ntp_timestamp(transmit_time))


def ntp_response(
    originate: float,
    receive: float,
    transmit: float,
    stratum: int = 2,
    reference_id: bytes = bytes((203, 0, 113, 123)),
) -> bytes:
    """A server reply; ``originate`` echoes the client's transmit time, times are Unix seconds.

    ``reference_id`` is, at stratum 2 and below, the IPv4 address of the server's own upstream.
    """
    return NTP.pack(
        li_vn_mode=_VERSION << 3 | MODE_SERVER,
        stratum=stratum,
        poll=6,
        precision=-23,  # about 0.1 us, a typical Linux clock
        root_delay=0x0000_0A3D,  # 0.04 s
        root_dispersion=0x0000_0831,  # 0.032 s
        reference_id=reference_id,
        reference_ts=ntp_timestamp(receive - 64.0),  # last synchronised one poll interval ago
        origin_ts=ntp_timestamp(originate),
        receive_ts=ntp_timestamp(receive),
        transmit_ts=ntp_timestamp(transmit),
    )
