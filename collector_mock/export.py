"""Export of everything the collector holds about one household, as JSON or CSV.

JSON is the data as stored. CSV is one row per entry a report carried (a host or a Wi-Fi network), with
the report's id, TV and times. Cells that a spreadsheet would run as a formula (a hostile hostname such
as ``=HYPERLINK(...)``) are prefixed with a quote, as OWASP advises; the JSON export keeps them verbatim.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from .store import Store
from .vendors import describe_mac

__all__ = ["CSV_COLUMNS", "export_filename", "household_csv", "household_json"]

CSV_COLUMNS = (
    "report_id",
    "tv_id",
    "received_at",
    "collected_at",
    "kind",
    "mac",
    "vendor",
    "ip",
    "hostname",
    "rtt_ms",
    "ssid",
    "rssi",
    "channel",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def household_json(store: Store, home: str) -> dict[str, Any] | None:
    """Summary, devices, networks and every report (with its entries); None if the household is unknown."""
    summary = store.household(home)
    if summary is None:
        return None
    return {
        "household": summary,
        "devices": store.devices(home),
        "networks": store.networks(home),
        "reports": store.full_reports(home),
    }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def household_csv(store: Store, home: str) -> str | None:
    """The flat CSV export (``CSV_COLUMNS``); None if the household is unknown."""
    if not store.has_household(home):
        return None
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for entry in store.export_entries(home):
        entry["vendor"] = describe_mac(entry["mac"])["vendor"] if entry["mac"] else None
        writer.writerow({k: _cell(v) for k, v in entry.items()})
    return out.getvalue()


def export_filename(home: str, extension: str) -> str:
    """A safe download name for ``home``'s export (household ids can hold any character)."""
    return f"household-{re.sub(r'[^A-Za-z0-9._-]', '_', home)[:64]}.{extension}"
