"""DEFER_COMMITS (the simulator's collector): a checked report is answered at once and stored, exactly as
it would have been, only when ``commit_deferred`` is called; rejections are final at once."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from collector_mock import close_connections, commit_deferred, create_app
from collector_mock import store as store_module
from tests.collector.conftest import BASE_REPORT

ROWS = {
    "reports": "SELECT * FROM reports ORDER BY id",
    "devices": "SELECT * FROM devices ORDER BY home, mac",
    "networks": "SELECT * FROM networks ORDER BY home, bssid",
}


def _app(path: Path, **config: Any) -> Flask:
    return create_app({"DATABASE": str(path), **config})


@pytest.fixture(params=[True, False], ids=["fast", "flask"])
def deferred(request, tmp_path) -> Iterator[Flask]:
    """A deferring collector, through the WSGI fast path and through the Flask view."""
    app = _app(tmp_path / "deferred.sqlite", DEFER_COMMITS=True, FAST_INGEST=request.param)
    yield app
    close_connections(app)


def _post(app: Flask, report: dict[str, Any] | bytes, at: float) -> Any:
    body = report if isinstance(report, bytes) else json.dumps(report).encode()
    return app.test_client().post(
        "/api/v1/report", data=body, content_type="application/json", environ_overrides={"testbed.capture_time": at}
    )


def _rows(path: str | Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {table: conn.execute(sql).fetchall() for table, sql in ROWS.items()}
    finally:
        conn.close()


def _cycles(app: Flask) -> list[int]:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return [c for (c,) in conn.execute("SELECT cycle FROM reports ORDER BY id")]
    finally:
        conn.close()


def _reports(n: int) -> list[dict[str, Any]]:
    """``n`` reports of two homes whose sightings overlap (so the upserts' order matters)."""
    out = []
    for k in range(n):
        report = json.loads(json.dumps(BASE_REPORT))
        report["cycle"] = k + 1
        report["tv"] = dict(report["tv"], home=f"h000{k % 2}", id=f"h000{k % 2}-tv1")
        report["hosts"] = report["hosts"][k % 3 :]
        report["hosts"][0]["hostname"] = f"renamed-{k}"
        out.append(report)
    return out


def test_answers_come_at_once_and_the_rows_only_with_the_commit(deferred: Flask, tmp_path) -> None:
    reports = _reports(5)
    answers = [_post(deferred, r, 1619179200.0 + k) for k, r in enumerate(reports)]
    for report, answer in zip(reports, answers, strict=True):
        assert answer.status_code == 200
        assert answer.json == {"status": "ok", "receipt": hashlib.sha256(json.dumps(report).encode()).hexdigest()[:16]}
        assert "X-Report-Id" not in answer.headers  # not known before the commit
    assert _rows(deferred.config["DATABASE"]) == {"reports": [], "devices": [], "networks": []}

    assert commit_deferred(deferred) == 5
    assert commit_deferred(deferred) == 0  # nothing twice

    # What a collector committing each report as it came stored, row for row (ids and upserts in order).
    direct = _app(tmp_path / "direct.sqlite")
    try:
        for k, report in enumerate(reports):
            assert _post(direct, report, 1619179200.0 + k).headers["X-Report-Id"] == str(k + 1)
    finally:
        close_connections(direct)
    stored = _rows(deferred.config["DATABASE"])
    assert len(stored["reports"]) == 5 and stored == _rows(direct.config["DATABASE"])


def test_the_kept_reports_commit_together_and_a_failure_keeps_them_all_pending(
    deferred: Flask, monkeypatch
) -> None:
    for k, report in enumerate(_reports(3)):
        assert _post(deferred, report, 1619179200.0 + k).status_code == 200
    insert_rows = store_module._insert_rows
    calls: list[str] = []

    def failing_networks(conn, sql, rows):
        calls.append(sql.split()[2])
        if sql.startswith("INSERT INTO networks"):  # the last statement of the transaction
            raise sqlite3.OperationalError("disk I/O error")
        return insert_rows(conn, sql, rows)

    monkeypatch.setattr(store_module, "_insert_rows", failing_networks)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        commit_deferred(deferred)
    assert calls == ["reports", "devices", "networks"]  # one statement per table for the three reports
    assert _cycles(deferred) == []  # rolled back whole: the reports written before it are not kept
    monkeypatch.setattr(store_module, "_insert_rows", insert_rows)
    assert commit_deferred(deferred) == 3  # all three were still pending
    assert _cycles(deferred) == [1, 2, 3]  # in the order they came


def test_rejections_are_answered_at_once_and_keep_nothing(deferred: Flask) -> None:
    bad_ip = json.loads(json.dumps(BASE_REPORT))
    bad_ip["hosts"][2]["ip"] = "192.168.1.300"
    assert _post(deferred, b"{not json", 1.0).status_code == 400
    answer = _post(deferred, bad_ip, 2.0)
    assert answer.status_code == 422 and "hosts.2.ip" in answer.json["detail"]
    assert commit_deferred(deferred) == 0
    assert _rows(deferred.config["DATABASE"])["reports"] == []


def test_closing_drops_what_was_never_committed(deferred: Flask) -> None:
    assert _post(deferred, BASE_REPORT, 1.0).status_code == 200
    close_connections(deferred)  # a run cut short: its answers were never written out
    assert _rows(deferred.config["DATABASE"])["reports"] == []
    assert commit_deferred(deferred) == 0


def test_deferring_is_asked_for(tmp_path, monkeypatch) -> None:
    app = _app(tmp_path / "c.sqlite")
    try:
        with pytest.raises(ValueError, match="DEFER_COMMITS is off"):
            commit_deferred(app)
    finally:
        close_connections(app)
    with pytest.raises(ValueError, match="GROUP_COMMIT and DEFER_COMMITS exclude each other"):
        _app(tmp_path / "d.sqlite", DEFER_COMMITS=True, GROUP_COMMIT=True)
    # A served collector (configured from the environment) would keep reports that nobody commits.
    monkeypatch.setenv("COLLECTOR_DATABASE", str(tmp_path / "e.sqlite"))
    monkeypatch.setenv("COLLECTOR_DEFER_COMMITS", "true")
    with pytest.raises(ValueError, match="cannot be set from the environment"):
        create_app()


