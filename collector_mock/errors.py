"""Error responses: the API answers with JSON, the dashboard with a page; never a traceback.

Every API error body is ``{"error": "<code>", "detail": "<what is wrong>"}``, plus fields such as ``errors``
(the field paths of a 422) where an error has more to say. A database that stays locked answers 503 with
``Retry-After``, whichever request met it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

__all__ = ["json_error", "register_error_handlers"]

_CODES = {413: "payload_too_large", 415: "unsupported_media_type"}


def json_error(status: int, error: str, detail: str, **extra: Any) -> Response:
    """A JSON error response: ``{"error": error, "detail": detail, **extra}`` with ``status``."""
    response = jsonify(error=error, detail=detail, **extra)
    response.status_code = status
    return response


def _error(status: int, code: str, name: str, detail: str) -> Response:
    if request.blueprint == "dashboard":
        page = render_template("error.html", code=status, name=name, detail=detail)
        return Response(page, status=status, mimetype="text/html")
    return json_error(status, code, detail)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = _CODES.get(status) or (exc.name or "error").lower().replace(" ", "_")
    response = _error(status, code, exc.name, exc.description or exc.name)
    # Keep headers such as Allow (405) and WWW-Authenticate (401), but not the HTML content type.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _too_large(exc: RequestEntityTooLarge) -> Response:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return json_error(413, "payload_too_large", f"request body exceeds the limit of {limit} bytes")


def _database_error(exc: sqlite3.OperationalError) -> Response:
    if "locked" not in str(exc) and "busy" not in str(exc):
        return _unexpected(exc)
    response = _error(503, "busy", "Service Unavailable", "the collector database is busy; retry later")
    response.headers["Retry-After"] = "1"
    return response


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error in the collector")
    return _error(
        500, "internal_error", "Internal Server Error", "the collector failed to process the request"
    )


def register_error_handlers(app: Flask) -> None:
    """Answer every HTTP error and every unexpected exception with JSON (or a page on the dashboard)."""
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(sqlite3.OperationalError, _database_error)
    app.register_error_handler(Exception, _unexpected)
