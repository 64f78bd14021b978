"""Group commit: one writer thread per process commits the reports of many requests in one transaction.

Why: SQLite has one writer at a time. With a connection per request thread, gunicorn's threads (and its
two worker processes) queue on the write lock, and SQLite's busy handler waits by sleeping (1, 2, 5,
10 ms...), so throughput collapses and p99 latency grows to hundreds of milliseconds (measured: 900
reports/s, p99 320 ms). Here each request thread validates its report and prepares its rows, hands them
to the process's writer and waits; the writer takes everything that queued up while it was committing
the previous batch, writes it in one transaction, commits (one fsync with ``synchronous=FULL``), and
only then wakes the waiting requests. A 2xx is therefore still only sent once its report is committed.
The writers of the worker processes take turns through a lock file beside the database (``flock``).

Every report stays whole or absent: if a batch fails, it is rolled back and its reports are retried one
by one, so one bad report cannot make others fail. A report the writer has not taken within the
request's timeout is withdrawn (never written) and the request answers 503.

The hand-off uses the C-level primitives (``queue.SimpleQueue``, a locked ``threading.Lock`` as a
one-shot signal) rather than ``Condition``/``Event``, which run Python code on every wait and wake: on a
2-core machine with a busy GIL that per-request overhead shows in the throughput.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
from collections.abc import Sequence

from .store import PreparedReport, Store

__all__ = ["CommitTimeout", "GroupCommitter", "open_writer_lock", "write_batch"]

MAX_BATCH = 512  # bounds how long one transaction holds the write lock
_STOP = None  # put on the queue to stop the writer


class CommitTimeout(TimeoutError):
    """The report was not taken by the writer in time; it was withdrawn and will not be stored."""


class _Pending:
    """One report waiting for its commit; ``done`` is released once its outcome is known."""

    __slots__ = ("done", "error", "report", "report_id", "taken", "withdrawn")

    def __init__(self, report: PreparedReport) -> None:
        self.report = report
        self.done = threading.Lock()
        self.done.acquire()  # released by the writer: a one-shot signal
        self.taken = False
        self.withdrawn = False
        self.report_id: int | None = None
        self.error: BaseException | None = None

    def finish(self) -> None:
        self.done.release()

    def wait(self, timeout: float = -1) -> bool:
        """Wait for the outcome; True once it is known (and stays known for later waits)."""
        if self.done.acquire(timeout=timeout):
            self.done.release()
            return True
        return False


class GroupCommitter:
    """A writer thread on ``path``, started in each process on first use (threads do not survive fork)."""

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: str = "FULL", max_batch: int = MAX_BATCH
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self.max_batch = max_batch
        self._start_lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._flags = threading.Lock()  # guards every _Pending's taken/withdrawn
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def _ensure_started(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid != os.getpid():  # forked since: the parent's queue and thread are not ours
                self._reset()
            if self._thread is None:
                store = Store.open(self.path, synchronous=self.synchronous)
                self._thread = threading.Thread(
                    target=self._run, args=(store, self._queue), name="collector-group-commit", daemon=True
                )
                self._thread.start()

    def submit(self, report: PreparedReport, timeout: float = 30.0) -> int:
        """Queue ``report`` and wait until it is committed; returns its id.

        Raises what storing it raised (e.g. ``sqlite3.OperationalError`` when the database stays locked),
        or ``CommitTimeout`` if the writer did not take it within ``timeout`` (it is then withdrawn).
        """
        self._ensure_started()
        pending = _Pending(report)
        self._queue.put(pending)
        if not pending.wait(timeout):
            with self._flags:
                if not pending.taken:
                    pending.withdrawn = True
                    raise CommitTimeout(f"report not stored within {timeout:g} s")
            pending.wait()  # already in a transaction: its outcome comes within the busy timeout
        if pending.error is not None:
            raise pending.error
        assert pending.report_id is not None
        return pending.report_id

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the writer (end of a run, test teardown)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            return
        self._queue.put(_STOP)
        thread.join(timeout)
        self._thread = None

    def _take(self, q: queue.SimpleQueue[_Pending | None], first: _Pending) -> tuple[list[_Pending], bool]:
        """``first`` and whatever else is queued (up to ``max_batch``); and whether a stop was asked."""
        items, stop = [first], False
        while len(items) < self.max_batch:
            try:
                item = q.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
                break
            items.append(item)
        with self._flags:
            batch = [p for p in items if not p.withdrawn]
            for pending in batch:
                pending.taken = True
        return batch, stop

    def _run(self, store: Store, q: queue.SimpleQueue[_Pending | None]) -> None:
        # A lock file beside the database serialises the writers of all worker processes (see _write).
        lock = open_writer_lock(self.path)
        stop = False
        try:
            while not stop:
                first = q.get()
                if first is _STOP:
                    break
                batch, stop = self._take(q, first)
                if batch:
                    self._write(store, lock, batch)
        finally:
            os.close(lock)
            store.close()
            while True:  # stopped (or dying at interpreter exit): nobody may wait for a writer that is gone
                try:
                    orphan = q.get_nowait()
                except queue.Empty:
                    break
                if orphan is not None:
                    orphan.error = RuntimeError("the collector's writer stopped")
                    orphan.finish()

    @staticmethod
    def _write(store: Store, lock: int, batch: list[_Pending]) -> None:
        results = write_batch(store, lock, [p.report for p in batch])
        for pending, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                pending.error = result
            else:
                pending.report_id = result
            pending.finish()


def open_writer_lock(path: str | os.PathLike[str]) -> int:
    """The lock file beside the database through which the writers of all processes take turns."""
    return os.open(f"{os.fspath(path)}-lock", os.O_RDWR | os.O_CREAT, 0o600)


def write_batch(store: Store, lock: int, reports: Sequence[PreparedReport]) -> list[int | Exception]:
    """Store ``reports`` in one transaction, in turn with the other writers; each one's id or its error.

    If the transaction fails it is rolled back and the reports are stored one by one, so one bad report
    cannot make the others fail.
    """
    # The writers of the other worker processes queue on this lock in the kernel, and the next one
    # wakes the moment this one is done. On SQLite's own lock they would poll, sleeping 1, 2, 5,
    # 10 ms... between tries, which costs milliseconds per batch under load.
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        return _store_all(store, reports)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


def _store_all(store: Store, reports: Sequence[PreparedReport]) -> list[int | Exception]:
    try:
        return list(store.add_reports(reports))
    except Exception as exc:
        if len(reports) == 1:
            return [exc]
        return [result for report in reports for result in _store_all(store, [report])]
