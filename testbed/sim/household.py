"""One household as a SimPy model: every actor a process, advanced window by window.

Each household has its own ``simpy.Environment`` and random streams, so households are independent
shards. ``advance(until)`` runs the model to ``until`` and returns the frames that are final by then
(no later step can emit an earlier frame), in capture-time order, with the truth events and flows
of the steps that began in the window. Memory stays bounded by one window, whatever the duration.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Generator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import simpy

from testbed.benign import BEHAVIOURS, BenignContext, behaviours_for, scanner_phone
from testbed.packets import speedups
from testbed.packets.encoded_frames import EncodedFrames
from testbed.packets.pcapng import EpbEncoder
from testbed.population.model import Household, Tv
from testbed.rng import stream, stream_seed
from testbed.scenario.model import Scenario
from testbed.sdk import PROFILES, SdkContext, Transport
from testbed.sim.executor import SimExecutor
from testbed.sim.lan import Node, SimLan
from testbed.steps import BeginCycle, Clock, Sleep, Step
from testbed.truth import CommunityIds, TruthRecorder

Frame = tuple[int, bytes, str]  # capture time (epoch µs), bytes, label
_by_time = itemgetter(0)


@dataclass(slots=True)
class Chunk:
    """What one window produced: frames in capture order, truth events, flow rows."""

    frames: list[Frame] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    flows: list[tuple] = field(default_factory=list)  # (community_id, first_us, last_us, src, dst, proto, label, event_id)
    cycles: int = 0  # SDK cycles begun so far (a running total, for progress)
    until_us: int = 0  # the window's end: everything before it is in this or an earlier chunk
    encoded: list[EncodedFrames] | None = None  # or the frames' times and block offsets, one part per shard

    def take_frames(self, encoder: EpbEncoder) -> bytes:
        """Encode the frames as pcapng blocks (in a worker) and return them; ``encoded`` keeps their index.

        The blocks travel apart from the chunk: a worker writes them into the capture, or into its part
        file after the pickled chunk, so the parent never unpickles frame bytes.
        """
        frames = encoder.encode(self.frames)
        self.encoded = [EncodedFrames(frames.times, frames.ends)]
        self.frames = []
        return frames.blob


def _endpoint(ip: str, port: int, proto: str) -> str:
    return f"{ip}:{port}" if proto in ("tcp", "udp") else ip


class HouseholdSim:
    """The SimPy model of one household."""

    def __init__(self, scenario: Scenario, household: Household, transport: Transport | None,
                 community_ids: CommunityIds | None = None) -> None:
        self.household = household
        self.start_us = round(scenario.start_ts * 1_000_000)
        self.env = simpy.Environment()
        seed, index = scenario.seed, household.index
        offset = scenario.start.utcoffset().total_seconds() if scenario.start.utcoffset() else 0.0
        self.lan = SimLan(household, offset, stream_seed(seed, index, "lan"))
        names = {}
        if scenario.tvs.sdk is not None:
            names[scenario.tvs.sdk.collector.domain] = scenario.tvs.sdk.collector.ip
        self.executor = SimExecutor(self.lan, stream(seed, index, "net"), transport, names)
        self.truth = TruthRecorder(household)
        self.cids = community_ids or CommunityIds()
        self._pending: list[Frame] = []
        self._chunk = Chunk()
        self.cycles = 0

        for tv in household.tvs:
            if tv.sdk is not None:
                ctx = SdkContext(tv, household.id, household.subnet, stream(seed, index, f"sdk:{tv.id}"))
                self.env.process(self._actor(PROFILES[tv.sdk](ctx), self.lan.by_id[tv.id], tv))
        if scenario.benign.enabled:
            scanner = scanner_phone(scenario, household)
            for device in (household.router, *household.devices):
                for name in behaviours_for(device, scanner_app=device.id == scanner):
                    ctx = BenignContext(device, household, stream(seed, index, f"benign:{device.id}:{name}"),
                                        offset, scenario.benign.streaming_hours)
                    self.env.process(self._actor(BEHAVIOURS[name](ctx), self.lan.by_id[device.id], None,
                                                 f"benign:{name}"))

    def _actor(self, behaviour: Generator[Step, Any, None], node: Node, tv: Tv | None,
               label: str = "") -> Generator[simpy.Event, Any, None]:
        """Drive one behaviour: perform each step, record it, wait its duration, send back its result."""
        env, start_us, executor = self.env, self.start_us, self.executor
        extend_labelled = speedups.native.extend_labelled if speedups.native is not None else None
        result: Any = None
        cycle = 0
        while True:
            try:
                step = behaviour.send(result)
            except StopIteration:
                return
            kind = type(step)
            if kind is Sleep:
                yield env.timeout(max(1, round(step.seconds * 1_000_000)))
                result = None
                continue
            now = start_us + env.now
            if kind is Clock or kind is BeginCycle:
                if kind is BeginCycle:
                    cycle = step.number
                    self.cycles += 1
                result = now / 1_000_000
                continue
            outcome = executor.perform(node, step, now)
            event_id = self.truth.label(tv, cycle, step) if tv is not None else None
            frame_label = event_id or label
            chunk = self._chunk  # read per step: advance() swaps in a fresh chunk each window
            if outcome.frames:
                if extend_labelled is not None:
                    extend_labelled(self._pending, outcome.frames, frame_label)
                else:
                    self._pending.extend([(ts, frame, frame_label) for ts, frame in outcome.frames])
            flow_ids = []
            for f in outcome.flows:
                cid = self.cids.of(f.proto, f.src, f.sport, f.dst, f.dport)
                flow_ids.append(cid)
                chunk.flows.append((cid, f.first_us, f.last_us, _endpoint(f.src, f.sport, f.proto),
                                    _endpoint(f.dst, f.dport, f.proto), f.proto, frame_label, event_id or ""))
            if event_id is not None:
                chunk.events.append(self.truth.event(tv, cycle, step, outcome.result, now,
                                                     now + outcome.duration_us, flow_ids, len(outcome.frames)))
            if outcome.duration_us:
                yield env.timeout(outcome.duration_us)
            result = outcome.result

    def advance(self, until_us: int, final: bool = False) -> Chunk:
        """Run to ``until_us`` and hand over what is final: frames before it, events and flows begun."""
        target = until_us - self.start_us
        if target > self.env.now:
            self.env.run(until=target)
        pending = self._pending
        pending.sort(key=_by_time)  # stable: frames of one time keep the order their steps ran in
        if final:
            ready, self._pending = pending, []
        else:
            cut = bisect_left(pending, until_us, key=_by_time)
            ready, self._pending = pending[:cut], pending[cut:]
        chunk, self._chunk = self._chunk, Chunk()
        chunk.frames = ready
        return chunk
