"""Running a scenario end to end into a run directory (DESIGN.md's contract)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector_mock import close_connections
from testbed import rundir
from testbed.distributed.capture_parts import read_index
from testbed.distributed.cluster import ClusterSpec, open_executor
from testbed.errors import RunError
from testbed.packets import PcapngWriter
from testbed.packets.direct_file import DirectFile
from testbed.population import build_population, population_to_json
from testbed.scenario import Scenario, dump_scenario
from testbed.sim.engine import collector_transport, simulate

LEAK_FIELDS = ("mac", "hostname", "ssid")


@dataclass
class HomeLeaks:
    """What left one home: distinct values per field, across delivered uploads."""

    household: str
    values: dict[str, set] = field(default_factory=lambda: defaultdict(set))


@dataclass
class RunSummary:
    """The closing numbers of a run."""

    out: Path
    scenario: str
    seed: int
    backend: str
    households: int
    devices: int
    tvs_with_sdk: int
    frames: int = 0
    capture_bytes: int = 0
    sdk_cycles: int = 0
    events: int = 0
    uploads: int = 0
    uploads_delivered: int = 0
    bytes_uploaded: int = 0
    leaks: dict[str, HomeLeaks] = field(default_factory=dict)

    def leaked(self, fld: str) -> int:
        """Distinct values of ``fld`` that left homes, summed over homes."""
        return sum(len(h.values[fld]) for h in self.leaks.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``tvtestbed run --json``)."""
        return {
            "out": str(self.out),
            "scenario": self.scenario,
            "seed": self.seed,
            "backend": self.backend,
            "households": self.households,
            "devices": self.devices,
            "tvs_with_sdk": self.tvs_with_sdk,
            "frames": self.frames,
            "capture_bytes": self.capture_bytes,
            "sdk_cycles": self.sdk_cycles,
            "events": self.events,
            "uploads": self.uploads,
            "uploads_delivered": self.uploads_delivered,
            "bytes_uploaded": self.bytes_uploaded,
            "leaked": {f: self.leaked(f) for f in LEAK_FIELDS},
            "homes": {
                h: {f: len(v.values[f]) for f in LEAK_FIELDS} for h, v in sorted(self.leaks.items())
            },
        }


Progress = Callable[[float, RunSummary], None]  # (fraction done, running totals)


def _tally(summary: RunSummary, events: list[dict[str, Any]]) -> None:
    summary.events += len(events)
    for e in events:
        if e["kind"] != "upload":
            continue
        summary.uploads += 1
        if not e.get("delivered"):
            continue
        summary.uploads_delivered += 1
        summary.bytes_uploaded += e.get("request_bytes", 0)
        home = summary.leaks.setdefault(e["household"], HomeLeaks(e["household"]))
        for item in e["items"]:
            if item["field"] in LEAK_FIELDS:
                home.values[item["field"]].add(item["value"])


def run_scenario(scenario: Scenario, out: str | Path, *, workers: int = 1, force: bool = False,
                 progress: Progress | None = None, cluster: ClusterSpec | None = None,
                 split_capture: bool = False) -> RunSummary:
    """Simulate ``scenario`` into the run directory ``out``; returns the closing summary.

    ``cluster`` runs the household shards on Dask (``testbed.distributed``); ``split_capture`` keeps
    one capture part per shard (``capture/``, with an index) instead of ``capture.pcapng``.
    """
    if workers < 1:
        raise RunError(f"--workers must be >= 1, got {workers}")
    population = build_population(scenario)
    households = list(population.households)
    summary = RunSummary(
        out=Path(out), scenario=scenario.name, seed=scenario.seed, backend="sim",
        households=len(households),
        devices=sum(len(h.devices) + 1 for h in households),
        tvs_with_sdk=sum(1 for h in households for tv in h.tvs if tv.sdk and tv.consent != "opted_out"),
    )
    start_us = round(scenario.start_ts * 1e6)
    span = max(1, round(scenario.duration * 1e6))
    with rundir.RunDirectory(out, force=force) as run:
        run.path(rundir.POPULATION).write_text(population_to_json(population), encoding="utf-8")
        run.path(rundir.SCENARIO).write_text(dump_scenario(scenario), encoding="utf-8")
        db = run.path(rundir.COLLECTOR)
        transport = collector_transport(db)  # creates the collector's schema before any worker opens it
        truth = rundir.TruthFiles(run.path(rundir.EVENTS), run.path(rundir.FLOWS))
        sharded = split_capture or (cluster is not None and cluster.uses_dask)
        try:
            with ExitStack() as stack:
                executor = stack.enter_context(open_executor(cluster or ClusterSpec(), workers)) if sharded else None
                # Sharded runs copy their parts into the capture by file position; the others write it
                # front to back (a worker at its reserved offsets), around the page cache.
                writer = None
                if not split_capture:
                    path = run.path(rundir.CAPTURE)
                    # One process hashes the capture on the file's writer thread; with workers, the writer
                    # hashes it (reading back what they wrote into the room it reserved for them).
                    capture = stack.enter_context(
                        open(path, "wb") if sharded else DirectFile(path, hash=workers == 1))  # noqa: SIM115
                    writer = PcapngWriter(capture, [("lan", 1)])
                capture_dir = run.path("capture") if split_capture else None
                for chunk in simulate(scenario, households, db, workers=workers, transport=transport,
                                      executor=executor, parts_dir=run.path(".parts"), capture_dir=capture_dir,
                                      capture=writer):
                    if writer is not None:
                        if chunk.encoded is not None:
                            writer.write_encoded(chunk.encoded)
                        else:
                            writer.write_blocks(chunk.merged())
                        summary.frames = writer.frames_written
                    truth.write_events(chunk.events)
                    truth.write_flow_lines(chunk.flows)
                    _tally(summary, chunk.events)
                    summary.sdk_cycles = chunk.cycles
                    if progress:
                        progress(min(1.0, (chunk.until_us - start_us) / span), summary)
                known: dict[str, str] = {}
                if writer is not None:
                    summary.capture_bytes = writer.bytes_written
                    known[rundir.CAPTURE] = writer.sha256()  # hashed while written: not read again
                else:
                    parts = read_index(run.path("capture"))["parts"]
                    summary.frames = sum(p["frames"] for p in parts)
                    summary.capture_bytes = sum(p["bytes"] for p in parts)
        finally:
            truth.close()
            close_connections(transport.app)
        rundir.seal_sqlite(db)
        rundir.write_manifest(run.path(""), {
            "scenario": scenario.model_dump(mode="json"),
            "seed": scenario.seed,
            "backend": "sim",
            "counts": {"households": summary.households, "devices": summary.devices, "frames": summary.frames,
                       "events": summary.events, "sdk_cycles": summary.sdk_cycles},
            **({"capture": "split: capture/index.json"} if split_capture else {}),
        }, known)
    return summary
