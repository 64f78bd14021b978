"""Drive behaviours in real time: the live counterpart of the simulation's actor loop.

``drive_sdk`` runs a TV's SDK behaviour and records every step as ground truth with the shared
``TruthRecorder`` (one JSON line per event, flushed as it happens, so that a killed container loses
nothing already done). ``drive_benign`` runs a device's background behaviour, skipping the steps that
cannot happen for real in a container (DHCP: Docker fixes every address) and every step while the device
is away from home.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Generator
from typing import IO, TYPE_CHECKING, Any

from testbed.live.executor import LiveExecutor
from testbed.steps import BeginCycle, Clock, Probe, Sleep, Step, Sweep

if TYPE_CHECKING:  # the truth recorder (communityid) is loaded by TVs only
    from testbed.population.model import Tv
    from testbed.truth import CommunityIds, TruthRecorder

# What a step that did not happen returns (away from home, or not possible here), as in the simulation.
_NOTHING_DONE: dict[type[Step], object] = {Sweep: [], Probe: []}


def _flow_rows(flows, label: str, event_id: str, cids: CommunityIds) -> tuple[list[str], list[dict[str, Any]]]:
    ids, rows = [], []
    for f in flows:
        cid = cids.of(f.proto, f.src, f.sport, f.dst, f.dport)
        ids.append(cid)
        rows.append({"cid": cid, "proto": f.proto, "src": f.src, "sport": f.sport, "dst": f.dst, "dport": f.dport,
                     "first_us": f.first_us, "last_us": f.last_us, "label": label, "event_id": event_id})
    return ids, rows


def drive_sdk(behaviour: Generator[Step, Any, None], executor: LiveExecutor, tv: Tv, truth: TruthRecorder,
              events: IO[str], flows: IO[str], cids: CommunityIds, deadline: float = float("inf")) -> None:
    """Run ``behaviour`` until it ends or ``deadline`` (epoch seconds), writing truth as it goes.

    As in the simulation, a step that begins before the deadline is performed and recorded in full, and
    none begins after it: both backends then hold the same steps for the same duration.
    """
    result: Any = None
    cycle = 0
    while True:
        try:
            step = behaviour.send(result)
        except StopIteration:
            return
        if isinstance(step, Sleep):
            wake = time.time() + step.seconds
            if wake >= deadline:
                time.sleep(max(0.0, deadline - time.time()))
                return
            time.sleep(step.seconds)
            result = None
            continue
        if time.time() >= deadline:
            return
        if isinstance(step, Clock | BeginCycle):
            if isinstance(step, BeginCycle):
                cycle = step.number
            result = time.time()
            continue
        start = time.time()
        outcome = executor.perform(step)
        end = time.time()
        event_id = truth.label(tv, cycle, step) or ""
        ids, rows = _flow_rows(outcome.flows, event_id, event_id, cids)
        flows.writelines(json.dumps(r) + "\n" for r in rows)
        flows.flush()
        if event_id:
            event = truth.event(tv, cycle, step, outcome.result, int(start * 1e6), int(end * 1e6), ids, 0)
            events.write(json.dumps(event, ensure_ascii=False) + "\n")
            events.flush()
        result = outcome.result


def drive_benign(behaviour: Generator[Step, Any, None], executor: LiveExecutor, label: str, time_scale: float,
                 flows: IO[str] | None = None, cids: CommunityIds | None = None,
                 clock: Callable[[], float] = time.time, at_home: Callable[[], bool] = lambda: True) -> None:
    """Run a background behaviour with its sleeps divided by ``time_scale`` (the run's time compression).

    ``clock`` is what the behaviour is told the time is (the scenario's, running ``time_scale`` times
    faster as the sleeps do); ``at_home`` says whether the device is home (away, a step does nothing).
    """
    result: Any = None
    if flows is not None and cids is None:
        from testbed.truth import CommunityIds

        cids = CommunityIds()
    while True:
        try:
            step = behaviour.send(result)
        except StopIteration:
            return
        result = _NOTHING_DONE.get(type(step))
        if isinstance(step, Sleep):
            time.sleep(step.seconds / time_scale)
        elif isinstance(step, Clock | BeginCycle):
            result = clock()
        elif executor.supports(step) and at_home():
            try:
                outcome = executor.perform(step)
            except OSError as exc:  # a link taken down mid-step, a peer gone: the behaviour goes on
                print(f"{label}: {type(step).__name__} failed: {exc}", file=sys.stderr, flush=True)
                continue
            result = outcome.result
            if flows is not None:
                _, rows = _flow_rows(outcome.flows, label, "", cids)
                flows.writelines(json.dumps(r) + "\n" for r in rows)
                flows.flush()
