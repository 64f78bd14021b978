"""``tvtestbed collector serve``: gunicorn, loopback only, a token always, any run's database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector_mock.cli import collector_app
from collector_mock.server import is_loopback
from tests.collector.conftest import ADMIN_TOKEN
from tests.collector.serving import ServedCollector

runner = CliRunner()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("::", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "::"])
def test_serve_refuses_a_public_address_without_public(tmp_path: Path, host: str) -> None:
    result = runner.invoke(collector_app, ["serve", "--db", str(tmp_path / "c.sqlite"), "--host", host])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output and "--public" in result.output
    assert not (tmp_path / "c.sqlite").exists()  # refused before touching anything


def test_serve_needs_exactly_one_database(tmp_path: Path) -> None:
    assert runner.invoke(collector_app, ["serve"]).exit_code == 2
    both = runner.invoke(collector_app, ["serve", "--db", str(tmp_path / "a"), "--run", str(tmp_path)])
    assert both.exit_code == 2
    missing = runner.invoke(collector_app, ["serve", "--run", str(tmp_path)])
    assert missing.exit_code == 2 and "collector.sqlite" in missing.output


def test_serve_refuses_another_schema(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    sqlite3.connect(db).execute("PRAGMA user_version = 1").connection.close()
    result = runner.invoke(collector_app, ["serve", "--db", str(db)])
    assert result.exit_code == 1 and "schema version 1" in result.output


def test_the_testbed_cli_has_the_collector_commands() -> None:
    from testbed.cli import app

    result = runner.invoke(app, ["collector", "serve", "--help"])
    assert result.exit_code == 0 and "--public" in result.output and "--run" in result.output


@pytest.mark.slow
def test_served_collector_of_a_run(sim_db: Path) -> None:
    """Any run's collector.sqlite, under gunicorn: health, ingest, and reads with the token only."""
    import json

    from tests.collector.conftest import hostile_report

    with ServedCollector(sim_db, ADMIN_TOKEN) as server:
        status, headers, body = server.request("GET", "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert server.request("GET", "/api/v1/households")[0] == 401
        before = server.get_json("/api/v1/households")["total"]
        report = hostile_report()
        report["tv"] = dict(report["tv"], home="h-served", id="h-served-tv1")
        status, headers, body = server.request(
            "POST", "/api/v1/report", json.dumps(report).encode(), {"Content-Type": "application/json"}
        )
        assert status == 200 and int(headers["X-Report-Id"]) > 0
        assert server.get_json("/api/v1/households")["total"] == before + 1
        status, headers, _ = server.request("GET", "/", admin=False)
        assert status == 401 and "script-src" not in headers["Content-Security-Policy"]
        assert server.request("GET", "/api/v1/nope", admin=True)[0] == 404


@pytest.mark.slow
def test_serve_makes_up_a_token_when_none_is_set(tmp_path: Path, monkeypatch) -> None:
    """Never open: without COLLECTOR_ADMIN_TOKEN the command prints a random one, which then works."""
    import os
    import re
    import signal
    import subprocess
    import sys

    from tests.collector.serving import ROOT

    env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_ADMIN_TOKEN"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collector_mock",
            "serve",
            "--db",
            str(tmp_path / "c.sqlite"),
            "--port",
            "0",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        token = re.search(r"Admin token .*: (\S+)", lines[1]).group(1)
        url = re.search(r"Dashboard: (\S+)/\?token=", lines[2]).group(1)
        assert len(token) >= 24
        server = ServedCollector(tmp_path / "c.sqlite", token)
        server.url = url
        assert server.request("GET", "/api/v1/stats", admin=True)[0] == 200
        assert server.request("GET", "/api/v1/stats")[0] == 401
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
        proc.stdout.close()
