"""The data company's mock collector: receives, decodes, validates and stores the SDK's uploads, and shows
(to whoever holds the admin token) what it learned about each home, with export and erasure.

Public surface::

    create_app(config) -> Flask            the WSGI app (in-process under "sim", gunicorn under "docker")
    CollectorServer(config, host=, port=)  the app under gunicorn (``tvtestbed collector serve``)
    encode(data, encoding, *, key, iv)     what the SDK applies to a report ("gzip+aes", ...)
    decode(body, encoding, *, key)         what the collector reverses
    ENCODING_HEADER                        "X-Payload-Encoding"
    close_connections(app)                 close the app's database connections (end of a run)
    commit_deferred(app)                   commit the reports the simulator's collector answered and kept
    openapi_document()                     the OpenAPI 3.1 document of the HTTP API

HTTP: ``POST /api/v1/report`` (open); ``/api/v1/households...``, ``/api/v1/reports...``, ``/api/v1/tvs...``,
``/api/v1/search``, ``/api/v1/erasures`` (``Authorization: Bearer <admin token>``); the dashboard at ``/``
(login form or ``?token=``); ``/healthz`` and ``/api/v1/openapi.json`` (open).

Errors: ``DecodeError`` (a ``ValueError``) for a body that cannot be decoded; ``StoreError`` (a
``RuntimeError``) for a database of another schema version; ``ValueError`` from ``create_app`` for bad
configuration and from ``encode`` for a bad encoding name, key or IV. Over HTTP, every API error is a JSON
body ``{"error", "detail"}`` with 400, 401, 404, 405, 413, 415, 422, 500 or 503.
"""

from typing import Any

from .codec import ENCODING_HEADER, DecodeError, decode, encode

# The codec is all the SDK needs (it encodes its uploads); the server side loads Flask and gunicorn only
# when asked for, so a TV container or the SDK's tests start without them.
_LAZY = {
    "create_app": ".app",
    "close_connections": ".db",
    "commit_deferred": ".db",
    "openapi_document": ".openapi",
    "CollectorServer": ".server",
    "StoreError": ".store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'collector_mock' has no attribute {name!r}")

__all__ = [
    "ENCODING_HEADER",
    "CollectorServer",
    "DecodeError",
    "StoreError",
    "close_connections",
    "commit_deferred",
    "create_app",
    "decode",
    "encode",
    "openapi_document",
]
