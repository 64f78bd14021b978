"""Group commit: many request threads, one writer per process, every 2xx committed, failures isolated."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from collector_mock import close_connections, create_app
from collector_mock.group_commit import CommitTimeout, GroupCommitter, _Pending, open_writer_lock
from collector_mock.schema import parse_report
from collector_mock.store import Store, initialize, prepare_report


def _prepared(make_report, **tv):
    report = make_report()
    report["tv"] = dict(report["tv"], **tv)
    return prepare_report(
        parse_report(json.dumps(report).encode()),
        received_at=1.0,
        encoding="json",
        remote_addr=None,
        body_bytes=1,
    )


def test_concurrent_uploads_are_all_committed(tmp_path: Path, make_report) -> None:
    app = create_app({"DATABASE": str(tmp_path / "c.sqlite"), "GROUP_COMMIT": True, "SYNCHRONOUS": "FULL"})
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        client = app.test_client()
        for i in range(25):
            report = make_report(cycle=worker * 1000 + i)
            response = client.post("/api/v1/report", json=report)
            with lock:
                results.append((response.status_code, response.headers.get("X-Report-Id", "")))

    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_connections(app)
    assert [s for s, _ in results] == [200] * 200
    ids = sorted(int(i) for _, i in results)
    assert ids == list(range(1, 201))  # distinct, consecutive ids, each the row that was written
    conn = sqlite3.connect(tmp_path / "c.sqlite")
    rows = dict(conn.execute("SELECT id, cycle FROM reports"))
    assert sorted(rows.values()) == sorted(w * 1000 + i for w in range(8) for i in range(25))
    conn.close()
    s = Store.open(tmp_path / "c.sqlite")
    assert s.verify() == [] and s.count_reports() == 200
    s.close()


def test_a_failing_report_does_not_fail_its_batch(tmp_path: Path, make_report) -> None:
    db = tmp_path / "c.sqlite"
    initialize(db)
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON reports WHEN NEW.tv_id = 'poison' BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    conn.commit()
    conn.close()
    batch = [_Pending(_prepared(make_report, id=f"tv{i}")) for i in range(5)]
    batch.insert(2, _Pending(_prepared(make_report, id="poison")))
    store = Store.open(db)
    lock = open_writer_lock(db)
    try:
        GroupCommitter._write(store, lock, batch)
    finally:
        os.close(lock)
    assert [p.wait(0) for p in batch] == [True] * 6
    assert isinstance(batch[2].error, sqlite3.IntegrityError) and batch[2].report_id is None
    assert [p.error for p in batch if p is not batch[2]] == [None] * 5
    assert store.count_reports() == 5 and store.verify() == []
    store.close()


def test_a_report_the_writer_never_takes_is_withdrawn(tmp_path: Path, make_report) -> None:
    db = tmp_path / "c.sqlite"
    initialize(db)
    committer = GroupCommitter(db, synchronous="NORMAL")
    lock = open(f"{db}-lock", "a+")  # noqa: SIM115 - held across the call
    import fcntl

    fcntl.flock(lock, fcntl.LOCK_EX)  # another process is writing, for ever
    try:
        committer._ensure_started()
        first = _Pending(_prepared(make_report))
        committer._queue.put(first)
        deadline = time.monotonic() + 5
        while not first.taken:  # the writer took it, and now waits for the lock
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with pytest.raises(CommitTimeout):
            committer.submit(_prepared(make_report, id="late"), timeout=0.3)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    assert first.wait(5) and first.report_id == 1
    committer.close()
    store = Store.open(db)
    assert [r["tv_id"] for r in store.reports()] == ["h0003-tv1"]  # the withdrawn one was never written
    store.close()


def test_writer_restarts_after_close_and_fork_safety(tmp_path: Path, make_report) -> None:
    db = tmp_path / "c.sqlite"
    initialize(db)
    committer = GroupCommitter(db)
    assert committer.submit(_prepared(make_report)) == 1
    committer.close()
    assert committer.submit(_prepared(make_report)) == 2  # a new writer on demand
    committer._pid = -1  # as if this object had been inherited through a fork
    assert committer.submit(_prepared(make_report)) == 3
    committer.close()
