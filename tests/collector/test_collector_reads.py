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


# -- what the collector knows, household by household ---------------------------------------------------


def test_devices_name_their_vendor(client: FlaskClient, upload, make_report: MakeReport) -> None:
    report = make_report()
    report["hosts"][1]["mac"] = "aa:83:0d:fc:4c:fe"  # randomised (locally administered)
    report["hosts"][2]["mac"] = "5" * 64  # an SDK that hashes identifiers
    assert upload(report).status_code == 200
    devices = {d["mac"]: d for d in client.get("/api/v1/households/h0003/devices").json["devices"]}
    assert (devices["3c:22:fb:11:22:00"]["vendor"], devices["3c:22:fb:11:22:00"]["mac_kind"]) == (
        "Apple, Inc.",
        "universal",
    )
    assert (devices["aa:83:0d:fc:4c:fe"]["vendor"], devices["aa:83:0d:fc:4c:fe"]["mac_kind"]) == (
        None,
        "randomized",
    )
    assert (devices["5" * 64]["vendor"], devices["5" * 64]["mac_kind"]) == (None, "not_a_mac")
    networks = client.get("/api/v1/households/h0003/networks").json["networks"]
    assert {n["mac_kind"] for n in networks} == {"universal"}


def test_device_history_has_every_rtt(client: FlaskClient, upload, make_report: MakeReport) -> None:
    for t, rtt in ((10.0, 1.5), (20.0, None), (30.0, 4.25)):
        report = make_report()
        report["hosts"][0]["rtt_ms"] = rtt
        assert upload(report, environ={"testbed.capture_time": t}).status_code == 200
    device = client.get("/api/v1/households/h0003/devices/3c:22:fb:11:22:00").json
    assert device["household"] == "h0003" and device["sightings"] == 3 and device["vendor"] == "Apple, Inc."
    assert [(s["received_at"], s["rtt_ms"]) for s in device["rtt_history"]] == [
        (10.0, 1.5),
        (20.0, None),
        (30.0, 4.25),
    ]
    assert client.get("/api/v1/households/h0003/devices/00:00:00:00:00:01").status_code == 404


def test_household_summary_and_tv_timeline(client: FlaskClient, three_households: None) -> None:
    h = client.get("/api/v1/households/h0002").json
    assert (h["reports"], h["devices"], h["networks"], h["host_entries"], h["wifi_entries"]) == (
        2,
        12,
        10,
        24,
        20,
    )
    assert [tv["tv_id"] for tv in h["tvs"]] == ["h0002-tv1", "h0002-tv2"]
    assert h["tvs"][0]["reports"] == 1 and h["tvs"][0]["vendor"] == "Skyworth"
    timeline = client.get("/api/v1/tvs/h0002-tv2/timeline").json
    assert timeline["households"] == ["h0002"] and timeline["total"] == 1
    assert timeline["reports"][0]["received_at"] == 3.0 and timeline["reports"][0]["host_count"] == 12


def test_stats_and_reports_per_hour(client: FlaskClient, upload, make_report: MakeReport) -> None:
    for t in (3600 * 100 + 5, 3600 * 100 + 10, 3600 * 102 + 1):
        assert upload(make_report(), environ={"testbed.capture_time": float(t)}).status_code == 200
    stats = client.get("/api/v1/stats").json
    assert (stats["households"], stats["tvs"], stats["reports"], stats["devices"], stats["networks"]) == (
        1,
        1,
        3,
        12,
        10,
    )
    assert [(h["hour"], h["reports"]) for h in stats["reports_per_hour"]] == [
        (3600 * 100, 2),
        (3600 * 101, 0),
        (3600 * 102, 1),
    ]


def test_export_json_and_csv(client: FlaskClient, upload, make_report: MakeReport) -> None:
    report = make_report()
    report["hosts"][0]["hostname"] = '=HYPERLINK("http://evil.example")'
    assert upload(report).status_code == 200
    exported = client.get("/api/v1/households/h0003/export").json
    assert exported["household"]["household"] == "h0003" and len(exported["devices"]) == 12
    assert exported["reports"][0]["hosts"] == report["hosts"]  # verbatim in JSON
    response = client.get("/api/v1/households/h0003/export?format=csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="household-h0003.csv"'
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 22 and {r["kind"] for r in rows} == {"host", "wifi"}
    assert rows[0]["hostname"] == '\'=HYPERLINK("http://evil.example")'  # no formula in a spreadsheet
    assert rows[0]["vendor"] == "Apple, Inc."
    assert client.get("/api/v1/households/h0003/export?format=xml").status_code == 400


def test_search_by_mac_hostname_and_ssid(client: FlaskClient, three_households: None) -> None:
    assert {d["household"] for d in client.get("/api/v1/search?q=3c:22:fb:11:22:05").json["devices"]} == {
        "h0001",
        "h0002",
        "h0003",
    }
    assert len(client.get("/api/v1/search?q=device-1").json["devices"]) == 3 * 2  # device-1, device-10
    assert len(client.get("/api/v1/search?q=chinanet-07").json["networks"]) == 3  # case-insensitive
    assert client.get("/api/v1/search?q=h0002-tv").json["tvs"] == [
        {"household": "h0002", "tv_id": "h0002-tv1", "mac": "a4:5e:60:00:00:01"},
        {"household": "h0002", "tv_id": "h0002-tv2", "mac": "a4:5e:60:00:00:01"},
    ]
    assert client.get("/api/v1/search?q=%25").json["devices"] == []  # % is literal, not a wildcard
    assert client.get("/api/v1/search").status_code == 400


def test_dashboard_pages_render(client: FlaskClient, three_households: None) -> None:
    from tests.collector.conftest import ADMIN_TOKEN

    assert client.get(f"/?token={ADMIN_TOKEN}").status_code == 303
    for url in (
        "/",
        "/households/h0002",
        "/households/h0002/devices/3c:22:fb:11:22:00",
        "/search?q=device",
        "/erasures",
        "/households/h0002/export.json",
        "/households/h0002/export.csv",
        "/?limit=1&offset=1",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get("/households/h0002").get_data(as_text=True)
    assert (
        "3c:22:fb:11:22:00" in page
        and "Apple, Inc." in page
        and "ChinaNet-03" in page
        and "h0002-tv2" in page
    )
    overview = client.get("/").get_data(as_text=True)
    assert overview.count("<rect") == 1 and "h0003" in overview  # all reports fall in one hour
    assert client.get("/households/h9999").status_code == 404
    assert b"<html" in client.get("/households/h9999").data  # an error page on the dashboard, not JSON
