"""Deferred commits, for the simulator: a report is checked and answered at once, and committed later.

The simulator delivers each upload in-process at its virtual time, but the capture that carries the
answers is written a window at a time. With ``DEFER_COMMITS`` the collector answers a report as soon as it
has been decoded and validated (a rejection is final then too) and keeps its rows; ``commit_deferred(app)``
stores the reports kept since the last call, in the order they came, in one transaction (a group commit,
as the served collector's writer makes: each report whole or absent). The simulator calls it at the end
of each window, before it writes that window's frames and truth: so an answer never reaches the capture
before its report has committed, as with a served collector, and a run whose commit fails is a failed
run, leaving no run directory.

Why: a report stored the moment it arrived, between two households' steps, found SQLite's pages and code
evicted from the CPU caches and took ~230 us, a third of it to open and commit its own transaction; a
window's reports stored together share that and find each other's pages in the cache (a 1000
household-hour run stores 6,000 reports, about 6 a window). Measured over 8 alternating runs of 42 homes x
24 h: a transaction per window was faster than one per report in 7, median 14.04 s against 14.64 s.

The row id is not known when the report is answered, so the answer has no ``X-Report-Id`` header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import PreparedReport

if TYPE_CHECKING:
    from .db import ConnectionPool  # db builds on this module

__all__ = ["DEFERRED", "DeferredCommits"]

DEFERRED = "collector_mock.deferred_commit"  # the app extension holding the pending reports


class DeferredCommits:
    """Reports answered but not yet stored, and the ``Store`` that will commit them (see the module)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._pending: list[PreparedReport] = []

    def __len__(self) -> int:
        return len(self._pending)

    def submit(self, report: PreparedReport) -> None:
        """Keep ``report`` for the next ``commit``; its id is not known yet (``None``)."""
        self._pending.append(report)

    def commit(self) -> int:
        """Store the pending reports, in the order they came, in one transaction; how many.

        Raises what storing them raised: then none of them is stored, and all stay pending.
        """
        if not self._pending:
            return 0
        self._pool.get().add_reports(self._pending)  # rolled back whole if anything fails
        done = len(self._pending)
        self._pending.clear()
        return done

    def discard(self) -> int:
        """Drop the pending reports (their answers were never published: the run was cut short); how many."""
        dropped = len(self._pending)
        self._pending.clear()
        return dropped
