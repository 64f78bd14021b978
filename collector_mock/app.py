"""The collector's application factory (in the manner of Flask's tutorial).

``create_app({"DATABASE": path})`` for the simulator and tests; ``create_app()`` reads ``COLLECTOR_*``
environment variables (``COLLECTOR_DATABASE=/data/collector.sqlite``, ``COLLECTOR_ADMIN_TOKEN=...``,
``COLLECTOR_AES_KEYS='{"gozen": "gozen-demo-key-1"}'``), which is how ``collector_mock.wsgi`` starts it.

Configuration:

- ``DATABASE``: path of the SQLite file (required; created with its schema if absent). Not ``:memory:``:
  each thread opens its own connection.
- ``ADMIN_TOKEN``: the token that opens the dashboard, the read API, export and erasure. None (the
  default) leaves them all answering 401; ingest is always open.
- ``AES_KEYS``: SDK name -> AES key (bytes, or str taken as UTF-8); default ``{"gozen": b"gozen-demo-key-1"}``.
- ``MAX_CONTENT_LENGTH``: largest request body in bytes (default 1 MiB); larger gets a JSON 413.
- ``MAX_DECODED_BYTES``: largest body after gunzip (default 16 MiB), against decompression bombs.
- ``GROUP_COMMIT``: commit uploads through one writer thread per process (default False; the served
  collector turns it on). ``SYNCHRONOUS``: SQLite's ``NORMAL`` (default; survives a killed process),
  ``FULL`` (also survives power loss; the served collector's default) or ``OFF`` (never waits for the disk;
  the simulator's, whose run is discarded if cut short).
- ``FAST_INGEST``: serve ``POST /api/v1/report`` through ``collector_mock.fast_ingest`` (default True).
- ``SECRET_KEY``: signs the dashboard's session cookie; derived from ``ADMIN_TOKEN`` when unset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response, request

from . import auth, dashboard, db, erasure, ingest, openapi, reads
from .codec import AES_KEY_SIZES, MAX_DECODED_BYTES
from .errors import register_error_handlers
from .fast_ingest import FastIngest
from .store import SYNCHRONOUS_MODES

__all__ = ["CONTENT_SECURITY_POLICY", "DEFAULT_CONFIG", "INGEST_HEADERS", "SECURITY_HEADERS", "create_app"]

DEFAULT_CONFIG: dict[str, Any] = {
    "DATABASE": None,
    "ADMIN_TOKEN": None,
    "AES_KEYS": {"gozen": b"gozen-demo-key-1"},
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_DECODED_BYTES": MAX_DECODED_BYTES,
    "GROUP_COMMIT": False,
    "DEFER_COMMITS": False,  # the simulator's: see collector_mock.deferred_commit
    "FAST_INGEST": True,
    "SYNCHRONOUS": "NORMAL",
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
}

# No script from anywhere, not even inline: a stored SSID that slipped through escaping still could not run.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a collector app on ``config["DATABASE"]``; raises ``ValueError`` on bad configuration."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULT_CONFIG)
    if config is None:
        app.config.from_prefixed_env("COLLECTOR")
        if app.config["DEFER_COMMITS"]:
            # Only an in-process caller can commit what is kept (the simulator): served, it would be lost.
            raise ValueError("collector config: DEFER_COMMITS is for an app called in-process, which commits with "
                             "commit_deferred(app); it cannot be set from the environment")
    else:
        app.config.update(config)
    _check_config(app.config)

    db.init_app(app)
    auth.init_app(app)
    register_error_handlers(app)
    for blueprint in (ingest.bp, openapi.bp, reads.bp, erasure.bp, dashboard.bp):
        app.register_blueprint(blueprint)
    app.add_url_rule("/healthz", "healthz", _healthz, methods=["GET"])
    app.after_request(_security_headers)
    if app.config["FAST_INGEST"]:
        app.wsgi_app = FastIngest(app, INGEST_HEADERS)  # type: ignore[method-assign]
    return app


def _check_config(config: dict[str, Any]) -> None:
    # Fail when the app is built, not on the first upload.
    if not config.get("DATABASE") or str(config["DATABASE"]) == ":memory:":
        raise ValueError("collector config: DATABASE must be the path of a SQLite file")
    keys = {}
    for sdk, key in dict(config["AES_KEYS"] or {}).items():
        key = key.encode() if isinstance(key, str) else bytes(key)
        if len(key) not in AES_KEY_SIZES:
            raise ValueError(
                f"collector config: AES_KEYS[{sdk!r}] must be 16, 24 or 32 bytes, got {len(key)}"
            )
        keys[str(sdk)] = key
    config["AES_KEYS"] = keys
    for name in ("MAX_CONTENT_LENGTH", "MAX_DECODED_BYTES"):
        if not isinstance(config[name], int) or config[name] <= 0:
            raise ValueError(f"collector config: {name} must be a positive integer, got {config[name]!r}")
    token = config.get("ADMIN_TOKEN")
    # from_prefixed_env parses values as JSON, so a token of digits arrives as an int.
    config["ADMIN_TOKEN"] = str(token) if token not in (None, "") else None
    if config["ADMIN_TOKEN"] is not None and len(config["ADMIN_TOKEN"]) < 8:
        raise ValueError("collector config: ADMIN_TOKEN must be at least 8 characters long")
    config["SYNCHRONOUS"] = str(config["SYNCHRONOUS"]).upper()
    if config["SYNCHRONOUS"] not in SYNCHRONOUS_MODES:
        raise ValueError(f"collector config: SYNCHRONOUS must be one of {SYNCHRONOUS_MODES}")
    config["GROUP_COMMIT"] = bool(config["GROUP_COMMIT"])
    config["DEFER_COMMITS"] = bool(config["DEFER_COMMITS"])
    if config["GROUP_COMMIT"] and config["DEFER_COMMITS"]:
        raise ValueError("collector config: GROUP_COMMIT and DEFER_COMMITS exclude each other")


def _healthz() -> dict[str, str]:
    """Liveness: ``{"status": "ok"}``."""
    return {"status": "ok"}


# Stored SSIDs may be markup: never let a browser guess that a JSON answer is HTML (nosniff), nor run
# or frame anything. Personal data: no copy in any cache (but the stylesheet may be cached).
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
_NO_STORE = ("Cache-Control", "no-store")


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS:
        response.headers[name] = value
    if request.endpoint != "static":
        response.headers[_NO_STORE[0]] = _NO_STORE[1]
    return response


# What every answer to an upload carries, whichever front end sends it (fast_ingest, worker).
INGEST_HEADERS = (*SECURITY_HEADERS, _NO_STORE)
