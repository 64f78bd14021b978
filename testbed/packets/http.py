"""HTTP/1.1 messages (RFC 9112) as the bytes of a TCP stream."""

from __future__ import annotations

from collections.abc import Sequence


def _has(headers: Sequence[tuple[str, str]], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)


def _encode(start_line: str, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{key}: {value}\r\n" for key, value in headers)
    return f"{start_line}\r\n{head}\r\n".encode() + body


def http_request(
    method: str, host: str, path: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> bytes:
    """A request: ``Host`` first, then ``headers``, then ``Content-Length`` when there is a body (or
    the method sends one); headers the caller already gives are not repeated."""
    all_headers = [] if _has(headers, "host") else [("Host", host)]
    all_headers += headers
    if (
        (body or method in ("POST", "PUT", "PATCH"))
        and not _has(headers, "content-length")
        and not _has(headers, "transfer-encoding")
    ):
        all_headers.append(("Content-Length", str(len(body))))
    return _encode(f"{method} {path} HTTP/1.1", all_headers, body)


def http_response(
    status: int, reason: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> bytes:
    """A response with ``Content-Length`` added unless the caller framed the body itself."""
    all_headers = list(headers)
    if (
        not _has(headers, "content-length")
        and not _has(headers, "transfer-encoding")
        and status not in (204, 304)
    ):
        all_headers.append(("Content-Length", str(len(body))))
    return _encode(f"HTTP/1.1 {status} {reason}", all_headers, body)
