"""``tvtestbed run SCENARIO --backend docker``: a scenario in containers, into the same run directory.

Time is real: the run lasts the scenario's duration in wall-clock seconds (give ``--duration 90s``), and
``--interval`` compresses the SDK's cycle (jitter and first delay scale with it, background behaviours
sleep ``time_scale`` times shorter). Truth comes from the TVs' live executors through the shared
``TruthRecorder``; labels come from matching captured frames to the flows each step recorded.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed import rundir
from testbed.emu.capture import BridgeCapture, Labeller, merge_captures, read_flow_records
from testbed.emu.images import ensure_node_image
from testbed.emu.lab import Lab
from testbed.emu.plan import WAN_DNS_IP, plan_lab
from testbed.errors import RunError
from testbed.population import build_population, population_to_json
from testbed.population.model import Population
from testbed.population.presence import presence_changes
from testbed.run import RunSummary, _tally
from testbed.scenario import Scenario, dump_scenario, parse_duration
from testbed.scenario.loader import validate_data

Progress = Callable[[float, RunSummary], None]


FAULT_ACTIONS = ("kill", "stop", "start", "leave", "return")


@dataclass(frozen=True)
class Fault:
    """Something done to a node mid-run: ``kill`` (SIGKILL, gone), ``stop`` (graceful) or ``start`` again;
    ``leave`` (a device's link goes down, as when its owner takes it out) and ``return``."""

    at_s: float
    action: str
    node: str

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """``kill:h0000-d01@40s``, ``stop:wan-collector@50s``, ``start:wan-collector@100s``, ``leave:h0000-d02@10s``."""
        try:
            action, rest = spec.split(":", 1)
            node, at = rest.rsplit("@", 1)
            fault = cls(parse_duration(at), action, node)
        except ValueError:
            raise RunError(f"--fault {spec!r}: expected ACTION:NODE@TIME such as kill:h0000-d01@40s") from None
        if action not in FAULT_ACTIONS:
            raise RunError(f"--fault {spec!r}: action must be one of {', '.join(FAULT_ACTIONS)}")
        return fault


def away_faults(scenario: Scenario, population: Population) -> list[Fault]:
    """``leave``/``return`` for every device's away windows within the run (phones at work, at school)."""
    offset = scenario.start.utcoffset()
    offset_s = offset.total_seconds() if offset else 0.0
    faults = []
    for h in population.households:
        for d in h.devices:
            for at, home in presence_changes(d.away, offset_s, scenario.start_ts, scenario.duration):
                faults.append(Fault(at, "return" if home else "leave", d.id))
    return faults


def compress(scenario: Scenario, interval: float | None) -> tuple[Scenario, float]:
    """The scenario with the SDK interval set to ``interval`` (jitter, first delay scaled), and the scale."""
    sdk = scenario.tvs.sdk
    if interval is None or sdk is None:
        return scenario, 1.0
    scale = sdk.interval / interval
    data = scenario.model_dump(mode="json")
    data["tvs"]["sdk"].update(interval=interval, jitter=sdk.jitter / scale, first_delay=sdk.first_delay / scale)
    return validate_data(data, f"{scenario.name} (--interval {interval:g}s)"), scale


def _lab_config(scenario: Scenario, plan, time_scale: float) -> dict[str, Any]:
    offset = scenario.start.utcoffset()
    return {"run_id": plan.run_id, "seed": scenario.seed, "time_scale": time_scale, "dns_ip": WAN_DNS_IP,
            "names": plan.names, "benign": scenario.benign.enabled, "duration": scenario.duration,
            "collector_port": plan.collector_port, "collector_tls": plan.collector_tls,
            "utc_offset": offset.total_seconds() if offset else 0.0, "start_ts": scenario.start_ts,
            "streaming_hours": list(scenario.benign.streaming_hours)}


def _write_lab_dir(lab_dir: Path, population) -> None:
    lab_dir.mkdir(parents=True, exist_ok=True)
    (lab_dir / "population.json").write_text(population_to_json(population), encoding="utf-8")
    (lab_dir / "wifi").mkdir(exist_ok=True)
    for h in population.households:
        nets = [{"ssid": w.ssid, "bssid": w.bssid, "channel": w.channel, "rssi": w.rssi} for w in h.wifi]
        (lab_dir / "wifi" / f"{h.id}.json").write_text(json.dumps(nets), encoding="utf-8")


def _copy_collector(src: Path, dst: Path) -> None:
    """A consistent copy of the collector's database (it may still be serving, in --keep mode)."""
    if not src.exists():
        raise RunError("the collector container left no database")
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        source.close()
        target.close()


def _read_events(out_dir: Path) -> list[dict[str, Any]]:
    events = []
    for path in sorted(out_dir.glob("*.events.jsonl")):
        events += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    events.sort(key=lambda e: e["start"])
    return events


def run_docker(scenario: Scenario, out: str | Path, *, interval: float | None = None, force: bool = False,
               keep: bool = False, faults: tuple[Fault, ...] = (), progress: Progress | None = None,
               log: Callable[[str], None] = lambda _: None, base: str = "auto") -> RunSummary:
    """Run ``scenario`` in containers for its duration (real seconds) into the run directory ``out``."""
    scenario, scale = compress(scenario, interval)
    population = build_population(scenario)
    households = list(population.households)
    run_id = secrets.token_hex(4)
    plan = plan_lab(run_id, scenario, population)
    summary = RunSummary(
        out=Path(out), scenario=scenario.name, seed=scenario.seed, backend="docker", households=len(households),
        devices=sum(len(h.devices) + 1 for h in households),
        tvs_with_sdk=sum(1 for h in households for tv in h.tvs if tv.sdk and tv.consent != "opted_out"),
    )
    image = ensure_node_image(base=base, log=log)
    with rundir.RunDirectory(out, force=force) as run, tempfile.TemporaryDirectory(prefix="tvtestbed-lab-") as tmp:
        work = Path(tmp)
        lab_dir, out_dir, data_dir, pcap_dir = (work / d for d in ("lab", "out", "data", "pcap"))
        for d in (out_dir, data_dir, pcap_dir):
            d.mkdir()
        _write_lab_dir(lab_dir, population)
        run.path(rundir.POPULATION).write_text(population_to_json(population), encoding="utf-8")
        run.path(rundir.SCENARIO).write_text(dump_scenario(scenario), encoding="utf-8")
        with Lab(plan, image, lab_dir, out_dir, data_dir, _lab_config(scenario, plan, scale), keep=keep,
                 log=log) as lab:
            with BridgeCapture(lab.bridges, pcap_dir) as capture:
                lab.start_nodes()
                log(f"lab {run_id} up: {len(lab.containers)} containers in {lab.timings['nodes_s']:.1f}s")
                _run_for(lab, scenario.duration, (*faults, *away_faults(scenario, population)), progress, summary,
                         out_dir)
                _wait_for_tvs(lab, out_dir, [tv.id for h in households for tv in h.tvs])
                if not keep:
                    # Graceful: gunicorn finishes what it is answering and the database is closed cleanly.
                    lab.stop("wan-collector")
            _copy_collector(data_dir / "collector.sqlite", run.path(rundir.COLLECTOR))
        if keep:
            log(f"lab {run_id} left running: tvtestbed lab status / lab shell NODE / lab down {run_id}")
        tv_household = {tv.id: h.id for h in households for tv in h.tvs}
        router_wan = {ip: key for key, nodes in plan.households.items() for n in nodes[:1] for _, ip in n.extra}
        labeller = Labeller(read_flow_records(out_dir, tv_household), router_wan)
        merged = merge_captures(capture.files(), run.path(rundir.CAPTURE), labeller)
        events = _read_events(out_dir)
        for e in events:
            e["frames"] = merged.per_event.get(e["id"], 0)
        truth = rundir.TruthFiles(run.path(rundir.EVENTS), run.path(rundir.FLOWS))
        try:
            truth.write_events(events)
            truth.write_flows(merged.flow_rows)
        finally:
            truth.close()
        _tally(summary, events)
        summary.sdk_cycles = len({(e["tv"], e["cycle"]) for e in events})
        summary.frames, summary.capture_bytes = merged.frames, merged.bytes
        rundir.write_manifest(run.path(""), {
            "scenario": scenario.model_dump(mode="json"), "seed": scenario.seed, "backend": "docker",
            "lab": {"run_id": run_id, "image": image, "time_scale": scale, "kept": keep,
                    "timings": lab.timings, "faults": [f.__dict__ for f in faults]},
            "counts": {"households": summary.households, "devices": summary.devices, "frames": summary.frames,
                       "events": summary.events, "sdk_cycles": summary.sdk_cycles},
        })
    return summary


def _wait_for_tvs(lab: Lab, out_dir: Path, tvs: list[str], grace_s: float = 60.0) -> None:
    """Wait until every TV has finished its last step (each stops at its own start plus the duration)."""
    deadline = time.monotonic() + grace_s
    for tv in tvs:
        while not (out_dir / f"{tv}.done").exists():
            container = lab.container(tv)
            container.reload()
            if container.status != "running" or time.monotonic() > deadline:
                lab.log(f"{tv} did not finish its last step ({container.status}); its truth ends earlier")
                break
            time.sleep(0.2)


def _run_for(lab: Lab, duration: float, faults: tuple[Fault, ...], progress: Progress | None,
             summary: RunSummary, out_dir: Path) -> None:
    """Let the lab run for ``duration`` real seconds, applying faults on time and reporting progress."""
    start = time.monotonic()
    pending = sorted(faults, key=lambda f: f.at_s)
    while (elapsed := time.monotonic() - start) < duration:
        while pending and pending[0].at_s <= elapsed:
            fault = pending.pop(0)
            if fault.action == "kill":
                lab.container(fault.node).kill()
            elif fault.action == "stop":
                lab.stop(fault.node)
            elif fault.action in ("leave", "return"):
                lab.set_present(fault.node, fault.action == "return")
            else:
                lab.restart(fault.node)
            lab.log(f"{elapsed:5.1f}s  {fault.action} {fault.node}")
        if progress:
            summary.events = sum(1 for p in out_dir.glob("*.events.jsonl") for _ in p.open(encoding="utf-8"))
            progress(elapsed / duration, summary)
        time.sleep(min(0.5, max(0.0, duration - elapsed)))
    if progress:
        progress(1.0, summary)
