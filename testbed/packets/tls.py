"""TLS 1.3 as it looks on the wire (RFC 8446): the cleartext hellos, the compatibility
ChangeCipherSpec, and opaque application-data records. Nothing is encrypted: the bodies are
pseudo-random bytes of the right length, which is all a passive observer (or detector) can see.
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache

from . import speedups
from .header import Header

CONTENT_CHANGE_CIPHER_SPEC = 20
CONTENT_HANDSHAKE = 22
CONTENT_APPLICATION_DATA = 23
HANDSHAKE_CLIENT_HELLO = 1
HANDSHAKE_SERVER_HELLO = 2

TLS_1_0, TLS_1_2, TLS_1_3 = 0x0301, 0x0303, 0x0304
MAX_RECORD_BODY = 2**14 + 256  # a TLS 1.3 ciphertext: 16 KiB of plaintext plus AEAD expansion

RECORD = Header(
    "tls_record", (("type", "B", CONTENT_HANDSHAKE), ("version", "H", TLS_1_2), ("length", "H", 0))
)
_RECORD = RECORD.struct
_U16 = struct.Struct("!H")

# What Android's Conscrypt/OkHttp offers: the three TLS 1.3 suites first, then ECDHE AEAD, then legacy.
CIPHER_SUITES = (
    0x1301, 0x1302, 0x1303,  # TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256
    0xC02B, 0xC02F, 0xC02C, 0xC030,  # ECDHE-{ECDSA,RSA}-AES{128,256}-GCM
    0xCCA9, 0xCCA8,  # ECDHE-{ECDSA,RSA}-CHACHA20-POLY1305
    0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035,  # ECDHE-RSA-AES-CBC, RSA-AES-GCM/CBC
)  # fmt: skip
GROUP_X25519 = 0x001D
SUPPORTED_GROUPS = (GROUP_X25519, 0x0017, 0x0018)  # x25519, secp256r1, secp384r1
SIGNATURE_ALGORITHMS = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601)
CHOSEN_SUITE = 0x1301

EXT_SERVER_NAME = 0x0000
EXT_SUPPORTED_GROUPS = 0x000A
EXT_EC_POINT_FORMATS = 0x000B
EXT_SIGNATURE_ALGORITHMS = 0x000D
EXT_ALPN = 0x0010
EXT_EXTENDED_MASTER_SECRET = 0x0017
EXT_SESSION_TICKET = 0x0023
EXT_SUPPORTED_VERSIONS = 0x002B
EXT_PSK_KEY_EXCHANGE_MODES = 0x002D
EXT_KEY_SHARE = 0x0033
EXT_RENEGOTIATION_INFO = 0xFF01


def _u16s(values: tuple[int, ...]) -> bytes:
    return b"".join(_U16.pack(v) for v in values)


def _vec8(data: bytes) -> bytes:
    return bytes((len(data),)) + data


def _vec16(data: bytes) -> bytes:
    return _U16.pack(len(data)) + data


def _extension(ext_type: int, data: bytes = b"") -> bytes:
    return _U16.pack(ext_type) + _vec16(data)


def _record(content_type: int, version: int, body: bytes) -> bytes:
    return _RECORD.pack(content_type, version, len(body)) + body


def _handshake(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


def _key_share(random32: bytes, label: bytes) -> bytes:
    # A stand-in x25519 public key: derived from the hello's random so the capture stays reproducible.
    return hashlib.sha256(label + random32).digest()


def _check_hello_fields(random32: bytes, session_id: bytes) -> None:
    if len(random32) != 32:
        raise ValueError(f"a hello's random has 32 bytes, got {len(random32)}")
    if len(session_id) > 32:
        raise ValueError(f"a session id has at most 32 bytes, got {len(session_id)}")


def tls_client_hello(sni: str, random32: bytes, session_id: bytes) -> bytes:
    """A ClientHello record offering TLS 1.3 and 1.2 to ``sni``, with ALPN http/1.1 and an x25519 share."""
    _check_hello_fields(random32, session_id)
    # Only the random, the session id and the key share differ between two hellos to one name: they are
    # patched into the name's hello (measured with timeit: 1.4 us, against 9.3 us built field by field).
    template, key_share_at = _client_hello_template(sni, len(session_id))
    hello = bytearray(template)
    hello[_RANDOM_AT : _RANDOM_AT + 32] = random32
    hello[_SESSION_ID_AT : _SESSION_ID_AT + len(session_id)] = session_id
    hello[key_share_at : key_share_at + 32] = _key_share(random32, b"client")
    return bytes(hello)


_RANDOM_AT = 5 + 4 + 2  # after the record header, the handshake header and legacy_version
_SESSION_ID_AT = _RANDOM_AT + 32 + 1  # after the random and the session id's length byte
# What follows the key share's 32 bytes, to the end of the hello: the last two extensions.
_AFTER_KEY_SHARE = _extension(EXT_PSK_KEY_EXCHANGE_MODES, _vec8(b"\x01")) + _extension(
    EXT_SUPPORTED_VERSIONS, _vec8(_u16s((TLS_1_3, TLS_1_2)))
)


@lru_cache(maxsize=1024)
def _client_hello_template(sni: str, session_id_length: int) -> tuple[bytes, int]:
    """The ClientHello to ``sni`` with zeros for its random, session id and key share; where the share is."""
    host = sni.encode("ascii")
    extensions = b"".join(
        (
            _extension(EXT_SERVER_NAME, _vec16(b"\x00" + _vec16(host))),  # one entry, type host_name
            _extension(EXT_EXTENDED_MASTER_SECRET),
            _extension(EXT_RENEGOTIATION_INFO, b"\x00"),
            _extension(EXT_SUPPORTED_GROUPS, _vec16(_u16s(SUPPORTED_GROUPS))),
            _extension(EXT_EC_POINT_FORMATS, _vec8(b"\x00")),  # uncompressed
            _extension(EXT_SESSION_TICKET),
            _extension(EXT_ALPN, _vec16(_vec8(b"http/1.1"))),
            _extension(EXT_SIGNATURE_ALGORITHMS, _vec16(_u16s(SIGNATURE_ALGORITHMS))),
            _extension(EXT_KEY_SHARE, _vec16(_U16.pack(GROUP_X25519) + _vec16(bytes(32)))),
            _AFTER_KEY_SHARE,
        )
    )
    body = b"".join(
        (
            _U16.pack(TLS_1_2),  # legacy_version: 1.3 is negotiated in supported_versions
            bytes(32),  # the random
            _vec8(bytes(session_id_length)),
            _vec16(_u16s(CIPHER_SUITES)),
            _vec8(b"\x00"),  # compression: null only
            _vec16(extensions),
        )
    )
    # The first record says TLS 1.0 for the sake of old middleboxes, as browsers and OkHttp do.
    hello = _record(CONTENT_HANDSHAKE, TLS_1_0, _handshake(HANDSHAKE_CLIENT_HELLO, body))
    return hello, len(hello) - len(_AFTER_KEY_SHARE) - 32


def tls_server_hello(random32: bytes, session_id: bytes) -> bytes:
    """A ServerHello record choosing TLS 1.3 (supported_versions), TLS_AES_128_GCM_SHA256 and x25519."""
    _check_hello_fields(random32, session_id)
    extensions = _extension(EXT_SUPPORTED_VERSIONS, _U16.pack(TLS_1_3)) + _extension(
        EXT_KEY_SHARE, _U16.pack(GROUP_X25519) + _vec16(_key_share(random32, b"server"))
    )
    body = b"".join(
        (
            _U16.pack(TLS_1_2),
            random32,
            _vec8(session_id),
            _U16.pack(CHOSEN_SUITE),
            b"\x00",
            _vec16(extensions),
        )
    )
    return _record(CONTENT_HANDSHAKE, TLS_1_2, _handshake(HANDSHAKE_SERVER_HELLO, body))


_CHANGE_CIPHER_SPEC = _record(CONTENT_CHANGE_CIPHER_SPEC, TLS_1_2, b"\x01")


def tls_change_cipher_spec() -> bytes:
    """The dummy ChangeCipherSpec record TLS 1.3 peers send for middlebox compatibility."""
    return _CHANGE_CIPHER_SPEC


# Opaque bodies are slices of one block of SHAKE-256 output: deterministic, looks like ciphertext, and
# a record costs one slice instead of fresh random bytes.
BLOCK = hashlib.shake_256(b"smarttv-testbed/tls/application-data").digest(4 * MAX_RECORD_BODY)
_BLOCK_VIEW = memoryview(BLOCK)
APPLICATION_DATA_HEADER = _RECORD.pack(CONTENT_APPLICATION_DATA, TLS_1_2, 0)[:3]  # then the body length


def body_start(length: int, seed: int) -> int:
    """Where in ``BLOCK`` the opaque body of ``length`` bytes for ``seed`` begins."""
    return (seed * 0x9E3779B1) % (len(BLOCK) - length + 1)


def _application_data_parts(length: int, seed: int) -> tuple[bytes, bytes, memoryview]:
    """An application-data record as its header, body length and opaque body (a view of ``BLOCK``)."""
    start = body_start(length, seed)
    return APPLICATION_DATA_HEADER, _U16.pack(length), _BLOCK_VIEW[start : start + length]


def tls_application_data(length: int, seed: int = 0) -> bytes:
    """An application-data record whose opaque body has exactly ``length`` bytes; ``seed`` varies them."""
    if not 0 < length <= MAX_RECORD_BODY:
        raise ValueError(f"a TLS 1.3 record body has 1..{MAX_RECORD_BODY} bytes, got {length}")
    return b"".join(_application_data_parts(length, seed))


FULL_RECORD_BODY = 2**14 + 17  # a full TLS 1.3 record: 16 KiB of plaintext, the content type, a 16-byte tag


def tls_application_stream(length: int, seed: int = 0) -> bytes:
    """Application-data records whose bodies add up to ``length`` bytes, split into full records the
    way TLS 1.3 stacks split a large write (for anything bigger than one record can carry).

    The records ``tls_application_data`` gives one by one, joined in one copy.
    """
    return b"".join(tls_application_stream_parts(length, seed))


def tls_application_stream_parts(length: int, seed: int = 0) -> list[bytes | memoryview]:
    """``tls_application_stream(length, seed)`` as the pieces it is joined from: each record's header,
    body length and body (a view of ``BLOCK``). ``tcp_connection`` sends such a list as it is, copying each
    piece once, into its segments: a streaming session's stream is a hundred kilobytes.
    """
    if length <= 0:
        raise ValueError(f"a TLS stream carries at least one byte, got {length}")
    parts: list[bytes | memoryview] = []
    for index, offset in enumerate(range(0, length, FULL_RECORD_BODY)):
        parts += _application_data_parts(min(FULL_RECORD_BODY, length - offset), seed + index)
    return parts


SEED_LIMIT = 2**31  # tls_session_sends's seeds are below this (the compiled path multiplies them in 64 bits)
FINISHED_BYTES = 53  # the client's encrypted Finished: a SHA-256 verify_data, its header, type and tag


def tls_session_sends(
    sni: str,
    client_random: bytes,
    session_id: bytes,
    server_random: bytes,
    server_session_id: bytes,
    certificate_bytes: int,
    seeds: tuple[int, int, int, int],
    up_bytes: int,
    down_bytes: int,
    *,
    server_delay_us: int = 1500,
    response_delay_us: int = 0,
) -> list[tuple[bool, bytes | list[bytes | memoryview], int]]:
    """A TLS 1.3 session as the five sends ``tcp_connection`` takes: the ClientHello to ``sni``; the
    ServerHello, ChangeCipherSpec and an opaque record of ``certificate_bytes`` (the encrypted certificate,
    its verify and Finished) ``server_delay_us`` later; the client's ChangeCipherSpec and Finished; then
    ``up_bytes`` of application data out and, ``response_delay_us`` later, ``down_bytes`` in (as pieces:
    ``tls_application_stream_parts``). ``seeds`` vary the opaque bodies of the certificate record, the
    client's Finished and the two streams, in that order; each is below ``SEED_LIMIT``.

    The composition below is the reference; where the extension is built, one call of it makes the same
    bytes (a streaming session spent ~20 us composing its sends from the functions above, in place).
    """
    if len(seeds) != 4 or not all(0 <= seed < SEED_LIMIT for seed in seeds):
        raise ValueError(f"tls_session_sends: four seeds in 0..{SEED_LIMIT - 1}, got {seeds!r}")
    native = speedups.native
    if native is not None:
        client, client_share_at = _client_hello_template(sni, len(session_id))
        server, server_share_at = _server_hello_template(len(server_session_id))
        return native.tls_session_sends(
            client, client_share_at, server, server_share_at, _BLOCK_VIEW, client_random, session_id,
            server_random, server_session_id, certificate_bytes, seeds[0], seeds[1], up_bytes, seeds[2],
            down_bytes, seeds[3], server_delay_us, response_delay_us,
        )  # fmt: skip
    if server_delay_us < 0 or response_delay_us < 0:
        raise ValueError("tls_session_sends: the delays are never negative")
    return [
        (True, tls_client_hello(sni, client_random, session_id), 0),
        (False, tls_server_hello(server_random, server_session_id) + tls_change_cipher_spec()
         + tls_application_data(certificate_bytes, seeds[0]), server_delay_us),
        (True, tls_change_cipher_spec() + tls_application_data(FINISHED_BYTES, seeds[1]), 0),
        (True, tls_application_stream_parts(up_bytes, seeds[2]), 0),
        (False, tls_application_stream_parts(down_bytes, seeds[3]), response_delay_us),
    ]  # fmt: skip


@lru_cache(maxsize=33)
def _server_hello_template(session_id_length: int) -> tuple[bytes, int]:
    """The ServerHello with zeros for its random, session id and key share; where the share is (its end)."""
    hello = bytearray(tls_server_hello(bytes(32), bytes(session_id_length)))
    hello[-32:] = bytes(32)  # the key share is the hello's last field
    return bytes(hello), len(hello) - 32
