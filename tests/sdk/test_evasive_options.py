"""Evasive SDK options end to end: hashed identifiers and batched uploads."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter

from testbed.run import run_scenario
from testbed.rundir import read_events
from tests.helpers import small


def test_hashed_identifiers_travel_as_sha256_and_truth_keeps_the_plain_value(tmp_path):
    out = tmp_path / "hashed"
    run_scenario(small(**{"households.count": 2, "duration": "40m", "tvs.sdk": {"hash_ids": True}}), out)
    uploads = [e for e in read_events(out / "truth/events.jsonl") if e["kind"] == "upload"]
    assert uploads
    macs = [i for e in uploads for i in e["items"] if i["field"] == "mac"]
    assert macs and all(i["form"] == "sha256" for i in macs)
    assert all(i["value"] == hashlib.sha256(i["plain"].lower().encode()).hexdigest() for i in macs)
    assert all(i.get("form") is None for e in uploads for i in e["items"] if i["field"] in ("ip", "rtt"))
    con = sqlite3.connect(out / "collector.sqlite")
    stored = {mac for (mac,) in con.execute("SELECT mac FROM hosts")}
    con.close()
    assert stored == {i["value"] for i in macs}  # the collector only ever saw hashes


def test_batched_uploads_carry_every_cycle_since_the_last(tmp_path):
    out = tmp_path / "batched"
    run_scenario(small(**{"households.count": 1, "duration": "75m", "tvs.sdk": {"batch": 3}}), out)
    events = read_events(out / "truth/events.jsonl")
    kinds = Counter(e["kind"] for e in events)
    assert kinds["sweep"] >= 6 and kinds["upload"] == kinds["sweep"] // 3
    uploads = [e for e in events if e["kind"] == "upload"]
    assert [e["cycle"] for e in uploads] == [3 * (k + 1) for k in range(len(uploads))]
    first = uploads[0]
    swept = {i["value"] for e in events if e["kind"] == "sweep" and e["cycle"] <= 3
             for i in e["items"] if i["field"] == "mac"}
    assert swept == {i["value"] for i in first["items"] if i["field"] == "mac"}
