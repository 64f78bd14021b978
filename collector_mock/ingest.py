"""``POST /api/v1/report``: decode, validate and store one upload. Open to anyone, as the real one was.

Order of checks: content type (415), body size (413), encoding and decryption (400), JSON (400), schema
(422), then storage. Nothing is written before every check has passed, and the 200 is sent only after
the transaction holding the report has committed (on the request's connection, or by the process's
group-commit writer: see ``collector_mock.group_commit``). A database that stays locked, or a writer
that cannot take the report in time, gives a 503 and stores nothing. The one exception is the
simulator's collector (``DEFER_COMMITS``): it answers a checked report at once and commits it before
the answer is written to the capture (``collector_mock.deferred_commit``).

The answer is ``{"status": "ok", "receipt": HEX}`` with the row id in the ``X-Report-Id`` header (when it
is known: not with deferred commits): the body
depends only on the request (the receipt is a digest of it), never on how many other reports arrived
first, because it travels in the simulated capture, which must be the same bytes whatever the number of
simulation workers.

The logic is ``ingest_body`` (plain data in, an ``Outcome`` out): ``check_body`` (decode, validate, the
rows to write), the store, then ``accepted`` (the 200). Three front ends call it: the Flask view below;
``collector_mock.fast_ingest``, a WSGI middleware that serves this one route without Flask's request
machinery; and ``collector_mock.worker``, the served collector's gunicorn worker, which checks the reports
of many connections, commits them in one transaction, and only then answers them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import ValidationError

from .codec import ENCODING_HEADER, DecodeError, decode, parse_encoding
from .db import COMMITTER, get_store
from .deferred_commit import DEFERRED, DeferredCommits
from .errors import json_error
from .group_commit import CommitTimeout, GroupCommitter
from .schema import error_paths, parse_report
from .store import PreparedReport, prepare_report

__all__ = [
    "CAPTURE_TIME_KEY",
    "CONTENT_TYPES",
    "INGEST_PATH",
    "Outcome",
    "accepted",
    "bp",
    "check_body",
    "content_type_error",
    "ingest_body",
    "queued_store",
    "storage_failure",
    "store_for_request",
    "too_large",
]

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")

INGEST_PATH = "/api/v1/report"
# Set by the simulator on the WSGI environ to pass its virtual clock. Headers reach the environ only as
# HTTP_* keys, so no HTTP client can forge this one.
CAPTURE_TIME_KEY = "testbed.capture_time"
CONTENT_TYPES = frozenset({"application/json", "application/octet-stream"})

Store = Callable[[PreparedReport], int | None]  # the report's id; None while its commit is deferred


@dataclass
class Outcome:
    """What to answer: a status, a JSON body, and extra headers."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


def _error(status: int, error: str, detail: str, **extra: Any) -> Outcome:
    return Outcome(status, {"error": error, "detail": detail, **extra})


def content_type_error(mimetype: str) -> Outcome | None:
    """A 415 unless ``mimetype`` (lower case, without parameters) is one the SDK sends."""
    # Either type is accepted with any encoding: the data company takes what it is sent.
    if mimetype in CONTENT_TYPES:
        return None
    return _error(
        415,
        "unsupported_media_type",
        f"Content-Type must be application/json or application/octet-stream, got {mimetype!r}",
    )


def too_large(limit: int) -> Outcome:
    """The 413 for a body over ``limit`` bytes."""
    return _error(413, "payload_too_large", f"request body exceeds the limit of {limit} bytes")


def ingest_body(
    body: bytes,
    encoding: str | None,
    *,
    config: Mapping[str, Any],
    store: Store,
    remote_addr: str | None,
    capture_time: float | None = None,
) -> Outcome:
    """Decode, validate and store one report's body; the ``Outcome`` to send."""
    checked = check_body(body, encoding, config=config, remote_addr=remote_addr, capture_time=capture_time)
    if isinstance(checked, Outcome):
        return checked
    try:
        report_id = store(checked)
    except Exception as exc:
        return storage_failure(exc)
    return accepted(body, report_id)


