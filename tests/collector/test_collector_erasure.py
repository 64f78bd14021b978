"""Erasure: a household or a TV goes, every row about it with it, the rest untouched, and it is logged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from collector_mock import close_connections, create_app
from collector_mock.store import Store
from tests.collector.conftest import ADMIN, ADMIN_TOKEN

# Every table and view with data about a household, and how to find its rows.
ABOUT_HOUSEHOLD = {
    "reports": "SELECT count(*) FROM reports WHERE home = ?",
    "hosts": "SELECT count(*) FROM hosts JOIN reports ON reports.id = hosts.report_id WHERE home = ?",
    "wifi": "SELECT count(*) FROM wifi JOIN reports ON reports.id = wifi.report_id WHERE home = ?",
    "devices": "SELECT count(*) FROM devices WHERE home = ?",
    "networks": "SELECT count(*) FROM networks WHERE home = ?",
}


def _snapshot(db: Path, exclude: str) -> dict[str, list[tuple]]:
    """Every row of every table, except those of household ``exclude`` (and the audit log)."""
    conn = sqlite3.connect(db)
    try:
        return {
            "reports": conn.execute(
                "SELECT * FROM reports WHERE home <> ? ORDER BY id", (exclude,)
            ).fetchall(),
            "devices": conn.execute(
                "SELECT * FROM devices WHERE home <> ? ORDER BY home, mac", (exclude,)
            ).fetchall(),
            "networks": conn.execute(
                "SELECT * FROM networks WHERE home <> ? ORDER BY home, bssid", (exclude,)
            ).fetchall(),
        }
    finally:
        conn.close()


def _count(db: Path, sql: str, *params: object) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def sim_client(sim_db: Path):
    app = create_app({"DATABASE": str(sim_db), "ADMIN_TOKEN": ADMIN_TOKEN})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = ADMIN["Authorization"]
    yield client
    close_connections(app)


def test_erasing_a_household_of_a_real_run(sim_client: FlaskClient, sim_db: Path) -> None:
    target = "h0001"
    assert all(_count(sim_db, sql, target) for sql in ABOUT_HOUSEHOLD.values())
    others_before = _snapshot(sim_db, target)
    assert not sim_client.get(f"/api/v1/households/{target}/erasure-check").json["clean"]

    response = sim_client.delete(f"/api/v1/households/{target}")
    assert response.status_code == 200
    entry = response.json["erased"]
    assert entry["subject_kind"] == "household" and entry["subject"] == target
    assert entry["reports"] > 0 and entry["hosts"] > 0 and entry["wifi"] > 0 and entry["devices"] > 0

    check = sim_client.get(f"/api/v1/households/{target}/erasure-check").json
    assert check["clean"] is True
    assert check["residual_rows"] == dict.fromkeys(ABOUT_HOUSEHOLD, 0)
    assert [e["id"] for e in check["erasures"]] == [entry["id"]]
    # The direct SQL check, in every table and view.
    assert {name: _count(sim_db, sql, target) for name, sql in ABOUT_HOUSEHOLD.items()} == dict.fromkeys(
        ABOUT_HOUSEHOLD, 0
    )
    # Nothing else changed, and the database is consistent.
    assert _snapshot(sim_db, target) == others_before
    store = Store.open(sim_db)
    try:
        assert store.verify() == []
    finally:
        store.close()
    assert sim_client.get(f"/api/v1/households/{target}").status_code == 404
    assert sim_client.delete(f"/api/v1/households/{target}").status_code == 404  # nothing left to erase
    assert [e["subject"] for e in sim_client.get("/api/v1/erasures").json["erasures"]] == [target]


def test_erased_pages_are_zeroed(tmp_path: Path, upload, make_report, client: FlaskClient, app) -> None:
    """secure_delete: the erased MACs are not left in the database file (after the WAL is folded in)."""
    marker = "de:ad:be:ef:00:99"
    report = make_report()
    report["hosts"][0]["mac"] = marker
    assert upload(report).status_code == 200
    assert client.delete("/api/v1/households/h0003").status_code == 200
    close_connections(app)  # the last connection folds the WAL into the file
    data = Path(app.config["DATABASE"]).read_bytes()
    assert marker.encode() not in data


def test_erasing_a_tv_rebuilds_its_household_without_it(
    client: FlaskClient, upload, make_report, query
) -> None:
    base = make_report()
    tv1 = make_report(tv=dict(base["tv"], id="h0003-tv1"))
    tv2 = make_report(tv=dict(base["tv"], id="h0003-tv2"), hosts=base["hosts"][:4], wifi=base["wifi"][:2])
    tv2["hosts"].append(
        {"ip": "192.168.1.99", "mac": "00:11:22:33:44:55", "hostname": "only-tv2", "rtt_ms": 1.0}
    )
    other = make_report(tv=dict(base["tv"], home="h0004", id="h0004-tv1"))
    for report, t in ((tv1, 10.0), (tv2, 20.0), (other, 30.0)):
        assert upload(report, environ={"testbed.capture_time": t}).status_code == 200
    h0004_before = query("SELECT * FROM devices WHERE home = 'h0004' ORDER BY mac")

    entry = client.delete("/api/v1/tvs/h0003-tv2").json["erased"]
    assert (entry["reports"], entry["hosts"], entry["wifi"], entry["devices"], entry["networks"]) == (
        1,
        5,
        2,
        1,
        0,
    )
    # The device only tv2 saw is gone; the others are as if tv2 had never reported.
    assert query("SELECT count(*) FROM devices WHERE mac = '00:11:22:33:44:55'") == [(0,)]
    assert query("SELECT DISTINCT sightings, last_seen FROM devices WHERE home = 'h0003'") == [(1, 10.0)]
    assert query("SELECT * FROM devices WHERE home = 'h0004' ORDER BY mac") == h0004_before
    check = client.get("/api/v1/tvs/h0003-tv2/erasure-check").json
    assert check["clean"] and check["residual_rows"]["reports"] == 0
    assert client.get("/api/v1/tvs/h0003-tv2/timeline").status_code == 404
    assert client.get("/api/v1/tvs/h0003-tv1/timeline").json["total"] == 1


def test_erasing_the_only_tv_empties_the_household(client: FlaskClient, upload, make_report) -> None:
    assert upload(make_report()).status_code == 200
    assert client.delete("/api/v1/tvs/h0003-tv1").status_code == 200
    assert client.get("/api/v1/households/h0003/erasure-check").json["clean"]
    assert client.get("/api/v1/households").json["total"] == 0


def test_unknown_subjects_are_404_and_not_logged(client: FlaskClient) -> None:
    assert client.delete("/api/v1/households/nobody").status_code == 404
    assert client.delete("/api/v1/tvs/nothing").status_code == 404
    assert client.get("/api/v1/erasures").json["total"] == 0
    check = client.get("/api/v1/households/nobody/erasure-check").json
    assert check == {
        "subject_kind": "household",
        "subject": "nobody",
        "clean": True,
        "residual_rows": dict.fromkeys(ABOUT_HOUSEHOLD, 0),
        "erasures": [],
    }


def test_a_household_reporting_again_after_erasure_is_new(client: FlaskClient, upload, make_report) -> None:
    assert upload(make_report()).status_code == 200
    first_id = client.get("/api/v1/reports").json["reports"][0]["id"]
    client.delete("/api/v1/households/h0003")
    assert upload(make_report()).status_code == 200
    again = client.get("/api/v1/reports").json["reports"]
    assert len(again) == 1 and again[0]["id"] > first_id  # AUTOINCREMENT: an erased id is never reused
    assert client.get("/api/v1/households/h0003/devices").json["devices"][0]["sightings"] == 1


def test_verify_finds_an_inconsistent_profile(app, upload, make_report) -> None:
    assert upload(make_report()).status_code == 200
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute("UPDATE devices SET sightings = 7 WHERE mac = '3c:22:fb:11:22:00'")
    conn.execute("INSERT INTO networks VALUES ('h0003', 'ff:ff:ff:ff:ff:fe', 'ghost', 1, 1, 1)")
    conn.commit()
    conn.close()
    store = Store.open(app.config["DATABASE"])
    try:
        problems = store.verify()
    finally:
        store.close()
    assert any(p.startswith("devices:") for p in problems) and any(
        p.startswith("networks:") for p in problems
    )
