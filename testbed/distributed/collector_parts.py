"""Collector database parts: each shard stores its uploads in its own SQLite file; the parent merges.

Why not one database for all shards: on a cluster of several machines, SQLite over a network file
system is unsafe (its locks are not reliable there), and even on one machine the report ids would
follow the workers' interleaving. Each shard therefore writes ``shard-NNNN.collector.sqlite`` next to
its chunk part, and the parent copies every report into the run's ``collector.sqlite`` ordered by
(home, order of arrival in its shard). A home lives in exactly one shard and arrives there in capture
order, so the merged rows and their ids do not depend on the number of shards. The profile tables
(devices, networks) are then rebuilt by the collector's own replay of the reports in id order
(``collector_mock.tables.replay_sql``), the way its erasure and verification rebuild them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from collector_mock.tables import DERIVED_TABLES, replay_sql


def merge_collector_parts(target: Path, parts: list[Path]) -> int:
    """Copy the reports of ``parts`` into ``target`` (already initialised) in (home, arrival) order."""
    con = sqlite3.connect(target, isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout = 5000")
        # The columns as the collector defines them today, less the id the merge gives anew.
        cols = ", ".join(r[1] for r in con.execute("PRAGMA main.table_info(reports)") if r[1] != "id")
        con.execute(f"CREATE TEMP TABLE staging AS SELECT 0 AS part, id AS seq, {cols} FROM main.reports WHERE 0")
        # One part attached at a time: SQLite allows only ten attached databases by default.
        for n, part in enumerate(parts):
            con.execute("ATTACH DATABASE ? AS part", (str(part),))
            try:
                con.execute(f"INSERT INTO temp.staging SELECT ?, id, {cols} FROM part.reports", (n,))
            finally:
                con.execute("DETACH DATABASE part")
        con.execute("BEGIN IMMEDIATE")
        try:
            cur = con.execute(f"INSERT INTO main.reports ({cols}) SELECT {cols} FROM temp.staging"
                              " ORDER BY home, part, seq")
            for table in DERIVED_TABLES:
                con.execute(f"DELETE FROM main.{table}")
                con.execute(replay_sql(table, table))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return cur.rowcount
    finally:
        con.close()
