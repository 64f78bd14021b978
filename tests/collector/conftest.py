"""Fixtures for the collector: a fresh app on a temporary database, as in Flask's tutorial."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from collector_mock import ENCODING_HEADER, close_connections, create_app, encode
from collector_mock.app import DEFAULT_CONFIG

KEY = DEFAULT_CONFIG["AES_KEYS"]["gozen"]
IV = bytes(range(16))
ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TABLES = ("reports", "hosts", "wifi", "devices", "networks")

BASE_REPORT: dict[str, Any] = {
    "schema": "gozen/1",
    "sdk": {"name": "gozen", "version": "2.3.7"},
    "tv": {
        "id": "h0003-tv1",
        "home": "h0003",
        "vendor": "Skyworth",
        "model": "55Q71",
        "mac": "a4:5e:60:00:00:01",
        "ip": "192.168.1.23",
    },
    "cycle": 12,
    "collected_at": 1619179200.12,
    "consent": "not_asked",
    "hosts": [
        {
            "ip": f"192.168.1.{10 + i}",
            "mac": f"3c:22:fb:11:22:{i:02x}",
            "hostname": None if i % 4 == 3 else f"device-{i}",
            "rtt_ms": None if i % 5 == 4 else round(1.5 + i * 0.7, 2),
        }
        for i in range(12)
    ],
    "wifi": [
        {
            "ssid": f"ChinaNet-{i:02d}",
            "bssid": f"c8:3a:35:00:00:{i:02x}",
            "rssi": -40 - 3 * i,
            "channel": 1 + i,
        }
        for i in range(10)
    ],
}


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    app = create_app(
        {"DATABASE": str(tmp_path / "collector.sqlite"), "TESTING": True, "ADMIN_TOKEN": ADMIN_TOKEN}
    )
    yield app
    close_connections(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client that sends the admin token with every request (ingest ignores it)."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = ADMIN["Authorization"]
    return client


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A client without any token: what anyone on the network can do."""
    return app.test_client()


@pytest.fixture
def make_report() -> Callable[..., dict[str, Any]]:
    """A fresh copy of the sample report (12 hosts, 10 networks) with top-level keys replaced."""

    def make(**overrides: Any) -> dict[str, Any]:
        report = copy.deepcopy(BASE_REPORT)
        report.update(copy.deepcopy(overrides))
        return report

    return make


@pytest.fixture
def upload(client: FlaskClient) -> Callable[..., TestResponse]:
    """POST a report (a dict, or raw bytes sent as they are) the way the SDK does."""

    def post(
        report: dict[str, Any] | bytes,
        encoding: str | None = "json",
        *,
        key: bytes = KEY,
        content_type: str | None = None,
        environ: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        if isinstance(report, bytes):
            body = report
        else:
            body = encode(json.dumps(report).encode(), encoding or "json", key=key, iv=IV)
        if content_type is None:
            content_type = "application/json" if encoding in (None, "json") else "application/octet-stream"
        all_headers = dict(headers or {})
        if encoding is not None:
            all_headers[ENCODING_HEADER] = encoding
        return client.post(
            "/api/v1/report",
            data=body,
            content_type=content_type,
            headers=all_headers,
            environ_overrides=environ or {},
        )

    return post


@pytest.fixture
def query(app: Flask) -> Callable[..., list[tuple[Any, ...]]]:
    """Run SQL on the app's database through a connection of its own."""

    def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(app.config["DATABASE"])
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    return run


@pytest.fixture
def table_counts(query: Callable[..., list[tuple[Any, ...]]]) -> Callable[[], dict[str, int]]:
    """Rows in every collector table."""

    def counts() -> dict[str, int]:
        return {t: query(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}

    return counts


# -- a simulated run, and a hostile household -----------------------------------------------------------

HOSTILE_SSID = "<script>alert(1)</script>"
HOSTILE_HOSTNAME = '<img src=x onerror="alert(2)">'
HOSTILE_HOME = "h-hostile"


@pytest.fixture(scope="session")
def sim_run(tmp_path_factory) -> Path:
    """A simulated gozen-2021 run (3 households, 1 hour): a real collector.sqlite. Built once."""
    from testbed.run import run_scenario
    from testbed.scenario import load_scenario

    out = tmp_path_factory.mktemp("collector-run") / "run"
    run_scenario(load_scenario("gozen-2021", {"households.count": 3, "duration": "1h"}), out)
    return out


def hostile_report() -> dict[str, Any]:
    """A report whose SSID and hostname are markup (what a neighbour can name a network)."""
    report = copy.deepcopy(BASE_REPORT)
    report["tv"] = dict(report["tv"], home=HOSTILE_HOME, id=f"{HOSTILE_HOME}-tv1")
    report["wifi"][0]["ssid"] = HOSTILE_SSID
    report["hosts"][0]["hostname"] = HOSTILE_HOSTNAME
    return report


@pytest.fixture
def sim_db(sim_run: Path, tmp_path: Path) -> Path:
    """A copy of the run's collector.sqlite (tests may erase from it), plus the hostile household."""
    db = tmp_path / "collector.sqlite"
    shutil.copyfile(sim_run / "collector.sqlite", db)
    app = create_app({"DATABASE": str(db)})
    response = app.test_client().post("/api/v1/report", json=hostile_report())
    assert response.status_code == 200, response.json
    close_connections(app)
    return db
