"""Fixtures for the packet tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.packets import PcapngWriter
from tests.packets.lan import Record, lan_records


@pytest.fixture(scope="session")
def lan_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Record]]:
    """The capture of ``lan_records()`` written by PcapngWriter, and the records themselves."""
    records = lan_records()
    path = tmp_path_factory.mktemp("packets") / "lan.pcapng"
    with PcapngWriter(path) as writer:
        writer.write_many(records)
    return path, records
