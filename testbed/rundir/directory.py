"""The run directory, written atomically: a temporary sibling renamed into place only when complete.

An interrupted or failed run leaves no half directory (DESIGN.md, "The run directory").
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType

from testbed.errors import RunError

CAPTURE = "capture.pcapng"
EVENTS = "truth/events.jsonl"
FLOWS = "truth/flows.csv"
POPULATION = "population.json"
SCENARIO = "scenario.yaml"
COLLECTOR = "collector.sqlite"
MANIFEST = "manifest.json"


class RunDirectory:
    """Context manager: yields a temporary directory, renames it to ``out`` on success only."""

    def __init__(self, out: str | Path, force: bool = False) -> None:
        self.out = Path(out)
        self.force = force
        self.tmp: Path | None = None

    def __enter__(self) -> RunDirectory:
        if self.out.exists() and not self.force:
            raise RunError(f"{self.out}: already exists (use --force to replace it)")
        if self.out.exists() and not self.out.is_dir():
            raise RunError(f"{self.out}: exists and is not a directory")
        parent = self.out.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.partial-", dir=parent))
        except OSError as exc:
            raise RunError(f"{parent}: cannot create the run directory: {exc.strerror}") from None
        (self.tmp / "truth").mkdir()
        return self

    def path(self, name: str) -> Path:
        """Where artifact ``name`` (e.g. ``truth/events.jsonl``) goes while the run is written."""
        assert self.tmp is not None, "use RunDirectory as a context manager"
        return self.tmp / name

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        try:
            if self.out.exists():
                # Replace (--force) by moving the old run aside first: never a moment with no run and no new one half-written in its place.
                old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.parent))
                os.replace(self.out, old / "run")
                os.replace(self.tmp, self.out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(self.tmp, self.out)
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise RunError(f"{self.out}: cannot move the finished run into place: {exc.strerror}") from None


def seal_sqlite(path: Path) -> None:
    """Fold a database's WAL into its file and leave WAL mode: one self-contained file in the run."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()
