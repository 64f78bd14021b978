"""SSDP (UPnP device architecture 1.1, section 1): HTTP-over-UDP discovery messages on port 1900."""

from __future__ import annotations

SSDP_PORT = 1900
SSDP_ADDR = bytes((239, 255, 255, 250))
_HOST = "239.255.255.250:1900"


def _message(start_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [start_line, *(f"{name}: {value}" if value else f"{name}:" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def ssdp_notify(location: str, nt: str, usn: str, server: str, max_age: int = 1800) -> bytes:
    """An ``ssdp:alive`` NOTIFY a device multicasts to announce itself."""
    return _message(
        "NOTIFY * HTTP/1.1",
        [
            ("HOST", _HOST),
            ("CACHE-CONTROL", f"max-age={max_age}"),
            ("LOCATION", location),
            ("NT", nt),
            ("NTS", "ssdp:alive"),
            ("SERVER", server),
            ("USN", usn),
        ],
    )


def ssdp_msearch(st: str, mx: int = 2) -> bytes:
    """A multicast M-SEARCH for search target ``st`` (``ssdp:all``, a device or service type...)."""
    return _message(
        "M-SEARCH * HTTP/1.1",
        [("HOST", _HOST), ("MAN", '"ssdp:discover"'), ("MX", str(mx)), ("ST", st)],
    )


def ssdp_response(st: str, location: str, usn: str, server: str, max_age: int = 1800) -> bytes:
    """A device's unicast answer to an M-SEARCH."""
    return _message(
        "HTTP/1.1 200 OK",
        [
            ("CACHE-CONTROL", f"max-age={max_age}"),
            ("EXT", ""),
            ("LOCATION", location),
            ("SERVER", server),
            ("ST", st),
            ("USN", usn),
        ],
    )
