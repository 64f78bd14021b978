"""The read API, health check, and JSON errors for unknown routes and methods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

MakeReport = Callable[..., dict[str, Any]]


@pytest.fixture
def three_households(upload, make_report: MakeReport) -> None:
    """h0001 (1 report), h0002 (2 reports from 2 TVs), h0003 (1 report), received at t = 1..4."""
    base_tv = make_report()["tv"]
    sent = [("h0001", "tv1", 1.0), ("h0002", "tv1", 2.0), ("h0002", "tv2", 3.0), ("h0003", "tv1", 4.0)]
    for home, tv, t in sent:
        report = make_report(tv=dict(base_tv, home=home, id=f"{home}-{tv}"))
        assert upload(report, environ={"testbed.capture_time": t}).status_code == 200


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_households_with_counts(client: FlaskClient, three_households: None) -> None:
    body = client.get("/api/v1/households").json
    assert body["total"] == 3 and (body["limit"], body["offset"]) == (100, 0)
    h2 = body["households"][1]
    assert h2 == {
        "household": "h0002",
        "reports": 2,
        "tvs": 2,
        "devices": 12,
        "networks": 10,
        "first_received": 2.0,
        "last_received": 3.0,
        "bytes_received": h2["bytes_received"],
    }
    assert h2["bytes_received"] > 2000
    page = client.get("/api/v1/households?limit=1&offset=2").json
    assert [h["household"] for h in page["households"]] == ["h0003"] and page["total"] == 3


def test_reports_are_paged_newest_first(client: FlaskClient, three_households: None) -> None:
    body = client.get("/api/v1/reports?limit=2").json
    assert [r["id"] for r in body["reports"]] == [4, 3] and body["total"] == 4
    assert body["reports"][0]["host_count"] == 12 and body["reports"][0]["wifi_count"] == 10
    body = client.get("/api/v1/reports?household=h0002&limit=1&offset=1").json
    assert [r["id"] for r in body["reports"]] == [2] and body["total"] == 2
    assert client.get("/api/v1/reports?household=").json["total"] == 4  # an empty filter is no filter
    assert client.get("/api/v1/reports?tv=h0002-tv2").json["total"] == 1


def test_one_report(client: FlaskClient, three_households: None, make_report: MakeReport) -> None:
    report = client.get("/api/v1/reports/3").json
    assert (report["household"], report["tv_id"], report["received_at"]) == ("h0002", "h0002-tv2", 3.0)
    assert report["hosts"] == make_report()["hosts"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports?limit=0",
        "/api/v1/reports?limit=1001",
        "/api/v1/reports?offset=-1",
        "/api/v1/households?limit=ten",
    ],
)
def test_bad_paging_is_400(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400 and response.json["error"] == "bad_request"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/99",
        "/api/v1/households/h9999",
        "/api/v1/households/h9999/devices",
        "/api/v1/households/h9999/networks",
        "/api/v1/households/h9999/export",
        "/api/v1/tvs/h9999-tv1/timeline",
        "/nowhere",
    ],
)
def test_not_found_is_json(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404 and response.is_json and response.json["error"] == "not_found"


def test_method_not_allowed_is_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/report")
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_unexpected_errors_are_json(app, client: FlaskClient) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail")

    app.logger.disabled = True
    response = client.get("/boom")
    assert response.status_code == 500 and response.json["error"] == "internal_error"
    assert b"secret detail" not in response.data and b"Traceback" not in response.data


def test_admin_routes_are_their_own_blueprints(app) -> None:
    """Every route that reads or erases data sits in a blueprint whose before_request demands the token."""
    from collector_mock.auth import require_bearer

    for name in ("reads", "erasure"):
        assert require_bearer in app.before_request_funcs[name]
    api = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    open_routes = {"/api/v1/report", "/api/v1/openapi.json"}
    guarded = {r.rule for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in ("reads", "erasure")}
    assert api == open_routes | guarded
