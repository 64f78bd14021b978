"""One household as a SimPy model: every actor a process, advanced window by window.

Each household has its own ``simpy.Environment`` and random streams, so households are independent
shards. ``advance(until)`` runs the model to ``until`` and returns the truth events of the steps that
began in the window; ``take_frames`` then takes the frames that are final by then (no later step can emit
an earlier frame) of a shard's households, in capture-time order, and ``take_flow_lines`` (of
``testbed.truth.flow_log``) their flows, by first time. Memory stays bounded by one window, whatever the
duration.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from testbed.benign import BEHAVIOURS, BenignContext, behaviours_for, scanner_phone
from testbed.packets.encoded_frames import EncodedFrames
from testbed.packets.frame_log import merge_encoded, new_frame_log, take_merged
from testbed.population.model import Household, Tv
from testbed.rng import stream, stream_seed
from testbed.scenario.model import Scenario
from testbed.sdk import PROFILES, SdkContext, Transport
from testbed.sim.executor import SimExecutor
from testbed.sim.lan import Node, SimLan
from testbed.steps import BeginCycle, Clock, Sleep, Step
from testbed.truth import CommunityIds, TruthRecorder
from testbed.truth.flow_log import add_odd_flow, new_flow_log


@dataclass(slots=True)
class Chunk:
    """What one window produced: frames as pcapng blocks, truth events, flows as lines of flows.csv."""

    parts: list[EncodedFrames] = field(default_factory=list)  # in memory, in household order (see ``take_frames``)
    events: list[dict[str, Any]] = field(default_factory=list)
    flows: EncodedFrames = field(default_factory=EncodedFrames)  # flows.csv lines by first time (``take_flow_lines``)
    cycles: int = 0  # SDK cycles begun so far (a running total, for progress)
    until_us: int = 0  # the window's end: everything before it is in this or an earlier chunk
    encoded: list[EncodedFrames] | None = None  # or the frames' times and block offsets, one part per shard

    @property
    def frame_count(self) -> int:
        """How many frames the chunk's parts hold."""
        return sum(len(p) for p in self.parts)

    def merged(self) -> EncodedFrames:
        """The parts' blocks merged in capture order (ties: household order, then step order)."""
        return merge_encoded(self.parts)

    def take_frames(self) -> bytes:
        """Merge the blocks (in a worker) and return them; ``encoded`` keeps their index.

        The blocks travel apart from the chunk: a worker writes them into the capture, or into its part
        file after the pickled chunk, so the parent never unpickles frame bytes.
        """
        frames = self.merged()
        self.encoded = [EncodedFrames(frames.times, frames.ends)]
        self.parts = []
        return frames.blob


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
        end_us = self.start_us + round(scenario.duration * 1_000_000)
        self.log = new_frame_log()  # the frames not yet handed over, as pcapng blocks (see ``take_frames``)
        self.flow_log = new_flow_log()  # the flows of the steps begun in this window, as flows.csv lines
        self.executor = SimExecutor(self.lan, stream(seed, index, "net"), transport, names, end_us, self.log)
        self.truth = TruthRecorder(household)
        self.cids = community_ids or CommunityIds()
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
        """Drive one behaviour: perform each step, record it, wait its duration, send back its result.

        A step's duration and the sleeps that follow it are one SimPy timeout: the behaviour is asked for
        its next steps at once, since only the executor's steps touch the shared LAN and random stream,
        and those are still performed at their own simulated time. Zero-time steps (``Clock``,
        ``BeginCycle``) are answered with the time they will be at. A behaviour mostly alternates one
        step and one sleep: a 42-home day went from 667,547 SimPy events to 427,305.
        """
        env, start_us, executor = self.env, self.start_us, self.executor
        log = self.log
        keep = log.add
        community_id = self.cids.of
        flow_log = self.flow_log
        add_flow = flow_log.add_flow
        result: Any = None
        cycle = 0
        wait = 0  # microseconds until the next step may be performed
        begun = 0  # cycles begun during ``wait``, counted once it has passed (progress stays exact)
        while True:
            try:
                step = behaviour.send(result)
            except StopIteration:
                self.cycles += begun
                return
            kind = type(step)
            if kind is Sleep:
                wait += max(1, round(step.seconds * 1_000_000))  # pause_us, inline: every other step sleeps
                result = None
                continue
            if kind is Clock or kind is BeginCycle:
                if kind is BeginCycle:
                    cycle = step.number
                    begun += 1
                result = (start_us + env.now + wait) / 1_000_000
                continue
            if wait:
                yield env.timeout(wait)
                wait = 0
            if begun:
                self.cycles += begun
                begun = 0
            now = start_us + env.now
            event_id = self.truth.label(tv, cycle, step) if tv is not None else None
            frame_label = event_id or label
            before = len(log)  # some steps put their frames straight into the log (see ``SimExecutor.log``)
            outcome = executor.perform(node, step, now, frame_label)
            chunk = self._chunk  # read per step: advance() swaps in a fresh chunk each window
            if outcome.frames:
                keep(outcome.frames, frame_label)
                outcome.frames = []  # freed now, while still in the CPU's cache, not after the next step
            frame_count = len(log) - before
            flow_ids = []
            event_label = event_id or ""
            for f in outcome.flows:
                proto, src, sport, dst, dport = f.proto, f.src, f.sport, f.dst, f.dport
                cid = community_id(proto, src, sport, dst, dport)
                flow_ids.append(cid)
                if not add_flow(cid, f.first_us, f.last_us, src, sport, dst, dport, proto, frame_label, event_label):
                    add_odd_flow(flow_log, cid, f.first_us, f.last_us, src, sport, dst, dport, proto, frame_label,
                                 event_label)
            if event_id is not None:
                chunk.events.append(self.truth.event(tv, cycle, step, outcome.result, now,
                                                     now + outcome.duration_us, flow_ids, frame_count))
            wait = outcome.duration_us
            result = outcome.result

    def advance(self, until_us: int, final: bool = False) -> Chunk:
        """Run to ``until_us`` and hand over the truth events of the steps begun by then.

        Their flows are in ``flow_log`` and the frames before ``until_us`` in ``log`` (final too: no later
        step can emit an earlier one), for ``take_flow_lines`` and ``take_frames``, which take those of
        many households in one merge.
        """
        target = until_us - self.start_us
        if target > self.env.now:
            self.env.run(until=target)
        chunk, self._chunk = self._chunk, Chunk()
        return chunk


def take_frames(sims: list[HouseholdSim], until_us: int, final: bool) -> EncodedFrames:
    """The frames of ``sims`` before ``until_us`` (all if ``final``), in capture order.

    Ties go in household order, then in the order their steps ran (each log sorts stably).
    """
    return take_merged([s.log for s in sims], until_us, final)
