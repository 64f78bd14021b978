"""The run-directory contract (DESIGN.md): atomic directory, truth files, manifest."""

from testbed.rundir.directory import (
    CAPTURE,
    COLLECTOR,
    EVENTS,
    FLOWS,
    MANIFEST,
    POPULATION,
    SCENARIO,
    RunDirectory,
    seal_sqlite,
)
from testbed.rundir.manifest import sha256_file, write_manifest
from testbed.rundir.truth_files import FLOW_COLUMNS, TruthFiles, read_events

__all__ = [
    "CAPTURE",
    "COLLECTOR",
    "EVENTS",
    "FLOWS",
    "FLOW_COLUMNS",
    "MANIFEST",
    "POPULATION",
    "SCENARIO",
    "RunDirectory",
    "TruthFiles",
    "read_events",
    "seal_sqlite",
    "sha256_file",
    "write_manifest",
]
