"""A simulated run end to end: the run directory contract, labels, and exact ground truth."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter

import dpkt

from testbed.run import run_scenario
from testbed.rundir import read_events, sha256_file
from tests.helpers import small

ARTIFACTS = ["manifest.json", "scenario.yaml", "population.json", "capture.pcapng", "truth/events.jsonl",
             "truth/flows.csv", "collector.sqlite"]


def frames_with_comments(path):
    """(ts, bytes, comment) of every frame, read with dpkt's pcapng reader."""
    out = []
    with open(path, "rb") as fh:
        for ts, buf in dpkt.pcapng.Reader(fh):
            out.append((ts, buf))
    return out


def comments(path):
    """Each frame's opt_comment, in order (dpkt does not expose EPB options, so parse blocks ourselves)."""
    import struct

    data = path.read_bytes()
    pos, out = 0, []
    while pos < len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        if btype == 6:  # Enhanced Packet Block
            caplen = struct.unpack_from("<I", data, pos + 20)[0]
            opt = pos + 28 + (caplen + 3) // 4 * 4
            end = pos + blen - 4
            comment = None
            while opt < end:
                code, olen = struct.unpack_from("<HH", data, opt)
                if code == 0:
                    break
                if code == 1:
                    comment = data[opt + 4: opt + 4 + olen].decode()
                opt += 4 + (olen + 3) // 4 * 4
            out.append(comment)
        pos += blen
    return out


def test_run_directory_holds_every_artifact_with_its_hash(gozen_run):
    for name in ARTIFACTS:
        assert (gozen_run / name).is_file(), name
    manifest = json.loads((gozen_run / "manifest.json").read_text())
    assert manifest["backend"] == "sim" and manifest["seed"] == 2021
    assert manifest["scenario"]["households"]["count"] == 3
    for name in ARTIFACTS[1:]:
        assert manifest["artifacts"][name]["sha256"] == sha256_file(gozen_run / name), name
    assert not list(gozen_run.parent.glob(".gozen.partial-*"))
    assert not (gozen_run / "collector.sqlite-wal").exists()


def test_the_simulated_collector_never_waits_for_the_disk_and_is_sealed(gozen_run, tmp_path):
    # OFF during the run (the run directory is discarded if the run is cut short); the sealed file is a
    # plain rollback-journal database that SQLite finds whole.
    from collector_mock import close_connections
    from testbed.sim.engine import collector_transport

    transport = collector_transport(tmp_path / "c.sqlite")
    assert transport.app.config["SYNCHRONOUS"] == "OFF"
    assert transport.app.config["DEFER_COMMITS"]
    close_connections(transport.app)
    con = sqlite3.connect(gozen_run / "collector.sqlite")
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_every_frame_is_labelled_and_frame_counts_match_truth(gozen_run):
    labels = comments(gozen_run / "capture.pcapng")
    events = read_events(gozen_run / "truth/events.jsonl")
    assert labels and None not in labels
    ids = {e["id"] for e in events}
    counts = Counter(labels)
    for label in counts:
        assert label in ids or label.startswith("benign:"), label
    for e in events:
        assert counts.get(e["id"], 0) == e["frames"], e["id"]
    kinds = Counter(e["kind"] for e in events)
    assert kinds["sweep"] == kinds["probe"] == kinds["wifi_scan"] >= 3 * 11
    assert {k.split(":")[1] for k in counts if k.startswith("benign:")} >= {"dhcp", "dns", "mdns", "ssdp", "router-arp"}


def test_capture_times_are_monotonic_and_within_the_run(gozen_run):
    frames = frames_with_comments(gozen_run / "capture.pcapng")
    times = [ts for ts, _ in frames]
    assert times == sorted(times)
    start = 1619107200  # 2021-04-23T00:00:00+08:00
    assert start <= times[0] and times[-1] < start + 2 * 3600 + 60


def test_events_follow_the_design_format(gozen_run):
    events = read_events(gozen_run / "truth/events.jsonl")
    upload = next(e for e in events if e["kind"] == "upload")
    for key in ("id", "household", "tv", "cycle", "kind", "start", "end", "consent", "transport", "encoding",
                "dst", "flows", "frames", "items"):
        assert key in upload
    assert upload["id"] == f"{upload['tv']}-c{upload['cycle']:04d}-upload"
    assert upload["dst"] == {"domain": "gz-data.com", "ip": "203.0.113.7", "port": 80}
    assert upload["consent"] == "not_asked" and upload["transport"] == "http" and upload["encoding"] == "json"
    assert upload["flows"] and all(f.startswith("1:") for f in upload["flows"])
    assert upload["start"] < upload["end"]
    population = json.loads((gozen_run / "population.json").read_text())
    subjects = {d["id"] for h in population["households"] for d in h["devices"]}
    subjects |= {h["router"]["id"] for h in population["households"]}
    subjects |= {w["id"] for h in population["households"] for w in h["wifi"]}
    assert {i["subject"] for e in events for i in e["items"]} <= subjects


