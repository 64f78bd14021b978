"""Deferred commits, for the simulator: a report is checked and answered at once, and committed later.

The simulator delivers each upload in-process at its virtual time, but the capture that carries the
answers is written a window at a time. With ``DEFER_COMMITS`` the collector answers a report as soon as it
has been decoded and validated (a rejection is final then too) and keeps its rows; ``commit_deferred(app)``
stores them, one transaction per report, in the order they came. The simulator calls it at the end of
each window, before it writes that window's frames and truth: so an answer never reaches the capture
before its report has committed, as with a served collector, and a run whose commit fails is a failed
run, leaving no run directory.

Why: a report stored the moment it arrived, between two households' steps, found SQLite's pages and code
evicted from the CPU caches and took ~230 us; stored together with the window's others, about half that
(a 1000 household-hour run stores 6,000 reports).

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
        """Store the pending reports in the order they came, each in its own transaction; how many.

        Raises what storing one raised; the reports before it are committed, it and the later ones stay
        pending.
        """
        store = self._pool.get()
        done = 0
        try:
            for report in self._pending:
                store.add_reports([report])
                done += 1
        finally:
            del self._pending[:done]
        return done

    def discard(self) -> int:
        """Drop the pending reports (their answers were never published: the run was cut short); how many."""
        dropped = len(self._pending)
        self._pending.clear()
        return dropped
