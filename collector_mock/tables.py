"""The collector database's schema: tables and views, and the SQL that derives the household profile.

- ``reports``: one row per accepted upload, with when and how it arrived, and the report's ``hosts`` and
  ``wifi`` entries exactly as sent (JSON arrays of objects, in order). Ids are ``AUTOINCREMENT``: an
  erased report's id is never given to another report.
- ``hosts`` and ``wifi``: *views* with one row per entry (``report_id, seq, ...``). Entries are stored as
  one JSON document per report rather than one row each: 23 B-tree inserts fewer for a typical report.
- ``devices`` (per home and MAC) and ``networks`` (per home and BSSID): the household profile the data
  company builds, updated in the same transaction that stores the reports that feed it.
- ``erasures``: the audit log of erasures (who, when, what, how many rows).

``first_seen``/``last_seen`` are the collector's receive times, not the SDK's ``collected_at``: the
collector trusts its own clock. A later sighting replaces a device's IP and hostname; an earlier one (a
late retry) only fills a hostname still unknown; a MAC listed twice in one report is one sighting (the
last entry wins); an empty SSID (a hidden network's beacon) never erases a name learnt earlier. Because
ingest applies these rules report by report in id order, replaying the reports in id order rebuilds the
same rows: that is how a TV's erasure and ``Store.verify`` work. The replay reads the entries with Python's
JSON parser, not SQLite's: SQLite's JSON functions (hence the ``hosts`` and ``wifi`` views) cut a string
at a NUL character, and a report's strings may hold any character.
"""

from __future__ import annotations

__all__ = [
    "DDL",
    "DERIVED_TABLES",
    "SCHEMA_VERSION",
    "derived_temp_table",
    "device_upsert",
    "network_upsert",
    "replay_sql",
]

SCHEMA_VERSION = 2
DERIVED_TABLES = ("devices", "networks")

_REPORTS = """
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    home         TEXT    NOT NULL,
    tv_id        TEXT    NOT NULL,
    sdk_name     TEXT    NOT NULL,
    sdk_version  TEXT    NOT NULL,
    cycle        INTEGER NOT NULL,
    collected_at REAL    NOT NULL,
    received_at  REAL    NOT NULL,
    consent      TEXT    NOT NULL,
    encoding     TEXT    NOT NULL,
    remote_addr  TEXT,
    body_bytes   INTEGER NOT NULL,
    tv_vendor    TEXT    NOT NULL,
    tv_model     TEXT    NOT NULL,
    tv_mac       TEXT    NOT NULL,
    tv_ip        TEXT    NOT NULL,
    hosts        TEXT    NOT NULL,  -- JSON array of the report's host entries, as sent
    wifi         TEXT    NOT NULL   -- JSON array of its Wi-Fi entries
)"""

_DEVICES = """
CREATE TABLE devices (
    home       TEXT    NOT NULL,
    mac        TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    hostname   TEXT,
    first_seen REAL    NOT NULL,
    last_seen  REAL    NOT NULL,
    sightings  INTEGER NOT NULL,
    PRIMARY KEY (home, mac)
) WITHOUT ROWID"""

_NETWORKS = """
CREATE TABLE networks (
    home       TEXT    NOT NULL,
    bssid      TEXT    NOT NULL,
    ssid       TEXT    NOT NULL,
    first_seen REAL    NOT NULL,
    last_seen  REAL    NOT NULL,
    sightings  INTEGER NOT NULL,
    PRIMARY KEY (home, bssid)
) WITHOUT ROWID"""

_ERASURES = """
CREATE TABLE erasures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    erased_at    REAL    NOT NULL,
    actor        TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL CHECK (subject_kind IN ('household', 'tv')),
    subject      TEXT    NOT NULL,
    reports      INTEGER NOT NULL,
    hosts        INTEGER NOT NULL,
    wifi         INTEGER NOT NULL,
    devices      INTEGER NOT NULL,
    networks     INTEGER NOT NULL
)"""

_HOSTS_VIEW = """
CREATE VIEW hosts (report_id, seq, ip, mac, hostname, rtt_ms) AS
    SELECT r.id, e.key, json_extract(e.value, '$.ip'), json_extract(e.value, '$.mac'),
           json_extract(e.value, '$.hostname'), json_extract(e.value, '$.rtt_ms')
    FROM reports AS r, json_each(r.hosts) AS e"""

_WIFI_VIEW = """
CREATE VIEW wifi (report_id, seq, ssid, bssid, rssi, channel) AS
    SELECT r.id, e.key, json_extract(e.value, '$.ssid'), json_extract(e.value, '$.bssid'),
           json_extract(e.value, '$.rssi'), json_extract(e.value, '$.channel')
    FROM reports AS r, json_each(r.wifi) AS e"""

