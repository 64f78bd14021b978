"""Group commit: one writer thread per process commits the reports of many requests in one transaction.

Why: SQLite has one writer at a time. With a connection per request thread, gunicorn's threads (and its
two worker processes) queue on the write lock, and SQLite's busy handler waits by sleeping (1, 2, 5,
10 ms...), so throughput collapses and p99 latency grows to hundreds of milliseconds. Here each request
thread validates its report and prepares its rows, hands them to the process's writer and waits; the
writer takes everything that queued up while it was committing the previous batch, writes it in one
transaction, commits (one fsync with ``synchronous=FULL``), and only then wakes the waiting requests.
A 2xx is therefore still only sent once its report is committed.

Every report stays whole or absent: if a batch fails, it is rolled back and its reports are retried one
by one, so one bad report cannot make others fail.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections import deque
from dataclasses import dataclass, field

from .store import PreparedReport, Store

__all__ = ["CommitTimeout", "GroupCommitter"]

MAX_BATCH = 512  # bounds how long one transaction holds the write lock


class CommitTimeout(TimeoutError):
    """The report was not taken by the writer in time; it was withdrawn and will not be stored."""


@dataclass(eq=False)
class _Pending:
    report: PreparedReport
    done: threading.Event = field(default_factory=threading.Event)
    taken: bool = False
    report_id: int | None = None
    error: BaseException | None = None


class GroupCommitter:
    """A writer thread on ``path``, started in each process on first use (threads do not survive fork)."""

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL", max_batch: int = MAX_BATCH) -> None:
        self.path = path
        self.synchronous = synchronous
        self.max_batch = max_batch
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._stopping = False
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
                    target=self._run, args=(store,), name="collector-group-commit", daemon=True
                )
                self._thread.start()

    def submit(self, report: PreparedReport, timeout: float = 30.0) -> int:
        """Queue ``report`` and wait until it is committed; returns its id.

        Raises what storing it raised (e.g. ``sqlite3.OperationalError`` when the database stays locked),
        or ``CommitTimeout`` if the writer did not take it within ``timeout`` (it is then withdrawn).
        """
        self._ensure_started()
        pending = _Pending(report)
        with self._cond:
            if self._stopping:
                raise RuntimeError("the collector's writer is stopped")
            self._queue.append(pending)
            self._cond.notify()
        if not pending.done.wait(timeout):
            with self._cond:
                if not pending.taken:
                    self._queue.remove(pending)
                    raise CommitTimeout(f"report not stored within {timeout:g} s")
            pending.done.wait()  # already in a transaction: its outcome comes within the busy timeout
        if pending.error is not None:
            raise pending.error
        assert pending.report_id is not None
        return pending.report_id

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the writer (end of a run, test teardown)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            return
        with self._cond:
            self._stopping = True
            self._cond.notify()
        thread.join(timeout)
        self._thread = None
        self._stopping = False

    def _run(self, store: Store) -> None:
        # A lock file beside the database serialises the writers of all worker processes (see _write).
        lock = os.open(f"{os.fspath(self.path)}-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._stopping:
                        self._cond.wait()
                    if not self._queue:
                        return
                    batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
                    for pending in batch:
                        pending.taken = True
                self._write(store, lock, batch)
        finally:
            os.close(lock)
            store.close()
            with self._cond:  # only at interpreter exit: nobody must wait for a writer that is gone
                orphans = [*self._queue]
                self._queue.clear()
            for pending in orphans:
                pending.error = RuntimeError("the collector's writer stopped")
                pending.done.set()

    @classmethod
    def _write(cls, store: Store, lock: int, batch: list[_Pending]) -> None:
        # The writers of the other worker processes queue on this lock in the kernel, and the next one
        # wakes the moment this one is done. On SQLite's own lock they would poll, sleeping 1, 2, 5,
        # 10 ms... between tries, which costs milliseconds per batch under load.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            cls._commit(store, batch)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _commit(store: Store, batch: list[_Pending]) -> None:
        try:
            ids = store.add_reports([p.report for p in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for pending in batch:  # find the one that failed; the others are stored after all
                    GroupCommitter._commit(store, [pending])
                return
        else:
            for pending, report_id in zip(batch, ids, strict=True):
                pending.report_id = report_id
        for pending in batch:
            pending.done.set()
