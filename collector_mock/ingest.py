"""``POST /api/v1/report``: decode, validate and store one upload. Open to anyone, as the real one was.

Order of checks: content type (415), body size (413, raised by Werkzeug while reading), encoding and
decryption (400), JSON (400), schema (422), then storage. Nothing is written before every check has
passed, and the 200 is sent only after the transaction holding the report has committed (on the
request's connection, or by the process's group-commit writer: see ``collector_mock.group_commit``).
A database that stays locked, or a writer that cannot take the report in time, gives a 503 and stores
nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError

from .codec import ENCODING_HEADER, DecodeError, decode, parse_encoding
from .db import get_committer, get_store
from .errors import json_error
from .group_commit import CommitTimeout
from .schema import error_paths, parse_report
from .store import prepare_report

__all__ = ["CAPTURE_TIME_KEY", "bp"]

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")

# Set by the simulator on the WSGI environ to pass its virtual clock. Headers reach the environ only as
# HTTP_* keys, so no HTTP client can forge this one.
CAPTURE_TIME_KEY = "testbed.capture_time"
_CONTENT_TYPES = frozenset({"application/json", "application/octet-stream"})


@bp.post("/report")
def receive_report() -> Response | dict[str, object]:
    """Accept one encoded report; answers ``{"status": "ok", "receipt": HEX}`` once stored.

    The body depends only on the request (the receipt is a digest of it), never on how many other
    reports arrived first: it travels in the simulated capture, which must be the same bytes whatever
    the number of simulation workers. The row id is in the ``X-Report-Id`` header.
    """
    # Either type is accepted with any encoding: the data company takes what it is sent.
    if request.mimetype not in _CONTENT_TYPES:
        return json_error(
            415,
            "unsupported_media_type",
            f"Content-Type must be application/json or application/octet-stream, got {request.mimetype!r}",
        )
    body = request.get_data(cache=False)
    encoding = request.headers.get(ENCODING_HEADER, "json")
    try:
        layers = parse_encoding(encoding)
        plain = _decode(body, encoding, "aes" in layers)
    except DecodeError as exc:
        return json_error(400, "undecodable", str(exc))

    try:
        report = parse_report(plain)
    except ValidationError as exc:
        paths = error_paths(exc)
        if exc.errors()[0]["type"] == "json_invalid":
            return json_error(400, "invalid_json", f"decoded body is not valid JSON: {paths[0]['msg']}")
        detail = "; ".join(f"{p['loc']}: {p['msg']}" for p in paths)
        return json_error(422, "invalid_report", detail, errors=paths)

    capture_time = request.environ.get(CAPTURE_TIME_KEY)
    prepared = prepare_report(
        report,
        received_at=time.time() if capture_time is None else float(capture_time),
        encoding="+".join(layers),
        remote_addr=request.environ.get("REMOTE_ADDR"),
        body_bytes=len(body),
    )
    committer = get_committer()
    try:
        if committer is None:
            report_id = get_store().add_reports([prepared])[0]
        else:
            report_id = committer.submit(prepared)
    except CommitTimeout:
        return _busy()
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return _busy()
    response = jsonify(status="ok", receipt=hashlib.sha256(body).hexdigest()[:16])
    response.headers["X-Report-Id"] = str(report_id)
    return response


def _busy() -> Response:
    response = json_error(503, "busy", "the collector database is busy; retry later")
    response.headers["Retry-After"] = "1"
    return response


def _decode(body: bytes, encoding: str, encrypted: bool) -> bytes:
    """Decode ``body``, trying each configured AES key when it is encrypted.

    The key is chosen per SDK, but the SDK's name is inside the ciphertext, so each key is tried: a wrong
    key nearly always fails the padding check, and a plaintext must start like a JSON object. With one
    key (the default) this is a single attempt.
    """
    max_decoded = current_app.config["MAX_DECODED_BYTES"]
    keys: list[bytes | None] = (
        list(dict.fromkeys(current_app.config["AES_KEYS"].values())) if encrypted else []
    )
    if len(keys) <= 1:
        return decode(body, encoding, key=keys[0] if keys else None, max_decoded=max_decoded)
    failure: DecodeError | None = None
    fallback: bytes | None = None
    for key in keys:
        try:
            plain = decode(body, encoding, key=key, max_decoded=max_decoded)
        except DecodeError as exc:
            failure = failure or exc
            continue
        if plain.lstrip()[:1] == b"{":
            return plain
        fallback = plain if fallback is None else fallback
    if fallback is not None:
        return fallback  # let the JSON parser say what is wrong with it
    assert failure is not None
    raise failure
