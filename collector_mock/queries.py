"""What the collector knows, read back: households, devices, networks, reports, TVs, search, erasures.

``StoreReads`` is the reading half of ``collector_mock.store.Store`` (one connection, ``self._conn``).
Every method returns plain dicts and lists, ready for JSON or a template; values that came from a report
are returned as stored, so whoever renders them must escape them.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .vendors import describe_mac

__all__ = ["StoreReads"]

_REPORT_COLUMNS = (
    "id, home AS household, tv_id, tv_vendor, tv_model, tv_mac, tv_ip, sdk_name, sdk_version, cycle, "
    "collected_at, received_at, consent, encoding, remote_addr, body_bytes"
)
_COUNTS = "json_array_length(hosts) AS host_count, json_array_length(wifi) AS wifi_count"


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class StoreReads:
    """Read queries over the collector database."""

    _conn: sqlite3.Connection

    def _all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._conn.execute(sql, params)]

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._conn.execute(sql, params).fetchone()[0]

    # -- the whole collector ------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        """How many households, TVs, devices, networks, reports and bytes the collector holds."""
        row = self._conn.execute(
            "SELECT count(DISTINCT home) AS households, count(DISTINCT tv_id) AS tvs, count(*) AS reports,"
            " coalesce(sum(body_bytes), 0) AS bytes_received FROM reports"
        ).fetchone()
        out = dict(row)
        out["devices"] = self._one("SELECT count(*) FROM devices")
        out["networks"] = self._one("SELECT count(*) FROM networks")
        return out

    def reports_per_hour(self, hours: int = 48) -> list[dict[str, Any]]:
        """Reports received per hour, over the last ``hours`` hours that hold data (oldest first).

        The window ends at the newest report rather than now: a simulated run lives in 2021.
        """
        newest = self._one("SELECT max(received_at) FROM reports")
        if newest is None:
            return []
        end = (int(newest) // 3600 + 1) * 3600
        rows = self._conn.execute(
            "SELECT CAST(received_at / 3600 AS INTEGER) * 3600 AS hour, count(*) FROM reports"
            " WHERE received_at >= ? GROUP BY hour",
            (end - hours * 3600,),
        )
        counts = dict(rows.fetchall())
        first = min(counts) if counts else end - 3600
        return [{"hour": h, "reports": counts.get(h, 0)} for h in range(first, end, 3600)]

    # -- households ---------------------------------------------------------------------------------

    def count_households(self) -> int:
        """How many households have sent at least one report."""
        return self._one("SELECT count(DISTINCT home) FROM reports")

    def households(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Households, by id, with counts of reports, TVs, devices and networks, and receive times."""
        return self._all(
            """
            SELECT r.home AS household, r.reports, r.tvs, r.first_received, r.last_received, r.bytes_received,
                   (SELECT count(*) FROM devices AS d WHERE d.home = r.home) AS devices,
                   (SELECT count(*) FROM networks AS n WHERE n.home = r.home) AS networks
            FROM (SELECT home, count(*) AS reports, count(DISTINCT tv_id) AS tvs,
                         min(received_at) AS first_received, max(received_at) AS last_received,
                         sum(body_bytes) AS bytes_received
                  FROM reports GROUP BY home ORDER BY home LIMIT ? OFFSET ?) AS r
            ORDER BY r.home
            """,
            (limit, offset),
        )

    def has_household(self, home: str) -> bool:
        """Whether any report came from ``home``."""
        return (
            self._conn.execute("SELECT 1 FROM reports WHERE home = ? LIMIT 1", (home,)).fetchone() is not None
        )

    def household(self, home: str) -> dict[str, Any] | None:
        """One household's summary: counts, data volume, receive times and its TVs; None if unknown."""
        row = self._conn.execute(
            "SELECT count(*) AS reports, min(received_at) AS first_received, max(received_at) AS last_received,"
            " coalesce(sum(body_bytes), 0) AS bytes_received,"
            " coalesce(sum(json_array_length(hosts)), 0) AS host_entries,"
            " coalesce(sum(json_array_length(wifi)), 0) AS wifi_entries FROM reports WHERE home = ?",
            (home,),
        ).fetchone()
        if not row["reports"]:
            return None
        out = {"household": home, **dict(row)}
        out["devices"] = self._one("SELECT count(*) FROM devices WHERE home = ?", (home,))
        out["networks"] = self._one("SELECT count(*) FROM networks WHERE home = ?", (home,))
        out["tvs"] = self.tvs(home)
        return out

    def tvs(self, home: str) -> list[dict[str, Any]]:
        """The TVs that reported from ``home``, as their latest report describes them."""
        return self._all(
            """
            SELECT tv_id, tv_vendor AS vendor, tv_model AS model, tv_mac AS mac, tv_ip AS ip, sdk_name,
                   sdk_version, consent, reports, first_received, last_received
            FROM (SELECT *, count(*) OVER w AS reports, min(received_at) OVER w AS first_received,
                         max(received_at) OVER w AS last_received,
                         row_number() OVER (PARTITION BY tv_id ORDER BY received_at DESC, id DESC) AS n
                  FROM reports WHERE home = ? WINDOW w AS (PARTITION BY tv_id))
            WHERE n = 1 ORDER BY tv_id
            """,
            (home,),
        )

    def devices(self, home: str) -> list[dict[str, Any]]:
        """The devices known in ``home``, by MAC, with the vendor their MAC names."""
        rows = self._all(
            "SELECT mac, ip, hostname, first_seen, last_seen, sightings FROM devices WHERE home = ? ORDER BY mac",
            (home,),
        )
        return [{**row, **describe_mac(row["mac"])} for row in rows]

    def device(self, home: str, mac: str) -> dict[str, Any] | None:
        """One device of ``home`` with its history (``rtt_history``: each sighting's IP and RTT)."""
        row = self._conn.execute(
            "SELECT mac, ip, hostname, first_seen, last_seen, sightings FROM devices WHERE home = ? AND mac = ?",
            (home, mac),
        ).fetchone()
        if row is None:
            return None
        # Python reads the entries: SQLite's JSON functions cut strings at a NUL, and a MAC may hold one.
        history = [
            {
                "report_id": r["id"],
                "tv_id": r["tv_id"],
                "received_at": r["received_at"],
                "ip": h["ip"],
                "rtt_ms": h["rtt_ms"],
            }
            for r in self._conn.execute(
                "SELECT id, tv_id, received_at, hosts FROM reports WHERE home = ? ORDER BY received_at, id",
                (home,),
            )
            for h in json.loads(r["hosts"])
            if h["mac"] == mac
        ]
        return {**dict(row), **describe_mac(mac), "rtt_history": history}

    def networks(self, home: str) -> list[dict[str, Any]]:
        """The Wi-Fi networks heard from ``home``, by BSSID, with the vendor their BSSID names."""
        rows = self._all(
            "SELECT bssid, ssid, first_seen, last_seen, sightings FROM networks WHERE home = ? ORDER BY bssid",
            (home,),
        )
        return [{**row, **describe_mac(row["bssid"])} for row in rows]

    def export_entries(self, home: str) -> list[dict[str, Any]]:
        """Every host and Wi-Fi entry ``home``'s reports carried, flat, in report order (the CSV export)."""
        out: list[dict[str, Any]] = []
        rows = self._conn.execute(
            "SELECT id, tv_id, received_at, collected_at, hosts, wifi FROM reports WHERE home = ? ORDER BY id",
            (home,),
        )
        for r in rows:
            meta = {
                "report_id": r["id"],
                "tv_id": r["tv_id"],
                "received_at": r["received_at"],
                "collected_at": r["collected_at"],
            }
            out += [{**meta, "kind": "host", **h} for h in json.loads(r["hosts"])]
            out += [{**meta, "kind": "wifi", "mac": w["bssid"], **w} for w in json.loads(r["wifi"])]
        return out

    # -- reports and TVs ----------------------------------------------------------------------------

    def count_reports(self, *, home: str | None = None, tv_id: str | None = None) -> int:
        """How many reports, from one home, one TV, or all."""
        where, params = _filter(home, tv_id)
        return self._one(f"SELECT count(*) FROM reports {where}", params)

    def reports(
        self, *, home: str | None = None, tv_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Reports newest first, with their numbers of hosts and networks."""
        where, params = _filter(home, tv_id)
        return self._all(
            f"SELECT {_REPORT_COLUMNS}, {_COUNTS} FROM reports {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    def report(self, report_id: int) -> dict[str, Any] | None:
        """One report with its ``hosts`` and ``wifi`` in the order sent, or None."""
        row = self._conn.execute(
            f"SELECT {_REPORT_COLUMNS}, hosts, wifi FROM reports WHERE id = ?", (report_id,)
        ).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["hosts"], out["wifi"] = json.loads(out["hosts"]), json.loads(out["wifi"])
        return out

    def full_reports(self, home: str) -> list[dict[str, Any]]:
        """All of ``home``'s reports with their entries, oldest first (the JSON export)."""
        rows = self._all(
            f"SELECT {_REPORT_COLUMNS}, hosts, wifi FROM reports WHERE home = ? ORDER BY id", (home,)
        )
        for row in rows:
            row["hosts"], row["wifi"] = json.loads(row["hosts"]), json.loads(row["wifi"])
        return rows

    def tv_timeline(self, tv_id: str, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """One TV's reports in the order they were received (oldest first)."""
        return self._all(
            f"SELECT {_REPORT_COLUMNS}, {_COUNTS} FROM reports WHERE tv_id = ?"
            " ORDER BY received_at, id LIMIT ? OFFSET ?",
            (tv_id, limit, offset),
        )

    def tv_households(self, tv_id: str) -> list[str]:
        """The households a TV reported from (normally one)."""
        return [
            r[0]
            for r in self._conn.execute(
                "SELECT DISTINCT home FROM reports WHERE tv_id = ? ORDER BY home", (tv_id,)
            )
        ]

    # -- search -------------------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
        """Devices whose MAC, hostname or IP, networks whose SSID or BSSID, and TVs whose id or MAC contain ``text``."""
        pattern = _like(text)
        devices = self._all(
            "SELECT home AS household, mac, hostname, ip, last_seen FROM devices"
            " WHERE mac LIKE ?1 ESCAPE '\\' OR hostname LIKE ?1 ESCAPE '\\' OR ip LIKE ?1 ESCAPE '\\'"
            " ORDER BY home, mac LIMIT ?2",
            (pattern, limit),
        )
        networks = self._all(
            "SELECT home AS household, bssid, ssid, last_seen FROM networks"
            " WHERE ssid LIKE ?1 ESCAPE '\\' OR bssid LIKE ?1 ESCAPE '\\' ORDER BY home, bssid LIMIT ?2",
            (pattern, limit),
        )
        tvs = self._all(
            "SELECT DISTINCT home AS household, tv_id, tv_mac AS mac FROM reports"
            " WHERE tv_id LIKE ?1 ESCAPE '\\' OR tv_mac LIKE ?1 ESCAPE '\\' ORDER BY home, tv_id LIMIT ?2",
            (pattern, limit),
        )
        return {
            "devices": [{**d, **describe_mac(d["mac"])} for d in devices],
            "networks": [{**n, **describe_mac(n["bssid"])} for n in networks],
            "tvs": tvs,
        }

    # -- erasures -----------------------------------------------------------------------------------

    def erasures(
        self, *, kind: str | None = None, subject: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """The erasure audit log, newest first, optionally for one subject."""
        where, params = ("WHERE subject_kind = ? AND subject = ?", (kind, subject)) if kind else ("", ())
        return self._all(
            "SELECT id, erased_at, actor, subject_kind, subject, reports, hosts, wifi, devices, networks"
            f" FROM erasures {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    def count_erasures(self) -> int:
        """How many erasures the audit log holds."""
        return self._one("SELECT count(*) FROM erasures")

    def residual_rows(self, kind: str, subject: str) -> dict[str, int]:
        """Rows that still hold data about a household or TV, per table (all zero after an erasure).

        A TV has no derived rows of its own; for it, ``devices``/``networks`` count derived rows that no
        remaining report supports anywhere (which an erasure that forgot to rebuild would leave behind).
        """
        column = "home" if kind == "household" else "tv_id"
        out = dict(
            self._conn.execute(
                f"SELECT count(*) AS reports, (SELECT count(*) FROM hosts AS h JOIN reports AS r"
                f" ON h.report_id = r.id WHERE r.{column} = ?1) AS hosts, (SELECT count(*) FROM wifi AS w"
                f" JOIN reports AS r ON w.report_id = r.id WHERE r.{column} = ?1) AS wifi"
                f" FROM reports WHERE {column} = ?1",
                (subject,),
            ).fetchone()
        )
        if kind == "household":
            out["devices"] = self._one("SELECT count(*) FROM devices WHERE home = ?", (subject,))
            out["networks"] = self._one("SELECT count(*) FROM networks WHERE home = ?", (subject,))
        else:
            out.update(self.unsupported_derived_rows())
        return out

    def unsupported_derived_rows(self) -> dict[str, int]:
        """Derived rows that no report of their household mentions (none in a consistent database)."""
        return {
            "devices": self._one(
                "SELECT count(*) FROM devices AS d WHERE NOT EXISTS (SELECT 1 FROM hosts AS h"
                " JOIN reports AS r ON h.report_id = r.id WHERE r.home = d.home AND h.mac = d.mac)"
            ),
            "networks": self._one(
                "SELECT count(*) FROM networks AS n WHERE NOT EXISTS (SELECT 1 FROM wifi AS w"
                " JOIN reports AS r ON w.report_id = r.id WHERE r.home = n.home AND w.bssid = n.bssid)"
            ),
        }


def _filter(home: str | None, tv_id: str | None) -> tuple[str, tuple[Any, ...]]:
    clauses, params = [], []
    if home is not None:
        clauses.append("home = ?")
        params.append(home)
    if tv_id is not None:
        clauses.append("tv_id = ?")
        params.append(tv_id)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
