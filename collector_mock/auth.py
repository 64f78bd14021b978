"""The admin token: who may read, export and erase what the collector holds.

Ingest is open (the real collector's was). Everything else needs the admin token (config ``ADMIN_TOKEN``,
env ``COLLECTOR_ADMIN_TOKEN``):

- the JSON API: ``Authorization: Bearer <token>``, else 401 with ``WWW-Authenticate: Bearer``;
- the dashboard: a login form, or ``?token=`` once, sets a signed session cookie (HttpOnly,
  SameSite=Strict; not ``Secure``, since the collector serves plain HTTP on loopback: set
  ``SESSION_COOKIE_SECURE`` behind TLS); every form that changes something carries a per-session CSRF
  token.

Tokens are compared with ``hmac.compare_digest``. With no token configured, nothing but ingest, the health
check and the OpenAPI document answers: the collector never runs open. The session is signed with a key
derived from the token (unless ``SECRET_KEY`` is set), so every gunicorn worker accepts the same cookie,
and changing the token logs everybody out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, current_app, request, session
from werkzeug.exceptions import Unauthorized

__all__ = [
    "SESSION_KEY",
    "actor",
    "check_csrf",
    "csrf_token",
    "derive_secret_key",
    "fingerprint",
    "generate_token",
    "is_dashboard_admin",
    "login",
    "logout",
    "require_bearer",
    "token_matches",
]

SESSION_KEY = "admin"
_CSRF_KEY = "csrf"


def generate_token() -> str:
    """A new random admin token (what ``serve`` prints when none is configured)."""
    return secrets.token_urlsafe(24)


def fingerprint(token: str) -> str:
    """A short, non-reversible name for a token: who did an erasure, in the audit log."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def derive_secret_key(token: str) -> bytes:
    """The session-signing key for ``token``: the same in every worker, and different for another token."""
    return hmac.new(token.encode(), b"collector_mock session signing key", hashlib.sha256).digest()


def _configured() -> str | None:
    token = current_app.config.get("ADMIN_TOKEN")
    return token or None


def token_matches(candidate: str | None) -> bool:
    """Whether ``candidate`` is the configured admin token (constant time; False if none is configured)."""
    token = _configured()
    if token is None or not candidate:
        return False
    return hmac.compare_digest(candidate.encode(), token.encode())


def actor() -> str:
    """Who is making this request, for the audit log: ``token:<fingerprint>``."""
    token = _configured()
    return f"token:{fingerprint(token)}" if token else "unknown"


class BearerUnauthorized(Unauthorized):
    """A 401 that tells API clients how to authenticate."""

    def get_headers(self, environ=None, scope=None):  # type: ignore[no-untyped-def]
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", 'Bearer realm="collector"')]


def require_bearer() -> None:
    """``before_request`` of the admin API: 401 unless ``Authorization: Bearer <admin token>``."""
    if _configured() is None:
        raise BearerUnauthorized("no admin token is configured, so the admin API is disabled")
    scheme, _, candidate = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token_matches(candidate.strip()):
        raise BearerUnauthorized("this endpoint needs the admin token: Authorization: Bearer <token>")


def is_dashboard_admin() -> bool:
    """Whether the session cookie was issued for the current admin token."""
    token = _configured()
    stored = session.get(SESSION_KEY)
    return token is not None and isinstance(stored, str) and hmac.compare_digest(stored, fingerprint(token))


def login() -> None:
    """Start a fresh session for the admin (a new CSRF token: no session fixation)."""
    token = _configured()
    assert token is not None
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = fingerprint(token)
    session[_CSRF_KEY] = secrets.token_urlsafe(32)


def logout() -> None:
    """End the session."""
    session.clear()


def csrf_token() -> str:
    """This session's CSRF token (created on first use, e.g. for the login form)."""
    token = session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = session[_CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> bool:
    """Whether the submitted form carries this session's CSRF token."""
    expected = session.get(_CSRF_KEY)
    submitted = request.form.get("csrf_token", "")
    return isinstance(expected, str) and hmac.compare_digest(submitted.encode(), expected.encode())


def init_app(app: Flask) -> None:
    """Session cookie settings, and the signing key derived from the admin token."""
    token = app.config.get("ADMIN_TOKEN")
    if not app.config.get("SECRET_KEY"):
        # Without a token nobody can log in; a random key just keeps Flask's session machinery working.
        app.config["SECRET_KEY"] = derive_secret_key(token) if token else secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME="collector_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
