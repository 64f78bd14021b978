"""Durable ingest: SIGKILL the served collector mid-load; every report that got a 2xx is still there.

Clients send reports concurrently over real HTTP on loopback (keep-alive connections, one per thread),
each report marked by (household, cycle). Some are invalid on purpose and must be rejected. While they
send, the whole gunicorn process group (master and workers) is killed with SIGKILL. The server is then
started again on the same database: every acknowledged report is there under the id it was given, no
rejected one is, and the database is intact and consistent. Requests cut off by the kill had no answer,
so either outcome is allowed for them.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from collector_mock.store import Store
from tests.collector.conftest import ADMIN_TOKEN, BASE_REPORT
from tests.collector.serving import ServedCollector

pytestmark = pytest.mark.slow

CLIENTS = 12
MIN_ACKED_BEFORE_KILL = 400


class _Client(threading.Thread):
    """Sends reports on one keep-alive connection until the server goes away."""

    def __init__(self, index: int, port: int, stop: threading.Event) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.port, self.stop = index, port, stop
        self.acked: dict[tuple[str, int], int] = {}  # (home, cycle) -> report id
        self.rejected: set[tuple[str, int]] = set()
        self.unanswered: set[tuple[str, int]] = set()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        home = f"d{self.index:02d}"
        cycle = 0
        while not self.stop.is_set():
            cycle += 1
            invalid = cycle % 7 == 0
            body = json.dumps(_report(home, cycle, invalid)).encode()
            try:
                conn.request("POST", "/api/v1/report", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self.unanswered.add((home, cycle))  # cut off by the kill: no answer, no promise
                return
            if 200 <= response.status < 300:
                assert not invalid
                self.acked[(home, cycle)] = int(response.headers["X-Report-Id"])
            else:
                assert response.status == 422 and invalid, response.status
                self.rejected.add((home, cycle))


def _report(home: str, cycle: int, invalid: bool) -> dict[str, Any]:
    report = json.loads(json.dumps(BASE_REPORT))
    report["tv"] = dict(report["tv"], home=home, id=f"{home}-tv1")
    report["cycle"] = cycle
    if invalid:
        report["wifi"][3]["rssi"] = 5  # dBm above 0: refused with a 422
    return report


def test_every_acknowledged_report_survives_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "collector.sqlite"
    server = ServedCollector(db, ADMIN_TOKEN, workers=2, threads=8)
    server.start()
    stop = threading.Event()
    clients = [_Client(i, server.port, stop) for i in range(CLIENTS)]
    try:
        for client in clients:
            client.start()
        deadline = time.monotonic() + 60
        while sum(len(c.acked) for c in clients) < MIN_ACKED_BEFORE_KILL:
            assert time.monotonic() < deadline, "the load never got going"
            assert any(c.is_alive() for c in clients), "every client stopped"
            time.sleep(0.01)
        server.kill()  # mid-load: the clients are still sending
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=15)
        server.stop()

    acked = {k: v for c in clients for k, v in c.acked.items()}
    rejected = set().union(*(c.rejected for c in clients))
    unanswered = set().union(*(c.unanswered for c in clients))
    assert len(acked) >= MIN_ACKED_BEFORE_KILL and rejected
    assert unanswered, "the kill should have cut some requests off"

    with ServedCollector(db, ADMIN_TOKEN, workers=2) as restarted:
        conn = sqlite3.connect(db)
        try:
            stored = {
                (home, cycle): rid for rid, home, cycle in conn.execute("SELECT id, home, cycle FROM reports")
            }
        finally:
            conn.close()
        missing = {k: v for k, v in acked.items() if stored.get(k) != v}
        assert not missing, (
            f"{len(missing)} acknowledged reports lost or renumbered, e.g. {list(missing.items())[:3]}"
        )
        assert not rejected & stored.keys(), "a rejected report was stored"
        assert set(stored) <= set(acked) | unanswered  # nothing that was never sent
        # The restarted collector serves what it had, and takes new reports.
        total = restarted.get_json("/api/v1/stats")["reports"]
        assert total == len(stored)
        status, _, _ = restarted.request(
            "POST",
            "/api/v1/report",
            json.dumps(_report("d99", 1, False)).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 200

    store = Store.open(db)
    try:
        assert store.verify() == []
    finally:
        store.close()
