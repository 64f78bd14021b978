"""The decoded views of a payload in which ``pii-leak`` searches for identifiers.

Each view is ``(encoding path, bytes)``: the payload itself, then (up to ``depth`` layers) what comes out
of HTTP body extraction, URL-decoding, JSON unescaping, gzip/zlib decompression and base64 decoding of
base64 *tokens* (decoded, never substring-searched). Encrypted payloads (TLS, AES) yield nothing useful,
as in reality.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
import zlib
from collections.abc import Iterator

MAX_INFLATE = 4 * 1024 * 1024  # a decompression bomb stops here
_B64_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")
_JSON_U = re.compile(rb"\\u([0-9a-fA-F]{4})")
_ZLIB_HEADS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


def _inflate(data: bytes, wbits: int) -> bytes | None:
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(data, MAX_INFLATE)
    except zlib.error:
        return None
    return out or None


def _b64(token: bytes) -> bytes | None:
    if len(token) % 4 == 1:
        return None
    alt = b"-_" if (b"-" in token or b"_" in token) else None
    try:
        out = base64.b64decode(token + b"=" * (-len(token) % 4), altchars=alt, validate=True)
    except (binascii.Error, ValueError):
        return None
    return out if len(out) >= 8 else None


def _layers(data: bytes, tokens: bool = True) -> Iterator[tuple[str, bytes]]:
    """One decoding layer: every transformation that applies to ``data``; ``tokens=False`` skips the
    base64 tokens (for an HTTP body: they are its message's tokens, decoded already)."""
    if data[:8].split(b" ", 1)[0] in (b"GET", b"POST", b"PUT", b"PATCH", b"HEAD", b"DELETE", b"OPTIONS"):
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep and body:
            yield "http-body", body
    if b"%" in data:
        un = urllib.parse.unquote_to_bytes(data.replace(b"+", b" "))
        if un != data:
            yield "url", un
    if b"\\" in data:
        un = _JSON_U.sub(lambda m: chr(int(m.group(1), 16)).encode("utf-8", "replace"), data)
        un = un.replace(b"\\/", b"/").replace(b'\\"', b'"')
        if un != data:
            yield "json-escape", un
    start = data.find(b"\x1f\x8b\x08")
    if start >= 0:
        out = _inflate(data[start:], 16 + zlib.MAX_WBITS)
        if out:
            yield "gzip", out
    if data[:2] in _ZLIB_HEADS:
        out = _inflate(data, zlib.MAX_WBITS)
        if out:
            yield "zlib", out
    for m in _B64_TOKEN.finditer(data) if tokens else ():
        token = m.group(0)
        if token.isalpha() or token.isdigit():
            continue  # a word or a number, not base64
        out = _b64(token)
        if out:
            yield "base64", out


def views(data: bytes, depth: int = 2, bodies: bool = True) -> Iterator[tuple[str, bytes]]:
    """``data`` and its decodings up to ``depth`` layers deep, named like ``base64>gzip``.

    ``bodies=False`` leaves out the body of an HTTP message as a view of its own (its decodings stay):
    it lies within its message under the same name, after a blank line, so a token search of the message
    already covers it, and searching it again would only cost time.
    """
    yield "plain", data
    # (path, bytes, whether an HTTP body): a body's base64 tokens are among its message's, whose
    # decodings are in ``seen`` already, so they are not scanned for again.
    frontier = [("", data, False)]
    seen = {data}
    for _ in range(depth):
        nxt = []
        for path, d, body in frontier:
            for name, out in _layers(d, tokens=not body):
                if out in seen:
                    continue
                seen.add(out)
                # HTTP body extraction is not an encoding: it does not count as a layer of the path.
                is_body = name == "http-body"
                p = path if is_body else (f"{path}>{name}" if path else name)
                if bodies or not is_body:
                    yield (p or "plain"), out
                nxt.append((p, out, is_body))
        frontier = nxt
    # a body within an HTTP message is found at depth 1; give its decodings one more layer
    for path, d, body in frontier:
        if path == "":
            for name, out in _layers(d, tokens=not body):
                if out not in seen:
                    seen.add(out)
                    yield name, out
