"""The read API: what the collector knows, household by household. Needs the admin token (Bearer).

Values are returned as stored, SSIDs and hostnames included: whoever renders them as HTML must escape.
Household and TV ids are path segments, so an id containing "/" cannot be addressed here (the SDK's
own ids never do); such data is still listed, exported with its household, and erasable by TV.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest, NotFound

from .auth import require_bearer
from .db import get_store
from .export import export_filename, household_csv, household_json

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_OFFSET", "MAX_QUERY", "bp", "int_arg", "page_args"]

bp = Blueprint("reads", __name__, url_prefix="/api/v1")
bp.before_request(require_bearer)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_QUERY = 128
MAX_OFFSET = 2**62
MAX_ID = 2**63 - 1


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """An integer query argument within [low, high]; 400 naming it otherwise."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, got {value}")
    return value


def page_args() -> tuple[int, int]:
    """``(limit, offset)`` from the query string."""
    return int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), int_arg("offset", 0, 0, MAX_OFFSET)


def _known(household: str) -> str:
    if not get_store().has_household(household):
        raise NotFound(f"no report from household {household!r}")
    return household


@bp.get("/stats")
def stats() -> dict[str, object]:
    """Totals and reports per hour over the last 48 hours that hold data."""
    store = get_store()
    return {**store.totals(), "reports_per_hour": store.reports_per_hour()}


@bp.get("/households")
def list_households() -> dict[str, object]:
    """``{"households": [...by id], "total", "limit", "offset"}``."""
    limit, offset = page_args()
    store = get_store()
    return {
        "households": store.households(limit=limit, offset=offset),
        "total": store.count_households(),
        "limit": limit,
        "offset": offset,
    }


@bp.get("/households/<household>")
def one_household(household: str) -> dict[str, object]:
    """One household's summary, with its TVs; 404 if unknown."""
    summary = get_store().household(household)
    if summary is None:
        raise NotFound(f"no report from household {household!r}")
    return summary


@bp.get("/households/<household>/devices")
def household_devices(household: str) -> dict[str, object]:
    """``{"household", "devices": [{mac, vendor, mac_kind, ip, hostname, first_seen, last_seen, sightings}]}``."""
    return {"household": household, "devices": get_store().devices(_known(household))}


@bp.get("/households/<household>/devices/<path:mac>")
def household_device(household: str, mac: str) -> dict[str, object]:
    """One device with its ``rtt_history`` (IP and RTT at each sighting); 404 if unknown."""
    device = get_store().device(household, mac)
    if device is None:
        raise NotFound(f"no device {mac!r} in household {household!r}")
    return {"household": household, **device}


@bp.get("/households/<household>/networks")
def household_networks(household: str) -> dict[str, object]:
    """``{"household", "networks": [{bssid, ssid, vendor, mac_kind, first_seen, last_seen, sightings}]}``."""
    return {"household": household, "networks": get_store().networks(_known(household))}


@bp.get("/households/<household>/export")
def export_household(household: str) -> Response | dict[str, object]:
    """Everything about one household: ``?format=json`` (default) or ``?format=csv``."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest(f"format must be json or csv, got {fmt[:20]!r}")
    store = get_store()
    data = household_json(store, household) if fmt == "json" else household_csv(store, household)
    if data is None:
        raise NotFound(f"no report from household {household!r}")
    if fmt == "json":
        return data  # type: ignore[return-value]
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(household, "csv")}"'
    return response


@bp.get("/reports")
def list_reports() -> dict[str, object]:
    """``{"reports": [...newest first], "total", "limit", "offset"}``, optionally ``?household=`` and ``?tv=``."""
    limit, offset = page_args()
    household = request.args.get("household") or None
    tv = request.args.get("tv") or None
    store = get_store()
    return {
        "reports": store.reports(home=household, tv_id=tv, limit=limit, offset=offset),
        "total": store.count_reports(home=household, tv_id=tv),
        "limit": limit,
        "offset": offset,
    }


@bp.get("/reports/<int:report_id>")
def one_report(report_id: int) -> dict[str, object]:
    """One report with its ``hosts`` and ``wifi`` as sent; 404 if there is none with that id."""
    # Werkzeug's int converter has no upper bound; SQLite's INTEGER has.
    report = get_store().report(report_id) if report_id <= MAX_ID else None
    if report is None:
        raise NotFound(f"no report with id {report_id}")
    return report


@bp.get("/tvs/<tv>/timeline")
def tv_timeline(tv: str) -> dict[str, object]:
    """One TV's reports in the order received, paged; 404 if unknown."""
    limit, offset = page_args()
    store = get_store()
    households = store.tv_households(tv)
    if not households:
        raise NotFound(f"no report from TV {tv!r}")
    return {
        "tv": tv,
        "households": households,
        "reports": store.tv_timeline(tv, limit=limit, offset=offset),
        "total": store.count_reports(tv_id=tv),
        "limit": limit,
        "offset": offset,
    }


@bp.get("/search")
def search() -> dict[str, object]:
    """Devices, networks and TVs whose MAC, hostname, IP, SSID or id contains ``q``."""
    q = request.args.get("q", "")
    if not 1 <= len(q) <= MAX_QUERY:
        raise BadRequest(f"q must be 1 to {MAX_QUERY} characters long")
    limit = int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return {"q": q, **get_store().search(q, limit=limit)}