def check_body(
    body: bytes,
    encoding: str | None,
    *,
    config: Mapping[str, Any],
    remote_addr: str | None,
    capture_time: float | None = None,
) -> Outcome | PreparedReport:
    """Decode and validate one report's body: its rows, ready to store, or the ``Outcome`` refusing it."""
    encoding = encoding or "json"
    try:
        layers = parse_encoding(encoding)
        plain = _decode(body, encoding, "aes" in layers, config)
    except DecodeError as exc:
        return _error(400, "undecodable", str(exc))

    try:
        report = parse_report(plain)
    except ValidationError as exc:
        paths = error_paths(exc)
        if exc.errors()[0]["type"] == "json_invalid":
            return _error(400, "invalid_json", f"decoded body is not valid JSON: {paths[0]['msg']}")
        detail = "; ".join(f"{p['loc']}: {p['msg']}" for p in paths)
        return _error(422, "invalid_report", detail, errors=paths)

    return prepare_report(
        report,
        received_at=time.time() if capture_time is None else float(capture_time),
        encoding="+".join(layers),
        remote_addr=remote_addr,
        body_bytes=len(body),
    )


def accepted(body: bytes, report_id: int | None) -> Outcome:
    """The 200 for a committed report (call only once its transaction has committed), or for one whose
    commit is deferred (``report_id`` None: no ``X-Report-Id``)."""
    receipt = hashlib.sha256(body).hexdigest()[:16]
    headers = [] if report_id is None else [("X-Report-Id", str(report_id))]
    return Outcome(200, {"status": "ok", "receipt": receipt}, headers)


def storage_failure(exc: Exception) -> Outcome:
    """The 503 for a report that could not be stored because the database was busy; re-raises anything else."""
    if isinstance(exc, CommitTimeout):
        return _busy()
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
        return _busy()
    raise exc


def _busy() -> Outcome:
    outcome = _error(503, "busy", "the collector database is busy; retry later")
    outcome.headers.append(("Retry-After", "1"))
    return outcome


def _decode(body: bytes, encoding: str, encrypted: bool, config: Mapping[str, Any]) -> bytes:
    """Decode ``body``, trying each configured AES key when it is encrypted.

    The key is chosen per SDK, but the SDK's name is inside the ciphertext, so each key is tried: a wrong
    key nearly always fails the padding check, and a plaintext must start like a JSON object. With one
    key (the default) this is a single attempt.
    """
    max_decoded = config["MAX_DECODED_BYTES"]
    keys: list[bytes | None] = list(dict.fromkeys(config["AES_KEYS"].values())) if encrypted else []
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


def queued_store(app: Flask) -> Store | None:
    """Where ``app`` hands a checked report when the request's own connection does not store it: kept for a
    deferred commit (``DEFER_COMMITS``), or queued for the group-commit writer; None otherwise."""
    deferred: DeferredCommits | None = app.extensions.get(DEFERRED)
    if deferred is not None:
        return deferred.submit
    committer: GroupCommitter | None = app.extensions.get(COMMITTER)
    return committer.submit if committer is not None else None


def store_for_request() -> Store:
    """How this app stores a report: as ``queued_store`` says, else on the request's connection."""
    return queued_store(current_app) or (lambda prepared: get_store().add_reports([prepared])[0])


@bp.post("/report")
def receive_report() -> Response:
    """Accept one encoded report; answers ``{"status": "ok", "receipt": HEX}`` once stored."""
    outcome = content_type_error(request.mimetype)
    if outcome is None:
        capture_time = request.environ.get(CAPTURE_TIME_KEY)
        outcome = ingest_body(
            request.get_data(cache=False),  # raises RequestEntityTooLarge: a JSON 413 (errors.py)
            request.headers.get(ENCODING_HEADER),
            config=current_app.config,
            store=store_for_request(),
            remote_addr=request.environ.get("REMOTE_ADDR"),
            capture_time=None if capture_time is None else float(capture_time),
        )
    response = jsonify(outcome.body) if outcome.status == 200 else json_error(outcome.status, **outcome.body)
    response.headers.extend(outcome.headers)
    return response
