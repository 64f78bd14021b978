"""The dashboard: server-rendered pages of what the collector knows (Jinja2, no JavaScript at all).

Pages: the overview (``/``), a household (what the collector knows about this home), a device's history,
search by MAC, hostname or SSID, and the erasure log. Erasing is a POST form with a CSRF token. Access
needs the admin session (see ``collector_mock.auth``); without it every page answers 401 with the login
form. Everything that came from a report is escaped by Jinja2's autoescaping (never ``|safe``), and the
Content-Security-Policy forbids scripts outright, so a hostile SSID renders as text.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response as BaseResponse

from . import auth
from .db import get_store
from .erasure import erase
from .export import export_filename, household_csv, household_json
from .reads import MAX_QUERY, page_args

__all__ = ["bar_chart", "bp", "human_bytes", "utc"]

bp = Blueprint("dashboard", __name__)

TIMELINE_ROWS = 200
_PUBLIC = frozenset({"dashboard.login", "dashboard.login_submit", "dashboard.logout"})


def _login_page(status: int = 401, message: str | None = None) -> BaseResponse:
    return Response(
        render_template(
            "login.html",
            next=_safe_next(_here() if request.method == "GET" else None),
            message=message,
            configured=bool(current_app.config.get("ADMIN_TOKEN")),
        ),
        status=status,
    )


@bp.before_request
def _require_admin() -> BaseResponse | None:
    if request.endpoint in _PUBLIC:
        return None
    token = request.args.get("token")
    if token is not None:
        if not auth.token_matches(token):
            return _login_page(message="That token is not the admin token.")
        auth.login()
        # Take the token out of the address bar (and of the history) at once.
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        return redirect(_here(args), code=303)
    if not auth.is_dashboard_admin():
        return _login_page()
    return None


def _here(args: list[tuple[str, str]] | None = None) -> str:
    """This page's address (the decoded path quoted again), with ``args`` or the request's own."""
    path = quote(request.script_root + request.path)
    query = urlencode(args) if args is not None else request.query_string.decode("latin-1")
    return path + ("?" + query if query else "")


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never "//evil.example" or "https://...".
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("dashboard.overview")
    return target.rstrip("?")


def _require_csrf() -> None:
    if not auth.check_csrf():
        raise BadRequest("the form's CSRF token is missing or wrong; reload the page and try again")


# -- login ------------------------------------------------------------------------------------------


@bp.get("/login")
def login() -> BaseResponse:
    """The login form."""
    if auth.is_dashboard_admin():
        return redirect(_safe_next(request.args.get("next")), code=303)
    return _login_page(status=200)


@bp.post("/login")
def login_submit() -> BaseResponse:
    """Check the submitted token; on success start the session and go where the admin was going."""
    if not auth.check_csrf():
        return _login_page(status=400, message="The form expired; please try again.")
    if not auth.token_matches(request.form.get("token", "")):
        return _login_page(message="That token is not the admin token.")
    auth.login()
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session."""
    if auth.check_csrf():
        auth.logout()
    return redirect(url_for("dashboard.login"), code=303)


# -- pages ------------------------------------------------------------------------------------------


def bar_chart(points: list[tuple[str, float]], width: int = 720, height: int = 120) -> dict[str, Any]:
    """Geometry of a bar chart of ``(title, value)`` points, drawn as SVG by the template (no script)."""
    peak = max((value for _, value in points), default=0) or 1
    step = width / max(len(points), 1)
    bars = []
    for i, (title, value) in enumerate(points):
        bar_height = round(value / peak * (height - 14), 1)
        bars.append(
            {
                "x": round(i * step + 1, 1),
                "y": round(height - bar_height, 1),
                "width": max(round(step - 2, 1), 1),
                "height": bar_height,
                "title": title,
            }
        )
    return {"bars": bars, "width": width, "height": height, "peak": peak}


@bp.get("/")
def overview() -> str:
    """Totals, reports per hour, and the households the collector knows."""
    limit, offset = page_args()
    store = get_store()
    per_hour = store.reports_per_hour()
    return render_template(
        "overview.html",
        totals=store.totals(),
        per_hour=per_hour,
        chart=bar_chart([(f"{utc(h['hour'])}: {h['reports']} reports", h["reports"]) for h in per_hour]),
        households=store.households(limit=limit, offset=offset),
        total=store.count_households(),
        limit=limit,
        offset=offset,
    )


