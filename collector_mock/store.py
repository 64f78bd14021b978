"""SQLite storage: reports in, the derived household profile, erasure, verification.

The schema is in ``collector_mock.tables``; reads are in ``collector_mock.queries``. This module knows
nothing of Flask; ``collector_mock.db`` gives each request its connection.

A batch of reports is written in one transaction by a handful of multi-row statements (the reports, the
device sightings, the network sightings), whatever the batch's size: each call into SQLite releases
Python's GIL and has to win it back from the request threads, so the writer makes few calls.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from .queries import StoreReads
from .schema import Host, Report, Wifi
from .tables import DDL, DERIVED_TABLES, SCHEMA_VERSION, derived_temp_table, device_upsert, network_upsert

__all__ = [
    "SCHEMA_VERSION",
    "SYNCHRONOUS_MODES",
    "PreparedReport",
    "Store",
    "StoreError",
    "initialize",
    "prepare_report",
    "rebuild_derived",
    "replay",
]

BUSY_TIMEOUT_MS = 5000
SYNCHRONOUS_MODES = ("NORMAL", "FULL", "OFF")  # OFF: only for a database thrown away if the process dies

_REPORT_COLUMNS = (
    "id, home, tv_id, sdk_name, sdk_version, cycle, collected_at, received_at, consent, encoding, remote_addr,"
    " body_bytes, tv_vendor, tv_model, tv_mac, tv_ip, hosts, wifi"
)
_INSERT_REPORTS = f"INSERT INTO reports ({_REPORT_COLUMNS}) VALUES {{values}}"
_NEXT_REPORT_ID = (
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'reports'), 0),"
    " coalesce((SELECT max(id) FROM reports), 0)) + 1"
)
_MAX_VARIABLES = 32_766  # SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32
_DEVICE_UPSERT = device_upsert()
_NETWORK_UPSERT = network_upsert()

_HOSTS_JSON = TypeAdapter(list[Host])
_WIFI_JSON = TypeAdapter(list[Wifi])


class StoreError(RuntimeError):
    """The database cannot be used: it was written by an incompatible schema version."""


@dataclass(frozen=True, slots=True)
class PreparedReport:
    """A validated report as the rows it will write; built by the request thread, outside the write lock.

    ``row`` is its ``reports`` row without the id; ``devices`` and ``networks`` its sightings (a MAC or
    BSSID listed twice in one report is one sighting: the last entry wins).
    """

    home: str
    tv_id: str
    row: tuple[Any, ...]
    devices: list[tuple[Any, ...]]
    networks: list[tuple[Any, ...]]


def prepare_report(
    report: Report, *, received_at: float, encoding: str, remote_addr: str | None, body_bytes: int
) -> PreparedReport:
    """The rows of ``report`` (its entries serialised as JSON, exactly as validated)."""
    tv = report.tv
    row = (
        tv.home,
        tv.id,
        report.sdk.name,
        report.sdk.version,
        report.cycle,
        report.collected_at,
        received_at,
        report.consent,
        encoding,
        remote_addr,
        body_bytes,
        tv.vendor,
        tv.model,
        tv.mac,
        tv.ip,
        _HOSTS_JSON.dump_json(report.hosts).decode(),
        _WIFI_JSON.dump_json(report.wifi).decode(),
    )
    return PreparedReport(
        tv.home,
        tv.id,
        row,
        _device_rows(tv.home, received_at, [(h.mac, h.ip, h.hostname) for h in report.hosts]),
        _network_rows(tv.home, received_at, [(w.bssid, w.ssid) for w in report.wifi]),
    )


def _device_rows(
    home: str, seen: float, hosts: Sequence[tuple[str, str, str | None]]
) -> list[tuple[Any, ...]]:
    # A MAC listed twice in one report is one sighting; the last entry wins.
    latest = {mac: (ip, hostname) for mac, ip, hostname in hosts}
    return [(home, mac, ip, hostname, seen, seen, 1) for mac, (ip, hostname) in latest.items()]


def _network_rows(home: str, seen: float, wifi: Sequence[tuple[str, str]]) -> list[tuple[Any, ...]]:
    heard = dict(wifi)
    return [(home, bssid, ssid, seen, seen, 1) for bssid, ssid in heard.items()]


def _connect(path: str | os.PathLike[str], synchronous: str = "NORMAL") -> sqlite3.Connection:
    # isolation_level=None: autocommit; we issue BEGIN IMMEDIATE / COMMIT ourselves where we need them.
    # check_same_thread=False only lets the owner close connections at shutdown; each connection is
    # still used by one thread at a time (see collector_mock.db).
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, got {synchronous!r}")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=128)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # With WAL, NORMAL survives a crash of the process (SIGKILL) but not of the machine; FULL also
    # survives power loss, at the cost of an fsync per commit, which group commit shares out. OFF never
    # waits for the disk: the simulator's database, in a run directory that is only renamed into place
    # once complete, is discarded whenever the run is cut short anyway.
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.row_factory = sqlite3.Row
    return conn


def initialize(path: str | os.PathLike[str]) -> None:
    """Create the database and its schema if needed (once per process, not per request).

    Raises ``StoreError`` if the file holds a different schema version.
    """
    conn = _connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")  # persistent in the file; readers never block the writer
        conn.execute("BEGIN IMMEDIATE")  # two workers starting at once: only one creates the tables
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                # One statement at a time: executescript() would COMMIT the open transaction first.
                for statement in DDL:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise StoreError(
                    f"{os.fspath(path)}: collector database schema version {version}, expected {SCHEMA_VERSION}"
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


class Store(StoreReads):
    """One SQLite connection to the collector database, with its writes (reads: ``StoreReads``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.closed = False

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> Store:
        """Open a connection to a database that ``initialize`` has prepared."""
        return cls(_connect(path, synchronous))

    def close(self) -> None:
        """Close the connection; idempotent."""
        if not self.closed:
            self.closed = True
            self._conn.close()

    def rollback_open_transaction(self) -> None:
        """Roll back a transaction left open by a failed request, so the connection can be reused."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    # -- ingest -------------------------------------------------------------------------------------

    def add_report(
        self,
        report: Report,
        *,
        received_at: float,
        encoding: str,
        remote_addr: str | None,
        body_bytes: int,
    ) -> int:
        """Store one report and update its derived rows in one transaction; returns its id."""
        prepared = prepare_report(
            report, received_at=received_at, encoding=encoding, remote_addr=remote_addr, body_bytes=body_bytes
        )
        return self.add_reports([prepared])[0]

    def add_reports(self, batch: Sequence[PreparedReport]) -> list[int]:
        """Store a batch of reports in one transaction (group commit); returns their ids once committed.

        If anything fails the whole batch is rolled back, and the caller may retry the reports one by one.
        """
        if not batch:
            return []
        conn = self._conn
        # IMMEDIATE takes the write lock at once, so a busy database waits here (busy_timeout) rather than
        # failing midway when a read lock cannot be upgraded.
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Ids are given explicitly, so the reports go in one statement: the write lock is held.
            first = conn.execute(_NEXT_REPORT_ID).fetchone()[0]
            ids = list(range(first, first + len(batch)))
            _insert_rows(conn, _INSERT_REPORTS, [(i, *p.row) for i, p in zip(ids, batch, strict=True)])
            # Report order is id order, so the derived tables see the sightings in id order.
            _insert_rows(conn, _DEVICE_UPSERT, [row for p in batch for row in p.devices])
            _insert_rows(conn, _NETWORK_UPSERT, [row for p in batch for row in p.networks])
            conn.execute("COMMIT")
        except BaseException:
            self.rollback_open_transaction()
            raise
        return ids

    # -- erasure ------------------------------------------------------------------------------------

    def erase_household(self, home: str, *, actor: str) -> dict[str, Any] | None:
        """Delete everything about ``home`` and log it; returns the audit entry, or None if nothing was known."""
        return self._erase("household", home, actor)

    def erase_tv(self, tv_id: str, *, actor: str) -> dict[str, Any] | None:
        """Delete one TV's reports, rebuild its homes' derived rows without them, and log it."""
        return self._erase("tv", tv_id, actor)

    def _erase(self, kind: str, subject: str, actor: str) -> dict[str, Any] | None:
        conn = self._conn
        column = "home" if kind == "household" else "tv_id"
        # Overwrite freed pages with zeros, so the erased data does not linger in the database file.
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            homes = [
                r[0]
                for r in conn.execute(f"SELECT DISTINCT home FROM reports WHERE {column} = ?", (subject,))
            ]
            if kind == "household":
                homes = [subject]
            counts = dict(
                conn.execute(
                    "SELECT count(*) AS reports, coalesce(sum(json_array_length(hosts)), 0) AS hosts,"
                    f" coalesce(sum(json_array_length(wifi)), 0) AS wifi FROM reports WHERE {column} = ?",
                    (subject,),
                ).fetchone()
            )
            before = self._derived_counts(homes)
            if not counts["reports"] and not any(before.values()):
                conn.execute("ROLLBACK")
                return None
            conn.execute(f"DELETE FROM reports WHERE {column} = ?", (subject,))
            for home in homes:
                self._rebuild_derived(home)  # a household has no report left: this just deletes
            after = self._derived_counts(homes)
            # For a TV, a derived row counts as erased when it existed only because of that TV.
            counts.update({t: before[t] - after[t] for t in DERIVED_TABLES})
            entry = {
                "erased_at": time.time(),
                "actor": actor,
                "subject_kind": kind,
                "subject": subject,
                **counts,
            }
            entry["id"] = conn.execute(
                "INSERT INTO erasures (erased_at, actor, subject_kind, subject, reports, hosts, wifi, devices,"
                " networks) VALUES (:erased_at, :actor, :subject_kind, :subject, :reports, :hosts, :wifi,"
                " :devices, :networks)",
                entry,
            ).lastrowid
            conn.execute("COMMIT")
        except BaseException:
            self.rollback_open_transaction()
            raise
        finally:
            conn.execute("PRAGMA secure_delete = OFF")
        # Best effort: fold the WAL (which still holds the old pages) into the database file and truncate
        # it. It cannot while another connection is reading; those frames are overwritten later anyway.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return entry

    def _derived_counts(self, homes: Sequence[str]) -> dict[str, int]:
        marks = ", ".join("?" * len(homes))
        return {
            t: self._conn.execute(
                f"SELECT count(*) FROM {t} WHERE home IN ({marks})", tuple(homes)
            ).fetchone()[0]
            for t in DERIVED_TABLES
        }

    def _rebuild_derived(self, home: str) -> None:
        """Recompute ``home``'s derived rows from its remaining reports (inside a transaction)."""
        for table in DERIVED_TABLES:
            self._conn.execute(f"DELETE FROM {table} WHERE home = ?", (home,))
        self._replay("devices", "networks", "WHERE home = ?", (home,))

    def rebuild_derived(self) -> None:
        """Recompute every derived row from the reports, in one transaction."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            rebuild_derived(self._conn)
            self._conn.execute("COMMIT")
        except BaseException:
            self.rollback_open_transaction()
            raise

    def _replay(self, devices: str, networks: str, where: str = "", params: tuple[Any, ...] = ()) -> None:
        replay(self._conn, devices=devices, networks=networks, where=where, params=params)

    # -- verification -------------------------------------------------------------------------------

    def verify(self) -> list[str]:
        """Check the whole database; returns the problems found (none: ``[]``).

        SQLite's ``integrity_check`` and ``foreign_key_check``, every report's entries being JSON arrays,
        and the derived tables recomputed from the reports (into temporary tables) against the stored ones.
        """
        conn = self._conn
        problems = [f"integrity: {r[0]}" for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key violation: {tuple(r)}" for r in conn.execute("PRAGMA foreign_key_check")]
        bad = conn.execute(
            "SELECT count(*) FROM reports WHERE json_type(hosts) IS NOT 'array' OR json_type(wifi) IS NOT 'array'"
        ).fetchone()[0]
        if bad:
            problems.append(f"reports: {bad} rows whose entries are not JSON arrays")
        conn.execute("BEGIN")  # one snapshot for the replay and the comparison
        try:
            for table in DERIVED_TABLES:
                check = f"{table}_check"
                conn.execute(f"DROP TABLE IF EXISTS temp.{check}")
                conn.execute(derived_temp_table(table, check))
            self._replay("devices_check", "networks_check")
            for table in DERIVED_TABLES:
                check = f"{table}_check"
                for a, b in ((table, check), (check, table)):
                    n = conn.execute(
                        f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})"
                    ).fetchone()[0]
                    if n:
                        problems.append(f"{table}: {n} rows in {a} that are not in {b}")
        finally:
            conn.execute("ROLLBACK")  # also drops the temporary tables
        return problems


def _insert_rows(conn: sqlite3.Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``sql`` (with a ``{values}`` slot) on ``rows``, in order, in as few statements as possible.

    The rows of one statement are as many as SQLite's limit on parameters allows, rounded down to a power
    of two, and so are the following ones: few distinct statements for the sqlite3 module to cache.
    """
    if not rows:
        return
    width = len(rows[0])
    placeholder = "(" + ", ".join("?" * width) + ")"
    most = 1 << ((_MAX_VARIABLES // width).bit_length() - 1)
    start = 0
    while start < len(rows):
        size = min(most, 1 << ((len(rows) - start).bit_length() - 1))
        chunk = rows[start : start + size]
        conn.execute(sql.format(values=", ".join([placeholder] * size)), [v for row in chunk for v in row])
        start += size


def replay(
    conn: sqlite3.Connection,
    *,
    devices: str = "devices",
    networks: str = "networks",
    where: str = "",
    params: tuple[Any, ...] = (),
) -> None:
    """Feed the reports matching ``where``, in id order, to the derived-table upserts, as ingest did.

    The entries are read with Python's JSON parser (SQLite's cuts strings at a NUL character).
    """
    up_device = device_upsert(devices).format(values="(?, ?, ?, ?, ?, ?, ?)")
    up_network = network_upsert(networks).format(values="(?, ?, ?, ?, ?, ?)")
    rows = conn.execute(f"SELECT home, received_at, hosts, wifi FROM reports {where} ORDER BY id", params)
    for home, seen, hosts, wifi in rows.fetchall():
        sightings = [(h["mac"], h["ip"], h["hostname"]) for h in json.loads(hosts)]
        conn.executemany(up_device, _device_rows(home, seen, sightings))
        conn.executemany(
            up_network, _network_rows(home, seen, [(w["bssid"], w["ssid"]) for w in json.loads(wifi)])
        )


def rebuild_derived(conn: sqlite3.Connection) -> None:
    """Empty ``devices`` and ``networks`` and replay every report into them (inside the caller's transaction).

    For whoever writes reports into a collector database by other means (e.g. merging shards).
    """
    for table in DERIVED_TABLES:
        conn.execute(f"DELETE FROM {table}")
    replay(conn)