def test_flows_csv_links_flows_to_events(gozen_run):
    with open(gozen_run / "truth/flows.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["community_id", "first_ts", "last_ts", "src", "dst", "proto", "label", "event_id"]
    events = {e["id"]: e for e in read_events(gozen_run / "truth/events.jsonl")}
    for row in rows:
        if row["event_id"]:
            assert row["event_id"] in events and row["label"] == row["event_id"]
            if row["community_id"]:
                assert row["community_id"] in events[row["event_id"]]["flows"]
        else:
            assert row["label"].startswith("benign:")
        assert float(row["first_ts"]) <= float(row["last_ts"])
    uploads = [r for r in rows if r["event_id"].endswith("-upload") and r["proto"] == "tcp"]
    assert uploads and all(r["dst"] == "203.0.113.7:80" for r in uploads)


def _collector_items(db):
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT r.tv_id, r.cycle, h.mac, h.hostname, h.ip FROM reports r JOIN hosts h ON h.report_id = r.id"
        ).fetchall()
        wifi = con.execute(
            "SELECT r.tv_id, r.cycle, w.ssid, w.bssid FROM reports r JOIN wifi w ON w.report_id = r.id"
        ).fetchall()
    finally:
        con.close()
    stored = set()
    for tv, cycle, mac, hostname, ip in rows:
        stored |= {(tv, cycle, "mac", mac), (tv, cycle, "ip", ip)}
        if hostname:
            stored.add((tv, cycle, "hostname", hostname))
    for tv, cycle, ssid, bssid in wifi:
        stored |= {(tv, cycle, "ssid", ssid), (tv, cycle, "bssid", bssid)}
    return stored


def _truth_items(events):
    sent = set()
    for e in events:
        if e["kind"] == "upload" and e["delivered"]:
            for item in e["items"]:
                if item["field"] in ("mac", "ip", "hostname", "ssid", "bssid"):
                    sent.add((e["tv"], e["cycle"], item["field"], item["value"]))
    return sent


def test_truth_is_exactly_what_the_collector_stored(gozen_run):
    events = read_events(gozen_run / "truth/events.jsonl")
    stored = _collector_items(gozen_run / "collector.sqlite")
    sent = _truth_items(events)
    assert sent and stored == sent
    # Every hostname the collector knows was really a device's hostname in the population.
    population = json.loads((gozen_run / "population.json").read_text())
    hostnames = {d["hostname"] for h in population["households"] for d in (*h["devices"], h["router"])}
    hostnames |= {n.upper()[:15] for n in hostnames}
    assert {v for _, _, f, v in stored if f == "hostname"} <= hostnames


def test_benign_only_has_no_sdk_events_and_an_empty_collector(runs_dir):
    out = runs_dir / "benign"
    summary = run_scenario(small("benign-only"), out)
    assert summary.events == 0 and summary.frames > 1000
    assert (out / "truth/events.jsonl").read_text() == ""
    assert set(comments(out / "capture.pcapng")) and all(c.startswith("benign:") for c in comments(out / "capture.pcapng"))
    con = sqlite3.connect(out / "collector.sqlite")
    assert con.execute("SELECT count(*) FROM reports").fetchone() == (0,)
    con.close()


def test_consent_states(runs_dir):
    out = runs_dir / "consent"
    run_scenario(small("consent-mix", **{"households.count": 9}), out)
    population = json.loads((out / "population.json").read_text())
    consent = {tv["id"]: tv["consent"] for h in population["households"] for tv in h["tvs"]}
    assert set(consent.values()) == {"opted_in", "opted_out", "optout_ignored"}
    events = read_events(out / "truth/events.jsonl")
    by_tv = Counter(e["tv"] for e in events)
    for tv, state in consent.items():
        if state == "opted_out":
            assert by_tv[tv] == 0, tv  # an honest SDK sends and collects nothing
        else:
            assert by_tv[tv] > 0, tv
    assert all(e["consent"] == consent[e["tv"]] for e in events)
    assert any(e["consent"] == "optout_ignored" for e in events)
    labels = set(comments(out / "capture.pcapng"))
    opted_out = [tv for tv, s in consent.items() if s == "opted_out"]
    assert not any(label.startswith(tuple(opted_out)) for label in labels)


def test_a_window_is_written_only_once_its_reports_are_committed(tmp_path, monkeypatch):
    # The simulated collector answers uploads at once and commits them at the window's end
    # (collector_mock.deferred_commit): no answer may reach the capture or the truth before that.
    from collector_mock.deferred_commit import DeferredCommits
    from testbed.packets.pcapng import PcapngWriter
    from testbed.rundir import TruthFiles

    collectors: list[DeferredCommits] = []
    submit, write_logs, write_events = DeferredCommits.submit, PcapngWriter.write_logs, TruthFiles.write_events
    windows_with_reports = []

    def submitted(self, report):
        if self not in collectors:
            collectors.append(self)
        return submit(self, report)

    def pending() -> int:
        return sum(len(c) for c in collectors)

    def writing_frames(self, *args):
        assert pending() == 0, "a window's frames written before its reports were committed"
        return write_logs(self, *args)

    def writing_truth(self, events):
        assert pending() == 0, "a window's truth written before its reports were committed"
        windows_with_reports.append(sum(e["kind"] == "upload" for e in events))
        return write_events(self, events)

    monkeypatch.setattr(DeferredCommits, "submit", submitted)
    monkeypatch.setattr(PcapngWriter, "write_logs", writing_frames)
    monkeypatch.setattr(TruthFiles, "write_events", writing_truth)
    summary = run_scenario(small("gozen-2021", **{"households.count": 3, "duration": "3h"}), tmp_path / "run")
    assert sum(windows_with_reports) == summary.uploads > 0 and collectors
    con = sqlite3.connect(tmp_path / "run" / "collector.sqlite")
    try:
        assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == summary.uploads_delivered
    finally:
        con.close()
