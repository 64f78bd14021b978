"""POST /api/v1/report: every encoding stores exactly what was sent; every rejection stores nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from collector_mock import ENCODING_HEADER, close_connections, create_app, encode, store
from collector_mock.app import DEFAULT_CONFIG
from collector_mock.store import Store

KEY = DEFAULT_CONFIG["AES_KEYS"]["gozen"]  # what the SDK is configured with by default
IV = b"\x07" * 16

MakeReport = Callable[..., dict[str, Any]]


@pytest.fixture(params=["fast", "flask", "group-commit"])
def app(request, tmp_path):
    """Every ingest test runs through each front end: the WSGI fast path, the Flask view, group commit."""
    from tests.collector.conftest import ADMIN_TOKEN

    config = {"DATABASE": str(tmp_path / "collector.sqlite"), "TESTING": True, "ADMIN_TOKEN": ADMIN_TOKEN}
    config["FAST_INGEST"] = request.param != "flask"
    config["GROUP_COMMIT"] = request.param == "group-commit"
    app = create_app(config)
    yield app
    close_connections(app)


EMPTY = {"reports": 0, "hosts": 0, "wifi": 0, "devices": 0, "networks": 0}
ENCODINGS = ["json", "gzip", "base64", "aes", "gzip+aes", "gzip+base64", "gzip+aes+base64"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_stores_exactly_what_was_sent(
    encoding: str, upload, make_report: MakeReport, query, client: FlaskClient
) -> None:
    report = make_report()
    body = encode(json.dumps(report).encode(), encoding, key=KEY, iv=IV)
    response = upload(body, encoding)
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ok", "receipt": hashlib.sha256(body).hexdigest()[:16]}
    assert response.headers["X-Report-Id"] == "1"

    hosts = query("SELECT ip, mac, hostname, rtt_ms FROM hosts WHERE report_id = 1 ORDER BY rowid")
    assert hosts == [(h["ip"], h["mac"], h["hostname"], h["rtt_ms"]) for h in report["hosts"]]
    wifi = query("SELECT ssid, bssid, rssi, channel FROM wifi WHERE report_id = 1 ORDER BY rowid")
    assert wifi == [(w["ssid"], w["bssid"], w["rssi"], w["channel"]) for w in report["wifi"]]
    (row,) = query(
        "SELECT home, tv_id, sdk_name, sdk_version, cycle, collected_at, consent, encoding, "
        "body_bytes, remote_addr, tv_mac FROM reports"
    )
    assert row == (
        "h0003",
        "h0003-tv1",
        "gozen",
        "2.3.7",
        12,
        1619179200.12,
        "not_asked",
        encoding,
        len(body),
        "127.0.0.1",
        "a4:5e:60:00:00:01",
    )

    stored = client.get("/api/v1/reports/1").json
    assert stored["hosts"] == report["hosts"]
    assert stored["wifi"] == report["wifi"]
    assert stored["encoding"] == encoding


def test_encoding_defaults_to_json(upload, make_report: MakeReport, query) -> None:
    assert upload(make_report(), encoding=None).status_code == 200
    assert query("SELECT encoding FROM reports") == [("json",)]


def test_either_content_type_is_accepted(upload, make_report: MakeReport) -> None:
    body = encode(json.dumps(make_report()).encode(), "gzip")
    assert upload(body, "gzip", content_type="application/json").status_code == 200
    assert upload(make_report(), "json", content_type="application/json; charset=utf-8").status_code == 200


def test_raw_wsgi_call_with_capture_time(app: Flask, make_report: MakeReport, query) -> None:
    """The simulator calls the WSGI app directly, passing its virtual clock in the environ."""
    import io

    body = json.dumps(make_report()).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/report",
        "SERVER_NAME": "gz-data.com",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "testbed.capture_time": 1619179260.5,
    }
    status: list[str] = []
    chunks = app(environ, lambda s, h, e=None: status.append(s))
    assert status == ["200 OK"] and json.loads(b"".join(chunks))["status"] == "ok"
    assert query("SELECT received_at, remote_addr FROM reports") == [(1619179260.5, "198.51.100.1")]


def test_receive_time_comes_from_the_environ(upload, make_report: MakeReport, query) -> None:
    assert upload(make_report(), environ={"testbed.capture_time": 1619179300.25}).status_code == 200
    assert query("SELECT received_at FROM reports") == [(1619179300.25,)]
    assert query("SELECT DISTINCT first_seen, last_seen FROM devices") == [(1619179300.25, 1619179300.25)]


def test_receive_time_cannot_be_set_by_a_header(upload, make_report: MakeReport, query) -> None:
    before = time.time()
    assert (
        upload(make_report(), headers={"testbed.capture_time": "1", "Testbed-Capture-Time": "1"}).status_code
        == 200
    )
    (received_at,) = query("SELECT received_at FROM reports")[0]
    assert before <= received_at <= time.time()


# -- rejections ---------------------------------------------------------------------------------------


def _gzip_truncated(report: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(report).encode(), mtime=0)[:-20]


REJECTIONS = {
    "bad base64": (lambda r: b"%%% not base64 %%%", "base64", {}, 400, "undecodable", "invalid base64"),
    "wrong aes key": (
        lambda r: encode(json.dumps(r).encode(), "gzip+aes", key=b"not-the-key-1234", iv=IV),
        "gzip+aes",
        {},
        400,
        "undecodable",
        "AES decryption failed",
    ),
    "truncated gzip": (_gzip_truncated, "gzip", {}, 400, "undecodable", "truncated"),
    "unknown encoding": (lambda r: b"xx", "brotli", {}, 400, "undecodable", "unknown encoding layer"),
    "invalid json": (lambda r: b'{"schema": ', "json", {}, 400, "invalid_json", "not valid JSON"),
    "not utf-8": (lambda r: b"\xff\xfe{}", "json", {}, 400, "invalid_json", "not valid JSON"),
    "text/plain": (
        lambda r: json.dumps(r).encode(),
        "json",
        {"content_type": "text/plain"},
        415,
        "unsupported_media_type",
        "'text/plain'",
    ),
    "form": (
        lambda r: b"a=1",
        "json",
        {"content_type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
        "Content-Type must be",
    ),
    "too large": (
        lambda r: b"{" + b" " * (1024 * 1024),
        "json",
        {},
        413,
        "payload_too_large",
        "1048576 bytes",
    ),
    "schema": (
        lambda r: json.dumps({**r, "hosts": [*r["hosts"][:3], {"ip": "192.168.1.9"}]}).encode(),
        "json",
        {},
        422,
        "invalid_report",
        "hosts.3.mac: field required",
    ),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_rejections_are_json_and_store_nothing(
    case: str, upload, make_report: MakeReport, table_counts
) -> None:
    make_body, encoding, kwargs, status, error, detail = REJECTIONS[case]
    response = upload(make_body(make_report()), encoding, **kwargs)
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    assert response.json["error"] == error
    assert detail in response.json["detail"]
    assert table_counts() == EMPTY


def test_missing_content_type_is_415(client: FlaskClient, table_counts) -> None:
    response = client.post("/api/v1/report", data=b"{}")
    assert response.status_code == 415 and response.json["error"] == "unsupported_media_type"
    assert table_counts() == EMPTY


def test_422_lists_every_field_path(upload, make_report: MakeReport) -> None:
    report = make_report()
    del report["hosts"][3]["mac"]
    report["wifi"][2]["rssi"] = "strong"
    response = upload(report)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json["errors"]] == ["hosts.3.mac", "wifi.2.rssi"]
    assert response.json["detail"].startswith("hosts.3.mac: field required; wifi.2.rssi: ")


def test_decompression_bomb_is_400(tmp_path, make_report: MakeReport) -> None:
    app = create_app({"DATABASE": str(tmp_path / "c.sqlite"), "MAX_DECODED_BYTES": 64 * 1024})
    body = gzip.compress(b" " * (1024 * 1024), mtime=0)
    response = app.test_client().post(
        "/api/v1/report",
        data=body,
        content_type="application/octet-stream",
        headers={ENCODING_HEADER: "gzip"},
    )
    assert response.status_code == 400 and "more than 65536 bytes" in response.json["detail"]
    close_connections(app)


def test_storage_failure_rolls_back_and_answers_500(
    upload, make_report: MakeReport, table_counts, app: Flask, query
) -> None:
    """A failure in the last step of storing (the Wi-Fi profile) leaves nothing of the report behind."""
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute(
        "CREATE TRIGGER fail BEFORE INSERT ON networks BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    conn.commit()
    app.logger.disabled = True  # the expected traceback would only clutter the output
    response = upload(make_report())
    assert response.status_code == 500
    assert response.json == {
        "error": "internal_error",
        "detail": "the collector failed to process the request",
    }
    assert table_counts() == EMPTY
    conn.execute("DROP TRIGGER fail")
    conn.commit()
    conn.close()
    assert upload(make_report()).status_code == 200  # the thread's connection is usable again
    assert table_counts()["reports"] == 1


def test_busy_database_answers_503(monkeypatch, app: Flask, make_report: MakeReport, table_counts) -> None:
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 20)
    blocker = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = app.test_client().post("/api/v1/report", json=make_report())
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json["error"] == "busy" and table_counts() == EMPTY
    assert app.test_client().post("/api/v1/report", json=make_report()).status_code == 200


def test_second_aes_key_is_found(tmp_path, make_report: MakeReport) -> None:
    keys = {"gozen": KEY, "other": "another-sdk-key-0123456789abcdef"}
    app = create_app({"DATABASE": str(tmp_path / "k.sqlite"), "AES_KEYS": keys})
    report = make_report(sdk={"name": "other", "version": "1.0"})
    for encoding in ("aes", "gzip+aes+base64"):
        body = encode(json.dumps(report).encode(), encoding, key=keys["other"].encode(), iv=IV)
        response = app.test_client().post(
            "/api/v1/report",
            data=body,
            content_type="application/octet-stream",
            headers={ENCODING_HEADER: encoding},
        )
        assert response.status_code == 200, response.json
    close_connections(app)


# -- derived tables -----------------------------------------------------------------------------------


def test_devices_and_networks_accumulate_sightings(
    upload, make_report: MakeReport, client: FlaskClient
) -> None:
    first = make_report()
    second = make_report(cycle=13, hosts=first["hosts"][:6], wifi=first["wifi"][:4])
    second["hosts"][0]["ip"] = "192.168.1.200"  # DHCP gave it a new address
    second["hosts"][1]["hostname"] = None  # the name lookup failed this time
    second["wifi"][0]["ssid"] = "Renamed"
    second["wifi"][1]["ssid"] = ""  # a hidden beacon does not erase the name
    assert upload(first, environ={"testbed.capture_time": 1000.0}).status_code == 200
    assert upload(second, "gzip+aes", environ={"testbed.capture_time": 1600.0}).status_code == 200

    devices = {d["mac"]: d for d in client.get("/api/v1/households/h0003/devices").json["devices"]}
    assert len(devices) == 12
    d0, d1, d11 = devices["3c:22:fb:11:22:00"], devices["3c:22:fb:11:22:01"], devices["3c:22:fb:11:22:0b"]
    assert (d0["first_seen"], d0["last_seen"], d0["sightings"], d0["ip"]) == (
        1000.0,
        1600.0,
        2,
        "192.168.1.200",
    )
    assert (d1["hostname"], d1["sightings"]) == ("device-1", 2)
    assert (d11["first_seen"], d11["last_seen"], d11["sightings"]) == (1000.0, 1000.0, 1)

    networks = {n["bssid"]: n for n in client.get("/api/v1/households/h0003/networks").json["networks"]}
    assert len(networks) == 10
    n0, n1, n9 = networks["c8:3a:35:00:00:00"], networks["c8:3a:35:00:00:01"], networks["c8:3a:35:00:00:09"]
    assert (n0["ssid"], n0["first_seen"], n0["last_seen"], n0["sightings"]) == ("Renamed", 1000.0, 1600.0, 2)
    assert n1["ssid"] == "ChinaNet-01"
    assert (n9["last_seen"], n9["sightings"]) == (1000.0, 1)


def test_a_late_report_does_not_overwrite_newer_data(upload, make_report: MakeReport, query) -> None:
    newer, older = make_report(), make_report(cycle=11)
    older["hosts"][0]["ip"] = "192.168.1.99"
    assert upload(newer, environ={"testbed.capture_time": 2000.0}).status_code == 200
    assert upload(older, environ={"testbed.capture_time": 1000.0}).status_code == 200  # a late retry
    assert query(
        "SELECT ip, first_seen, last_seen, sightings FROM devices WHERE mac = '3c:22:fb:11:22:00'"
    ) == [("192.168.1.10", 1000.0, 2000.0, 2)]


def test_a_mac_twice_in_one_report_is_one_sighting(upload, make_report: MakeReport, query) -> None:
    report = make_report()
    report["hosts"].append(dict(report["hosts"][0], ip="192.168.1.77"))
    assert upload(report).status_code == 200
    assert query("SELECT count(*) FROM hosts") == [(13,)]
    assert query("SELECT ip, sightings FROM devices WHERE mac = '3c:22:fb:11:22:00'") == [("192.168.1.77", 1)]


def test_homes_are_kept_apart(upload, make_report: MakeReport, query) -> None:
    upload(make_report())
    other = make_report(tv=dict(make_report()["tv"], home="h0004", id="h0004-tv1"))
    upload(other)
    assert query("SELECT home, count(*) FROM devices GROUP BY home") == [("h0003", 12), ("h0004", 12)]


def test_hostile_ssid_is_stored_verbatim(upload, make_report: MakeReport, query, client: FlaskClient) -> None:
    report = make_report()
    report["wifi"][0]["ssid"] = "<script>alert(1)</script>"
    assert upload(report, "gzip+aes").status_code == 200
    assert query("SELECT ssid FROM wifi WHERE bssid = 'c8:3a:35:00:00:00'") == [
        ("<script>alert(1)</script>",)
    ]
    assert query("SELECT ssid FROM networks WHERE bssid = 'c8:3a:35:00:00:00'") == [
        ("<script>alert(1)</script>",)
    ]
    response = client.get("/api/v1/reports/1")
    assert response.json["wifi"][0]["ssid"] == "<script>alert(1)</script>"
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_store_can_be_used_without_flask(app: Flask, make_report: MakeReport) -> None:
    from collector_mock.schema import parse_report

    s = Store.open(app.config["DATABASE"])
    try:
        rid = s.add_report(
            parse_report(json.dumps(make_report()).encode()),
            received_at=5.0,
            encoding="json",
            remote_addr=None,
            body_bytes=1,
        )
        assert s.report(rid)["hosts"][0]["mac"] == "3c:22:fb:11:22:00"
        assert s.count_reports(home="h0003") == 1
    finally:
        s.close()
