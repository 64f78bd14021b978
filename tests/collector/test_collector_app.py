"""The application factory: configuration, schema creation and connections."""

from __future__ import annotations

import sqlite3

import pytest

import collector_mock
from collector_mock import StoreError, close_connections, create_app
from collector_mock.store import SCHEMA_VERSION


def test_public_surface() -> None:
    assert set(collector_mock.__all__) >= {"create_app", "encode", "decode", "DecodeError", "ENCODING_HEADER"}
    assert collector_mock.ENCODING_HEADER == "X-Payload-Encoding"


def test_schema_is_created_once(tmp_path) -> None:
    path = str(tmp_path / "c.sqlite")
    create_app({"DATABASE": path})
    create_app({"DATABASE": path})  # a second worker on the same file
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    kinds = dict(
        conn.execute(
            "SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND type <> 'index'"
        )
    )
    assert kinds == {
        "reports": "table",
        "devices": "table",
        "networks": "table",
        "erasures": "table",
        "hosts": "view",
        "wifi": "view",
    }
    conn.close()


def test_entries_are_views_of_their_report(tmp_path, make_report) -> None:
    """hosts and wifi read like tables (one row per entry, in order) and go with their report."""
    path = str(tmp_path / "c.sqlite")
    app = create_app({"DATABASE": path})
    report = make_report()
    assert app.test_client().post("/api/v1/report", json=report).status_code == 200
    close_connections(app)
    conn = sqlite3.connect(path)
    assert conn.execute(
        "SELECT seq, mac, hostname, rtt_ms FROM hosts WHERE report_id = 1 ORDER BY seq"
    ).fetchall() == [(i, h["mac"], h["hostname"], h["rtt_ms"]) for i, h in enumerate(report["hosts"])]
    assert conn.execute("SELECT count(*) FROM wifi").fetchone()[0] == 10
    conn.execute("DELETE FROM reports")
    assert conn.execute("SELECT count(*) FROM hosts").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM wifi").fetchone()[0] == 0
    conn.close()


def test_other_schema_version_is_refused(tmp_path) -> None:
    path = str(tmp_path / "old.sqlite")
    sqlite3.connect(path).execute("PRAGMA user_version = 99").connection.close()
    with pytest.raises(StoreError, match=f"schema version 99, expected {SCHEMA_VERSION}"):
        create_app({"DATABASE": path})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"DATABASE": None}, "DATABASE"),
        ({"DATABASE": ":memory:"}, "DATABASE"),
        ({"AES_KEYS": {"gozen": b"short"}}, r"AES_KEYS\['gozen'\] must be 16, 24 or 32 bytes"),
        ({"MAX_DECODED_BYTES": 0}, "MAX_DECODED_BYTES"),
        ({"SYNCHRONOUS": "sometimes"}, "SYNCHRONOUS must be one of"),
    ],
)
def test_bad_config_fails_at_creation(tmp_path, config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_app({"DATABASE": str(tmp_path / "c.sqlite"), **config})


@pytest.mark.parametrize(("mode", "level"), [("FULL", 2), ("NORMAL", 1), ("off", 0)])
def test_requests_use_the_configured_synchronous_mode(tmp_path, make_report, mode: str, level: int) -> None:
    from collector_mock.db import EXTENSION

    app = create_app({"DATABASE": str(tmp_path / "c.sqlite"), "SYNCHRONOUS": mode})
    assert app.test_client().post("/api/v1/report", json=make_report()).status_code == 200
    store = app.extensions[EXTENSION].get()
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == level
    close_connections(app)


def test_str_keys_are_utf8(tmp_path) -> None:
    app = create_app({"DATABASE": str(tmp_path / "c.sqlite"), "AES_KEYS": {"gozen": "gozen-demo-key-1"}})
    assert app.config["AES_KEYS"] == {"gozen": b"gozen-demo-key-1"}


def test_config_from_environment(tmp_path, monkeypatch) -> None:
    """How a gunicorn service starts it: ``create_app()`` with ``COLLECTOR_*`` variables."""
    monkeypatch.setenv("COLLECTOR_DATABASE", str(tmp_path / "env.sqlite"))
    monkeypatch.setenv("COLLECTOR_AES_KEYS", '{"gozen": "0123456789abcdef0123456789abcdef"}')
    monkeypatch.setenv("COLLECTOR_MAX_CONTENT_LENGTH", "2048")
    app = create_app()
    assert app.config["AES_KEYS"] == {"gozen": b"0123456789abcdef0123456789abcdef"}
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    assert (tmp_path / "env.sqlite").exists()


def test_connections_reopen_after_close(app, client, make_report) -> None:
    assert client.post("/api/v1/report", json=make_report()).status_code == 200
    close_connections(app)
    assert client.post("/api/v1/report", json=make_report()).status_code == 200
    close_connections(app)
    assert client.get("/api/v1/reports").json["total"] == 2


def test_one_connection_per_thread(app, client, make_report) -> None:
    import threading

    from collector_mock.db import EXTENSION

    pool = app.extensions[EXTENSION]
    client.post("/api/v1/report", json=make_report())
    client.post("/api/v1/report", json=make_report())
    assert len(pool._open) == 1  # reused across this thread's requests

    statuses: list[int] = []

    def other() -> None:
        statuses.append(app.test_client().post("/api/v1/report", json=make_report()).status_code)

    threads = [threading.Thread(target=other) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 4
    assert client.get("/api/v1/reports").json["total"] == 6
