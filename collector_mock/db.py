"""Each request's connection to the collector database (``get_store()``) and the process's writer.

A thread keeps one connection and reuses it across its requests, rather than opening and closing one per
request as Flask's tutorial does. Why: in WAL mode, closing the last connection to a database checkpoints
it and deletes the WAL, which costs an fsync. Measured on ext4: about 1.2 ms per request that way against
15 us for a reused connection, and the simulator ingests thousands of reports per run. Teardown therefore
only rolls back whatever a failed request left open. ``close_connections(app)`` closes every connection
and stops the group-commit writer (end of a simulated run, test teardown), which also folds the WAL back
into the database file.

With ``GROUP_COMMIT`` (the served collector) the uploads that reach the app go to the process's writer,
one writer thread per process (see ``collector_mock.group_commit``; the served collector's worker commits
most uploads itself before they reach the app, see ``collector_mock.worker``); with ``DEFER_COMMITS`` (the
simulator, which calls the app in-process, one request at a time) each upload is kept until
``commit_deferred(app)`` commits it (see ``collector_mock.deferred_commit``); with neither, each upload is
committed on the request's own connection.
"""

from __future__ import annotations

import os
import threading
import weakref

from flask import Flask, current_app, g

from .deferred_commit import DEFERRED, DeferredCommits
from .group_commit import GroupCommitter
from .store import Store, initialize

__all__ = ["ConnectionPool", "close_connections", "commit_deferred", "get_store", "init_app"]

EXTENSION = "collector_mock.connections"
COMMITTER = "collector_mock.group_commit"


class ConnectionPool:
    """One ``Store`` per thread (and per process: a connection must not cross a fork)."""

    def __init__(self, path: str | os.PathLike[str], synchronous: str = "NORMAL") -> None:
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        # Weak: a connection whose thread has ended is closed when the thread's locals are freed.
        self._open: weakref.WeakSet[Store] = weakref.WeakSet()
        self._lock = threading.Lock()

    def get(self) -> Store:
        """This thread's connection, opened on first use or after ``close_all``."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None or store.closed or self._local.pid != os.getpid():
            store = Store.open(self.path, synchronous=self.synchronous)
            self._local.store, self._local.pid = store, os.getpid()
            with self._lock:
                self._open.add(store)
        return store

    def close_all(self) -> None:
        """Close every connection; call only when no request is in flight."""
        with self._lock:
            stores = list(self._open)
            self._open.clear()
        for store in stores:
            store.close()


def get_store() -> Store:
    """The current request's ``Store``."""
    if "store" not in g:
        g.store = current_app.extensions[EXTENSION].get()
    return g.store


def _release(exc: BaseException | None = None) -> None:
    store: Store | None = g.pop("store", None)
    if store is not None and not store.closed:
        store.rollback_open_transaction()


def init_app(app: Flask) -> None:
    """Create the schema if needed (once, here, not per request) and attach the connection pool."""
    path, synchronous = app.config["DATABASE"], app.config["SYNCHRONOUS"]
    initialize(path)
    app.extensions[EXTENSION] = ConnectionPool(path, synchronous)
    if app.config["GROUP_COMMIT"]:
        app.extensions[COMMITTER] = GroupCommitter(path, synchronous=synchronous)
    if app.config["DEFER_COMMITS"]:
        app.extensions[DEFERRED] = DeferredCommits(app.extensions[EXTENSION])
    app.teardown_appcontext(_release)


def commit_deferred(app: Flask) -> int:
    """Commit the reports ``app`` answered but kept (``DEFER_COMMITS``, the simulator's); how many.

    They go in the order they came, in one transaction; what storing them raises is raised, and then
    none of them is stored.
    """
    deferred: DeferredCommits | None = app.extensions.get(DEFERRED)
    if deferred is None:
        raise ValueError("commit_deferred: this collector commits each report as it comes (DEFER_COMMITS is off)")
    return deferred.commit()


def close_connections(app: Flask) -> None:
    """Close all of ``app``'s database connections, e.g. before copying or hashing the database file.

    Reports still waiting for ``commit_deferred`` are dropped: a run that ends without committing them
    was cut short, and never published their answers.
    """
    deferred: DeferredCommits | None = app.extensions.get(DEFERRED)
    if deferred is not None:
        deferred.discard()
    committer: GroupCommitter | None = app.extensions.get(COMMITTER)
    if committer is not None:
        committer.close()
    pool: ConnectionPool | None = app.extensions.get(EXTENSION)
    if pool is not None:
        pool.close_all()
