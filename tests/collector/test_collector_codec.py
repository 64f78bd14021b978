"""The wire encodings: round trips, determinism and every way a body can be wrong."""

from __future__ import annotations

import base64
import gzip

import pytest

from collector_mock import DecodeError, decode, encode

DATA = '{"schema":"gozen/1","ssid":"咖啡店 <script>alert(1)</script>"}'.encode() * 20
KEYS = {16: b"k" * 16, 24: b"k" * 24, 32: b"k" * 32}
ENCODINGS = [
    "json",
    "gzip",
    "base64",
    "aes",
    "gzip+aes",
    "gzip+base64",
    "aes+base64",
    "gzip+aes+base64",
    "base64+gzip",
]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("key_size", sorted(KEYS))
def test_round_trip(encoding: str, key_size: int) -> None:
    key = KEYS[key_size]
    body = encode(DATA, encoding, key=key, iv=b"\x00" * 16)
    assert decode(body, encoding, key=key) == DATA


def test_json_is_identity() -> None:
    assert encode(DATA, "json") == DATA
    assert decode(DATA, "json") == DATA


def test_chain_order_is_left_to_right() -> None:
    key, iv = KEYS[16], b"\x01" * 16
    gz = gzip.compress(DATA, mtime=0)
    assert encode(DATA, "gzip+aes", key=key, iv=iv) == encode(gz, "aes", key=key, iv=iv)
    assert encode(DATA, "gzip+aes+base64", key=key, iv=iv) == base64.b64encode(
        encode(DATA, "gzip+aes", key=key, iv=iv)
    )


def test_gzip_is_deterministic() -> None:
    assert encode(DATA, "gzip") == encode(DATA, "gzip") == gzip.compress(DATA, mtime=0)
    iv = b"\x02" * 16
    assert encode(DATA, "gzip+aes", key=KEYS[16], iv=iv) == encode(DATA, "gzip+aes", key=KEYS[16], iv=iv)


def test_aes_prepends_iv_and_pads() -> None:
    iv = bytes(range(16))
    body = encode(b"x" * 16, "aes", key=KEYS[16], iv=iv)
    assert body[:16] == iv
    assert len(body) == 16 + 32  # a full block of padding after a whole block


def test_aes_without_iv_is_random_but_decodes() -> None:
    a, b = encode(DATA, "aes", key=KEYS[32]), encode(DATA, "aes", key=KEYS[32])
    assert a != b
    assert decode(a, "aes", key=KEYS[32]) == decode(b, "aes", key=KEYS[32]) == DATA


def test_encoding_names_are_lenient_about_case_and_spaces() -> None:
    body = encode(DATA, "gzip+base64")
    assert decode(body, " GZIP + Base64 ") == DATA


def test_base64_tolerates_line_wrapping() -> None:
    wrapped = base64.encodebytes(DATA)  # 76-character lines, as Android's Base64.DEFAULT
    assert b"\n" in wrapped
    assert decode(wrapped, "base64") == DATA


def test_gzip_accepts_several_members() -> None:
    body = gzip.compress(b"abc", mtime=0) + gzip.compress(b"def", mtime=0)
    assert decode(body, "gzip") == b"abcdef"


@pytest.mark.parametrize(
    ("body", "encoding", "key", "message"),
    [
        (DATA, "rot13", None, "unknown encoding layer 'rot13'"),
        (DATA, "gzip+", None, "unknown encoding layer ''"),
        (b"not base64!", "base64", None, "invalid base64"),
        (b"abc", "base64", None, "invalid base64"),
        (gzip.compress(DATA)[:-12], "gzip", None, "truncated"),
        (b"plain text", "gzip", None, "invalid gzip"),
        (b"", "gzip", None, "empty"),
        (b"\x00" * 48, "aes", None, "needs a key"),
        (b"\x00" * 48, "aes", b"short", "16, 24 or 32 bytes"),
        (b"\x00" * 20, "aes", KEYS[16], "whole number of 16-byte blocks"),
        (b"\x00" * 16, "aes", KEYS[16], "whole number of 16-byte blocks"),
        (DATA, "json+" * 9 + "json", None, "at most 8"),
    ],
)
def test_decode_errors(body: bytes, encoding: str, key: bytes | None, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode(body, encoding, key=key)


def test_wrong_aes_key_is_a_decode_error() -> None:
    body = encode(DATA, "aes", key=KEYS[16], iv=b"\x03" * 16)
    with pytest.raises(DecodeError, match="padding"):
        decode(body, "aes", key=b"another-key-1234")


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)


def test_decompression_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\x00" * (4 * 1024 * 1024), mtime=0)
    assert len(bomb) < 10_000
    with pytest.raises(DecodeError, match="more than 1048576 bytes"):
        decode(bomb, "gzip", max_decoded=1024 * 1024)
    assert len(decode(bomb, "gzip")) == 4 * 1024 * 1024  # under the 16 MiB default


def test_bomb_limit_is_exact() -> None:
    body = gzip.compress(b"a" * 1000, mtime=0)
    assert decode(body, "gzip", max_decoded=1000) == b"a" * 1000
    with pytest.raises(DecodeError):
        decode(body, "gzip", max_decoded=999)


@pytest.mark.parametrize(
    ("encoding", "kwargs", "message"),
    [
        ("zip", {}, "unknown encoding layer"),
        ("aes", {}, "needs a key"),
        ("aes", {"key": b"short"}, "16, 24 or 32"),
        ("aes", {"key": KEYS[16], "iv": b"short"}, "IV must be 16 bytes"),
    ],
)
def test_encode_errors(encoding: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode(DATA, encoding, **kwargs)
