"""Erasure, as Skyworth demanded of Gozen: delete a household's or a TV's data, log it, and prove it.

``DELETE /api/v1/households/<id>`` removes every report of the household and its derived rows;
``DELETE /api/v1/tvs/<id>`` removes one TV's reports and rebuilds its households' derived rows from the
reports that remain. Each erasure is one transaction with SQLite's ``secure_delete`` on (freed pages are
zeroed) and writes an audit entry (who: the token's fingerprint; when; what; row counts).
``GET .../erasure-check`` counts the rows that still hold data about the subject, in every table and
view; ``clean`` is true when all are zero. The audit log itself keeps the erased id: it is the record
that the erasure happened, not data about the home.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from werkzeug.exceptions import NotFound

from .auth import actor, require_bearer
from .db import get_store
from .reads import page_args

__all__ = ["bp", "erasure_check", "erase"]

bp = Blueprint("erasure", __name__, url_prefix="/api/v1")
bp.before_request(require_bearer)


def erase(kind: str, subject: str) -> dict[str, Any] | None:
    """Erase a household or a TV as the current admin; the audit entry, or None if nothing was known."""
    store = get_store()
    if kind == "household":
        return store.erase_household(subject, actor=actor())
    return store.erase_tv(subject, actor=actor())


def erasure_check(kind: str, subject: str) -> dict[str, Any]:
    """``{"subject_kind", "subject", "clean", "residual_rows": {table: n}, "erasures": [...]}``."""
    store = get_store()
    residual = store.residual_rows(kind, subject)
    return {
        "subject_kind": kind,
        "subject": subject,
        "clean": not any(residual.values()),
        "residual_rows": residual,
        "erasures": store.erasures(kind=kind, subject=subject),
    }


def _erased(kind: str, subject: str) -> dict[str, Any]:
    entry = erase(kind, subject)
    if entry is None:
        raise NotFound(f"the collector holds no data about {kind} {subject!r}")
    return {"erased": entry}


@bp.delete("/households/<household>")
def erase_household(household: str) -> dict[str, Any]:
    """Erase one household; ``{"erased": <audit entry>}``, 404 if nothing was known about it."""
    return _erased("household", household)


@bp.delete("/tvs/<tv>")
def erase_tv(tv: str) -> dict[str, Any]:
    """Erase one TV's reports; ``{"erased": <audit entry>}``, 404 if nothing was known about it."""
    return _erased("tv", tv)


@bp.get("/households/<household>/erasure-check")
def household_erasure_check(household: str) -> dict[str, Any]:
    """Rows still holding data about ``household``, per table."""
    return erasure_check("household", household)


@bp.get("/tvs/<tv>/erasure-check")
def tv_erasure_check(tv: str) -> dict[str, Any]:
    """Rows still holding data about ``tv``, per table."""
    return erasure_check("tv", tv)


@bp.get("/erasures")
def list_erasures() -> dict[str, Any]:
    """The audit log of erasures, newest first."""
    limit, offset = page_args()
    store = get_store()
    return {
        "erasures": store.erasures(limit=limit, offset=offset),
        "total": store.count_erasures(),
        "limit": limit,
        "offset": offset,
    }