# In ON CONFLICT ... DO UPDATE the right-hand sides see the row as it was before the update, so the CASEs
# compare the incoming sighting with the stored last_seen.
_DEVICE_CONFLICT = """
ON CONFLICT (home, mac) DO UPDATE SET
    ip = CASE WHEN excluded.last_seen >= {table}.last_seen THEN excluded.ip ELSE {table}.ip END,
    hostname = CASE WHEN excluded.last_seen >= {table}.last_seen
                    THEN coalesce(excluded.hostname, {table}.hostname)
                    ELSE coalesce({table}.hostname, excluded.hostname) END,
    first_seen = min({table}.first_seen, excluded.first_seen),
    last_seen = max({table}.last_seen, excluded.last_seen),
    sightings = {table}.sightings + 1"""

_NETWORK_CONFLICT = """
ON CONFLICT (home, bssid) DO UPDATE SET
    ssid = CASE WHEN excluded.ssid <> '' AND (excluded.last_seen >= {table}.last_seen OR {table}.ssid = '')
                THEN excluded.ssid ELSE {table}.ssid END,
    first_seen = min({table}.first_seen, excluded.first_seen),
    last_seen = max({table}.last_seen, excluded.last_seen),
    sightings = {table}.sightings + 1"""

_DEVICE_COLUMNS = "home, mac, ip, hostname, first_seen, last_seen, sightings"
_NETWORK_COLUMNS = "home, bssid, ssid, first_seen, last_seen, sightings"


# A replay in SQL reads the sightings back out of the stored reports, in id order.
_DEVICE_REPLAY = """
INSERT INTO {table} (home, mac, ip, hostname, first_seen, last_seen, sightings)
SELECT home, mac, ip, hostname, seen, seen, 1 FROM (
    SELECT r.home AS home, r.received_at AS seen, r.id AS ord, json_extract(e.value, '$.mac') AS mac,
           json_extract(e.value, '$.ip') AS ip, json_extract(e.value, '$.hostname') AS hostname,
           row_number() OVER (PARTITION BY r.id, json_extract(e.value, '$.mac') ORDER BY e.key DESC) AS n
    FROM reports AS r, json_each(r.hosts) AS e {where}
)
WHERE n = 1 ORDER BY ord"""

_NETWORK_REPLAY = """
INSERT INTO {table} (home, bssid, ssid, first_seen, last_seen, sightings)
SELECT home, bssid, ssid, seen, seen, 1 FROM (
    SELECT r.home AS home, r.received_at AS seen, r.id AS ord, json_extract(e.value, '$.bssid') AS bssid,
           json_extract(e.value, '$.ssid') AS ssid,
           row_number() OVER (PARTITION BY r.id, json_extract(e.value, '$.bssid') ORDER BY e.key DESC) AS n
    FROM reports AS r, json_each(r.wifi) AS e {where}
)
WHERE n = 1 ORDER BY ord"""

DDL: tuple[str, ...] = (
    _REPORTS,
    "CREATE INDEX reports_home ON reports (home, tv_id)",
    "CREATE INDEX reports_tv ON reports (tv_id, received_at)",
    "CREATE INDEX reports_received ON reports (received_at)",
    _DEVICES,
    _NETWORKS,
    _ERASURES,
    _HOSTS_VIEW,
    _WIFI_VIEW,
)


def device_upsert(table: str = "devices") -> str:
    """The device-sighting upsert into ``table`` (itself, or a check copy), with a ``{values}`` slot."""
    return f"INSERT INTO {table} ({_DEVICE_COLUMNS}) VALUES {{values}}" + _DEVICE_CONFLICT.format(table=table)


def network_upsert(table: str = "networks") -> str:
    """The network-sighting upsert into ``table``, with a ``{values}`` slot."""
    return f"INSERT INTO {table} ({_NETWORK_COLUMNS}) VALUES {{values}}" + _NETWORK_CONFLICT.format(
        table=table
    )


def replay_sql(derived: str, table: str, where: str = "") -> str:
    """One SQL statement that feeds the reports matching ``where`` (in id order) into ``table``.

    Exact for every report whose strings hold no NUL character (all the simulator's); SQLite's JSON
    functions cut a string at a NUL, so ``collector_mock.store.rebuild_derived``, which parses the
    entries in Python, is the exact one. ``derived`` is ``"devices"`` or ``"networks"``.
    """
    if derived == "devices":
        return _DEVICE_REPLAY.format(table=table, where=where) + _DEVICE_CONFLICT.format(table=table)
    return _NETWORK_REPLAY.format(table=table, where=where) + _NETWORK_CONFLICT.format(table=table)


def derived_temp_table(derived: str, name: str) -> str:
    """DDL of an empty temporary table shaped like ``derived`` (for ``Store.verify``)."""
    ddl = _DEVICES if derived == "devices" else _NETWORKS
    return ddl.replace(f"CREATE TABLE {derived}", f"CREATE TEMP TABLE {name}")
