"""Wire encodings the SDK applies to a report and the collector reverses.

An encoding is one layer name or a chain joined by ``+``: ``json`` (identity), ``gzip``, ``base64``
(standard alphabet) and ``aes`` (AES-CBC, PKCS7 padding, a 16-byte IV prepended to the ciphertext).
``encode`` applies the layers left to right (``gzip+aes``: gzip first, then AES); ``decode`` undoes them
right to left. The header ``X-Payload-Encoding`` names the chain on the wire.

Errors: ``decode`` raises ``DecodeError`` (a ``ValueError``) for anything wrong with a body or its
encoding name; ``encode`` raises a plain ``ValueError`` for a bad encoding name, key or IV, since that is a
programming error on the sending side rather than bad input.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import os
import zlib
from collections.abc import Callable

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "ENCODING_HEADER",
    "LAYERS",
    "MAX_DECODED_BYTES",
    "DecodeError",
    "decode",
    "encode",
    "parse_encoding",
]

ENCODING_HEADER = "X-Payload-Encoding"
LAYERS = ("json", "gzip", "base64", "aes")
MAX_DECODED_BYTES = 16 * 1024 * 1024  # a report of a full /16 sweep is a few MiB; 16 MiB is generous
MAX_LAYERS = 8  # a longer chain is abuse, not an SDK
AES_KEY_SIZES = (16, 24, 32)
_BLOCK = 16
_WHITESPACE = b" \t\r\n"


class DecodeError(ValueError):
    """A body that cannot be decoded: unknown layer, bad base64, bad gzip, bad padding, missing key."""


def parse_encoding(encoding: str) -> tuple[str, ...]:
    """The layers of an encoding name such as ``"gzip+aes"``; raises ``DecodeError`` if one is unknown."""
    layers = tuple(layer.strip().lower() for layer in encoding.split("+"))
    if len(layers) > MAX_LAYERS:
        raise DecodeError(f"encoding {encoding!r} has {len(layers)} layers; at most {MAX_LAYERS} are allowed")
    for layer in layers:
        if layer not in LAYERS:
            raise DecodeError(
                f"unknown encoding layer {layer!r} in {encoding!r}; known: {', '.join(LAYERS)} joined by '+'"
            )
    return layers


def encode(data: bytes, encoding: str, *, key: bytes | None = None, iv: bytes | None = None) -> bytes:
    """Apply the layers of ``encoding`` to ``data`` left to right.

    ``gzip`` output is deterministic (mtime 0). ``aes`` needs ``key``; ``iv`` (16 bytes) defaults to
    ``os.urandom`` but the simulated SDK passes one from its seeded generator so runs are reproducible.
    The same ``iv`` is used for every ``aes`` layer of a chain.
    """
    try:
        layers = parse_encoding(encoding)
    except DecodeError as exc:
        raise ValueError(str(exc)) from None
    for layer in layers:
        if layer == "gzip":
            data = gzip.compress(data, mtime=0)
        elif layer == "base64":
            data = base64.b64encode(data)
        elif layer == "aes":
            data = _aes_encrypt(data, _check_key(key, ValueError), iv)
    return data


def decode(
    body: bytes, encoding: str, *, key: bytes | None = None, max_decoded: int = MAX_DECODED_BYTES
) -> bytes:
    """Undo the layers of ``encoding`` right to left; raises ``DecodeError`` naming what is wrong.

    ``max_decoded`` bounds what gzip may inflate to, so a small decompression bomb cannot exhaust memory.
    """
    layers = parse_encoding(encoding)
    for layer in reversed(layers):
        step = _DECODERS.get(layer)
        if step is not None:
            body = step(body, key, max_decoded)
    return body


def _check_key(key: bytes | None, error: type[ValueError]) -> bytes:
    if key is None:
        raise error("the 'aes' layer needs a key and none is configured")
    if len(key) not in AES_KEY_SIZES:
        raise error(f"AES key must be 16, 24 or 32 bytes long, got {len(key)}")
    return key


def _aes_encrypt(data: bytes, key: bytes, iv: bytes | None) -> bytes:
    iv = os.urandom(_BLOCK) if iv is None else iv
    if len(iv) != _BLOCK:
        raise ValueError(f"AES IV must be {_BLOCK} bytes long, got {len(iv)}")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def _aes_decrypt(body: bytes, key: bytes | None, max_decoded: int) -> bytes:
    key = _check_key(key, DecodeError)
    if len(body) < 2 * _BLOCK or len(body) % _BLOCK:
        raise DecodeError(
            f"AES body must be a 16-byte IV plus a whole number of 16-byte blocks, got {len(body)} bytes"
        )
    decryptor = Cipher(algorithms.AES(key), modes.CBC(body[:_BLOCK])).decryptor()
    padded = decryptor.update(body[_BLOCK:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        # With CBC a wrong key almost always shows up here, as garbage padding.
        raise DecodeError("AES decryption failed: bad PKCS7 padding (wrong key or corrupted body)") from None


def _b64decode(body: bytes, key: bytes | None, max_decoded: int) -> bytes:
    # Android's Base64.DEFAULT wraps lines; whitespace carries no data, so tolerate it.
    try:
        return base64.b64decode(body.translate(None, _WHITESPACE), validate=True)
    except binascii.Error as exc:
        raise DecodeError(f"invalid base64: {exc}") from None


def _gunzip(body: bytes, key: bytes | None, max_decoded: int) -> bytes:
    """Inflate every gzip member of ``body``, never producing more than ``max_decoded`` bytes."""
    if not body:
        raise DecodeError("invalid gzip: empty body")
    out: list[bytes] = []
    room = max_decoded
    while body:
        inflater = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer, not raw zlib
        try:
            chunk = inflater.decompress(body, room + 1)
        except zlib.error as exc:
            raise DecodeError(f"invalid gzip: {exc}") from None
        room -= len(chunk)
        if room < 0:
            raise DecodeError(f"gzip body inflates to more than {max_decoded} bytes; refused")
        if not inflater.eof:
            raise DecodeError("invalid gzip: truncated stream")
        out.append(chunk)
        body = inflater.unused_data
    return b"".join(out)


_DECODERS: dict[str, Callable[[bytes, bytes | None, int], bytes]] = {
    "gzip": _gunzip,
    "base64": _b64decode,
    "aes": _aes_decrypt,
}
