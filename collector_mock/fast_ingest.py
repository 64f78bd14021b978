"""The served collector's hot path: ``POST /api/v1/report`` answered without Flask's request machinery.

A WSGI middleware in front of the Flask app (``app.wsgi_app = FastIngest(app)``, as Flask's docs do it).
It handles exactly that method and path, with the same logic (``ingest.ingest_body``), the same answers
and the same security headers as the Flask view; every other request goes to Flask. Why: on this
project's 2-core machines Flask's request and response objects, context push/pop and hooks cost about
as much CPU per request as decoding and validating the report itself (measured: server CPU per request
320 us for a bare WSGI handler against 650 us through Flask, before any database work), and ingest
must keep up with thousands of reports a second. Turned off with ``FAST_INGEST = False``; the tests
run the ingest suite both ways.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from .codec import ENCODING_HEADER
from .db import EXTENSION, ConnectionPool
from .ingest import (
    CAPTURE_TIME_KEY,
    INGEST_PATH,
    Outcome,
    Store,
    content_type_error,
    ingest_body,
    queued_store,
    too_large,
)
from .store import PreparedReport

__all__ = ["FastIngest", "internal_error", "response_parts"]

_ENCODING_KEY = "HTTP_" + ENCODING_HEADER.upper().replace("-", "_")


def internal_error() -> Outcome:
    """The 500 for a request that failed in the collector itself (its traceback goes to the log)."""
    return Outcome(500, {"error": "internal_error", "detail": "the collector failed to process the request"})


def response_parts(
    outcome: Outcome, extra_headers: Sequence[tuple[str, str]]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """The status (``"200 OK"``), headers and body that answer ``outcome``; ``extra_headers`` go last."""
    body = json.dumps(outcome.body, separators=(",", ":")).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    status = f"{outcome.status} {HTTP_STATUS_CODES.get(outcome.status, 'UNKNOWN').upper()}"
    return status, [*headers, *outcome.headers, *extra_headers], body


class FastIngest:
    """WSGI middleware: ingest directly, everything else to the wrapped Flask ``wsgi_app``."""

    def __init__(self, app: Flask, headers: Sequence[tuple[str, str]]) -> None:
        self.app = app
        self.next_app = app.wsgi_app
        self.headers = headers  # the security headers every answer carries (app.py)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != INGEST_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.next_app(environ, start_response)
        try:
            outcome = self._handle(environ)
        except Exception:
            self.app.logger.exception("unhandled error in the collector")
            outcome = internal_error()
        status, headers, body = response_parts(outcome, self.headers)
        start_response(status, headers)
        return [body]

    def _handle(self, environ: dict[str, Any]) -> Outcome:
        config = self.app.config
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        rejected = content_type_error(mimetype)
        if rejected is not None:
            return rejected
        limit = config["MAX_CONTENT_LENGTH"]
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if length:
            try:
                size = int(length)
            except ValueError:
                return Outcome(400, {"error": "bad_request", "detail": "Content-Length is not a number"})
            if size > limit:
                return too_large(limit)  # not read: the server closes the connection
            body = stream.read(size)
            if len(body) < size:
                return Outcome(
                    400, {"error": "bad_request", "detail": "the body ended before Content-Length"}
                )
        elif environ.get("wsgi.input_terminated"):  # chunked: the server marks the end of the body
            body = stream.read(limit + 1)
            if len(body) > limit:
                return too_large(limit)
        else:
            body = b""
        capture_time = environ.get(CAPTURE_TIME_KEY)
        return ingest_body(
            body,
            environ.get(_ENCODING_KEY),
            config=config,
            store=self._store(),
            remote_addr=environ.get("REMOTE_ADDR"),
            capture_time=None if capture_time is None else float(capture_time),
        )

    def _store(self) -> Store:
        queued = queued_store(self.app)
        if queued is not None:
            return queued
        pool: ConnectionPool = self.app.extensions[EXTENSION]

        def direct(prepared: PreparedReport) -> int:
            return pool.get().add_reports([prepared])[0]

        return direct