@bp.get("/households/<household>")
def household(household: str) -> str:
    """What the collector knows about this home."""
    store = get_store()
    summary = store.household(household)
    if summary is None:
        raise NotFound(f"the collector holds nothing about household {household!r}")
    return render_template(
        "household.html",
        h=summary,
        devices=store.devices(household),
        networks=store.networks(household),
        timeline=store.reports(home=household, limit=TIMELINE_ROWS),
        timeline_rows=TIMELINE_ROWS,
    )


@bp.get("/households/<household>/devices/<path:mac>")
def device(household: str, mac: str) -> str:
    """One device: vendor, names, and its IP and RTT at every sighting."""
    found = get_store().device(household, mac)
    if found is None:
        raise NotFound(f"no device {mac!r} in household {household!r}")
    rtts = [s["rtt_ms"] for s in found["rtt_history"] if s["rtt_ms"] is not None]
    chart = bar_chart(
        [(f"{utc(s['received_at'])}: {s['rtt_ms']} ms", s["rtt_ms"] or 0) for s in found["rtt_history"]]
    )
    return render_template("device.html", household=household, d=found, chart=chart, rtts=rtts)


@bp.get("/households/<household>/export.<fmt>")
def export(household: str, fmt: str) -> BaseResponse:
    """Download the household's export (``json`` or ``csv``)."""
    store = get_store()
    if fmt == "json":
        data = household_json(store, household)
        if data is None:
            raise NotFound(f"the collector holds nothing about household {household!r}")
        response: BaseResponse = Response(
            json.dumps(data, indent=1, ensure_ascii=False), mimetype="application/json"
        )
    elif fmt == "csv":
        text = household_csv(store, household)
        if text is None:
            raise NotFound(f"the collector holds nothing about household {household!r}")
        response = Response(text, mimetype="text/csv")
    else:
        raise NotFound("export formats: json, csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(household, fmt)}"'
    return response


@bp.post("/households/<household>/erase")
def erase_household(household: str) -> BaseResponse:
    """Erase a household (form with CSRF token and a confirmation box), then back to the overview."""
    _require_csrf()
    if request.form.get("confirm") != "yes":
        flash("Tick the confirmation box to erase.", "error")
        return redirect(url_for("dashboard.household", household=household), code=303)
    entry = erase("household", household)
    if entry is None:
        raise NotFound(f"the collector holds nothing about household {household!r}")
    flash(f"Household {household} erased: {_rows(entry)}.", "ok")
    return redirect(url_for("dashboard.overview"), code=303)


@bp.post("/tvs/<tv>/erase")
def erase_tv(tv: str) -> BaseResponse:
    """Erase one TV's data, then back to its household (or the overview if nothing is left)."""
    _require_csrf()
    store = get_store()
    households = store.tv_households(tv)
    if request.form.get("confirm") != "yes":
        flash("Tick the confirmation box to erase.", "error")
    else:
        entry = erase("tv", tv)
        if entry is None:
            raise NotFound(f"the collector holds nothing about TV {tv!r}")
        flash(f"TV {tv} erased: {_rows(entry)}.", "ok")
    remaining = [h for h in households if store.has_household(h)]
    if remaining:
        return redirect(url_for("dashboard.household", household=remaining[0]), code=303)
    return redirect(url_for("dashboard.overview"), code=303)


def _rows(entry: dict[str, Any]) -> str:
    return ", ".join(f"{entry[k]} {k}" for k in ("reports", "hosts", "wifi", "devices", "networks"))


@bp.get("/search")
def search() -> str:
    """Find households by a device's MAC or hostname, a network's SSID or BSSID, or a TV."""
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise BadRequest(f"the search text must be at most {MAX_QUERY} characters long")
    results = get_store().search(q) if q else None
    return render_template("search.html", q=q, results=results)


@bp.get("/erasures")
def erasures() -> str:
    """The erasure audit log."""
    limit, offset = page_args()
    store = get_store()
    return render_template(
        "erasures.html",
        erasures=store.erasures(limit=limit, offset=offset),
        total=store.count_erasures(),
        limit=limit,
        offset=offset,
    )


def utc(ts: float | None) -> str:
    """Epoch seconds as ``2021-04-23 12:00:00 UTC``."""
    if ts is None:
        return "–"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def human_bytes(n: float | None) -> str:
    """``12.3 kB``."""
    value = float(n or 0)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@bp.app_template_global()
def csrf_token() -> str:
    """The session's CSRF token, for forms."""
    return auth.csrf_token()


@bp.app_template_global()
def is_admin() -> bool:
    """Whether the page is shown to the logged-in admin (the navigation is)."""
    return auth.is_dashboard_admin()


@bp.record_once
def _register_filters(state: Any) -> None:
    state.app.add_template_filter(utc, "utc")
    state.app.add_template_filter(human_bytes, "bytes")
